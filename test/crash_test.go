package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/git-backup/git-backup/archive"
)

// TestCrashTrials runs real git-backup commands against real repositories and
// kills them with SIGKILL at a random moment of their work: create, transition,
// cleanup, archive, unarchive, restore, sync, push, fetch, a hook and a
// monitor cycle.
// The repositories live for the whole test and accumulate the crashes. After
// every trial it checks that every backup not DELETED still has its content
// (a snapshot ref or a verified archive), that the state and its audit log are
// whole, that no backup vanished or moved other than by a legal move, and that
// fsck --repair leaves fsck clean. GIT_BACKUP_CRASH_SEED reruns a seed (the
// same operations, fixtures and delays; where a kill lands in the work still
// depends on the machine's speed);
// GIT_BACKUP_CRASH_TRIALS sets the number of kill attempts; on a failure,
// GIT_BACKUP_CRASH_KEEP=DIR keeps the repositories there.
func TestCrashTrials(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the crash trials read /proc to wait for orphaned git processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GIT_BACKUP_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("GIT_BACKUP_CRASH_SEED: %v", err)
		}
		seed = n
	}
	trials := scale("GIT_BACKUP_CRASH_TRIALS", 60, 440)
	// The bounded form also stops starting trials after a while on a slow
	// or busy machine; the full run has no such limit.
	budget := scaleDuration("GIT_BACKUP_CRASH_BUDGET", 75*time.Second, 24*time.Hour)
	start := time.Now()
	t.Logf("crash trials: seed %d (GIT_BACKUP_CRASH_SEED=%d reruns it), %d trials", seed, seed, trials)
	w := newCrashWorld(t, seed)
	defer func() {
		if t.Failed() {
			t.Logf("crash trials failed with seed %d: rerun with GIT_BACKUP_CRASH_SEED=%d GIT_BACKUP_CRASH_TRIALS=%d", seed, seed, trials)
			if keep := os.Getenv("GIT_BACKUP_CRASH_KEEP"); keep != "" {
				// The repositories as the failure left them, to look at.
				if out, err := exec.Command("cp", "-a", w.root, keep).CombinedOutput(); err != nil {
					t.Logf("keep the repositories in %s: %v\n%s", keep, err, out)
				} else {
					t.Logf("the repositories are kept in %s", keep)
				}
			}
		}
	}()
	ops := crashOps()
	var order []*crashOp
	for trial := 0; trial < trials; trial++ {
		if time.Since(start) > budget {
			t.Logf("crash trials: stopped after %d of %d trials (GIT_BACKUP_CRASH_BUDGET %v)", trial, trials, budget)
			break
		}
		if len(order) == 0 {
			order = slices.Clone(ops)
			w.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		op := order[0]
		order = order[1:]
		w.trial(trial, op)
		if t.Failed() {
			break
		}
	}
	w.report(ops)
}

// crashOp is one kind of operation the trials kill.
type crashOp struct {
	name   string
	shares bool // it talks to the remote: the peer checks what it left there
	// doneOnce: run again after a kill that came after its move, it may
	// refuse (exit 3) or fail (exit 1), there being nothing left to move.
	doneOnce bool
	// prepare builds what the operation needs (uncrashed) and returns the
	// command to kill: the directory it runs in and git-backup's arguments.
	prepare func(w *crashWorld, c *crashCtx) (dir string, args []string)
}

// crashCtx is what one trial's operation may do to the backups, so the
// checks know which moves are legal.
type crashCtx struct {
	unarchive  string          // the backup unarchive may bring back
	userDelete map[string]bool // backups the user moves to DELETED on purpose
	doneOnce   bool            // as crashOp.doneOnce, for this run
}

// crashOpStats counts one operation's trials.
type crashOpStats struct {
	calibrations int             // uncrashed runs that measured the duration
	trials       int             // kill attempts
	kills        int             // the process was really killed
	groupKills   int             // of which the whole process group
	missed       int             // the process had already exited
	exits        map[int]int     // exit codes of the runs that were not killed
	est          time.Duration   // the uncrashed duration the delay is drawn from
	durations    []time.Duration // of every uncrashed run
	repairs      map[string]int  // fsck findings after its kills, by kind
}

// crashWorld is the long-lived set of repositories the trials run in: a bare
// remote, the clone the trials crash in, and a peer clone that shares state
// with it through the remote.
type crashWorld struct {
	t              *testing.T
	env            []string
	gb             string
	root           string
	repo, peer     string
	remote         string
	seed           uint64
	rng            *rand.Rand
	n              int // counter for unique content
	stats          map[string]*crashOpStats
	violations     int
	repairsNeeded  int
	repairsByKind  map[string]int
	unexpected     []string // repairs of kinds a crash must not leave
	selfClone      string
	creator        map[string]string // backup ID → clone that took it
	trialNo        int
	op             string
	shares         bool // the trial's operation talks to the remote
	lastCmd        string
	nfiles         int
	restoreTargets int
}

