package gitstate

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestPushBackups_rejectedWhenRemoteMovedThenFetched(t *testing.T) {
	ctx := context.Background()
	a := newRepo(t)
	remote := filepath.Join(t.TempDir(), "remote.git")
	gitIn(t, "", "init", "-q", "--bare", remote)
	gitIn(t, a, "remote", "add", "origin", remote)
	r := openRepo(t, a)
	if name, _ := r.DefaultRemote(ctx); name != "origin" {
		t.Fatalf("DefaultRemote = %q, want origin", name)
	}
	f, err := r.FetchBackups(ctx, "origin")
	if err != nil || f.State != "" || len(f.Snapshots) != 0 {
		t.Fatalf("fetch from an empty remote = %+v, %v", f, err)
	}
	first := snapshotOf(t, a, "state 1")
	if err := r.PushBackups(ctx, PushRequest{Remote: "origin", State: first}); err != nil {
		t.Fatal(err)
	}
	// Another clone pushed a state we do not have: not a fast-forward.
	other := snapshotOf(t, a, "state 2")
	gitIn(t, a, "push", "-q", remote, "+"+other+":"+StateRef)
	third := snapshotOf(t, a, "state 3")
	err = r.PushBackups(ctx, PushRequest{Remote: "origin", State: third})
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("push over a moved remote: %v, want ErrRejected", err)
	}
	if got := gitIn(t, "", "--git-dir", remote, "rev-parse", StateRef); got != other {
		t.Fatalf("remote state %s, want %s (never forced)", got, other)
	}
	// Snapshots are pushed by commit: a local ref dropped while the push
	// runs (the backup archived meanwhile) does not fail it. There is no
	// local ref here at all.
	if err := r.PushBackups(ctx, PushRequest{Remote: "origin", Snapshots: map[string]string{"20260101-000000-abcdef0": first}}); err != nil {
		t.Fatal(err)
	}
	f, err = r.FetchBackups(ctx, "origin")
	if err != nil || f.State != other || f.Snapshots["20260101-000000-abcdef0"] != first {
		t.Fatalf("fetch = %+v, %v", f, err)
	}
	if local, _ := r.ReadRef(StateRef); local != "" {
		t.Fatalf("fetch wrote the local state ref: %s", local)
	}
	if err := r.PushBackups(ctx, PushRequest{Remote: "origin", Delete: []string{"20260101-000000-abcdef0"}}); err != nil {
		t.Fatal(err)
	}
	if f, _ = r.FetchBackups(ctx, "origin"); len(f.Snapshots) != 0 {
		t.Fatalf("deleted snapshot ref still fetched: %v", f.Snapshots)
	}
	if _, err := r.FetchBackups(ctx, "nope"); !errors.Is(err, ErrNoRemote) {
		t.Fatalf("unknown remote: %v", err)
	}
}

func TestSetupRemote_addsFetchRefspecOnce(t *testing.T) {
	ctx := context.Background()
	a := newRepo(t)
	gitIn(t, a, "remote", "add", "origin", filepath.Join(t.TempDir(), "r.git"))
	r := openRepo(t, a)
	for i, want := range []bool{true, false} {
		added, err := r.SetupRemote(ctx, "origin")
		if err != nil || added != want {
			t.Fatalf("call %d: added %v, %v; want %v", i, added, err, want)
		}
	}
	if got := gitIn(t, a, "config", "--get-all", "remote.origin.fetch"); got != "+refs/heads/*:refs/remotes/origin/*\n"+SyncFetchRefspec("origin") {
		t.Fatalf("remote.origin.fetch = %q", got)
	}
	if _, err := gitTry(a, "", "config", "--get", "remote.origin.push"); err == nil {
		t.Fatal("push config changed")
	}
}
