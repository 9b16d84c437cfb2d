package transitions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// stressTime is how long TestStore_stress runs: GIT_BACKUP_STORE_STRESS_TIME
// when set, 30s in the full reliability run, else 3s.
func stressTime() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("GIT_BACKUP_STORE_STRESS_TIME")); err == nil && d > 0 {
		return d
	}
	if os.Getenv("GIT_BACKUP_RELIABILITY") == "full" {
		return 30 * time.Second
	}
	return 3 * time.Second
}

// retryCounter is a log handler that counts the store's compare-and-swap
// retries.
type retryCounter struct{ n *atomic.Int64 }

func (c retryCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c retryCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "compare-and-swap conflict") {
		c.n.Add(1)
	}
	return nil
}
func (c retryCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c retryCounter) WithGroup(string) slog.Handler      { return c }

// stressLedger is what the writers say they did: per backup and per clone,
// the events of every call that returned success, in order.
type stressLedger struct {
	mu      sync.Mutex
	events  map[string]map[string][]string // backup ID → clone → event signatures
	commits int                            // calls that committed a state commit
	ops     map[string]int
	errs    []string
}

func (l *stressLedger) done(id, clone string, sigs ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events[id] == nil {
		l.events[id] = map[string][]string{}
	}
	l.events[id][clone] = append(l.events[id][clone], sigs...)
	l.commits++
}

// applied records the moves of one Apply: one state commit.
func (l *stressLedger) applied(ms []PlannedMove) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range ms {
		if l.events[m.ID] == nil {
			l.events[m.ID] = map[string][]string{}
		}
		l.events[m.ID]["cleaner"] = append(l.events[m.ID]["cleaner"], "move:"+string(m.To))
		l.ops["cleaner move to "+string(m.To)]++
	}
	l.commits++
}

func (l *stressLedger) op(kind string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops[kind]++
}

func (l *stressLedger) fail(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, a...))
}

// eventSig is how the ledger names an event: its kind, the target state of
// a move, the reason of a cover event.
func eventSig(e gitstate.Event) string {
	switch e.Kind {
	case gitstate.KindMove:
		return "move:" + e.To
	case gitstate.KindCover:
		return "cover:" + e.Reason
	}
	return e.Kind
}