func newCrashWorld(t *testing.T, seed uint64) *crashWorld {
	env := append(e2eEnv(t), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=protocol.file.allow", "GIT_CONFIG_VALUE_0=always")
	root := t.TempDir()
	w := &crashWorld{
		t: t, env: env, gb: filepath.Join(binDir, "git-backup"), root: root,
		repo: filepath.Join(root, "a"), peer: filepath.Join(root, "b"), remote: filepath.Join(root, "remote.git"),
		seed: seed, rng: rand.New(rand.NewPCG(seed, 0x6372617368)),
		stats: map[string]*crashOpStats{}, repairsByKind: map[string]int{}, creator: map[string]string{},
		nfiles: 400,
	}
	url := "file://" + w.remote
	w.must("", "git", "init", "-q", "--bare", w.remote)
	w.must("", "git", "clone", "-q", url, w.repo)
	for _, dir := range []string{w.repo} {
		w.configure(dir)
	}
	// A few hundred files, so that create, archive and restore take time.
	for i := range w.nfiles {
		w.writeFile(w.repo, crashFile(i), 1+w.rng.IntN(8))
	}
	w.must(w.repo, "git", "add", "-A")
	w.must(w.repo, "git", "commit", "-q", "-m", "init")
	w.must(w.repo, "git", "push", "-q", "origin", "main")
	w.must("", "git", "clone", "-q", url, w.peer)
	w.configure(w.peer)
	// The first backups, so the state exists before the first kill.
	w.newBackup(true)
	w.newBackup(false)
	w.must(w.repo, w.gb, "push")
	w.peerBackup()
	w.must(w.repo, w.gb, "fetch")
	id, err := os.ReadFile(filepath.Join(w.repo, ".git", "backup", "clone-id"))
	if err != nil {
		t.Fatal(err)
	}
	w.selfClone = strings.TrimSpace(string(id))
	w.checkNotes(w.repo, w.revParse(w.repo, "refs/backups/state")) // who took which backup
	return w
}

// configure sets the policies: no hooks (the trials drive every move), no
// alerts, disk levels out of reach (disk policies would depend on the
// machine), autosave on for the monitor.
func (w *crashWorld) configure(dir string) {
	for _, kv := range [][2]string{
		{"backup.autoInstallHooks", "false"},
		{"backup.alerts", "false"},
		{"backup.autosaveInterval", "1m"},
		{"backup.diskWarningThreshold", "97"},
		{"backup.diskCriticalThreshold", "98"},
		{"backup.diskEmergencyThreshold", "99"},
		{"backup.compressionLevel", "fastest"},
	} {
		w.must(dir, "git", "config", kv[0], kv[1])
	}
}

func crashFile(i int) string { return fmt.Sprintf("src/d%02d/f%03d.txt", i%20, i) }

// writeFile writes kb kilobytes of fresh content to name.
func (w *crashWorld) writeFile(dir, name string, kb int) {
	w.n++
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	var sb strings.Builder
	for i := 0; sb.Len() < kb*1024; i++ {
		fmt.Fprintf(&sb, "%s version %d line %d %x\n", name, w.n, i, w.rng.Uint64())
	}
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// editFiles rewrites n random tracked files of the repository.
func (w *crashWorld) editFiles(n int) {
	for range n {
		w.writeFile(w.repo, crashFile(w.rng.IntN(w.nfiles)), 1+w.rng.IntN(8))
	}
}

// run runs a command and fails the test on a panic in its stderr.
func (w *crashWorld) run(dir, name string, args ...string) (string, string, int) {
	w.t.Helper()
	out, errOut, code := runIn(w.t, w.env, dir, name, args...)
	w.checkPanic(name, args, errOut)
	return out, errOut, code
}

// must runs a command that must succeed.
func (w *crashWorld) must(dir, name string, args ...string) string {
	w.t.Helper()
	out, errOut, code := w.run(dir, name, args...)
	if code != 0 {
		w.t.Fatalf("%s: %s %s: exit %d\n%s%s", w.where(), filepath.Base(name), strings.Join(args, " "), code, errOut, out)
	}
	return out
}

func (w *crashWorld) checkPanic(name string, args []string, stderr string) {
	w.t.Helper()
	if strings.Contains(stderr, "panic:") {
		w.t.Errorf("%s: %s %s panicked:\n%s", w.where(), filepath.Base(name), strings.Join(args, " "), stderr)
	}
}

// where names the trial, for messages.
func (w *crashWorld) where() string {
	return fmt.Sprintf("seed %d trial %d (%s; killed: git-backup %s)", w.seed, w.trialNo, w.op, w.lastCmd)
}

// crashBackup is a backup as list --json prints it.
type crashBackup struct {
	ID       string  `json:"id"`
	State    string  `json:"state"`
	Snapshot string  `json:"snapshot"`
	Archive  *string `json:"archive"`
}

func (w *crashWorld) list(dir string) []crashBackup {
	w.t.Helper()
	out := w.must(dir, w.gb, "list", "--json")
	var bs []crashBackup
	if err := json.Unmarshal([]byte(out), &bs); err != nil {
		w.t.Fatalf("%s: list --json: %v\n%s", w.where(), err, out)
	}
	return bs
}

// own lists this clone's backups in the given states (all when none given).
func (w *crashWorld) own(states ...string) []crashBackup {
	var out []crashBackup
	for _, b := range w.list(w.repo) {
		if c := w.creator[b.ID]; c != "" && c != w.selfClone {
			continue
		}
		if len(states) == 0 || slices.Contains(states, b.State) {
			out = append(out, b)
		}
	}
	return out
}

// newBackup takes a backup of a few edited files; covered ones are then
// committed on main, so their changes are in merged history.
func (w *crashWorld) newBackup(covered bool) string {
	w.editFiles(3 + w.rng.IntN(20))
	id := strings.TrimSpace(w.must(w.repo, w.gb, "create", "-q", "-m", "fixture"))
	if covered {
		w.commitAll("work " + id)
	}
	return id
}

// commitAll commits the work tree on main, when anything changed.
func (w *crashWorld) commitAll(msg string) {
	w.must(w.repo, "git", "add", "-A")
	if _, _, code := w.run(w.repo, "git", "diff", "--cached", "--quiet"); code != 0 {
		w.must(w.repo, "git", "commit", "-q", "-m", msg)
	}
}

// peerBackup has the peer take a backup and push the state, so a fetch in the
// crash clone has work to do.
func (w *crashWorld) peerBackup() {
	w.writeFile(w.peer, fmt.Sprintf("peer/p%d.txt", w.n), 2)
	w.must(w.peer, w.gb, "create", "-q", "-m", "peer")
	w.must(w.peer, w.gb, "push")
}

// moveTo moves a backup along the lifecycle to CLEANABLE, uncrashed.
func (w *crashWorld) toCleanable(b crashBackup) {
	path := map[string][]string{
		"CREATED":   {"pending", "cleanable"},
		"PENDING":   {"cleanable"},
		"CONFIRMED": {"cleanable"},
	}[b.State]
	for _, st := range path {
		w.must(w.repo, w.gb, "transition", b.ID, st, "--yes", "--reason", "fixture")
	}
}

// ensureCleanable makes sure at least n of this clone's backups are CLEANABLE,
// with both covered and uncovered content among new ones.
func (w *crashWorld) ensureCleanable(n int) []crashBackup {
	have := w.own("CLEANABLE")
	if len(have) >= n {
		return have
	}
	live := w.own("CREATED", "PENDING", "CONFIRMED")
	w.rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	for _, b := range live {
		if len(have) >= n {
			break
		}
		w.toCleanable(b)
		have = append(have, b)
	}
	for len(have) < n {
		id := w.newBackup(len(have)%2 == 0)
		b := crashBackup{ID: id, State: "CREATED"}
		w.toCleanable(b)
		have = append(have, b)
	}
	return w.own("CLEANABLE")
}

func (w *crashWorld) pick(bs []crashBackup) crashBackup { return bs[w.rng.IntN(len(bs))] }

func crashOps() []*crashOp {
	cleanupArgs := func(w *crashWorld) []string {
		return []string{"cleanup", "--yes", "--time-offset", "4d", "--prune-grace", "0"}
	}
	return []*crashOp{
		{name: "create", prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			w.editFiles(50 + w.rng.IntN(250))
			for range w.rng.IntN(4) {
				w.writeFile(w.repo, fmt.Sprintf("new/n%d.txt", w.n), 4)
			}
			return w.repo, []string{"create", "-q", "-m", "crash trial"}
		}},
		{name: "transition", doneOnce: true, prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			bs := w.own("CREATED", "PENDING", "CONFIRMED", "CLEANABLE", "ARCHIVED")
			if len(bs) == 0 {
				w.newBackup(false)
				bs = w.own("CREATED")
			}
			b := w.pick(bs)
			next := map[string][]string{
				"CREATED":   {"PENDING"},
				"PENDING":   {"CONFIRMED", "CLEANABLE"},
				"CONFIRMED": {"CLEANABLE"},
				"CLEANABLE": {"DELETED"}, // ARCHIVED only through archive
				"ARCHIVED":  {"DELETED"},
			}[b.State]
			to := next[w.rng.IntN(len(next))]
			if to == "DELETED" {
				c.userDelete[b.ID] = true
			}
			return w.repo, []string{"transition", b.ID, strings.ToLower(to), "--yes", "--reason", "crash trial"}
		}},
		{name: "cleanup", prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			// One covered and one uncovered at least: the delete and the
			// archive paths.
			w.newBackup(true)
			w.newBackup(false)
			bs := w.ensureCleanable(4)
			if w.rng.IntN(3) == 0 {
				c.doneOnce = true // the backups named may all be cleaned already
				args := []string{"cleanup", "--yes", "--time-offset", "4d", "--prune-grace", "0"}
				for _, b := range bs[:min(len(bs), 3)] {
					args = append(args, b.ID)
				}
				return w.repo, args
			}
			return w.repo, cleanupArgs(w)
		}},
		{name: "archive", doneOnce: true, prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			bs := w.ensureCleanable(2)
			args := []string{"archive", "--yes", "--prune-grace", "0"}
			for _, b := range bs[:1+w.rng.IntN(min(len(bs), 3))] {
				args = append(args, b.ID)
			}
			return w.repo, args
		}},
		{name: "unarchive", doneOnce: true, prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			bs := w.own("ARCHIVED")
			if len(bs) == 0 {
				b := w.pick(w.ensureCleanable(1))
				w.must(w.repo, w.gb, "archive", "--yes", "--prune-grace", "0", b.ID)
				bs = w.own("ARCHIVED")
			}
			b := w.pick(bs)
			c.unarchive = b.ID
			return w.repo, []string{"unarchive", b.ID, "--yes"}
		}},
		{name: "restore", prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			bs := w.own("CREATED", "PENDING", "CONFIRMED", "CLEANABLE", "ARCHIVED")
			if len(bs) == 0 {
				w.newBackup(false)
				bs = w.own("CREATED")
			}
			b := w.pick(bs)
			if w.rng.IntN(2) == 0 {
				w.restoreTargets++
				to := filepath.Join(w.root, fmt.Sprintf("restored-%d", w.restoreTargets))
				return w.repo, []string{"restore", b.ID, "--to", to, "--yes"}
			}
			w.editFiles(w.rng.IntN(10))
			return w.repo, []string{"restore", b.ID, "--force", "--yes"}
		}},
		{name: "sync", shares: true, prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			w.peerBackup()
			w.newBackup(w.rng.IntN(2) == 0)
			if w.rng.IntN(2) == 0 {
				return w.repo, []string{"sync", "--snapshots"}
			}
			return w.repo, []string{"sync"}
		}},
		{name: "push", shares: true, prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			w.newBackup(w.rng.IntN(2) == 0)
			w.newBackup(false)
			if w.rng.IntN(2) == 0 {
				return w.repo, []string{"push", "--snapshots"}
			}
			return w.repo, []string{"push"}
		}},
		{name: "fetch", shares: true, prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			w.peerBackup()
			return w.repo, []string{"fetch"}
		}},
		{name: "hook", prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			// Backups that the next commit covers: the hook git runs after
			// it moves them (post-commit to PENDING, post-merge on the
			// integration branch to CONFIRMED), the same entry point the
			// installed hook scripts call.
			for range 1 + w.rng.IntN(4) {
				w.newBackup(false)
			}
			w.commitAll("work the hook finds")
			if w.rng.IntN(2) == 0 {
				return w.repo, []string{"hook", "post-merge", "0"}
			}
			return w.repo, []string{"hook", "post-commit"}
		}},
		{name: "monitor", prepare: func(w *crashWorld, c *crashCtx) (string, []string) {
			// Work for every step of the cycle: changed files to autosave,
			// commits on main that cover backups, and time policies due.
			if w.rng.IntN(2) == 0 {
				w.commitAll("work before a monitor cycle")
			}
			w.newBackup(false)
			w.editFiles(20 + w.rng.IntN(80))
			offset := []string{"2d", "4d", "10d", "40d"}[w.rng.IntN(4)]
			return w.repo, []string{"monitor", "--once", "--time-offset", offset, "--prune-grace", "0"}
		}},
	}
}

