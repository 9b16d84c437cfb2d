package transitions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// uaAge makes a file look two hours old.
func uaAge(t testing.TB, path string) {
	t.Helper()
	old := time.Now().Add(-2 * time.Hour)
	uaMust(t, os.Chtimes(path, old, old), "age %s", path)
}

// uaFsck runs fsck and returns its findings in short.
func uaFsck(t *testing.T, s *Store, repair bool) (*FsckResult, []string) {
	t.Helper()
	res, err := s.Fsck(context.Background(), FsckOptions{Repair: repair})
	uaMust(t, err, "fsck")
	return res, fsckSummary(res.Findings)
}

func TestFsckArchive_verifiedArchiveIsClean(t *testing.T) {
	dir, s, b := uaBackup(t)
	uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	if res, got := uaFsck(t, s, false); !res.OK() {
		t.Fatalf("findings: %q", got)
	}
}

func TestFsckArchive_missingArchiveWithTheSnapshotGoneIsTombstoned(t *testing.T) {
	dir, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	uaMust(t, os.Remove(path), "remove")
	_, got := uaFsck(t, s, false)
	if want := []string{"missing-archive " + b.ID + " tombstone"}; !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if after := uaLoad(t, s, b.ID); after.State != Archived {
		t.Fatal("fsck without --repair changed the state")
	}
	res, _ := uaFsck(t, s, true)
	if !res.OK() {
		t.Fatalf("after repair: %q", fsckSummary(res.Findings))
	}
	after := uaLoad(t, s, b.ID)
	last := after.Events[len(after.Events)-1]
	if after.State != Deleted || !last.Forced || last.Reason != ArchiveLostReason {
		t.Fatalf("after repair: %s, %+v", after.State, last)
	}
	if res, got := uaFsck(t, s, false); !res.OK() {
		t.Fatalf("fsck after repair: %q", got)
	}
}

func TestFsckArchive_anotherClonesArchiveIsNotTombstoned(t *testing.T) {
	dir, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	uaMust(t, os.Remove(path), "remove")
	s.Clone = "0123456789abcdef" // another clone, which fetched the state
	if res, got := uaFsck(t, s, true); !res.OK() || len(got) > 0 {
		t.Fatalf("findings %q", got)
	}
	if after := uaLoad(t, s, b.ID); after.State != Archived {
		t.Fatalf("state %s, want ARCHIVED: the archive is in the clone that wrote it", after.State)
	}
}

func TestFsckArchive_missingArchiveWithTheSnapshotStillHereIsNotTombstoned(t *testing.T) {
	_, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	uaMust(t, os.Remove(path), "remove")
	res, got := uaFsck(t, s, true)
	if want := []string{"missing-archive " + b.ID}; !slices.Equal(got, want) || res.Findings[0].Repaired {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if !strings.Contains(res.Findings[0].Repair, "still whole") {
		t.Errorf("repair: %s", res.Findings[0].Repair)
	}
	if after := uaLoad(t, s, b.ID); after.State != Archived {
		t.Fatalf("state %s", after.State)
	}
}

func TestFsckArchive_damagedArchiveIsNamedAndKept(t *testing.T) {
	for _, damage := range []string{"bit flipped", "truncated"} {
		t.Run(damage, func(t *testing.T) {
			_, s, b := uaBackup(t)
			path := uaArchive(t, s, b.ID)
			if damage == "truncated" {
				fi, _ := os.Stat(path)
				uaMust(t, os.Truncate(path, fi.Size()/2), "truncate")
			} else {
				uaFlip(t, path)
			}
			res, got := uaFsck(t, s, true)
			if want := []string{"corrupt-archive " + b.ID}; !slices.Equal(got, want) {
				t.Fatalf("findings %q, want %q", got, want)
			}
			if msg := res.Findings[0].Message; !strings.Contains(msg, path) {
				t.Errorf("message does not name the archive: %s", msg)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("the damaged archive went: %v", err)
			}
			if after := uaLoad(t, s, b.ID); after.State != Archived {
				t.Fatalf("state %s", after.State)
			}
		})
	}
}

func TestFsckArchive_damagedFileIsNamed(t *testing.T) {
	_, s, b := uaBackup(t)
	full := uaLoad(t, s, b.ID)
	m := uaManifest(t, s, full)
	path := uaArchive(t, s, b.ID)
	// A file whose content does not match its blob ID.
	entries := map[string]string{}
	for i, f := range m.Files {
		if f.Mode == archive.ModeSymlink {
			m.Files = slices.Delete(m.Files, i, i+1)
			break
		}
	}
	for _, f := range m.Files {
		data, err := s.Repo.ReadBlob(f.Blob)
		uaMust(t, err, "read %s", f.Path)
		entries[f.Path] = string(data)
	}
	entries["dir/new.txt"] = "new in the backuq\n"
	uaCraft(t, path, m, entries)
	res, got := uaFsck(t, s, false)
	if want := []string{"corrupt-archive " + b.ID}; !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if msg := res.Findings[0].Message; !strings.Contains(msg, `"dir/new.txt"`) {
		t.Errorf("message does not name the damaged file: %s", msg)
	}
}

func TestFsckArchive_strayArchives(t *testing.T) {
	ctx := context.Background()
	dir, s, live := uaBackup(t)
	deleted := backupOf(t, s, dir, "d.txt", "deleted later\n")
	arch := archive.New()
	write := func(b *Backup) string {
		p := ArchivePath(s.ArchiveDir(), b.ID)
		_, err := arch.Write(ctx, p, uaManifest(t, s, uaLoad(t, s, b.ID)), s.Repo.OpenBlob, archive.Options{})
		uaMust(t, err, "write archive of %s", b.ID)
		return p
	}
	livePath, deletedPath := write(live), write(deleted)
	_, err := s.Move(ctx, MoveRequest{ID: deleted.ID, To: Deleted, Trigger: TriggerUser, Force: true})
	uaMust(t, err, "delete")
	partial := filepath.Join(s.ArchiveDir(), "."+live.ID+".tar.zst.123.tmp")
	uaMust(t, os.WriteFile(partial, []byte("half"), 0o600), "partial")

	// Fresh files may belong to an archive being written: reported, kept.
	_, got := uaFsck(t, s, true)
	want := []string{"stray-archive " + deleted.ID, "stray-archive " + live.ID}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	for _, p := range []string{livePath, deletedPath, partial} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("a fresh file was removed: %v", err)
		}
	}

	for _, p := range []string{livePath, deletedPath, partial} {
		uaAge(t, p)
	}
	_, got = uaFsck(t, s, false)
	want = []string{"partial-archive " + partial + " remove-archive", "stray-archive " + deleted.ID + " remove-archive", "stray-archive " + live.ID + " remove-archive"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if res, _ := uaFsck(t, s, true); !res.OK() {
		t.Fatalf("after repair: %q", fsckSummary(res.Findings))
	}
	for _, p := range []string{livePath, deletedPath, partial} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", p, err)
		}
	}
	if res, got := uaFsck(t, s, false); !res.OK() {
		t.Fatalf("fsck after repair: %q", got)
	}
}