// TestStore_stress runs, for a bounded time, writers that each have their own
// Store on one repository (half of them opened on the same path, so they
// share the process's writer lock; the other half each through its own
// symbolic link, so their compare-and-swap races are real), creating backups
// and pinning, unpinning, moving and annotating them through UpdateLight
// (Move, SetPinned) and Update; beside them a cleaner applies the time
// policies as if ten days later (Apply), and readers load the state. Every
// call that returned success must have its events in the state, in order,
// and no other: no lost update, no duplicate. A reader must never fail.
func TestStore_stress(t *testing.T) {
	dir, _ := storeRepo(t)
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GIT_BACKUP_STORE_STRESS_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (GIT_BACKUP_STORE_STRESS_SEED reruns the same choices)", seed)
	var retries atomic.Int64
	open := func(path, clone string) *Store {
		s := openStore(t, path, clone)
		s.Log = slog.New(retryCounter{&retries})
		s.Policy.ArchiveDir = filepath.Join(filepath.Dir(dir), "archives")
		return s
	}
	const writers = 6
	ledger := &stressLedger{events: map[string]map[string][]string{}, ops: map[string]int{}}
	deadline := time.Now().Add(stressTime())
	var wg sync.WaitGroup
	for w := range writers {
		path := dir
		if w%2 == 1 {
			path = filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(dir, path); err != nil {
				t.Fatal(err)
			}
		}
		clone := fmt.Sprintf("writer-%d", w)
		s := open(path, clone)
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []string
			for n := 0; time.Now().Before(deadline); n++ {
				if len(mine) == 0 || rng.IntN(5) == 0 {
					ledger.op("create")
					name := fmt.Sprintf("w%d-%d.txt", w, n)
					if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("writer %d, file %d\n", w, n)), 0o644); err != nil {
						ledger.fail("%s: %v", clone, err)
						return
					}
					res, err := s.Create(ctx, CreateOptions{Message: clone + " " + name, Pathspec: []string{name}, Dir: dir})
					switch {
					case errors.Is(err, ErrGaveUp):
					case err != nil:
						ledger.fail("%s: create %s: %v", clone, name, err)
					case !res.Created:
						ledger.fail("%s: create %s made no backup: %s", clone, name, res.Reason)
					default:
						mine = append(mine, res.Backup.ID)
						ledger.done(res.Backup.ID, clone, gitstate.KindCreate)
					}
					continue
				}
				id := mine[rng.IntN(len(mine))]
				switch op := rng.IntN(6); op {
				case 0, 1:
					pin := op == 0
					kind := map[bool]string{true: gitstate.KindPin, false: gitstate.KindUnpin}[pin]
					ledger.op(kind)
					changed, err := s.SetPinned(ctx, id, pin, TriggerUser)
					switch {
					case errors.Is(err, ErrGaveUp):
					case err != nil:
						ledger.fail("%s: %s %s: %v", clone, kind, id, err)
					case changed:
						ledger.done(id, clone, kind)
					}
				case 2, 3, 4:
					to := []State{Pending, Confirmed, Cleanable}[op-2]
					ledger.op("move")
					_, err := s.Move(ctx, MoveRequest{ID: id, To: to, Trigger: TriggerUser, Reason: "stress"})
					switch {
					case errors.Is(err, ErrGaveUp), errors.Is(err, ErrRefused):
					case err != nil:
						ledger.fail("%s: move %s to %s: %v", clone, id, to, err)
					default:
						ledger.done(id, clone, "move:"+string(to))
					}
				case 5:
					// A note through Update, the full-view path.
					ledger.op("cover")
					reason := fmt.Sprintf("%s-%d", clone, n)
					_, batch, err := s.Update(ctx, func(v *View) (*Batch, error) {
						b := v.ByID(id)
						if b == nil {
							return nil, fmt.Errorf("%w: %s", ErrUnknownBackup, id)
						}
						return &Batch{Trigger: string(TriggerUser), Title: "note " + id, Changes: []Change{{
							Backup: b, Events: []gitstate.Event{{Kind: gitstate.KindCover, Trigger: string(TriggerUser), Reason: reason}},
						}}}, nil
					})
					switch {
					case errors.Is(err, ErrGaveUp):
					case err != nil:
						ledger.fail("%s: note %s: %v", clone, id, err)
					case batch != nil:
						ledger.done(id, clone, "cover:"+reason)
					}
				}
			}
		}()
	}

	// The cleaner: the time policies, ten days on, applied while the
	// writers go on.
	cleaner := open(dir, "cleaner")
	cleaner.Now = func() time.Time { return time.Now().Add(10 * Day) }
	wg.Add(1)
	go func() {
		defer wg.Done()
		planner := func(v *View, f PlanFacts) Plan { return PlanTime(v, f, cleaner.Policy) }
		for time.Now().Before(deadline) {
			ledger.op("apply")
			plan, _, _, err := cleaner.Plan(ctx, planner, "")
			if err != nil {
				ledger.fail("cleaner: plan: %v", err)
				return
			}
			res, err := cleaner.Apply(ctx, plan, ApplyOptions{Replan: planner})
			switch {
			case errors.Is(err, ErrGaveUp), errors.Is(err, ErrRefused):
			case err != nil:
				ledger.fail("cleaner: apply: %v", err)
			case len(res.Moves) > 0:
				ledger.applied(res.Moves)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	// Readers: one through the writers' path, one through its own link.
	var reads atomic.Int64
	for r := range 2 {
		path := dir
		if r == 1 {
			path = filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(dir, path); err != nil {
				t.Fatal(err)
			}
		}
		s := open(path, fmt.Sprintf("reader-%d", r))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				load := s.Load
				if i%2 == 1 {
					load = s.LoadLight
				}
				v, err := load(ctx)
				reads.Add(1)
				if err != nil {
					ledger.fail("reader %d: %v", r, err)
					return
				}
				for _, b := range v.Backups {
					if len(b.Damaged) > 0 || !slices.Contains(States, b.State) {
						ledger.fail("reader %d: backup %s read as %q, damaged %v", r, b.ID, b.State, b.Damaged)
						return
					}
				}
			}
		}()
	}
	wg.Wait()

	for _, e := range ledger.errs {
		t.Error(e)
	}
	v, err := openStore(t, dir, "check").Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	expected, lost, extra := 0, 0, 0
	for id, byClone := range ledger.events {
		b := v.ByID(id)
		if b == nil {
			t.Errorf("backup %s: its calls succeeded but it is not in the state", id)
			continue
		}
		got := map[string][]string{}
		for _, e := range b.Events {
			got[e.Clone] = append(got[e.Clone], eventSig(e))
		}
		for clone, want := range byClone {
			expected += len(want)
			if !slices.Equal(got[clone], want) {
				t.Errorf("backup %s: events of %s are %v, the calls that succeeded wrote %v", id, clone, got[clone], want)
			}
			lost += len(want) - commonCount(want, got[clone])
		}
		for clone, evs := range got {
			extra += len(evs) - commonCount(byClone[clone], evs)
		}
	}
	// The invariant: a live backup has its snapshot ref.
	for _, b := range v.Backups {
		if !b.Live() {
			continue
		}
		if ref, err := v.store.Repo.ReadRef(gitstate.SnapshotRef(b.ID)); err != nil || ref != b.Snapshot {
			t.Errorf("backup %s is %s but its snapshot ref is %q (%v), want %s", b.ID, b.State, ref, err, b.Snapshot)
		}
	}
	if len(v.Backups) != len(ledger.events) {
		t.Errorf("%d backups in the state, %d were created", len(v.Backups), len(ledger.events))
	}
	commits := storeGit(t, dir, "rev-list", "--count", gitstate.StateRef)
	if commits != fmt.Sprint(ledger.commits) {
		t.Errorf("%s has %s commits; the calls that succeeded made %d", gitstate.StateRef, commits, ledger.commits)
	}
	storeGit(t, dir, "fsck", "--no-dangling")
	t.Logf("store stress: %v, %d writers + cleaner + 2 readers; operations %v; %d events expected, %d lost, %d unexpected; %d CAS retries; %d reads",
		stressTime(), writers, ledger.ops, expected, lost, extra, retries.Load(), reads.Load())
	if lost > 0 || extra > 0 {
		t.Errorf("%d lost updates, %d unexpected events", lost, extra)
	}
}

// commonCount is the size of the multiset intersection of a and b.
func commonCount(a, b []string) int {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	n := 0
	for _, s := range b {
		if m[s] > 0 {
			m[s]--
			n++
		}
	}
	return n
}