// trial prepares one operation, runs it and kills it, then checks.
func (w *crashWorld) trial(trial int, op *crashOp) {
	w.trialNo, w.op, w.lastCmd, w.shares = trial, op.name, "", op.shares
	st := w.stats[op.name]
	if st == nil {
		st = &crashOpStats{exits: map[int]int{}, repairs: map[string]int{}}
		w.stats[op.name] = st
	}
	c := &crashCtx{userDelete: map[string]bool{}}
	dir, args := op.prepare(w, c)
	if st.est == 0 {
		// Measure the uncrashed duration first: the kill delays are drawn
		// from it, so kills land during the work.
		before := w.snapshot()
		w.lastCmd = strings.Join(args, " ") + " (uncrashed)"
		start := time.Now()
		_, errOut, code := w.run(dir, w.gb, args...)
		st.est = time.Since(start)
		st.durations = append(st.durations, st.est)
		st.calibrations++
		st.exits[code]++
		if code != 0 {
			w.violation("uncrashed run failed after the earlier crashes: exit %d\n%s", code, errOut)
		}
		w.check(before, c, st)
		c = &crashCtx{userDelete: map[string]bool{}}
		dir, args = op.prepare(w, c)
	}
	before := w.snapshot()
	w.lastCmd = strings.Join(args, " ")
	st.trials++
	delay := time.Duration(w.rng.Int64N(int64(st.est) + 1))
	group := w.rng.IntN(2) == 0
	killed, took, code, errOut := w.runKilled(dir, args, delay, group)
	switch {
	case killed:
		st.kills++
		if group {
			st.groupKills++
		}
		w.t.Logf("trial %d: %s: git-backup %s killed after %v (%s)", trial, op.name, w.lastCmd, delay.Round(time.Millisecond), map[bool]string{true: "process group", false: "process"}[group])
	default:
		st.missed++
		st.exits[code]++
		st.durations = append(st.durations, took) // it ran to the end: a fresh measure
		st.est = median(st.durations)
		if code != 0 {
			w.violation("exited %d before the kill (not killed: it failed on its own)\n%s", code, errOut)
		}
	}
	w.check(before, c, st)
	if op.shares {
		w.checkPeer()
	}
	if killed && w.rng.IntN(2) == 0 {
		// Run it again to the end: a crashed operation must be resumable.
		before = w.snapshot()
		if i := slices.Index(args, "--to"); i >= 0 {
			// The killed run left some files there: a new directory.
			args = slices.Clone(args)
			args[i+1] += "-again"
		}
		w.lastCmd = strings.Join(args, " ") + " (run again)"
		_, errOut, code := w.run(dir, w.gb, args...)
		switch {
		case code == 0:
		case (op.doneOnce || c.doneOnce) && (code == 1 || code == 3):
			// The killed run made the move: there is nothing left to do.
			w.t.Logf("%s: exit %d: %s", w.where(), code, strings.TrimSpace(errOut))
		default:
			w.violation("run again after the kill: exit %d\n%s", code, errOut)
		}
		w.check(before, c, st)
	}
}

