package transitions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/git-backup/git-backup/gitstate"
)

// RestoreOptions says what to restore and where.
type RestoreOptions struct {
	ID    string   // exact backup ID
	To    string   // write into this new or empty directory instead of the work tree
	Paths []string // limit to these paths, relative to the top of the work tree
	Force bool     // overwrite uncommitted changes (they are backed up first)
}

// RestoreResult says what a restore did.
type RestoreResult struct {
	Backup  *Backup
	SavedAs *Backup  // the backup of the work taken before writing, if any
	Written []string // paths written
	Removed []string // paths removed (deleted in the backup)
	To      string   // directory written into, "" for the work tree
	// Archive is the archive an ARCHIVED backup was restored from.
	Archive string
	// BaseMissing is set when an ARCHIVED backup's base commit is gone: only
	// the files the backup changed were written.
	BaseMissing bool
}

// ErrWouldOverwrite is returned when a restore would overwrite uncommitted
// changes and Force is not set.
var ErrWouldOverwrite = fmt.Errorf("%w: restore would overwrite uncommitted changes", ErrRefused)

// ErrNotLive is returned when a backup has no snapshot to read from.
var ErrNotLive = errors.New("backup has no live snapshot")

// Restore writes a backup's files back. In the work tree it first takes a
// backup of the current work (so the restore can be undone) and refuses to
// overwrite uncommitted changes unless forced; with To it writes the whole
// snapshot into a new or empty directory and touches nothing else.
func (s *Store) Restore(ctx context.Context, b *Backup, o RestoreOptions) (RestoreResult, error) {
	res := RestoreResult{Backup: b, To: o.To}
	here := s.SnapshotHere(b)
	if b.State == Archived && !here {
		return s.restoreArchived(ctx, b, o, res)
	}
	if !here {
		return res, fmt.Errorf("restore %s: %w: it is %s and its content is gone", b.ID, ErrNotLive, b.State)
	}
	if b.Tree == "" {
		return res, fmt.Errorf("restore %s: its note has no tree (run git backup fsck)", b.ID)
	}
	if !s.Repo.HasObject(b.Snapshot) {
		return res, fmt.Errorf("restore %s: snapshot commit %s is missing (run git backup fsck)", b.ID, b.Snapshot)
	}
	if o.To != "" {
		return s.restoreTo(ctx, b, o, res)
	}
	work, err := s.Repo.WriteWorkTree(ctx, gitstate.WorkOptions{IncludeIgnored: b.IncludeIgnored})
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	changes, err := s.Repo.ChangedPaths(ctx, work.Tree, b.Tree, o.Paths...)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	deletedInBackup := map[string]bool{}
	for _, p := range b.Paths {
		if p.Blob == "" {
			deletedInBackup[p.Path] = true
		}
	}
	var write, remove []string
	for _, c := range changes {
		switch {
		case c.Blob != "":
			write = append(write, c.Path)
		case deletedInBackup[c.Path]:
			remove = append(remove, c.Path)
		}
	}
	if len(write)+len(remove) == 0 {
		return res, nil
	}
	if res.SavedAs, err = s.saveWorkFirst(ctx, b, work, append(append([]string{}, write...), remove...), o.Force); err != nil {
		return res, err
	}
	if len(write) > 0 {
		if err := s.Repo.CheckoutTree(ctx, b.Tree, gitstate.CheckoutOptions{Paths: write}); err != nil {
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
	}
	for _, p := range remove {
		if err := s.Repo.RemoveWorkFile(p); err != nil {
			return res, fmt.Errorf("restore %s: %w", b.ID, err)
		}
	}
	res.Written, res.Removed = write, remove
	s.Repo.TouchAccess(b.ID, s.now())
	return res, nil
}

// saveWorkFirst is the guard before a restore writes the paths touched in
// the work tree: when the work differs from HEAD, it refuses to overwrite
// uncommitted changes to those paths unless forced, and takes a backup of
// the work (returned) so the restore can be undone.
func (s *Store) saveWorkFirst(ctx context.Context, b *Backup, work gitstate.Work, touched []string, force bool) (*Backup, error) {
	headTree := gitstate.EmptyTreeID
	if work.Head.Commit != "" {
		c, err := s.Repo.Commit(work.Head.Commit)
		if err != nil {
			return nil, fmt.Errorf("restore %s: read HEAD: %w", b.ID, err)
		}
		headTree = c.Tree
	}
	if len(touched) == 0 {
		return nil, nil
	}
	// A file on disk that the snapshot of the work left out (an ignored
	// file) would be overwritten without being in any backup.
	inWork, err := s.entriesAt(ctx, work.Tree, touched)
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	var dirty []gitstate.PathChange
	for _, p := range touched {
		fi, err := os.Lstat(filepath.Join(s.Repo.WorkTree, filepath.FromSlash(p)))
		if err != nil {
			continue
		}
		// A directory where the backup has a file would be removed whole,
		// ignored files in it included; a file the work snapshot left out is
		// in no backup.
		if e, ok := inWork[p]; (fi.IsDir() && e.Mode != "160000") || !ok {
			dirty = append(dirty, gitstate.PathChange{Path: p})
		}
	}
	if len(dirty) > 0 && !force {
		return nil, fmt.Errorf("restore %s: %w in %s, files left out of backups (move them away, or restore --to DIR elsewhere)", b.ID, ErrWouldOverwrite, dirty[0].Path)
	}
	ignored := len(dirty) > 0 // forced: back them up with the rest
	if work.Tree == headTree && !ignored {
		return nil, nil
	}
	dirty, err = s.Repo.ChangedPaths(ctx, headTree, work.Tree, literal(touched)...)
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	if len(dirty) > 0 && !force {
		var names []string
		for i, d := range dirty {
			if i == 5 {
				names = append(names, fmt.Sprintf("and %d more", len(dirty)-5))
				break
			}
			names = append(names, d.Path)
		}
		return nil, fmt.Errorf("restore %s: %w in %s (commit or stash them, restore --to DIR elsewhere, or pass --force: they are backed up first)", b.ID, ErrWouldOverwrite, strings.Join(names, ", "))
	}
	saved, err := s.Create(ctx, CreateOptions{Trigger: "restore", Message: "work before restoring " + b.ID, IncludeIgnored: b.IncludeIgnored || ignored})
	if err != nil {
		return nil, fmt.Errorf("restore %s: back up current work first: %w", b.ID, err)
	}
	return saved.Backup, nil
}

// targetDir makes sure to (made absolute) is a new or empty directory, and
// creates it when missing (created is then true).
func targetDir(b *Backup, to string) (dir string, created bool, err error) {
	dir, err = filepath.Abs(to)
	if err != nil {
		return "", false, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	ents, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", false, fmt.Errorf("restore %s: %w", b.ID, err)
		}
		created = true
	case err != nil:
		return "", false, fmt.Errorf("restore %s: %w", b.ID, err)
	case len(ents) > 0:
		return "", false, fmt.Errorf("restore %s: %w: %q is not empty (choose a new or empty directory)", b.ID, ErrRefused, dir)
	}
	return dir, created, nil
}

// restoreTo writes the snapshot into a new or empty directory.
func (s *Store) restoreTo(ctx context.Context, b *Backup, o RestoreOptions, res RestoreResult) (RestoreResult, error) {
	dir, created, err := targetDir(b, o.To)
	if err != nil {
		return res, err
	}
	files, err := s.Repo.TreeFiles(ctx, b.Tree, o.Paths)
	if err != nil {
		clearDir(dir, created)
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	if len(files) == 0 {
		return res, nil
	}
	if err := s.Repo.CheckoutTree(ctx, b.Tree, gitstate.CheckoutOptions{Paths: files, Prefix: dir}); err != nil {
		// A snapshot that cannot be read whole leaves no half-written
		// directory behind: the directory was new or empty.
		clearDir(dir, created)
		return res, fmt.Errorf("restore %s: %w", b.ID, err)
	}
	res.Written, res.To = files, dir
	s.Repo.TouchAccess(b.ID, s.now())
	return res, nil
}

// clearDir removes what a failed restore --to wrote into dir, which it
// found empty, and dir itself when the restore created it.
func clearDir(dir string, created bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
	if created {
		os.Remove(dir)
	}
}

// literal turns paths into pathspecs that match exactly those paths.
func literal(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = ":(literal)" + p
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
