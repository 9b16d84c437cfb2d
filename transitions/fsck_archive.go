package transitions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// The kinds of findings about archives.
const (
	FsckMissingArchive FsckKind = "missing-archive" // an ARCHIVED backup whose archive is gone
	FsckCorruptArchive FsckKind = "corrupt-archive" // an archive that does not verify, or holds another backup
	FsckStrayArchive   FsckKind = "stray-archive"   // an archive no ARCHIVED backup names
	FsckPartialArchive FsckKind = "partial-archive" // a temporary file left by an interrupted archive write
)

// The repairs of archive files.
const (
	RepairRemoveArchive FsckAction = "remove-archive" // delete an archive whose content is held elsewhere or gone for good
	RepairPlaceArchive  FsckAction = "place-archive"  // rename a verified stray archive to the path the state names
)

// ArchiveLostReason is the reason recorded when fsck marks an ARCHIVED
// backup whose archive and snapshot are both gone as DELETED.
const ArchiveLostReason = "fsck: archive lost"

// ArchiveFile is what fsck knows of one archive file.
type ArchiveFile struct {
	Path    string
	ModTime time.Time
	Exists  bool
	// Err is why the archive does not verify (nil when it does, or when it
	// was not read).
	Err      error
	ID       string // backup ID from the manifest, when it verified
	Snapshot string // snapshot from the manifest, when it verified
	// Complete is set for a verified archive of a live backup when the
	// snapshot commit and every object of its tree are in the object store.
	Complete bool
}

// ArchiveFacts is what fsck reads about archives: the archive of every
// ARCHIVED backup, and every file of the archive directory.
type ArchiveFacts struct {
	Dir      string
	Recorded map[string]ArchiveFile // by path: the archives ARCHIVED backups name
	Strays   []ArchiveFile          // <ID>.tar.zst files in Dir no ARCHIVED backup names
	Temps    []ArchiveFile          // temporary files of interrupted writes in Dir
	// SnapshotComplete says, for ARCHIVED backups whose archive is missing,
	// whether their snapshot is still whole in the object store.
	SnapshotComplete map[string]bool
}

// archiveFacts reads and verifies the archives the state names and the
// files of the archive directory.
func (s *Store) archiveFacts(ctx context.Context, v *View) *ArchiveFacts {
	af := &ArchiveFacts{Dir: s.ArchiveDir(), Recorded: map[string]ArchiveFile{}, SnapshotComplete: map[string]bool{}}
	arch := archive.New()
	defer arch.Close()
	check := func(path string) ArchiveFile {
		f := ArchiveFile{Path: path}
		fi, err := os.Stat(path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				f.Exists, f.Err = true, err
			}
			return f
		}
		f.Exists, f.ModTime = true, fi.ModTime()
		m, err := arch.Verify(ctx, path)
		if err != nil {
			f.Err = err
			return f
		}
		f.ID, f.Snapshot = m.Backup.ID, m.Backup.Snapshot
		return f
	}
	for _, b := range v.Backups {
		if b.State != Archived || b.Archive == nil {
			continue
		}
		p := *b.Archive
		if _, ok := af.Recorded[p]; !ok {
			af.Recorded[p] = check(p)
		}
		if !af.Recorded[p].Exists {
			missing, err := s.Repo.MissingObjects(ctx, b.Snapshot)
			af.SnapshotComplete[b.ID] = err == nil && len(missing) == 0
		}
	}
	ents, err := os.ReadDir(af.Dir)
	if err != nil {
		return af // no archive directory: nothing stray in it
	}
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(af.Dir, name)
		switch {
		case !e.Type().IsRegular():
		case archive.IsTemp(name):
			f := ArchiveFile{Path: p, Exists: true}
			if fi, err := e.Info(); err == nil {
				f.ModTime = fi.ModTime()
			}
			af.Temps = append(af.Temps, f)
		case strings.HasSuffix(name, ".tar.zst"):
			if _, ok := af.Recorded[p]; ok {
				continue
			}
			f := check(p)
			if b := v.ByID(f.ID); f.Err == nil && b != nil && b.Live() && b.Snapshot == f.Snapshot {
				missing, err := s.Repo.MissingObjects(ctx, b.Snapshot)
				f.Complete = err == nil && len(missing) == 0
			}
			af.Strays = append(af.Strays, f)
		}
	}
	return af
}

