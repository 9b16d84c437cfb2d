package transitions

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/git-backup/git-backup/archive"
)

// ensureArchive puts b's verified archive in place, once per run: an archive
// already there that verifies for b's snapshot is reused, anything else is
// written anew (archive.Write replaces a damaged file only once the new one
// is verified).
func (a *applier) ensureArchive(ctx context.Context, b *Backup) error {
	if _, ok := a.written[b.ID]; ok {
		return nil
	}
	dest := ArchivePath(a.dir, b.ID)
	if _, err := os.Stat(dest); err == nil {
		if m, err := a.arch.Verify(ctx, dest); err == nil && m.Backup.Snapshot == b.Snapshot {
			fi, err := os.Stat(dest)
			if err != nil {
				return fmt.Errorf("archive %s: %w", b.ID, err)
			}
			n, bytes := m.StoredFiles()
			a.written[b.ID] = ArchiveWritten{ID: b.ID, Path: dest, Size: fi.Size(), Files: n, Bytes: bytes, Reused: true}
			return nil
		}
	}
	m, err := a.s.Manifest(b)
	if err != nil {
		return err
	}
	opts := archive.Options{Level: a.level}
	if a.o.Progress != nil {
		opts.Progress = func(done, total int64) {
			a.o.report(ApplyProgress{Phase: "archive", ID: b.ID, Done: done, Total: total})
		}
	}
	a.ours[b.ID] = dest
	info, err := a.arch.Write(ctx, dest, m, a.s.Repo.OpenBlob, opts)
	if err != nil {
		delete(a.ours, b.ID) // Write leaves no file behind on error
		return fmt.Errorf("archive backup %s: %w", b.ID, err)
	}
	a.written[b.ID] = ArchiveWritten{ID: b.ID, Path: info.Path, Size: info.Size, Files: info.Files, Bytes: info.Bytes}
	return nil
}

// NotArchivableError is a backup that no archive can hold faithfully. A run
// of cleanup or the monitor leaves it in its snapshot and goes on with the
// others.
type NotArchivableError struct{ ID string }

func (e *NotArchivableError) Error() string {
	return fmt.Sprintf("backup %s cannot be archived", e.ID)
}

// Manifest describes b for its archive: its fields, the raw snapshot commit,
// every file it added or changed against its base (gitlinks are not stored)
// and every path it deleted. b must be full (View.Full).
func (s *Store) Manifest(b *Backup) (archive.Manifest, error) {
	if b.Light {
		return archive.Manifest{}, fmt.Errorf("manifest of %s: its changed paths are not loaded", b.ID)
	}
	typ, raw, err := s.Repo.RawObject(b.Snapshot)
	if err != nil {
		return archive.Manifest{}, fmt.Errorf("manifest of %s: %w", b.ID, err)
	}
	if typ != "commit" {
		return archive.Manifest{}, fmt.Errorf("manifest of %s: snapshot %s is a %s, not a commit", b.ID, b.Snapshot, typ)
	}
	m := archive.Manifest{
		Backup: archive.Backup{ID: b.ID, Snapshot: b.Snapshot, Base: deref(b.Base), Tree: b.Tree, Branch: deref(b.Branch),
			CreatedAt: b.CreatedAt, Message: b.Message, Trigger: b.Trigger},
		Files:   []archive.File{},
		Deleted: []string{},
		Commit:  base64.StdEncoding.EncodeToString(raw),
	}
	for _, p := range b.Paths {
		// A note is JSON, which holds a file name that is not UTF-8 with
		// U+FFFD in place of its bad bytes: archived by that name, the file
		// would come back under another. Refuse; the snapshot keeps it.
		if strings.ContainsRune(p.Path, utf8.RuneError) {
			return archive.Manifest{}, fmt.Errorf("%w: the file name %q is not valid UTF-8 (or holds U+FFFD), so an archive could not give it back unchanged: it stays in its snapshot; rename the file, or restore the backup and commit it", &NotArchivableError{ID: b.ID}, p.Path)
		}
		switch {
		case p.Blob == "":
			m.Deleted = append(m.Deleted, p.Path)
		case p.Mode == string(archive.ModeGitlink):
		default:
			m.Files = append(m.Files, archive.File{Path: p.Path, Blob: p.Blob, Mode: archive.Mode(p.Mode), Size: p.Size})
		}
	}
	return m, nil
}

// rollback removes the archives this run wrote after the commit failed,
// except for a backup the state shows ARCHIVED at that very path (a commit
// that went through although an error was reported). When the state cannot
// be read the files stay: a stray archive loses nothing, and fsck finds it.
func (a *applier) rollback(ctx context.Context) {
	if len(a.ours) == 0 {
		return
	}
	v, err := a.s.LoadLight(ctx)
	if err != nil {
		a.s.log().Warn("archives written before the failure are left in place", "err", err)
		return
	}
	for id, p := range a.ours {
		if b := v.ByID(id); b != nil && b.State == Archived && deref(b.Archive) == p {
			continue
		}
		a.remove(p)
	}
}

// removeUnused removes the archives this run wrote for backups the committed
// batch did not archive, except one the state shows ARCHIVED at that path:
// after a lost race another writer may have archived the same backup to the
// same file, and that file is then its only copy.
func (a *applier) removeUnused(archived map[string]bool) {
	unused := map[string]string{}
	for id, p := range a.ours {
		if !archived[id] {
			unused[id] = p
		}
	}
	a.ours = unused
	a.rollback(context.WithoutCancel(a.ctx))
}

func (a *applier) remove(p string) {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.s.log().Warn("remove unused archive", "path", p, "err", err)
	}
}
