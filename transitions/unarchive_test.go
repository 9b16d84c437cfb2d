package transitions

import (
	"context"
	"errors"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// uaCheckLive checks that backup id is live in state want with its ref at
// its snapshot, every object there, and its archive gone.
func uaCheckLive(t *testing.T, s *Store, id string, want State, archivePath string) *Backup {
	t.Helper()
	b := uaLoad(t, s, id)
	if b.State != want || b.Archive != nil {
		t.Fatalf("after unarchive: state %s, archive %v; want %s and none", b.State, b.Archive, want)
	}
	ref, err := s.Repo.ReadRef(gitstate.SnapshotRef(id))
	if err != nil || ref != b.Snapshot {
		t.Fatalf("snapshot ref is %q (%v), want %s", ref, err, b.Snapshot)
	}
	missing, err := s.Repo.MissingObjects(context.Background(), b.Snapshot)
	if err != nil || len(missing) > 0 {
		t.Fatalf("missing objects %q (%v)", missing, err)
	}
	if _, err := os.Stat(archivePath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the archive is still there: %v", err)
	}
	res, err := s.Fsck(context.Background(), FsckOptions{})
	if err != nil || !res.OK() {
		t.Errorf("fsck after unarchive: %v %v", fsckSummary(res.Findings), err)
	}
	return b
}

func TestUnarchive_commitStillThere(t *testing.T) {
	ctx := context.Background()
	_, s, b := uaBackup(t)
	_, err := s.Move(ctx, MoveRequest{ID: b.ID, To: Pending, Trigger: TriggerUser})
	uaMust(t, err, "move")
	path := uaArchive(t, s, b.ID)
	res, err := s.Unarchive(ctx, b.ID)
	uaMust(t, err, "unarchive")
	if res.Rebuilt || res.To != Pending || !res.ArchiveRemoved {
		t.Errorf("result: %+v", res)
	}
	got := uaCheckLive(t, s, b.ID, Pending, path)
	last := got.Events[len(got.Events)-1]
	if last.From != string(Archived) || last.To != string(Pending) || last.Trigger != "user" || last.Forced {
		t.Errorf("move event: %+v", last)
	}
}

func TestUnarchive_prunedCommitIsRebuiltWithTheSameID(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	if s.Repo.HasObject(b.Snapshot) {
		t.Fatal("the snapshot survived the prune")
	}
	res, err := s.Unarchive(ctx, b.ID)
	uaMust(t, err, "unarchive")
	if !res.Rebuilt || res.To != Created {
		t.Errorf("result: %+v", res)
	}
	got := uaCheckLive(t, s, b.ID, Created, path)
	c, err := s.Repo.Commit(got.Snapshot)
	if err != nil || c.Tree != b.Tree {
		t.Fatalf("rebuilt commit: %+v %v", c, err)
	}
	// The live snapshot restores like any other.
	uaClean(t, dir)
	if _, err := s.Restore(ctx, got, RestoreOptions{ID: got.ID}); err != nil {
		t.Fatal(err)
	}
	if l := uaListing(t, dir); !maps.Equal(l, uaSnapshotFiles) {
		t.Fatalf("work tree: %q", l)
	}
	storeGit(t, dir, "fsck", "--no-dangling", "--connectivity-only")
}

func TestUnarchive_baseGoneIsRefused(t *testing.T) {
	ctx := context.Background()
	_, s, b := uaBaseGone(t)
	path := deref(b.Archive)
	_, err := s.Unarchive(ctx, b.ID)
	if !errors.Is(err, ErrBaseMissing) || !strings.Contains(err.Error(), "restore "+b.ID+" --to DIR") {
		t.Fatalf("unarchive without the base: %v", err)
	}
	after := uaLoad(t, s, b.ID)
	if after.State != Archived || deref(after.Archive) != path {
		t.Fatalf("state changed: %s", after.State)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("archive: %v", err)
	}
}

func TestUnarchive_damagedArchiveIsRefused(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	uaFlip(t, path)
	_, err := s.Unarchive(ctx, b.ID)
	if !errors.Is(err, archive.ErrCorrupt) {
		t.Fatalf("unarchive of a damaged archive: %v", err)
	}
	if after := uaLoad(t, s, b.ID); after.State != Archived {
		t.Fatalf("state changed: %s", after.State)
	}
	if ref, _ := s.Repo.ReadRef(gitstate.SnapshotRef(b.ID)); ref != "" {
		t.Fatalf("ref created: %s", ref)
	}
}

func TestUnarchive_commitThatDoesNotHashIsRefused(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	m := uaManifest(t, s, uaLoad(t, s, b.ID))
	path := uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	m.Commit = "dHJlZSAxMjM0Cg==" // "tree 1234\n"
	m.Files = nil
	uaCraft(t, path, m, nil)
	if _, err := s.Unarchive(ctx, b.ID); err == nil || !strings.Contains(err.Error(), "hashes to") {
		t.Fatalf("unarchive with a commit that does not hash to the snapshot: %v", err)
	}
	if s.Repo.HasObject(b.Snapshot) {
		t.Fatal("a snapshot commit was written")
	}
}

func TestUnarchive_liveBackupIsRefused(t *testing.T) {
	_, s, b := uaBackup(t)
	if _, err := s.Unarchive(context.Background(), b.ID); err == nil || !strings.Contains(err.Error(), "not ARCHIVED") {
		t.Fatalf("unarchive of a live backup: %v", err)
	}
}