// median is the middle of ds.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// runKilled starts git-backup in its own process group, kills it (or its
// whole group) after delay, and waits until every process of the group is
// gone. killed is false when it had exited before the kill.
func (w *crashWorld) runKilled(dir string, args []string, delay time.Duration, group bool) (killed bool, took time.Duration, code int, stderr string) {
	cmd := exec.Command(w.gb, args...)
	cmd.Dir, cmd.Env = dir, w.env
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Orphaned git children may hold the pipes: do not wait for them here.
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	time.Sleep(delay)
	if group {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	} else {
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}
	err := cmd.Wait()
	took = time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		w.t.Fatalf("%s: %v", w.where(), err)
	}
	w.waitGroup(pgid)
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	stderr = errBuf.String()
	w.checkPanic(w.gb, args, stderr)
	if ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return true, took, -1, stderr
	}
	return false, took, cmd.ProcessState.ExitCode(), stderr
}

// waitGroup waits until no live process is left in process group pgid
// (git children of a killed git-backup finish on their own), killing them
// after a minute.
func (w *crashWorld) waitGroup(pgid int) {
	deadline := time.Now().Add(time.Minute)
	for {
		live := groupMembers(pgid)
		if len(live) == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Errorf("%s: processes %v of the killed command still run after a minute; killing them", w.where(), live)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			deadline = time.Now().Add(time.Minute)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// groupMembers lists the processes of group pgid that are not zombies.
func groupMembers(pgid int) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:]) // state, ppid, pgrp, …
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out = append(out, e.Name()+" "+strings.Trim(s[strings.IndexByte(s, '('):i+1], "()"))
		}
	}
	return out
}

