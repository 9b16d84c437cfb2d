package gitstate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DamagedSnapshots names each snapshot with an object it added to its base
// that is missing or cannot be read, and nothing else.
func TestDamagedSnapshots_namesTheSnapshotAndTheObject(t *testing.T) {
	dir := newRepo(t)
	ctx := context.Background()
	base := gitIn(t, dir, "rev-parse", "HEAD")
	snap := func(name, content string) string {
		writeFile(t, dir, name, content)
		gitIn(t, dir, "add", name)
		tree := gitIn(t, dir, "write-tree")
		gitIn(t, dir, "rm", "-q", "--cached", name)
		return gitIn(t, dir, "commit-tree", "-p", base, "-m", name, tree)
	}
	good, bad := snap("good.txt", "good\n"), snap("bad.txt", "bad\n")
	r := openRepo(t, dir)
	checks := []SnapshotCheck{{Commit: good, Base: base}, {Commit: bad, Base: base}}
	if got, err := r.DamagedSnapshots(ctx, checks); err != nil || len(got) != 0 {
		t.Fatalf("intact snapshots: %v, %v", got, err)
	}
	b := gitIn(t, dir, "rev-parse", bad+":bad.txt")
	if err := os.Remove(filepath.Join(dir, ".git", "objects", b[:2], b[2:])); err != nil {
		t.Fatal(err)
	}
	r = openRepo(t, dir)
	got, err := r.DamagedSnapshots(ctx, checks)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[bad], b) || got[good] != "" {
		t.Fatalf("DamagedSnapshots = %v, want only %s naming %s", got, bad, b)
	}
}
