package transitions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// ErrArchiveMismatch is returned when an archive holds another backup than
// the one whose state names it.
var ErrArchiveMismatch = errors.New("archive holds another backup")

// damagedArchiveHint is the way out of an archive that does not verify.
const damagedArchiveHint = "nothing was written from it; run git backup fsck, and put a good copy of the archive in its place if you have one"

// verifiedArchive reads an ARCHIVED backup's whole archive and checks it
// (zstd checksum, every blob ID, the manifest) before anything is written
// from it, and that it holds this very backup.
func (s *Store) verifiedArchive(ctx context.Context, b *Backup) (string, archive.Manifest, error) {
	if b.State != Archived {
		return "", archive.Manifest{}, fmt.Errorf("backup %s is %s, not ARCHIVED", b.ID, b.State)
	}
	path := deref(b.Archive)
	if path == "" {
		return "", archive.Manifest{}, fmt.Errorf("backup %s is ARCHIVED but its state names no archive (run git backup fsck)", b.ID)
	}
	m, err := archive.New().Verify(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, m, fmt.Errorf("backup %s: its archive %q is missing (run git backup fsck): %w", b.ID, path, err)
	}
	if err != nil {
		return path, m, fmt.Errorf("backup %s: %w (%s)", b.ID, err, damagedArchiveHint)
	}
	if err := manifestMatches(b, m); err != nil {
		return path, m, fmt.Errorf("backup %s: archive %q: %w (%s)", b.ID, path, err, damagedArchiveHint)
	}
	return path, m, nil
}

// manifestMatches checks that an archive's manifest describes backup b.
func manifestMatches(b *Backup, m archive.Manifest) error {
	switch {
	case m.Backup.ID != b.ID:
		return fmt.Errorf("%w: its manifest is for backup %q", ErrArchiveMismatch, m.Backup.ID)
	case m.Backup.Snapshot != b.Snapshot:
		return fmt.Errorf("%w: its manifest is for snapshot %s, the state says %s", ErrArchiveMismatch, m.Backup.Snapshot, b.Snapshot)
	}
	return nil
}

// archiveBase returns the tree of an archived backup's base: "" with ok
// true when it has none (taken on an unborn branch), ok false when the base
// commit is gone from the object store.
func (s *Store) archiveBase(m archive.Manifest) (tree string, ok bool, err error) {
	if m.Backup.Base == "" {
		return "", true, nil
	}
	c, err := s.Repo.Commit(m.Backup.Base)
	if errors.Is(err, gitstate.ErrObjectMissing) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return c.Tree, true, nil
}

// selectPaths returns a function telling whether a repository path is one of
// paths or below one (every path when there are none).
func selectPaths(paths []string) func(string) bool {
	return func(p string) bool {
		if len(paths) == 0 {
			return true
		}
		for _, s := range paths {
			s = strings.TrimSuffix(s, "/")
			if p == s || strings.HasPrefix(p, s+"/") {
				return true
			}
		}
		return false
	}
}

// archivedSelection is the part of a manifest a command asked for.
type archivedSelection struct {
	files   []archive.File // changed files with content (no gitlinks)
	deleted []string
	all     map[string]bool // every selected path of the manifest, gitlinks included
}

func selectManifest(m archive.Manifest, paths []string) archivedSelection {
	want := selectPaths(paths)
	sel := archivedSelection{all: map[string]bool{}}
	for _, f := range m.Files {
		if !want(f.Path) {
			continue
		}
		sel.all[f.Path] = true
		if f.Mode.Stored() {
			sel.files = append(sel.files, f)
		}
	}
	for _, p := range m.Deleted {
		if want(p) {
			sel.all[p] = true
			sel.deleted = append(sel.deleted, p)
		}
	}
	return sel
}

func filePaths(fs []archive.File) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Path
	}
	return out
}

// entriesAt returns the entries of tree ("" for none) at exactly these paths.
func (s *Store) entriesAt(ctx context.Context, tree string, paths []string) (map[string]gitstate.PathChange, error) {
	out := map[string]gitstate.PathChange{}
	if tree == "" || len(paths) == 0 {
		return out, nil
	}
	pcs, err := s.Repo.ChangedPaths(ctx, "", tree, literal(paths)...)
	if err != nil {
		return nil, err
	}
	for _, pc := range pcs {
		out[pc.Path] = pc
	}
	return out, nil
}