// crashState is what the checks compare before and after a trial.
type crashState struct {
	tip, remoteTip string
	backups        map[string]crashBackup
}

func (w *crashWorld) snapshot() crashState {
	s := crashState{backups: map[string]crashBackup{}}
	s.tip = w.revParse(w.repo, "refs/backups/state")
	s.remoteTip = w.revParse(w.remote, "refs/backups/state")
	for _, b := range w.list(w.repo) {
		s.backups[b.ID] = b
	}
	return s
}

func (w *crashWorld) revParse(dir, ref string) string {
	out, _, code := w.run(dir, "git", "rev-parse", "-q", "--verify", ref+"^{commit}")
	if code != 0 {
		return ""
	}
	return strings.TrimSpace(out)
}

// violation records a broken promise: the test fails.
func (w *crashWorld) violation(format string, args ...any) {
	w.t.Helper()
	w.violations++
	w.t.Errorf("%s: %s", w.where(), fmt.Sprintf(format, args...))
}

// check runs every check of a trial on the crash clone (and the remote).
func (w *crashWorld) check(before crashState, c *crashCtx, st *crashOpStats) {
	w.t.Helper()
	// (b) the state readable: the ref, its tree, every note.
	tip := w.revParse(w.repo, "refs/backups/state")
	if tip == "" {
		w.violation("refs/backups/state does not resolve to a commit")
		return
	}
	w.checkNotes(w.repo, tip)
	// (c) the audit log intact: the old tip is in the new history.
	w.checkHistory(w.repo, before.tip, tip)
	if rt := w.revParse(w.remote, "refs/backups/state"); w.shares && (rt != "" || before.remoteTip != "") {
		if rt == "" {
			w.violation("the remote's refs/backups/state is gone (it was %s)", before.remoteTip)
		} else {
			w.checkNotes(w.remote, rt)
			w.checkHistory(w.remote, before.remoteTip, rt)
		}
	}
	// The remote's state as fetched: readable too.
	for _, line := range strings.Fields(w.must(w.repo, "git", "for-each-ref", "--format=%(refname)", "refs/backups/remotes/")) {
		if !w.shares {
			break // only sync, push and fetch change it
		}
		if strings.HasSuffix(line, "/state") {
			if rt := w.revParse(w.repo, line); rt == "" {
				w.violation("%s does not resolve to a commit", line)
			} else {
				w.checkNotes(w.repo, rt)
			}
		}
	}
	if w.op == "monitor" {
		out, errOut, code := w.run(w.repo, w.gb, "monitor", "status", "--json")
		var ms map[string]any
		if err := json.Unmarshal([]byte(out), &ms); code != 0 || err != nil {
			w.violation("monitor status --json after the trial: exit %d, %v\n%s%s", code, err, out, errOut)
		}
	}
	// (a) the invariant, and (e) no backup vanished or moved illegally.
	after := w.list(w.repo)
	w.checkInvariant(after)
	w.checkMoves(before, after, c)
	for _, id := range w.showSome(after) {
		w.must(w.repo, w.gb, "show", "--json", id)
	}
	// (d) fsck, repaired if needed, then clean, and the invariant again.
	findings := w.fsck()
	if len(findings) > 0 {
		w.repairsNeeded++
		for _, f := range findings {
			w.t.Logf("trial %d: fsck: %s %s: %s", w.trialNo, f.Kind, f.name(), f.Message)
			w.repairsByKind[f.Kind]++
			st.repairs[f.Kind]++
			if !crashLeftover[f.Kind] {
				w.unexpected = append(w.unexpected, fmt.Sprintf("%s: %s %s: %s", w.where(), f.Kind, f.name(), f.Message))
				w.t.Errorf("%s: fsck: %s %s: %s (a crash must leave at most a stray file)", w.where(), f.Kind, f.name(), f.Message)
			}
		}
		out, errOut, code := w.run(w.repo, w.gb, "fsck", "--repair", "--time-offset", "2h")
		if code != 0 {
			w.violation("fsck --repair: exit %d\n%s%s", code, out, errOut)
		}
		if left := w.fsck(); len(left) > 0 {
			w.violation("fsck after fsck --repair: %d problem(s) remain: %s", len(left), left[0].Message)
		}
		w.checkInvariant(w.list(w.repo))
	}
	// git's own view of the objects the refs need.
	if out, errOut, code := w.run(w.repo, "git", "fsck", "--no-dangling", "--no-progress", "--connectivity-only"); code != 0 {
		w.violation("git fsck: exit %d\n%s%s", code, out, errOut)
	}
}

