package transitions

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// ErrBaseMissing is returned by Unarchive when the snapshot commit has to be
// rebuilt and its base commit is gone from the object store.
var ErrBaseMissing = errors.New("base commit is gone")

// UnarchiveResult says what Unarchive did.
type UnarchiveResult struct {
	Backup  *Backup // the backup, live again
	From    State   // ARCHIVED
	To      State   // the state it had before it was archived
	Ref     string  // the snapshot ref created
	Archive string  // the archive it came back from
	// Rebuilt is set when the snapshot's objects had been pruned and were
	// written again from the archive (same commit ID).
	Rebuilt bool
	// ArchiveRemoved is set when the archive file was removed after the
	// state commit; Warning says why it was not when that failed.
	ArchiveRemoved bool
	Warning        string
}

// Unarchive brings an ARCHIVED backup back as a live snapshot, in the state
// it had before it was archived. The archive is verified first. The snapshot
// ref points at the very same commit (the state note is keyed by it): when
// the commit or objects of its tree are gone they are rebuilt from the
// archive on the base commit, checked against the manifest's tree and commit
// ID, and the unarchive is refused (ErrBaseMissing) when the base is gone
// too. One state commit makes the move and creates the ref; only then is the
// archive file removed.
func (s *Store) Unarchive(ctx context.Context, id string) (UnarchiveResult, error) {
	res := UnarchiveResult{From: Archived}
	v, err := s.Load(ctx)
	if err != nil {
		return res, err
	}
	b := v.ByID(id)
	if b == nil {
		return res, fmt.Errorf("unarchive: %w: %q", ErrUnknownBackup, id)
	}
	if b.State != Archived {
		return res, fmt.Errorf("unarchive %s: it is %s, not ARCHIVED: its snapshot is live already", b.ID, b.State)
	}
	path, m, err := s.verifiedArchive(ctx, b)
	if err != nil {
		return res, fmt.Errorf("unarchive %s: %w", b.ID, err)
	}
	res.Archive, res.To = path, stateBeforeArchived(b)
	if err := CheckMove(Archived, res.To, false, b.Pinned, TriggerUser); err != nil {
		return res, fmt.Errorf("unarchive %s: %w", b.ID, err)
	}
	if res.Rebuilt, err = s.ensureSnapshot(ctx, b, path, m); err != nil {
		return res, fmt.Errorf("unarchive %s: %w", b.ID, err)
	}

	ref := gitstate.SnapshotRef(b.ID)
	_, _, err = s.Update(ctx, func(v *View) (*Batch, error) {
		b := v.ByID(id)
		switch {
		case b == nil:
			return nil, fmt.Errorf("%w: %q", ErrUnknownBackup, id)
		case b.State != Archived || deref(b.Archive) != path:
			return nil, fmt.Errorf("backup %s changed meanwhile: it is %s (archive %q)", b.ID, b.State, deref(b.Archive))
		}
		if err := CheckMove(Archived, res.To, false, b.Pinned, TriggerUser); err != nil {
			return nil, fmt.Errorf("backup %s: %w", b.ID, err)
		}
		up := gitstate.RefUpdate{Name: ref, New: b.Snapshot} // create-only
		cur, err := s.Repo.ReadRef(ref)
		if err != nil {
			return nil, err
		}
		if cur != "" && cur != b.Snapshot {
			return nil, fmt.Errorf("%s exists and points to %s, not the snapshot %s (run git backup fsck)", ref, cur, b.Snapshot)
		}
		up.Old = cur
		ev := gitstate.Event{Kind: gitstate.KindMove, From: string(Archived), To: string(res.To), Trigger: string(TriggerUser),
			Reason: "unarchived from " + path}
		res.Backup = b
		return &Batch{Trigger: string(TriggerUser), Title: "unarchive " + b.ID, Changes: []Change{{
			Backup: b, Events: []gitstate.Event{ev}, Refs: []gitstate.RefUpdate{up},
			Summary: fmt.Sprintf("%s ARCHIVED -> %s", b.ID, res.To),
		}}}, nil
	})
	if err != nil {
		return res, fmt.Errorf("unarchive %s: %w", id, err)
	}
	res.Ref = ref
	if nb := s.reload(ctx, id); nb != nil {
		res.Backup = nb
	}
	// The content is live again: the archive goes. A crash before this line
	// leaves a stray archive of a live backup, which fsck --repair removes.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		res.Warning = fmt.Sprintf("the archive %q could not be removed (git backup fsck --repair removes it): %v", path, err)
	} else {
		res.ArchiveRemoved = true
	}
	return res, nil
}

// reload returns backup id as the state has it now, or nil.
func (s *Store) reload(ctx context.Context, id string) *Backup {
	v, err := s.Load(ctx)
	if err != nil {
		return nil
	}
	return v.ByID(id)
}

// stateBeforeArchived is the state a backup had when it was archived (the
// last move to ARCHIVED), CLEANABLE when its log does not say.
func stateBeforeArchived(b *Backup) State {
	prev := Cleanable
	for _, e := range b.Events {
		if e.Kind == gitstate.KindMove && State(e.To) == Archived && State(e.From).Live() && known(State(e.From)) {
			prev = State(e.From)
		}
	}
	return prev
}