// restoreArchived restores an ARCHIVED backup from its archive, which is
// verified whole before anything is written. With the base commit still in
// the object store it is the live restore: the work tree (or o.To) ends up
// as the snapshot; without it only the files the backup changed are written
// (and the ones it deleted removed), and res.BaseMissing says so.
func (s *Store) restoreArchived(ctx context.Context, b *Backup, o RestoreOptions, res RestoreResult) (RestoreResult, error) {
	path, m, err := s.verifiedArchive(ctx, b)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	res.Archive = path
	baseTree, baseOK, err := s.archiveBase(m)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	res.BaseMissing = !baseOK
	sel := selectManifest(m, o.Paths)
	if o.To != "" {
		return s.restoreArchivedTo(ctx, b, o, res, path, baseTree, sel)
	}

	work, err := s.Repo.WriteWorkTree(ctx, gitstate.WorkOptions{IncludeIgnored: b.IncludeIgnored})
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	names := append(filePaths(sel.files), sel.deleted...)
	cur, err := s.entriesAt(ctx, work.Tree, names)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	var fromArchive, fromBase, remove []string
	for _, f := range sel.files {
		if c, ok := cur[f.Path]; !ok || c.Blob != f.Blob || c.Mode != string(f.Mode) {
			fromArchive = append(fromArchive, f.Path)
		}
	}
	for _, p := range sel.deleted {
		if _, ok := cur[p]; ok {
			remove = append(remove, p)
		}
	}
	if baseOK {
		// Where the work differs from the base on a path the backup did not
		// change, the snapshot has the base's version.
		diff, err := s.Repo.ChangedPaths(ctx, baseTree, work.Tree, o.Paths...)
		if err != nil {
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
		for _, c := range diff {
			if !sel.all[c.Path] && c.BaseBlob != "" {
				fromBase = append(fromBase, c.Path)
			}
		}
	}
	if len(fromArchive)+len(fromBase)+len(remove) == 0 {
		return res, nil
	}
	touched := slices.Concat(fromArchive, fromBase, remove)
	if res.SavedAs, err = s.saveWorkFirst(ctx, b, work, touched, o.Force); err != nil {
		return res, err
	}
	// Removals first: a file the backup replaced by a directory (or the
	// reverse) must be gone before the new one is written.
	for _, p := range remove {
		if err := s.Repo.RemoveWorkFile(p); err != nil {
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
	}
	if len(fromBase) > 0 {
		if err := s.Repo.CheckoutTree(ctx, baseTree, gitstate.CheckoutOptions{Paths: fromBase}); err != nil {
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
	}
	if len(fromArchive) > 0 {
		if err := archive.Extract(ctx, path, s.Repo.WorkTree, archive.ExtractOptions{Paths: fromArchive}); err != nil {
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
	}
	res.Written = slices.Sorted(slices.Values(slices.Concat(fromBase, fromArchive)))
	res.Removed = remove
	s.Repo.TouchAccess(b.ID, s.now())
	return res, nil
}

// restoreArchivedTo writes an ARCHIVED backup into a new or empty directory:
// the base's files (when the base still exists) except those the backup
// changed or deleted, then the backup's changed files from the archive.
func (s *Store) restoreArchivedTo(ctx context.Context, b *Backup, o RestoreOptions, res RestoreResult, path, baseTree string, sel archivedSelection) (RestoreResult, error) {
	dir, created, err := targetDir(b, o.To)
	if err != nil {
		return res, err
	}
	res.To = dir
	var fromBase []string
	if baseTree != "" {
		files, err := s.Repo.TreeFiles(ctx, baseTree, o.Paths)
		if err != nil {
			clearDir(dir, created)
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
		for _, f := range files {
			if !sel.all[f] {
				fromBase = append(fromBase, f)
			}
		}
	}
	if len(fromBase) > 0 {
		if err := s.Repo.CheckoutTree(ctx, baseTree, gitstate.CheckoutOptions{Paths: fromBase, Prefix: dir}); err != nil {
			clearDir(dir, created)
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
	}
	fromArchive := filePaths(sel.files)
	if len(fromArchive) > 0 {
		if err := archive.Extract(ctx, path, dir, archive.ExtractOptions{Paths: fromArchive}); err != nil {
			clearDir(dir, created)
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
	}
	res.Written = slices.Sorted(slices.Values(slices.Concat(fromBase, fromArchive)))
	s.Repo.TouchAccess(b.ID, s.now())
	return res, nil
}

// ArchiveDiffOptions tunes DiffArchived and ArchivedChanges.
type ArchiveDiffOptions struct {
	Against string   // a commit to compare with instead of the base
	Paths   []string // limit to these repository paths
	Stat    bool     // a diffstat instead of the patch
	Out     io.Writer
}

// ArchiveDiff says what an archived diff compared.
type ArchiveDiff struct {
	Archive     string
	From        string // the commit compared with; "" for nothing (unborn, or the base is gone)
	BaseMissing bool   // the base commit is gone: the changed files are shown as new
	Changes     []gitstate.PathChange
	fromArchive map[string]archive.File // changed files whose new content is in the archive
	oldMode     map[string]string       // mode of each path on the old side
}

// ArchivedChanges lists what an ARCHIVED backup changed against its base (or
// o.Against), from its verified archive. It writes no object.
func (s *Store) ArchivedChanges(ctx context.Context, b *Backup, o ArchiveDiffOptions) (*ArchiveDiff, error) {
	path, m, err := s.verifiedArchive(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	d := &ArchiveDiff{Archive: path, From: m.Backup.Base, fromArchive: map[string]archive.File{}, oldMode: map[string]string{}}
	baseTree, baseOK, err := s.archiveBase(m)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	fromTree := baseTree
	if !baseOK {
		d.BaseMissing, d.From = true, ""
	}
	if o.Against != "" {
		c, err := s.Repo.Commit(o.Against)
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", b.ID, err)
		}
		d.From, fromTree = o.Against, c.Tree
	}
	sel := selectManifest(m, o.Paths)
	var names []string
	for p := range sel.all {
		names = append(names, p)
	}
	var extra []gitstate.PathChange
	var extraNames []string
	if o.Against != "" && baseOK {
		// Paths the backup left as in its base, where the base and the
		// commit compared with differ.
		diff, err := s.Repo.ChangedPaths(ctx, fromTree, baseTree, o.Paths...)
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", b.ID, err)
		}
		for _, c := range diff {
			if !sel.all[c.Path] {
				extra = append(extra, c)
				extraNames = append(extraNames, c.Path)
			}
		}
	}
	old, err := s.entriesAt(ctx, fromTree, append(names, extraNames...))
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	for _, f := range m.Files {
		if !sel.all[f.Path] {
			continue
		}
		pc := gitstate.PathChange{Path: f.Path, Blob: f.Blob, Mode: string(f.Mode), Size: f.Size, BaseBlob: old[f.Path].Blob}
		if pc.BaseBlob == pc.Blob && old[f.Path].Mode == pc.Mode {
			continue // the commit compared with has it already
		}
		d.Changes = append(d.Changes, pc)
		if f.Mode.Stored() {
			d.fromArchive[f.Path] = f
		}
	}
	for _, p := range sel.deleted {
		if oc, ok := old[p]; ok {
			d.Changes = append(d.Changes, gitstate.PathChange{Path: p, BaseBlob: oc.Blob, Size: oc.Size})
		}
	}
	d.Changes = append(d.Changes, extra...)
	for p, e := range old {
		d.oldMode[p] = e.Mode
	}
	slices.SortFunc(d.Changes, func(a, b gitstate.PathChange) int { return strings.Compare(a.Path, b.Path) })
	return d, nil
}

// DiffArchived prints an ARCHIVED backup's changes as a patch (or a
// diffstat) against its base or o.Against: the old side from the object
// store, the new side from the verified archive, both written to a temporary
// directory in the git dir and compared there. It writes no object.
func (s *Store) DiffArchived(ctx context.Context, b *Backup, o ArchiveDiffOptions) (*ArchiveDiff, error) {
	d, err := s.ArchivedChanges(ctx, b, o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Repo.BackupDir(), 0o700); err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	tmp, err := os.MkdirTemp(s.Repo.BackupDir(), ".diff-")
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	defer os.RemoveAll(tmp)
	oldRoot, err := openRootDir(filepath.Join(tmp, "a"))
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	defer oldRoot.Close()
	newRoot, err := openRootDir(filepath.Join(tmp, "b"))
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	defer newRoot.Close()
	var extract []string
	for _, c := range d.Changes {
		if c.BaseBlob != "" {
			if err := s.writeBlobFile(oldRoot, c.Path, c.BaseBlob, d.oldMode[c.Path]); err != nil {
				return nil, fmt.Errorf("diff %s: %w", b.ID, err)
			}
		}
		switch {
		case c.Blob == "":
		case d.fromArchive[c.Path].Path != "":
			extract = append(extract, c.Path)
		case c.Mode != "160000":
			if err := s.writeBlobFile(newRoot, c.Path, c.Blob, c.Mode); err != nil {
				return nil, fmt.Errorf("diff %s: %w", b.ID, err)
			}
		}
	}
	if len(extract) > 0 {
		if err := archive.Extract(ctx, d.Archive, filepath.Join(tmp, "b"), archive.ExtractOptions{Paths: extract}); err != nil {
			return nil, fmt.Errorf("diff %s: %w", b.ID, err)
		}
	}
	if err := s.Repo.DiffDirs(ctx, tmp, "a", "b", gitstate.DirDiffOptions{Stat: o.Stat, Out: o.Out}); err != nil {
		return nil, fmt.Errorf("diff %s: %w", b.ID, err)
	}
	s.Repo.TouchAccess(b.ID, s.now())
	return d, nil
}

// openRootDir creates dir and opens it as a root no path can escape.
func openRootDir(dir string) (*os.Root, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	return os.OpenRoot(dir)
}

// writeBlobFile writes blob id at repository path p under root, as a
// symbolic link for mode 120000. Gitlinks have no content and are skipped.
func (s *Store) writeBlobFile(root *os.Root, p, id, mode string) error {
	if mode == "160000" {
		return nil
	}
	if err := archive.CheckPath(p); err != nil {
		return err
	}
	name := filepath.FromSlash(p)
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("write %q: %w", p, err)
		}
	}
	rc, _, err := s.Repo.OpenBlob(id)
	if err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	defer rc.Close()
	if mode == "120000" {
		target, err := io.ReadAll(io.LimitReader(rc, archive.MaxLinkTarget))
		if err != nil {
			return fmt.Errorf("write %q: %w", p, err)
		}
		return root.Symlink(string(target), name)
	}
	perm := fs.FileMode(0o644)
	if mode == "100755" {
		perm = 0o755
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", p, err)
	}
	return f.Close()
}
