package gitstate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// casRepo is a repository with refs/backups/state at HEAD and a second commit.
func casRepo(t *testing.T) (dir string, r *Repo, head, other string) {
	t.Helper()
	dir = newRepo(t)
	head = gitIn(t, dir, "rev-parse", "HEAD")
	other = snapshotOf(t, dir, "other")
	gitIn(t, dir, "update-ref", StateRef, head)
	return dir, openRepo(t, dir), head, other
}

func TestUpdateRefs_conflicts(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, head, other string)
		ups   func(head, other string) []RefUpdate
	}{
		{
			name: "wrong old value",
			ups:  func(head, other string) []RefUpdate { return []RefUpdate{{Name: StateRef, Old: other, New: other}} },
		},
		{
			name:  "wrong old value of a packed ref",
			setup: func(t *testing.T, dir, head, other string) { gitIn(t, dir, "pack-refs", "--all") },
			ups:   func(head, other string) []RefUpdate { return []RefUpdate{{Name: StateRef, Old: other, New: other}} },
		},
		{
			name: "old value given but the ref is gone",
			ups: func(head, other string) []RefUpdate {
				return []RefUpdate{{Name: SnapshotRef("20260101-000000-abcdef0"), Old: head, New: other}}
			},
		},
		{
			name: "creating a ref that exists",
			ups:  func(head, other string) []RefUpdate { return []RefUpdate{{Name: StateRef, New: other}} },
		},
		{
			name: "deleting with the wrong old value",
			ups:  func(head, other string) []RefUpdate { return []RefUpdate{{Name: StateRef, Old: other}} },
		},
		{
			name: "ref locked by another process",
			setup: func(t *testing.T, dir, head, other string) {
				writeFile(t, dir, ".git/"+StateRef+".lock", "")
			},
			ups: func(head, other string) []RefUpdate { return []RefUpdate{{Name: StateRef, Old: head, New: other}} },
		},
		{
			name: "one update of a transaction conflicts",
			ups: func(head, other string) []RefUpdate {
				return []RefUpdate{
					{Name: SnapshotRef("20260101-000000-abcdef0"), New: other},
					{Name: StateRef, Old: other, New: other},
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, r, head, other := casRepo(t)
			if tc.setup != nil {
				tc.setup(t, dir, head, other)
			}
			before := gitIn(t, dir, "for-each-ref", "--format=%(refname) %(objectname)")
			err := r.UpdateRefs(context.Background(), "test", tc.ups(head, other))
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("UpdateRefs: %v, want an error wrapping ErrConflict", err)
			}
			if after := gitIn(t, dir, "for-each-ref", "--format=%(refname) %(objectname)"); after != before {
				t.Errorf("a failed transaction changed refs:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestUpdateRefs_appliesAllOrNothing(t *testing.T) {
	dir, r, head, other := casRepo(t)
	snapRef := SnapshotRef("20260101-000000-abcdef0")
	ctx := context.Background()
	if err := r.UpdateRefs(ctx, "create", []RefUpdate{{Name: snapRef, New: other}, {Name: StateRef, Old: head, New: other}}); err != nil {
		t.Fatal(err)
	}
	if got := gitIn(t, dir, "rev-parse", snapRef, StateRef); got != other+"\n"+other {
		t.Fatalf("refs after the transaction: %s", got)
	}
	if err := r.UpdateRefs(ctx, "drop", []RefUpdate{{Name: snapRef, Old: other}, {Name: StateRef, Old: other, New: head}}); err != nil {
		t.Fatal(err)
	}
	if id, err := r.ReadRef(snapRef); err != nil || id != "" {
		t.Fatalf("dropped ref reads %q, %v", id, err)
	}
	if id, _ := r.ReadRef(StateRef); id != head {
		t.Fatalf("%s = %s, want %s", StateRef, id, head)
	}
	if err := r.UpdateRefs(ctx, "nothing", nil); err != nil {
		t.Fatalf("an empty transaction: %v", err)
	}
}

func TestUpdateRefs_permissionErrorIsNotAConflict(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	dir, r, head, other := casRepo(t)
	refsDir := filepath.Join(dir, ".git", "refs", "backups")
	if err := os.Chmod(refsDir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(refsDir, 0o755) })
	err := r.UpdateRefs(context.Background(), "test", []RefUpdate{{Name: StateRef, Old: head, New: other}})
	if err == nil {
		t.Fatal("UpdateRefs in a read-only refs directory succeeded")
	}
	if errors.Is(err, ErrConflict) {
		t.Fatalf("a permission error was taken for a conflict (retrying cannot help): %v", err)
	}
}

func TestUpdateRefs_brokenRefIsNotAConflict(t *testing.T) {
	dir, r, head, other := casRepo(t)
	writeFile(t, dir, ".git/"+StateRef, "this is not an object ID\n")
	err := r.UpdateRefs(context.Background(), "test", []RefUpdate{{Name: StateRef, Old: head, New: other}})
	if err == nil {
		t.Fatal("UpdateRefs over a broken ref succeeded")
	}
	if errors.Is(err, ErrConflict) {
		t.Fatalf("a broken ref was taken for a conflict (retrying cannot help): %v", err)
	}
}

// The messages are git's own, from a lost race and from failures that no
// retry can fix.
func TestIsConflict_permissionDeniedIsNotAConflict(t *testing.T) {
	tests := []struct {
		stderr string
		want   bool
	}{
		{"fatal: prepare: cannot lock ref 'refs/backups/state': is at f99f9a4f431dbf3eb5ab38e6a467eaaa06fe7d92 but expected 1111111111111111111111111111111111111111\n", true},
		{"fatal: prepare: cannot lock ref 'refs/backups/state': reference already exists\n", true},
		{"fatal: prepare: cannot lock ref 'refs/backups/state': unable to resolve reference 'refs/backups/state'\n", true},
		{"fatal: cannot lock ref 'refs/backups/state': reference is missing but expected 1111111111111111111111111111111111111111\n", true},
		{"fatal: prepare: cannot lock ref 'refs/backups/state': Unable to create '/r/.git/refs/backups/state.lock': File exists.\n\nAnother git process seems to be running in this repository\n", true},
		{"fatal: prepare: cannot lock ref 'refs/backups/x': unable to resolve reference 'refs/backups/x': Permission denied\n", false},
		{"fatal: prepare: cannot lock ref 'refs/backups/x': Unable to create '/r/.git/refs/backups/x.lock': Permission denied\n", false},
		{"fatal: prepare: cannot lock ref 'refs/backups/state': unable to resolve reference 'refs/backups/state': reference broken\n", false},
		{"fatal: prepare: cannot lock ref 'refs/backups/new/z': unable to create directory for .git/refs/backups/new/z\n", false},
		{"fatal: update_ref failed for ref 'refs/backups/state': cannot update ref: No space left on device\n", false},
	}
	for _, tc := range tests {
		if got := isConflict(tc.stderr); got != tc.want {
			t.Errorf("isConflict(%q) = %v, want %v", tc.stderr, got, tc.want)
		}
	}
}

func TestUpdateRefs_lockFileSaysHowItGoes(t *testing.T) {
	dir, r, head, other := casRepo(t)
	writeFile(t, dir, ".git/"+StateRef+".lock", "")
	err := r.UpdateRefs(context.Background(), "test", []RefUpdate{{Name: StateRef, Old: head, New: other}})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "git backup fsck --repair removes it") {
		t.Fatalf("err %v: want a conflict that says how the lock file goes", err)
	}
}

func TestCrashOrder(t *testing.T) {
	ups := []RefUpdate{
		{Name: StateRef, Old: "a", New: "b"},
		{Name: SnapshotRef("x"), Old: "c"},           // dropped
		{Name: SnapshotRef("y"), New: "d"},           // created
		{Name: SnapshotRef("z"), Old: "e", New: "e"}, // checked
		{Name: RemotesPrefix + "origin/state", New: "f"},
	}
	var got []string
	for _, u := range crashOrder(ups) {
		got = append(got, u.Name)
	}
	want := []string{SnapshotRef("y"), SnapshotRef("z"), RemotesPrefix + "origin/state", StateRef, SnapshotRef("x")}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order\n got %q\nwant %q", got, want)
	}
}