// ensureSnapshot makes sure the snapshot commit and every object of its tree
// are in the object store, writing them again from the archive when they are
// not. It reports whether it wrote anything.
func (s *Store) ensureSnapshot(ctx context.Context, b *Backup, path string, m archive.Manifest) (bool, error) {
	missing, err := s.Repo.MissingObjects(ctx, b.Snapshot)
	if err != nil {
		return false, err
	}
	if len(missing) == 0 {
		return false, nil
	}
	if m.Commit == "" {
		return false, fmt.Errorf("the snapshot commit %s is gone and the archive %q does not hold it, so the snapshot cannot be rebuilt with the same ID; git backup restore %s --to DIR still writes its files", abbrevID(b.Snapshot, 12), path, b.ID)
	}
	raw, err := base64.StdEncoding.DecodeString(m.Commit)
	if err != nil {
		return false, fmt.Errorf("archive %q: its snapshot commit is not base64: %w", path, err)
	}
	if id := commitID(raw); id != b.Snapshot {
		return false, fmt.Errorf("archive %q: its snapshot commit hashes to %s, not %s: refusing to write it", path, id, b.Snapshot)
	}
	tree, ok := commitTree(raw)
	if !ok || (m.Backup.Tree != "" && tree != m.Backup.Tree) {
		return false, fmt.Errorf("archive %q: its snapshot commit does not name the manifest's tree %s", path, m.Backup.Tree)
	}
	baseTree, baseOK, err := s.archiveBase(m)
	if err != nil {
		return false, err
	}
	if !baseOK {
		return false, fmt.Errorf("%w: the snapshot's base %s is not in this repository, so the snapshot cannot be rebuilt "+
			"(fetch the base from a clone that has it and try again, or get the changed files with git backup restore %s --to DIR)",
			ErrBaseMissing, m.Backup.Base, b.ID)
	}
	if err := s.writeArchivedBlobs(ctx, path, m); err != nil {
		return false, err
	}
	var entries []gitstate.TreeEntry
	for _, p := range m.Deleted {
		entries = append(entries, gitstate.TreeEntry{Path: p})
	}
	for _, f := range m.Files {
		entries = append(entries, gitstate.TreeEntry{Path: f.Path, Mode: string(f.Mode), ID: f.Blob})
	}
	got, err := s.Repo.BuildTree(ctx, baseTree, entries)
	if err != nil {
		return false, fmt.Errorf("rebuild the snapshot's tree: %w", err)
	}
	if got != tree {
		return false, fmt.Errorf("the tree rebuilt from archive %q on base %s is %s, not the snapshot's tree %s: the archive does not describe the whole snapshot; nothing was changed (git backup restore %s --to DIR still writes its files)",
			path, abbrevID(m.Backup.Base, 12), got, tree, b.ID)
	}
	if !s.Repo.HasObject(b.Snapshot) {
		id, err := s.Repo.WriteRawCommit(m.Commit)
		if err != nil {
			return false, err
		}
		if id != b.Snapshot {
			return false, fmt.Errorf("the rebuilt snapshot commit is %s, not %s", id, b.Snapshot)
		}
	}
	if missing, err := s.Repo.MissingObjects(ctx, b.Snapshot); err != nil {
		return false, err
	} else if len(missing) > 0 {
		return false, fmt.Errorf("objects of the snapshot are still missing after the rebuild: %s", abbrevID(missing[0], 12))
	}
	return true, nil
}

// commitID is the git object ID of a raw commit object.
func commitID(raw []byte) string {
	h := sha1.New()
	h.Write([]byte("commit " + strconv.Itoa(len(raw)) + "\x00"))
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))
}

// commitTree reads the tree a raw commit object names.
func commitTree(raw []byte) (string, bool) {
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	tree, ok := bytes.CutPrefix(line, []byte("tree "))
	return string(tree), ok && len(tree) == 40
}

// writeArchivedBlobs writes every file of the archive that is not in the
// object store as a blob, checking each blob ID.
func (s *Store) writeArchivedBlobs(ctx context.Context, path string, m archive.Manifest) error {
	var ids []string
	for _, f := range m.Files {
		if f.Mode.Stored() {
			ids = append(ids, f.Blob)
		}
	}
	sizes, err := s.Repo.BlobSizes(ids)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for i, id := range ids {
		if sizes[i] >= 0 {
			have[id] = true
		}
	}
	if len(have) == len(ids) {
		return nil
	}
	r, err := archive.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if have[f.Blob] {
			continue
		}
		id, err := s.Repo.WriteBlobFrom(ctx, r, f.Size)
		if err != nil {
			return fmt.Errorf("write %q from the archive: %w", f.Path, err)
		}
		if id != f.Blob {
			return fmt.Errorf("write %q from the archive: blob %s, the manifest says %s", f.Path, id, f.Blob)
		}
		have[id] = true
	}
}
