package monitor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// fakeClock moves only when the loop waits: After advances it by d and
// fires at once. onWait, when set, hears each wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	waits  []time.Duration
	onWait func(n int)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	n, now, f := len(c.waits), c.now, c.onWait
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// fakeDisk reports the git dir's and the archive dir's usage from functions
// of the repository's state, so it answers to what the loop did.
type fakeDisk struct {
	archDir string
	git     func() float64
	arch    func() float64
	calls   int
}

func (d *fakeDisk) Usage(path string) (gitstate.DiskUsage, error) {
	d.calls++
	used := 10.0
	switch {
	case strings.HasPrefix(path, d.archDir) && d.arch != nil:
		used = d.arch()
	case !strings.HasPrefix(path, d.archDir) && path != "/" && d.git != nil:
		used = d.git()
	}
	const total = 1 << 40
	return gitstate.DiskUsage{Path: path, TotalBytes: total, FreeBytes: uint64(total * (100 - used) / 100), UsedPercent: used}, nil
}

type fakeAlerter struct{ events []Event }

func (a *fakeAlerter) Alert(_ context.Context, e Event) error {
	a.events = append(a.events, e)
	return nil
}

type fakeMetrics struct {
	samples []Sample
	moves   []Transition
}

func (m *fakeMetrics) Record(s Sample)             { m.samples = append(m.samples, s) }
func (m *fakeMetrics) Transitions(ts []Transition) { m.moves = append(m.moves, ts...) }

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// env is a repository with a store whose clock is the fake one.
type env struct {
	dir   string
	s     *transitions.Store
	clock *fakeClock
	disk  *fakeDisk
	alert *fakeAlerter
	mets  *fakeMetrics
}

func newEnv(t *testing.T) *env {
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
	git(t, "", "-c", "init.defaultBranch=main", "init", "-q", dir)
	writeFile(t, dir, "a.txt", "a\n")
	git(t, dir, "add", "a.txt")
	git(t, dir, "commit", "-q", "-m", "init")
	r, err := gitstate.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	p := transitions.DefaultPolicy()
	p.ArchiveDir = filepath.Join(t.TempDir(), "archives")
	p.AutosaveInterval = 0
	if err := os.MkdirAll(p.ArchiveDir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &transitions.Store{Repo: r, Policy: p, Clone: "clone-0", Now: clock.Now}
	return &env{dir: dir, s: s, clock: clock, disk: &fakeDisk{archDir: p.ArchiveDir}, alert: &fakeAlerter{}, mets: &fakeMetrics{}}
}

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cleanable takes a backup of a new file, commits the same content (so the
// backup is fully covered) and moves it to CLEANABLE.
func (e *env) cleanable(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	writeFile(t, e.dir, name, name+" content\n")
	res, err := e.s.Create(ctx, transitions.CreateOptions{Message: "backup of " + name, Pathspec: []string{name}, Dir: e.dir})
	if err != nil || !res.Created {
		t.Fatalf("create %s: %v %v", name, err, res.Reason)
	}
	git(t, e.dir, "add", name)
	git(t, e.dir, "commit", "-q", "-m", "add "+name)
	for _, to := range []transitions.State{transitions.Pending, transitions.Cleanable} {
		if _, err := e.s.Move(ctx, transitions.MoveRequest{ID: res.Backup.ID, To: to, Trigger: transitions.TriggerUser, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	return res.Backup.ID
}

// count counts backups by state.
func (e *env) count(t testing.TB) map[transitions.State]int {
	t.Helper()
	v, err := e.s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := map[transitions.State]int{}
	for _, b := range v.Backups {
		n[b.State]++
		if b.Live() {
			n["live"]++
		}
	}
	return n
}

func (e *env) live(t testing.TB) float64 { return float64(e.count(t)["live"]) }

func (e *env) options() Options {
	return Options{Stores: []*transitions.Store{e.s}, Once: true, Clock: e.clock, Disk: e.disk,
		Alerter: e.alert, Metrics: e.mets, ReclaimGrace: -1}
}

func (e *env) runOnce(t *testing.T) {
	t.Helper()
	if err := Run(context.Background(), e.options()); err != nil {
		t.Fatal(err)
	}
}
