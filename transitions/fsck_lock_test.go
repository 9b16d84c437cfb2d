package transitions

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// A git process killed while it held the lock of refs/backups/state leaves
// the lock file, and every later state change fails. fsck reports it once it
// is old, and --repair removes it before it commits its other repairs.
func TestFsck_staleStateLockIsRemovedBeforeTheRepairs(t *testing.T) {
	dir, s, b := uaBackup(t)
	// A live backup without its ref: a repair that changes refs.
	storeGit(t, dir, "update-ref", "-d", gitstate.SnapshotRef(b.ID))
	lock := filepath.Join(dir, ".git", "refs", "backups", "state.lock")
	uaMust(t, os.WriteFile(lock, nil, 0o644), "write lock")

	// Fresh: a git process may hold it; not reported.
	_, got := uaFsck(t, s, false)
	if want := []string{"missing-ref " + b.ID + " recreate-ref"}; !slices.Equal(got, want) {
		t.Fatalf("fresh lock: findings %q, want %q", got, want)
	}
	uaAge(t, lock)
	_, got = uaFsck(t, s, false)
	if want := []string{"missing-ref " + b.ID + " recreate-ref", "stale-lock " + gitstate.StateRef + " remove-lock"}; !slices.Equal(got, want) {
		t.Fatalf("old lock: findings %q, want %q", got, want)
	}
	res, got := uaFsck(t, s, true)
	if !res.OK() || len(got) != 2 || res.Findings[0].Kind != FsckStaleLock {
		t.Fatalf("repair: %q, ok %v", got, res.OK())
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatalf("lock file still there: %v", err)
	}
	// The state can change again.
	uaWrite(t, dir, "a.txt", "more work "+time.Now().String()+"\n")
	if _, err := s.Create(t.Context(), CreateOptions{}); err != nil {
		t.Fatalf("create after the repair: %v", err)
	}
}

func TestFsck_lockInUseIsKept(t *testing.T) {
	dir, s, _ := uaBackup(t)
	lock := filepath.Join(dir, ".git", "refs", "backups", "snapshots", "x.lock")
	uaMust(t, os.WriteFile(lock, nil, 0o644), "write lock")
	uaAge(t, lock)
	locks, err := s.Repo.RefLocks()
	if err != nil || len(locks) != 1 || locks[0].Ref != "refs/backups/snapshots/x" {
		t.Fatalf("locks %+v, %v", locks, err)
	}
	// Taken again meanwhile (its time changed): not removed.
	uaMust(t, os.WriteFile(lock, []byte("x"), 0o644), "rewrite lock")
	if err := s.Repo.RemoveRefLock(locks[0]); err == nil {
		t.Fatal("a lock file that changed since it was listed was removed")
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatal(err)
	}
}
