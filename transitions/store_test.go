package transitions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// storeGit runs git in dir and returns its trimmed stdout.
func storeGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// storeRepo makes a repository with one commit, isolated from the user's and
// the system's git configuration, and a Store on it.
func storeRepo(t *testing.T) (string, *Store) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
	t.Setenv("GIT_AUTHOR_NAME", "Test Author")
	t.Setenv("GIT_AUTHOR_EMAIL", "author@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "Test Committer")
	t.Setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
	dir := filepath.Join(t.TempDir(), "repo")
	storeGit(t, "", "-c", "init.defaultBranch=main", "init", "-q", dir)
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	storeGit(t, dir, "add", "a.txt")
	storeGit(t, dir, "commit", "-q", "-m", "init")
	return dir, openStore(t, dir, "clone-0")
}

func openStore(t testing.TB, dir, clone string) *Store {
	t.Helper()
	r, err := gitstate.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Store{Repo: r, Policy: DefaultPolicy(), Clone: clone}
}

// backupOf writes name with content and takes a backup of that path only.
func backupOf(t testing.TB, s *Store, dir, name, content string) *Backup {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := s.Create(context.Background(), CreateOptions{Message: "backup of " + name, Pathspec: []string{name}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created {
		t.Fatalf("no backup of %s: %s", name, res.Reason)
	}
	return res.Backup
}

// commitBehindTheBack appends ev to backup b's note as another writer would:
// straight through gitstate, on the current state.
func commitBehindTheBack(t testing.TB, r *gitstate.Repo, b *Backup, ev gitstate.Event) {
	t.Helper()
	st, err := r.ReadState("")
	if err != nil {
		t.Fatal(err)
	}
	old, err := r.ReadBlob(st.Notes[b.Snapshot])
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := gitstate.ParseNote(old)
	var m uint64
	for _, e := range evs {
		m = max(m, e.Clock)
	}
	ev.Clock, ev.Clone = m+1, "other-writer"
	note := append(old, append(ev.Line(), '\n')...)
	if _, err := r.CommitState(context.Background(), gitstate.StateChange{Base: st, Notes: map[string][]byte{b.Snapshot: note}, Message: "other writer"}); err != nil {
		t.Fatal(err)
	}
}

func kinds(b *Backup) string {
	var ks []string
	for _, e := range b.Events {
		k := e.Kind
		if e.Kind == gitstate.KindMove {
			k = e.To
		}
		ks = append(ks, k)
	}
	return strings.Join(ks, ",")
}

func TestStore_Update_retriesWhenTheStateMovesBetweenLoadAndCommit(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	a := backupOf(t, s, dir, "a.new", "a\n")
	b := backupOf(t, s, dir, "b.new", "b\n")
	other, err := gitstate.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := s.Repo.StateLog(0)

	calls := 0
	_, batch, err := s.Update(ctx, func(v *View) (*Batch, error) {
		calls++
		if calls == 1 {
			// Another writer pins b after this view was read.
			commitBehindTheBack(t, other, v.ByID(b.ID), gitstate.Event{Kind: gitstate.KindPin, Time: foldT0, Trigger: "user"})
		}
		cur := v.ByID(a.ID)
		return &Batch{Trigger: "hook", Title: "move " + a.ID, Changes: []Change{{
			Backup: cur, Events: []gitstate.Event{{Kind: gitstate.KindMove, From: string(cur.State), To: string(Pending), Trigger: "hook"}},
			Summary: a.ID + " CREATED -> PENDING",
		}}}, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls != 2 || batch == nil {
		t.Fatalf("decider called %d times, want 2 (one lost race, one retry)", calls)
	}
	v, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.ByID(a.ID); got.State != Pending || kinds(got) != "create,PENDING" {
		t.Errorf("backup a: %s, events %s; want PENDING after create", got.State, kinds(got))
	}
	if got := v.ByID(b.ID); !got.Pinned || kinds(got) != "create,pin" {
		t.Errorf("backup b: pinned %v, events %s; the other writer's pin was lost", got.Pinned, kinds(got))
	}
	after, _ := s.Repo.StateLog(0)
	if len(after) != len(before)+2 {
		t.Fatalf("state log grew by %d commits, want 2", len(after)-len(before))
	}
	if after[1].Message != "other writer" || !strings.HasPrefix(after[0].Message, "hook: move "+a.ID) {
		t.Errorf("log = %q, %q", after[0].Message, after[1].Message)
	}
}

func TestStore_Update_givesUpAfterRepeatedConflicts(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	a := backupOf(t, s, dir, "a.new", "a\n")
	other, _ := gitstate.Open(ctx, dir)
	s.Retries = 3
	calls := 0
	_, _, err := s.Update(ctx, func(v *View) (*Batch, error) {
		calls++
		cur := v.ByID(a.ID)
		commitBehindTheBack(t, other, cur, gitstate.Event{Kind: gitstate.KindCover, Time: foldT0, Trigger: "hook", Reason: fmt.Sprint(calls)})
		return &Batch{Title: "move", Changes: []Change{{Backup: cur, Events: []gitstate.Event{{Kind: gitstate.KindMove, To: string(Pending), Trigger: "hook"}}}}}, nil
	})
	if !errors.Is(err, ErrGaveUp) {
		t.Fatalf("Update: %v, want ErrGaveUp", err)
	}
	if calls != 3 {
		t.Errorf("decider called %d times, want 3", calls)
	}
	v, _ := s.Load(ctx)
	if got := v.ByID(a.ID); got.State != Created || kinds(got) != "create,cover,cover,cover" {
		t.Errorf("after giving up: %s, events %s", got.State, kinds(got))
	}
}

func TestStore_Update_otherErrorsAreNotRetried(t *testing.T) {
	dir, s := storeRepo(t)
	a := backupOf(t, s, dir, "a.new", "a\n")
	calls := 0
	_, _, err := s.Update(context.Background(), func(v *View) (*Batch, error) {
		calls++
		return &Batch{Title: "bad ref", Changes: []Change{{Backup: v.ByID(a.ID),
			Refs: []gitstate.RefUpdate{{Name: gitstate.SnapshotsPrefix + "bad..name", New: a.Snapshot}}}}}, nil
	})
	if err == nil || errors.Is(err, ErrGaveUp) || errors.Is(err, gitstate.ErrConflict) {
		t.Fatalf("Update with an invalid ref name: %v, want a plain failure", err)
	}
	if calls != 1 {
		t.Errorf("decider called %d times, want 1", calls)
	}
	if _, _, err := s.Update(context.Background(), func(v *View) (*Batch, error) { return nil, errors.New("no") }); err == nil || err.Error() != "no" {
		t.Errorf("a decider's error: %v", err)
	}
}

func TestStore_commit_twoChangesToOneBackupKeepTheirOrder(t *testing.T) {
	dir, s := storeRepo(t)
	a := backupOf(t, s, dir, "a.new", "a\n")
	_, _, err := s.Update(context.Background(), func(v *View) (*Batch, error) {
		cur := v.ByID(a.ID)
		return &Batch{Title: "two changes", Changes: []Change{
			{Backup: cur, Events: []gitstate.Event{{Kind: gitstate.KindPin, Trigger: "user"}, {Kind: gitstate.KindUnpin, Trigger: "user"}}},
			{Backup: cur, Events: []gitstate.Event{{Kind: gitstate.KindPin, Trigger: "user"}}},
		}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.Load(context.Background())
	got := v.ByID(a.ID)
	if kinds(got) != "create,pin,unpin,pin" || !got.Pinned {
		t.Errorf("events %s, pinned %v; want create,pin,unpin,pin and pinned", kinds(got), got.Pinned)
	}
	seen := map[uint64]bool{}
	for _, e := range got.Events {
		if seen[e.Clock] {
			t.Errorf("clock %d used twice in one log", e.Clock)
		}
		seen[e.Clock] = true
	}
}

// TestStore_concurrentWritersLoseNothing runs 8 goroutines, each with two
// Stores: one on the repository's path (these share the in-process writer
// lock) and one through a symlink of its own (a separate lock, so these
// contend through git's ref locks as separate processes would). Every
// operation that reports success must be in the log, in order.
func TestStore_concurrentWritersLoseNothing(t *testing.T) {
	dir, _ := storeRepo(t)
	ctx := context.Background()
	const workers = 8
	type op struct {
		name string
		do   func(s *Store, id string) error
	}
	ops := []op{
		{"pin", func(s *Store, id string) error { _, err := s.SetPinned(ctx, id, true, TriggerUser); return err }},
		{"PENDING", func(s *Store, id string) error {
			_, err := s.Move(ctx, MoveRequest{ID: id, To: Pending, Trigger: TriggerHook})
			return err
		}},
		{"CONFIRMED", func(s *Store, id string) error {
			_, err := s.Move(ctx, MoveRequest{ID: id, To: Confirmed, Trigger: TriggerHook})
			return err
		}},
		{"unpin", func(s *Store, id string) error { _, err := s.SetPinned(ctx, id, false, TriggerUser); return err }},
		{"CLEANABLE", func(s *Store, id string) error {
			_, err := s.Move(ctx, MoveRequest{ID: id, To: Cleanable, Trigger: TriggerTime})
			return err
		}},
	}
	type result struct {
		id   string
		done []string
		errs []error
	}
	results := make([]result, workers)
	stores := make([][2]*Store, workers)
	for w := range workers {
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(dir, link); err != nil {
			t.Fatal(err)
		}
		stores[w] = [2]*Store{openStore(t, dir, fmt.Sprintf("clone-%d", w)), openStore(t, link, fmt.Sprintf("clone-%d", w))}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%d.txt", w)), []byte(fmt.Sprintf("worker %d\n", w)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readerErr error
	var readers sync.WaitGroup
	readers.Add(1)
	reader := openStore(t, dir, "reader")
	go func() { // a reader sees a consistent state at every moment
		defer readers.Done()
		s := reader
		for {
			select {
			case <-stop:
				return
			default:
			}
			v, err := s.Load(ctx)
			if err != nil {
				readerErr = err
				return
			}
			for _, b := range v.Backups {
				if len(b.Damaged) > 0 || !slices.Contains(States, b.State) {
					readerErr = fmt.Errorf("backup %s read as %q, damaged %v", b.ID, b.State, b.Damaged)
					return
				}
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[w]
			name := fmt.Sprintf("w%d.txt", w)
			cr, err := stores[w][w%2].Create(ctx, CreateOptions{Message: "worker " + name, Pathspec: []string{name}, Dir: dir})
			if err != nil || !cr.Created {
				res.errs = append(res.errs, fmt.Errorf("create: %v (%s)", err, cr.Reason))
				return
			}
			res.id = cr.Backup.ID
			res.done = append(res.done, "create")
			for i, o := range ops {
				if err := o.do(stores[w][(w+i+1)%2], res.id); err != nil {
					res.errs = append(res.errs, fmt.Errorf("%s: %w", o.name, err))
					return // later moves depend on this one
				}
				res.done = append(res.done, o.name)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if readerErr != nil {
		t.Errorf("reader: %v", readerErr)
	}

	v, err := openStore(t, dir, "check").Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	succeeded := 0
	for w, res := range results {
		for _, err := range res.errs {
			if !errors.Is(err, ErrGaveUp) {
				t.Errorf("worker %d: %v (only giving up after conflicts is acceptable)", w, err)
			}
		}
		if res.id == "" {
			continue
		}
		b := v.ByID(res.id)
		if b == nil {
			t.Errorf("worker %d: backup %s created but not in the state", w, res.id)
			continue
		}
		if got, want := kinds(b), strings.Join(res.done, ","); got != want {
			t.Errorf("worker %d: backup %s has events %s, want %s", w, res.id, got, want)
		}
		succeeded += len(res.done)
	}
	commits := storeGit(t, dir, "rev-list", "--count", gitstate.StateRef)
	if commits != fmt.Sprint(succeeded) {
		t.Errorf("%s has %s commits, want one per successful operation (%d)", gitstate.StateRef, commits, succeeded)
	}
	storeGit(t, dir, "fsck", "--no-dangling")
}

// A backup archived by another writer after the user looked at it cannot be
// moved back to a live state by Move, forced or not: its snapshot ref is gone
// and only Unarchive brings it back.
func TestStore_Move_refusesToLeaveArchivedForALiveState(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	b := backupOf(t, s, dir, "w.txt", "work\n")
	for _, to := range []State{Pending, Cleanable} {
		if _, err := s.Move(ctx, MoveRequest{ID: b.ID, To: to, Trigger: TriggerUser}); err != nil {
			t.Fatal(err)
		}
	}
	commitBehindTheBack(t, s.Repo, b, gitstate.Event{Kind: gitstate.KindMove, Time: time.Now().UTC(), From: string(Cleanable), To: string(Archived),
		Trigger: string(TriggerTime), Archive: filepath.Join(dir, "elsewhere.tar.zst")})
	if got := backupNow(t, s, b.ID).State; got != Archived {
		t.Fatalf("the backup is %s, want ARCHIVED", got)
	}
	before := storeGit(t, dir, "rev-parse", gitstate.StateRef)
	for _, to := range []State{Created, Pending, Confirmed, Cleanable} {
		for _, force := range []bool{false, true} {
			_, err := s.Move(ctx, MoveRequest{ID: b.ID, To: to, Trigger: TriggerUser, Force: force})
			if !errors.Is(err, ErrNeedsUnarchive) || !errors.Is(err, ErrRefused) {
				t.Errorf("ARCHIVED → %s (force %v): err %v, want ErrNeedsUnarchive (refused)", to, force, err)
			}
		}
	}
	if after := storeGit(t, dir, "rev-parse", gitstate.StateRef); after != before {
		t.Errorf("a refused move wrote %s", gitstate.StateRef)
	}
	if _, err := s.Move(ctx, MoveRequest{ID: b.ID, To: Deleted, Trigger: TriggerUser}); err != nil {
		t.Errorf("ARCHIVED → DELETED: %v", err)
	}
}