// checkArchives reports ARCHIVED backups whose archive is missing, damaged
// or another backup's, stray archives and partial files. A stray or partial
// file younger than StrayIndexAge may belong to an archive being written
// right now: it is reported, never removed.
func checkArchives(v *View, in FsckInput) []Finding {
	af := in.Archives
	var fs []Finding
	strayFor := map[string]ArchiveFile{} // backup ID → a verified stray archive of it
	for _, f := range af.Strays {
		if f.Err == nil && f.ID != "" {
			strayFor[f.ID] = f
		}
	}
	for _, b := range v.Backups {
		if b.State != Archived {
			continue
		}
		f := Finding{ID: b.ID, Snapshot: b.Snapshot, backup: b}
		if b.Archive == nil {
			f.Kind, f.Message = FsckMissingArchive, fmt.Sprintf("backup %s is ARCHIVED but its state names no archive", b.ID)
			f.Repair = "none: find its archive and move it to " + ArchivePath(af.Dir, b.ID) + ", then run git backup fsck again"
			fs = append(fs, f)
			continue
		}
		af0 := af.Recorded[*b.Archive]
		f.Path = af0.Path
		switch {
		case !af0.Exists && in.Refs[b.ID] == b.Snapshot:
			continue // its ref still holds the content: reported as a stale ref, to keep
		case !af0.Exists:
			f.Kind = FsckMissingArchive
			f.Message = fmt.Sprintf("backup %s is ARCHIVED but its archive %q is missing", b.ID, af0.Path)
			st, ok := strayFor[b.ID]
			switch {
			case ok && st.Snapshot == b.Snapshot:
				f.Action, f.Path = RepairPlaceArchive, st.Path
				f.Repair = fmt.Sprintf("move the verified archive %q to %q, where the state says it is", st.Path, af0.Path)
				f.target = af0.Path
			case archivedElsewhere(b, in.Self):
				continue // the archive is in the clone that wrote it, not lost
			case in.Archives.SnapshotComplete[b.ID]:
				f.Repair = fmt.Sprintf("none: its snapshot commit %s is still whole in the object store; keep it with git update-ref %s %s, "+
					"then git backup transition %s cleanable --force (and archive it again)", abbrevID(b.Snapshot, 12), gitstate.SnapshotRef(b.ID), b.Snapshot, b.ID)
			default:
				f.Action, f.reason, f.force = RepairTombstone, ArchiveLostReason, true
				f.Message += " and its snapshot is gone: its content is lost"
				f.Repair = fmt.Sprintf("mark it DELETED (forced move, trigger user, reason %q): put the archive back at %q first if you have a copy", ArchiveLostReason, af0.Path)
			}
		case af0.Err != nil:
			f.Kind, f.Message = FsckCorruptArchive, fmt.Sprintf("backup %s: %v", b.ID, af0.Err)
			f.Repair = "none: the archive is the only copy of the backup and nothing is restored from a damaged one; keep the file, and put a good copy in its place if you have one (a backup of the archive directory, or the same archive from another clone)"
		case af0.ID != b.ID || af0.Snapshot != b.Snapshot:
			f.Kind = FsckCorruptArchive
			f.Message = fmt.Sprintf("backup %s's archive %q holds backup %s (snapshot %s)", b.ID, af0.Path, af0.ID, abbrevID(af0.Snapshot, 12))
			f.Repair = "none: find backup " + b.ID + "'s own archive and put it at " + af0.Path
		default:
			continue
		}
		fs = append(fs, f)
	}
	for _, st := range af.Strays {
		f := Finding{Kind: FsckStrayArchive, Path: st.Path, ID: st.ID}
		b := v.ByID(st.ID)
		old := in.Now.Sub(st.ModTime) >= StrayIndexAge
		switch {
		case st.Err != nil:
			f.ID = strings.TrimSuffix(filepath.Base(st.Path), ".tar.zst")
			f.Message = fmt.Sprintf("a damaged archive no ARCHIVED backup names: %v", st.Err)
			f.Repair = "none: check it, then delete it by hand"
		case b == nil:
			f.Message = fmt.Sprintf("an archive of backup %s, which has no state note", st.ID)
			f.Repair = "none: no backup has this ID here (fetch the state of the clone it came from); delete it by hand when it is not needed"
		case b.Snapshot != st.Snapshot:
			f.Message = fmt.Sprintf("an archive of backup %s for snapshot %s, but the backup's snapshot is %s", st.ID, abbrevID(st.Snapshot, 12), abbrevID(b.Snapshot, 12))
			f.Repair = "none: check it, then delete it by hand"
		case b.State == Deleted:
			f.Message = fmt.Sprintf("an archive of backup %s, which is DELETED", st.ID)
			f.Action, f.Repair = RepairRemoveArchive, "remove the file: the backup is DELETED"
		case b.State == Archived:
			if strayFor[b.ID].Path == st.Path && !af.Recorded[deref(b.Archive)].Exists {
				continue // placed by the missing-archive repair
			}
			f.Message = fmt.Sprintf("a second archive of backup %s, which is ARCHIVED at %q", st.ID, deref(b.Archive))
			f.Action, f.Repair = RepairRemoveArchive, "remove the file: the archive the state names verifies"
			if af.Recorded[deref(b.Archive)].Err != nil {
				f.Action, f.Repair = RepairNone, "none: the archive the state names is damaged, and this one verifies; keep both and move this one over it by hand"
			}
		case !st.Complete || in.Refs[b.ID] != b.Snapshot:
			// Only a ref keeps the snapshot's objects from being pruned: without
			// it, the archive may soon be the only copy.
			f.Message = fmt.Sprintf("an archive of backup %s, which is %s but whose snapshot is not whole in the object store or has no ref", st.ID, b.State)
			f.Repair = "none: the archive may hold the only copy of files the snapshot lost; keep it"
		default:
			f.Message = fmt.Sprintf("an archive of backup %s, which is %s with its snapshot ref (left by an interrupted archive or unarchive)", st.ID, b.State)
			f.Action, f.Repair = RepairRemoveArchive, "remove the file: the snapshot ref holds the content"
		}
		if f.Action != RepairNone && !old {
			f.Action = RepairNone
			f.Repair = fmt.Sprintf("none yet: it is less than %s old and may belong to an archive being written; run git backup fsck again later", StrayIndexAge)
		}
		f.backup = b
		fs = append(fs, f)
	}
	for _, t := range af.Temps {
		if in.Now.Sub(t.ModTime) < StrayIndexAge {
			continue // an archive may be being written
		}
		fs = append(fs, Finding{Kind: FsckPartialArchive, Path: t.Path, Action: RepairRemoveArchive,
			Message: fmt.Sprintf("a partial archive left by an interrupted write (%s old)", roughAge(in.Now.Sub(t.ModTime))),
			Repair:  "remove the file"})
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Name() < fs[j].Name() })
	return fs
}