// checkPeer has the peer clone, which is never killed, fetch what the
// trial left on the remote: the fetch succeeds, and fsck finds nothing and
// every backup the peer took still has its snapshot ref.
func (w *crashWorld) checkPeer() {
	w.t.Helper()
	if out, errOut, code := w.run(w.peer, w.gb, "fetch"); code != 0 {
		w.violation("the peer's fetch after the trial: exit %d\n%s%s", code, out, errOut)
		return
	}
	out, errOut, code := w.run(w.peer, w.gb, "fsck", "--json")
	var res struct {
		Findings []crashFinding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		w.violation("fsck --json in the peer: exit %d: %v\n%s%s", code, err, out, errOut)
	}
	for _, f := range res.Findings {
		// A snapshot the peer fetched stays while it cannot show the
		// content is covered, after the crash clone archived it: by design.
		if f.Kind == "stale-ref" && strings.Contains(f.Message, "kept locally") {
			continue
		}
		w.violation("fsck in the peer after the trial: %s %s: %s", f.Kind, f.name(), f.Message)
	}
	var bs []crashBackup
	out = w.must(w.peer, w.gb, "list", "--json")
	if err := json.Unmarshal([]byte(out), &bs); err != nil {
		w.violation("list --json in the peer: %v", err)
		return
	}
	for _, v := range invariantViolations(w.t, w.env, w.peer, bs, func(id string) bool { return w.creator[id] == w.selfClone }) {
		w.violation("in the peer: %s", v)
	}
}

// crashLeftover are the fsck findings a crash may leave: stray files, and
// the halves of a ref transaction git was killed committing (its files
// backend renames lock files into place one by one and deletes refs last, so
// a kill there leaves a snapshot ref created before the state names it, or a
// ref the state dropped: the content is kept either way). Findings that
// --repair cannot mend fail the check after the repair.
var crashLeftover = map[string]bool{
	"stray-index":     true,
	"partial-archive": true,
	"stray-archive":   true,
	"stale-lock":      true,
	"orphan-ref":      true,
	"stale-ref":       true,
}

// crashFinding is one finding of fsck --json.
type crashFinding struct {
	Kind    string  `json:"kind"`
	ID      *string `json:"id"`
	Path    string  `json:"path"`
	Message string  `json:"message"`
}

func (f crashFinding) name() string {
	if f.ID != nil {
		return *f.ID
	}
	return f.Path
}

// fsck runs git backup fsck --json an hour later (leftover files of a killed
// process are judged by their age) and returns its findings.
func (w *crashWorld) fsck() []crashFinding {
	w.t.Helper()
	out, errOut, code := w.run(w.repo, w.gb, "fsck", "--json", "--time-offset", "2h")
	var res struct {
		OK       bool           `json:"ok"`
		Findings []crashFinding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		w.violation("fsck --json: exit %d: %v\n%s%s", code, err, out, errOut)
		return nil
	}
	if res.OK != (code == 0) || res.OK != (len(res.Findings) == 0) {
		w.violation("fsck --json: exit %d, ok %v, %d finding(s)", code, res.OK, len(res.Findings))
	}
	return res.Findings
}