func TestFsckArchive_strayOfALiveBackupWithALostSnapshotIsKept(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	p := ArchivePath(s.ArchiveDir(), b.ID)
	_, err := archive.Write(ctx, p, uaManifest(t, s, uaLoad(t, s, b.ID)), s.Repo.OpenBlob, archive.Options{})
	uaMust(t, err, "write archive")
	uaAge(t, p)
	// The ref goes without the state knowing, and the objects with it.
	storeGit(t, dir, "update-ref", "-d", "refs/backups/snapshots/"+b.ID)
	uaPrune(t, dir)
	_, got := uaFsck(t, s, true)
	if !slices.Contains(got, "stray-archive "+b.ID) {
		t.Fatalf("findings %q", got)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the archive holding the only copy was removed: %v", err)
	}
}

// An archive recorded at a path that is gone (the repository was moved, or
// the archive moved into the archive directory by hand) is found under its
// name in the archive directory: fsck is clean and nothing is marked DELETED.
func TestFsckArchive_archiveInTheArchiveDirIsFoundWhenTheRecordedPathIsGone(t *testing.T) {
	dir, s, b := uaBackup(t)
	recorded := filepath.Join(t.TempDir(), "elsewhere", b.ID+".tar.zst")
	_, err := archive.Write(context.Background(), recorded, uaManifest(t, s, uaLoad(t, s, b.ID)), s.Repo.OpenBlob, archive.Options{})
	uaMust(t, err, "write")
	uaMoveArchived(t, s, b.ID, recorded)
	uaPrune(t, dir)
	moved := ArchivePath(s.ArchiveDir(), b.ID)
	uaMust(t, os.MkdirAll(filepath.Dir(moved), 0o700), "mkdir")
	uaMust(t, os.Rename(recorded, moved), "move the archive")
	uaAge(t, moved)
	if res, got := uaFsck(t, s, true); !res.OK() || len(got) != 0 {
		t.Fatalf("findings %q, want none", got)
	}
	if got := deref(uaLoad(t, s, b.ID).Archive); got != moved {
		t.Fatalf("archive %q, want %q", got, moved)
	}
	if _, err := archive.Verify(moved); err != nil {
		t.Fatalf("the archive is gone: %v", err)
	}
}

// A process killed after git moved refs/backups/state to ARCHIVED but before
// it deleted the snapshot ref (git deletes refs after every update of a
// transaction) leaves both: the verified archive holds the content, so
// --repair drops the ref.
func TestFsckArchive_refLeftBesideAVerifiedArchiveIsDropped(t *testing.T) {
	dir, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	storeGit(t, dir, "update-ref", gitstate.SnapshotRef(b.ID), b.Snapshot)
	if _, got := uaFsck(t, s, false); !slices.Equal(got, []string{"stale-ref " + b.ID + " drop-ref"}) {
		t.Fatalf("findings %q", got)
	}
	if res, got := uaFsck(t, s, true); !res.OK() {
		t.Fatalf("after repair: %q", got)
	}
	if out := storeGit(t, dir, "for-each-ref", gitstate.SnapshotRef(b.ID)); out != "" {
		t.Fatalf("ref still there: %s", out)
	}
	if _, err := archive.Verify(path); err != nil {
		t.Fatal(err)
	}
	if after := uaLoad(t, s, b.ID); after.State != Archived {
		t.Fatalf("state %s", after.State)
	}
}

func TestFsckArchive_refBesideADamagedArchiveIsKept(t *testing.T) {
	dir, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	storeGit(t, dir, "update-ref", gitstate.SnapshotRef(b.ID), b.Snapshot)
	uaMust(t, os.WriteFile(path, []byte("not an archive"), 0o600), "damage")
	res, got := uaFsck(t, s, true)
	if !slices.Contains(got, "stale-ref "+b.ID) || res.OK() {
		t.Fatalf("findings %q", got)
	}
	if out := storeGit(t, dir, "for-each-ref", gitstate.SnapshotRef(b.ID)); out == "" {
		t.Fatal("the ref, the only good copy, was dropped")
	}
}
