package transitions

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/git-backup/git-backup/gitstate"
)

// TestStore_MergeRemote_neverDropsUncoveredLocalContent: a remote that marks a
// backup DELETED does not take this clone's snapshot while the integration
// branch here does not cover it; once it does, the ref goes as our own event.
func TestStore_MergeRemote_neverDropsUncoveredLocalContent(t *testing.T) {
	ctx := context.Background()
	dirA, sA := storeRepo(t)
	sA.Clone = "aaaaaaaaaaaaaaaa"
	dirB := filepath.Join(t.TempDir(), "b")
	storeGit(t, "", "clone", "-q", dirA, dirB)
	sB := openStore(t, dirB, "bbbbbbbbbbbbbbbb")
	storeGit(t, dirA, "remote", "add", "b", dirB)

	x := backupOf(t, sB, dirB, "a.txt", "work only in b\n")
	f, err := sA.Repo.FetchBackups(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	res, err := sA.MergeRemote(ctx, "b", f)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Adopted, []string{x.ID}) || res.Commit == "" {
		t.Fatalf("first merge: %+v", res)
	}
	if _, err := sA.Move(ctx, MoveRequest{ID: x.ID, To: Deleted, Trigger: TriggerUser, Force: true, Reason: "not needed"}); err != nil {
		t.Fatal(err)
	}

	fetchA := func() *MergeResult {
		t.Helper()
		f, err := sB.Repo.FetchBackups(ctx, "origin")
		if err != nil {
			t.Fatal(err)
		}
		res, err := sB.MergeRemote(ctx, "origin", f)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res = fetchA()
	if !slices.Equal(res.Kept, []string{x.ID}) || len(res.Dropped) != 0 {
		t.Fatalf("uncovered: kept %v dropped %v", res.Kept, res.Dropped)
	}
	refs, _ := sB.Repo.SnapshotRefs()
	if refs[x.ID] != x.Snapshot {
		t.Fatalf("local snapshot ref gone: %v", refs)
	}
	v, err := sB.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := v.ByID(x.ID)
	if b.State != Deleted || KeptLocally(b, true, sB.Clone) == "" {
		t.Fatalf("state %s, kept %q", b.State, KeptLocally(b, true, sB.Clone))
	}
	// b's state was an ancestor of a's and nothing was refused: a fast-forward.
	if got, want := storeGit(t, dirB, "rev-parse", gitstate.StateRef), storeGit(t, dirA, "rev-parse", gitstate.StateRef); got != want {
		t.Fatalf("state %s, want a fast-forward to %s", got, want)
	}

	storeGit(t, dirB, "commit", "-q", "-a", "-m", "take the work")
	res = fetchA()
	if !slices.Equal(res.Dropped, []string{x.ID}) {
		t.Fatalf("covered: dropped %v kept %v", res.Dropped, res.Kept)
	}
	if refs, _ := sB.Repo.SnapshotRefs(); refs[x.ID] != "" {
		t.Fatalf("covered ref still there")
	}
	v, _ = sB.Load(ctx)
	last := v.ByID(x.ID).Events[len(v.ByID(x.ID).Events)-1]
	if last.Clone != sB.Clone || last.Kind != gitstate.KindCover || last.Trigger != string(TriggerRemote) {
		t.Fatalf("drop not recorded as a local event: %+v", last)
	}
	if res = fetchA(); res.Commit != "" || len(res.Dropped)+len(res.Kept) != 0 {
		t.Fatalf("merging again changed something: %+v", res)
	}
}