// archivedElsewhere reports whether another clone than self moved b to
// ARCHIVED, as its log says: the archive was written there. It is false when
// either is not known.
func archivedElsewhere(b *Backup, self string) bool {
	for i := len(b.Events) - 1; i >= 0; i-- {
		if e := b.Events[i]; e.Kind == gitstate.KindMove && State(e.To) == Archived {
			return self != "" && e.Clone != "" && e.Clone != self
		}
	}
	return false
}

// repairArchiveFiles removes and places archive files as planned. A stray
// archive of a backup is removed only if, read again now, the state does not
// name it.
func (s *Store) repairArchiveFiles(ctx context.Context, finds []Finding) {
	var v *View
	for i := range finds {
		f := &finds[i]
		if f.Action != RepairRemoveArchive && f.Action != RepairPlaceArchive {
			continue
		}
		if v == nil {
			var err error
			if v, err = s.LoadLight(ctx); err != nil {
				f.Action, f.Repair = RepairNone, "none: "+err.Error()
				continue
			}
		}
		if f.Action == RepairPlaceArchive {
			if b := v.ByID(f.ID); b == nil || b.State != Archived || deref(b.Archive) != f.target {
				f.Action, f.Repair = RepairNone, "none: the backup changed meanwhile; run git backup fsck again"
				continue
			}
			if err := os.MkdirAll(filepath.Dir(f.target), 0o700); err != nil {
				f.Action, f.Repair = RepairNone, "none: "+err.Error()
				continue
			}
			if _, err := os.Lstat(f.target); err == nil {
				f.Action, f.Repair = RepairNone, fmt.Sprintf("none: %q appeared meanwhile; run git backup fsck again", f.target)
				continue
			}
			if err := os.Rename(f.Path, f.target); err != nil {
				f.Action, f.Repair = RepairNone, fmt.Sprintf("none: %v; move the file by hand", err)
				continue
			}
			f.Repaired = true
			continue
		}
		for _, b := range v.Backups {
			if b.State == Archived && deref(b.Archive) == f.Path {
				f.Action, f.Repair = RepairNone, "none: the state names it now; run git backup fsck again"
				break
			}
		}
		if f.Action == RepairNone {
			continue
		}
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.Action, f.Repair = RepairNone, "none: "+err.Error()
			continue
		}
		f.Repaired = true
	}
}