// checkNotes reads the state tree and every note in it, and records who
// took each backup.
func (w *crashWorld) checkNotes(dir, tip string) {
	w.t.Helper()
	out, errOut, code := w.run(dir, "git", "ls-tree", "-r", tip)
	if code != 0 {
		w.violation("git ls-tree -r %s: exit %d\n%s", tip, code, errOut)
		return
	}
	var blobs, names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		meta, path, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[1] != "blob" {
			w.violation("state tree %s: unexpected entry %q", tip, line)
			continue
		}
		blobs, names = append(blobs, f[2]), append(names, path)
	}
	cmd := exec.Command("git", "cat-file", "--batch")
	cmd.Dir, cmd.Env = dir, w.env
	cmd.Stdin = strings.NewReader(strings.Join(blobs, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		w.violation("git cat-file --batch on the notes of %s: %v\n%s", tip, err, stderr.String())
		return
	}
	rd := bufio.NewReader(&stdout)
	for i, blob := range blobs {
		header, err := rd.ReadString('\n')
		f := strings.Fields(header)
		if err != nil || len(f) != 3 || f[0] != blob {
			w.violation("note %s (%s) of state %s cannot be read: %q", names[i], blob, tip, header)
			return
		}
		size, _ := strconv.Atoi(f[2])
		data := make([]byte, size+1)
		if _, err := io.ReadFull(rd, data); err != nil {
			w.violation("note %s of state %s: %v", names[i], tip, err)
			return
		}
		if names[i] == "layout" {
			continue
		}
		snap := strings.ReplaceAll(names[i], "/", "")
		if len(snap) != 40 {
			w.violation("state %s: entry %q names no snapshot", tip, names[i])
			continue
		}
		for n, line := range strings.Split(strings.TrimSpace(string(data[:size])), "\n") {
			var ev struct {
				Kind  string `json:"kind"`
				ID    string `json:"id"`
				Clone string `json:"clone"`
			}
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				w.violation("note of snapshot %s, line %d: %v: %q", snap, n+1, err, line)
				continue
			}
			if ev.Kind == "create" && ev.ID != "" && dir == w.repo {
				w.creator[ev.ID] = ev.Clone
			}
		}
	}
}

// checkHistory checks that the state's commit history walks and still holds
// the tip from before the trial.
func (w *crashWorld) checkHistory(dir, old, tip string) {
	w.t.Helper()
	if _, errOut, code := w.run(dir, "git", "rev-list", "--count", tip); code != 0 {
		w.violation("git rev-list %s: exit %d\n%s", tip, code, errOut)
	}
	if old == "" || old == tip {
		return
	}
	if _, errOut, code := w.run(dir, "git", "merge-base", "--is-ancestor", old, tip); code != 0 {
		w.violation("the state before the trial (%s) is not in the history of %s (audit log rewritten)\n%s", old, tip, errOut)
	}
}

// checkInvariant checks that every backup not DELETED has its content: this
// clone's backups a snapshot ref pointing at their snapshot or (ARCHIVED) a
// verified archive holding it; other clones' backups their ref in the clone
// that took them.
func (w *crashWorld) checkInvariant(bs []crashBackup) {
	w.t.Helper()
	for _, v := range invariantViolations(w.t, w.env, w.repo, bs, func(id string) bool {
		c := w.creator[id]
		return c != "" && c != w.selfClone
	}) {
		w.violation("%s", v)
	}
	var foreign []crashBackup
	for _, b := range bs {
		if c := w.creator[b.ID]; c != "" && c != w.selfClone && b.State != "DELETED" {
			foreign = append(foreign, b)
		}
	}
	if len(foreign) == 0 {
		return
	}
	refs := w.must(w.peer, "git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/backups/snapshots/")
	for _, b := range foreign {
		if b.State == "ARCHIVED" {
			continue // archived in another clone: its archive is there
		}
		if !strings.Contains(refs, "refs/backups/snapshots/"+b.ID+" "+b.Snapshot) {
			w.violation("backup %s of the peer clone is %s without its snapshot ref there", b.ID, b.State)
		}
	}
}

// crashNext are the legal moves, and unarchive's way back.
var crashNext = map[string][]string{
	"CREATED":   {"PENDING"},
	"PENDING":   {"CONFIRMED", "CLEANABLE"},
	"CONFIRMED": {"CLEANABLE"},
	"CLEANABLE": {"ARCHIVED", "DELETED"},
	"ARCHIVED":  {"DELETED"},
}

// crashReachable reports whether state to can follow from by legal moves.
func crashReachable(from, to string) bool {
	if from == to {
		return true
	}
	for _, n := range crashNext[from] {
		if crashReachable(n, to) {
			return true
		}
	}
	return false
}

// checkMoves compares the backups before and after a trial: none vanished,
// every state change is a legal move (or unarchive's way back), and no backup
// became DELETED with content that is neither merged nor archived, unless the
// user deleted it on purpose.
func (w *crashWorld) checkMoves(before crashState, after []crashBackup, c *crashCtx) {
	w.t.Helper()
	now := map[string]crashBackup{}
	for _, b := range after {
		now[b.ID] = b
	}
	for id, b0 := range before.backups {
		b1, ok := now[id]
		if !ok {
			w.violation("backup %s (%s) vanished from list", id, b0.State)
			continue
		}
		if b0.State == b1.State {
			continue
		}
		legal := crashReachable(b0.State, b1.State) ||
			(id == c.unarchive && b0.State == "ARCHIVED" && b1.State != "DELETED")
		if !legal {
			w.violation("backup %s moved %s → %s, not a legal move", id, b0.State, b1.State)
		}
		if b1.State == "DELETED" && b0.State != "ARCHIVED" && !c.userDelete[id] {
			w.checkDeleted(id, b0.State)
		}
	}
}

// checkDeleted checks a backup a policy moved to DELETED: the move is not
// forced and the integration branch covers all of its changes.
func (w *crashWorld) checkDeleted(id, from string) {
	w.t.Helper()
	out := w.must(w.repo, w.gb, "show", "--json", id)
	var s struct {
		Coverage float64 `json:"coverage"`
		Events   []struct {
			To     string `json:"to"`
			Forced bool   `json:"forced"`
			Reason string `json:"reason"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		w.violation("show --json %s: %v", id, err)
		return
	}
	if s.Coverage < 1 {
		w.violation("backup %s went %s → DELETED with coverage %.2f and no archive", id, from, s.Coverage)
	}
	for _, e := range s.Events {
		if e.To == "DELETED" && e.Forced {
			w.violation("backup %s was DELETED by a forced move: %s", id, e.Reason)
		}
	}
}

// showSome picks a backup to read with show --json: the newest one, or
// one at random.
func (w *crashWorld) showSome(bs []crashBackup) []string {
	if len(bs) == 0 {
		return nil
	}
	if w.rng.IntN(2) == 0 {
		return []string{bs[0].ID}
	}
	return []string{w.pick(bs).ID}
}

// report prints the figures.
func (w *crashWorld) report(ops []*crashOp) {
	var trials, kills, group, missed, cal int
	var per []string
	for _, op := range ops {
		st := w.stats[op.name]
		if st == nil {
			continue
		}
		trials += st.trials
		kills += st.kills
		group += st.groupKills
		missed += st.missed
		cal += st.calibrations
		per = append(per, fmt.Sprintf("%s %d (%d group)", op.name, st.kills, st.groupKills))
		var exits []string
		for code, n := range st.exits {
			exits = append(exits, fmt.Sprintf("exit %d ×%d", code, n))
		}
		sort.Strings(exits)
		w.t.Logf("%-10s trials %3d, kills %3d (%d process group, %d process), exited before the kill %d, uncrashed runs %d (%s), duration %v, fsck findings %v",
			op.name, st.trials, st.kills, st.groupKills, st.kills-st.groupKills, st.missed, st.calibrations+st.missed,
			strings.Join(exits, ", "), st.est.Round(time.Millisecond), st.repairs)
	}
	var kinds []string
	for k, n := range w.repairsByKind {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	repairs := fmt.Sprintf("repairs needed %d", w.repairsNeeded)
	if len(kinds) > 0 {
		repairs += " (" + strings.Join(kinds, ", ") + ")"
	}
	report(w.t, "crash trials",
		fmt.Sprintf("%d trials (seed %d): SIGKILL at a random moment of create, transition, cleanup, archive, unarchive, restore, sync, push, fetch, hook post-commit/post-merge, monitor --once", trials, w.seed),
		fmt.Sprintf("kills %d (%d process group, %d process alone; %d exited first): %s; invariant violations %d; %s; unexpected repairs %d",
			kills, group, kills-group, missed, strings.Join(per, ", "), w.violations, repairs, len(w.unexpected)))
}

// invariantViolations checks every backup of bs that is not DELETED against
// its snapshot ref or its archive in the repository dir; skip names backups
// whose content is not expected there.
func invariantViolations(t *testing.T, env []string, dir string, bs []crashBackup, skip func(id string) bool) []string {
	t.Helper()
	refs := mustRun(t, env, dir, "git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/backups/snapshots/")
	var out []string
	for _, b := range bs {
		if skip != nil && skip(b.ID) {
			continue
		}
		switch b.State {
		case "DELETED":
		case "ARCHIVED":
			if b.Archive == nil {
				out = append(out, fmt.Sprintf("backup %s is ARCHIVED without an archive path", b.ID))
				continue
			}
			m, err := archive.Verify(*b.Archive)
			if err != nil {
				out = append(out, fmt.Sprintf("backup %s: %v", b.ID, err))
			} else if m.Backup.Snapshot != b.Snapshot {
				out = append(out, fmt.Sprintf("backup %s: archive holds snapshot %s, want %s", b.ID, m.Backup.Snapshot, b.Snapshot))
			}
		default:
			if !strings.Contains(refs, "refs/backups/snapshots/"+b.ID+" "+b.Snapshot) {
				out = append(out, fmt.Sprintf("backup %s is %s without its snapshot ref", b.ID, b.State))
			}
		}
	}
	return out
}

// checkInvariant checks every backup that is not DELETED against its ref
// or its archive, and returns the states by ID.
func checkInvariant(t *testing.T, env []string, dir string) map[string]string {
	t.Helper()
	out := mustRun(t, env, dir, "git", "backup", "list", "--json")
	var bs []crashBackup
	if err := json.Unmarshal([]byte(out), &bs); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	for _, v := range invariantViolations(t, env, dir, bs, nil) {
		t.Error(v)
	}
	states := map[string]string{}
	for _, b := range bs {
		states[b.ID] = b.State
	}
	return states
}

// writeKillFile writes a file of lines numbered lines.
func writeKillFile(t *testing.T, dir, name string, lines int) {
	t.Helper()
	var sb strings.Builder
	for i := range lines {
		fmt.Fprintf(&sb, "%s line %d %x\n", name, i, i*7919)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
