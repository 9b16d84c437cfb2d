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
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// casRetry is what the store logs at debug level for every lost
// compare-and-swap race it retries.
const casRetry = "compare-and-swap conflict, retrying"

// stressCall is one process the stress test ran.
type stressCall struct {
	who    string
	dir    string
	args   []string
	code   int
	stdout string
	stderr string
}

func (c stressCall) String() string {
	return fmt.Sprintf("[%s] (cd %s && %s) → exit %d\n  stderr: %s", c.who, c.dir, strings.Join(c.args, " "), c.code,
		strings.ReplaceAll(strings.TrimSpace(c.stderr), "\n", "\n          "))
}

// stressRun is what every actor of the stress test records.
type stressRun struct {
	t   *testing.T
	env []string

	mu       sync.Mutex
	ops      map[string]int // operations by kind
	procs    int            // processes run
	retries  map[string]int // compare-and-swap retries by who logged them
	gaveUp   map[string]int // exit 4, and give-ups logged by hooks and the monitor
	failures []string
	// want is, per backup ID, the events of the user commands that exited 0,
	// as "kind", "move:STATE:REASON".
	want map[string][]string
	// reported is, per backup ID, the moves hooks and the monitor said they
	// made, as "move:FROM>TO:TRIGGER", and "create:autosave".
	reported map[string][]string
	// giveUps are the calls that exited 4.
	giveUps []stressCall
	// hookFailures counts the hooks the shim said failed.
	hookFailures int
	// reads counts the reader's reads; unreadable its failed reads.
	reads, unreadable int
}

func (s *stressRun) failf(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fmt.Sprintf(format, a...))
}

func (s *stressRun) op(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[kind]++
}

func (s *stressRun) expect(id string, events ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want[id] = append(s.want[id], events...)
}

// run runs one process and checks its exit code against ok (the codes its
// command documents for this situation); any other code, a failure to
// start, or a panic on stderr is recorded as a failure.
func (s *stressRun) run(who, dir string, ok []int, name string, args ...string) stressCall {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	c := stressCall{who: who, dir: dir, args: append([]string{name}, args...), stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		c.code = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			c.code = ee.ExitCode()
		} else {
			c.stderr += "\n" + err.Error()
		}
	}
	s.mu.Lock()
	s.procs++
	if n := strings.Count(c.stderr, casRetry); n > 0 {
		s.retries[who] += n
	}
	if c.code == 4 {
		verb := ""
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				verb = " " + a
				break
			}
		}
		s.gaveUp[who+verb]++
		s.giveUps = append(s.giveUps, c)
	}
	s.mu.Unlock()
	if !slices.Contains(ok, c.code) {
		s.failf("unexpected exit code (want one of %v): %s", ok, c)
	}
	if strings.Contains(c.stderr, "panic:") || strings.Contains(c.stderr, "DATA RACE") {
		s.failf("panic or data race: %s", c)
	}
	return c
}

var (
	hookMove        = regexp.MustCompile(`(?m)^git-backup: (\d{8}-\d{6}-[0-9a-f]+) ([A-Z]+(?: -> [A-Z]+)+)$`)
	monitorMove     = regexp.MustCompile(`level=INFO msg=move .*backup=(\S+) from=([A-Z]+) to=([A-Z]+) trigger=(\S+)`)
	monitorAutosave = regexp.MustCompile(`level=INFO msg=autosave .*backup=(\S+)`)
)

var (
	userCodes  = []int{0, 3, 4} // done, refused (the command says why), gave up after conflicts
	shareCodes = []int{0, 4}    // push, fetch, sync: done, or the remote kept moving
	onlyZero   = []int{0}
)

// TestConcurrencyStress runs on one repository, for a bounded time, what a
// busy day runs at once: a committer making real commits, merges, amends and
// pushes (the installed hooks fire for real), the monitor (one cycle a
// second, autosave on, the clock 23 hours ahead so its time policies move
// backups), several users creating, pinning, unpinning, moving, confirming,
// archiving, unarchiving, showing and listing their own backups, a syncer exchanging the state with
// a bare remote to which a second clone pushes its own backups, and a reader
// reading the state the way a person would. Afterwards every user command
// that exited 0 must have its event in its backup's log, and no other event
// in the user's name may be there; every move or autosave the hooks and the
// monitor reported must be there too; every exit code must be one the command
// documents; no read of the state may have failed; fsck (git's and
// git-backup's) must be clean; the hooks never made git fail; nothing
// panicked. GIT_BACKUP_STRESS_TIME, GIT_BACKUP_STRESS_WORKERS and
// GIT_BACKUP_STRESS_SEED set the duration, the number of user workers and
// the seed; GIT_BACKUP_STRESS_KEEP=DIR copies the repositories there at the
// end for a look.
func TestConcurrencyStress(t *testing.T) {
	duration := scaleDuration("GIT_BACKUP_STRESS_TIME", 20*time.Second, 2*time.Minute)
	workers := scale("GIT_BACKUP_STRESS_WORKERS", 3, 5)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("GIT_BACKUP_STRESS_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (GIT_BACKUP_STRESS_SEED=%d reruns the same choices; the timing differs), %v, %d user workers", seed, seed, duration, workers)

	env := e2eEnv(t)
	root := t.TempDir()
	remote, repo, clone := filepath.Join(root, "remote.git"), filepath.Join(root, "repo"), filepath.Join(root, "clone")
	mustRun(t, env, "", "git", "init", "-q", "--bare", remote)
	mustRun(t, env, "", "git", "init", "-q", repo)
	writeStressFile(t, repo, "c.txt", "first\n")
	mustRun(t, env, repo, "git", "add", "c.txt")
	mustRun(t, env, repo, "git", "commit", "-q", "-m", "first")
	mustRun(t, env, repo, "git", "remote", "add", "origin", "file://"+remote)
	mustRun(t, env, repo, "git", "push", "-q", "-u", "origin", "main")
	mustRun(t, env, "", "git", "clone", "-q", "file://"+remote, clone)
	for _, kv := range [][2]string{
		{"backup.checkInterval", "1s"},
		{"backup.autosaveInterval", "10s"},
		{"backup.cleanupInterval", "10s"},
		{"backup.logLevel", "debug"},
		// With the monitor's clock 23 hours ahead (less than the day
		// another clone accepts), its time policies move backups.
		{"backup.pendingTimeout", "20h"},
		{"backup.confirmedTimeout", "12h"},
		{"backup.cleanableTimeout", "12h"},
		// The disk policies stay out of it, however full the disk is.
		{"backup.diskEmergencyThreshold", "99"},
		{"backup.diskCriticalThreshold", "98"},
		{"backup.diskWarningThreshold", "97"},
	} {
		mustRun(t, env, repo, "git", "backup", "config", "set", kv[0], kv[1])
	}
	mustRun(t, env, repo, "git", "backup", "hooks", "install")
	mustRun(t, env, clone, "git", "config", "backup.autoInstallHooks", "false")
	common := filepath.Join(repo, ".git")
	hooksLog := filepath.Join(common, "backup", "logs", "hooks.log")
	monitorLog := filepath.Join(common, "backup", "logs", "monitor.log")
	bin := filepath.Join(binDir, "git-backup")

	s := &stressRun{t: t, env: env, ops: map[string]int{}, retries: map[string]int{}, gaveUp: map[string]int{},
		want: map[string][]string{}, reported: map[string][]string{}}
	var cloneWant sync.Map // ID → true: backups the second clone created

	// The monitor, a real process, stopped with SIGTERM at the end.
	var monOut, monErr bytes.Buffer
	mon := exec.Command(bin, "monitor", "run", "--time-offset", "23h")
	mon.Dir, mon.Env, mon.Stdout, mon.Stderr = repo, env, &monOut, &monErr
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	monDone := make(chan error, 1)
	go func() { monDone <- mon.Wait() }()
	monStopped := false
	defer func() {
		if !monStopped {
			mon.Process.Kill()
			<-monDone
		}
	}()

	deadline := time.Now().Add(duration)
	running := func() bool { return time.Now().Before(deadline) }
	var wg sync.WaitGroup
	goActor := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}

	// The committer: commits (sweeping the users' files in now and then),
	// merges of a side branch, amends and pushes, with the hooks installed.
	goActor(func() {
		rng := rand.New(rand.NewPCG(seed, 100))
		git := func(args ...string) stressCall {
			c := s.run("committer", repo, onlyZero, "git", args...)
			// The shim's one line about a hook that failed; hooks.log says
			// why (a give-up after conflicts is allowed, nothing else).
			if n := strings.Count(c.stderr, "hook failed; git is not affected"); n > 0 {
				s.mu.Lock()
				s.hookFailures += n
				s.mu.Unlock()
			}
			// What the hooks say they moved: "git-backup: ID CREATED -> PENDING".
			for _, m := range hookMove.FindAllStringSubmatch(c.stderr, -1) {
				states := strings.Split(m[2], " -> ")
				s.mu.Lock()
				for i := 1; i < len(states); i++ {
					s.reported[m[1]] = append(s.reported[m[1]], "move:"+states[i-1]+">"+states[i]+":hook")
				}
				s.mu.Unlock()
			}
			return c
		}
		for i := 1; running(); i++ {
			writeStressFile(t, repo, "c.txt", fmt.Sprintf("commit %d\n", i))
			switch r := rng.IntN(10); {
			case r == 0:
				s.op("git merge")
				side := fmt.Sprintf("side-%d", i)
				git("checkout", "-q", "-b", side)
				writeStressFile(t, repo, side+".txt", side+"\n")
				git("add", side+".txt")
				git("commit", "-q", "-m", side)
				git("checkout", "-q", "main")
				git("merge", "-q", "--no-ff", "-m", "merge "+side, side)
			case r == 1:
				s.op("git commit --amend")
				git("add", "c.txt")
				git("commit", "-q", "--amend", "-m", fmt.Sprintf("commit %d, amended", i))
			case r == 2:
				s.op("git push")
				git("push", "-q", "-f", "origin", "main")
			default:
				s.op("git commit")
				if r < 5 {
					git("add", "-A") // takes the users' files too: their backups become PENDING
				} else {
					git("add", "c.txt")
				}
				git("commit", "-q", "-m", fmt.Sprintf("commit %d", i))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// The users: each creates backups of its own files and works on them.
	for w := range workers {
		goActor(func() {
			who := fmt.Sprintf("user-%d", w)
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var mine []string
			backup := func(args ...string) stressCall {
				return s.run(who, repo, userCodes, bin, append([]string{"-vv"}, args...)...)
			}
			for n := 0; running(); n++ {
				if len(mine) == 0 || rng.IntN(4) == 0 {
					s.op("create")
					name := fmt.Sprintf("u%d-%d.txt", w, n)
					writeStressFile(t, repo, name, fmt.Sprintf("%s, file %d, seed %d\n", who, n, seed))
					c := backup("create", "--json", "-m", who+" "+name, "--", name)
					if c.code != 0 {
						continue
					}
					var res struct {
						Created bool `json:"created"`
						Backup  *struct {
							ID string `json:"id"`
						} `json:"backup"`
					}
					if err := json.Unmarshal([]byte(c.stdout), &res); err != nil {
						s.failf("create --json printed no JSON: %v\n%s\n%s", err, c, c.stdout)
						continue
					}
					if res.Created {
						mine = append(mine, res.Backup.ID)
						s.expect(res.Backup.ID, "create")
					} else {
						s.op("create (nothing new)")
					}
					continue
				}
				id := mine[rng.IntN(len(mine))]
				reason := fmt.Sprintf("%s op %d", who, n)
				switch r := rng.IntN(20); {
				case r < 7:
					kind := "pin"
					if r >= 4 {
						kind = "unpin"
					}
					s.op(kind)
					c := backup(kind, "--json", id)
					var res struct {
						Changed bool `json:"changed"`
					}
					if c.code != 0 {
						continue
					}
					if err := json.Unmarshal([]byte(c.stdout), &res); err != nil {
						s.failf("%s --json printed no JSON: %v\n%s\n%s", kind, err, c, c.stdout)
					} else if res.Changed {
						s.expect(id, kind)
					}
				case r < 13:
					args := []string{"transition", id, "pending"}
					switch {
					case r == 12:
						args = []string{"transition", id, "cleanable"}
					case r >= 10:
						args = []string{"confirm", id}
					}
					if args[0] == "confirm" {
						s.op("confirm")
					} else {
						s.op("transition " + args[2])
					}
					c := backup(append(args, "--json", "--yes", "--reason", reason)...)
					if c.code != 0 {
						continue
					}
					var res struct {
						State string `json:"state"`
					}
					if err := json.Unmarshal([]byte(c.stdout), &res); err != nil {
						s.failf("%s --json printed no JSON: %v\n%s\n%s", args[0], err, c, c.stdout)
						continue
					}
					s.expect(id, "move:"+res.State+":"+reason)
				case r == 13:
					// Archive now (a CLEANABLE one; the others are refused),
					// racing the monitor's archives and reclaims.
					s.op("archive")
					c := backup("archive", "--yes", "--json", id)
					if c.code != 0 {
						continue
					}
					var res struct {
						Result *struct {
							Moves []struct {
								ID     string `json:"id"`
								To     string `json:"to"`
								Reason string `json:"reason"`
							} `json:"moves"`
						} `json:"result"`
					}
					if err := json.Unmarshal([]byte(c.stdout), &res); err != nil || res.Result == nil {
						s.failf("archive --json printed no result (%v): %s\n%s", err, c, c.stdout)
						continue
					}
					for _, m := range res.Result.Moves {
						s.op("archive (archived)")
						s.expect(m.ID, "move:"+m.To+":"+m.Reason)
					}
				case r == 14:
					// Bring an archived one back. Only its user unarchives it,
					// so what show says holds until then.
					c := s.run(who, repo, onlyZero, bin, "show", "--json", id)
					var b struct {
						State string `json:"state"`
					}
					if c.code != 0 || json.Unmarshal([]byte(c.stdout), &b) != nil || b.State != "ARCHIVED" {
						continue
					}
					s.op("unarchive")
					c = backup("unarchive", "--json", id)
					if c.code != 0 {
						continue
					}
					var res struct {
						State   string `json:"state"`
						Archive string `json:"archive"`
					}
					if err := json.Unmarshal([]byte(c.stdout), &res); err != nil {
						s.failf("unarchive --json printed no JSON: %v\n%s\n%s", err, c, c.stdout)
						continue
					}
					s.op("unarchive (unarchived)")
					s.expect(id, "move:"+res.State+":unarchived from "+res.Archive)
				case r < 18:
					s.op("show")
					c := s.run(who, repo, onlyZero, bin, "show", "--json", id)
					if c.code == 0 && !json.Valid([]byte(c.stdout)) {
						s.failf("show --json printed no JSON: %s\n%s", c, c.stdout)
					}
				default:
					s.op("list")
					c := s.run(who, repo, onlyZero, bin, "list", "--json")
					if c.code == 0 && !json.Valid([]byte(c.stdout)) {
						s.failf("list --json printed no JSON: %s\n%s", c, c.stdout)
					}
				}
			}
		})
	}

	// The syncer: sync, push and fetch against the remote.
	goActor(func() {
		for i := 0; running(); i++ {
			args := [][]string{{"sync", "origin"}, {"push", "--snapshots", "origin"}, {"fetch", "origin"}}[i%3]
			s.op(args[0])
			s.run("syncer", repo, shareCodes, bin, append([]string{"-vv"}, args...)...)
			time.Sleep(200 * time.Millisecond)
		}
	})

	// The second clone: its own backups, pushed to the same remote.
	goActor(func() {
		for n := 0; running(); n++ {
			name := fmt.Sprintf("other-%d.txt", n)
			writeStressFile(t, clone, name, fmt.Sprintf("second clone, file %d\n", n))
			s.op("create (second clone)")
			c := s.run("clone", clone, userCodes, bin, "-vv", "create", "--json", "-m", "other "+name, "--", name)
			var res struct {
				Created bool `json:"created"`
				Backup  *struct {
					ID string `json:"id"`
				} `json:"backup"`
			}
			if c.code == 0 {
				if err := json.Unmarshal([]byte(c.stdout), &res); err != nil || !res.Created {
					s.failf("second clone: create made no backup (%v): %s\n%s", err, c, c.stdout)
				} else {
					cloneWant.Store(res.Backup.ID, true)
				}
			}
			verb := []string{"push", "sync"}[n%2]
			s.op(verb + " (second clone)")
			s.run("clone", clone, shareCodes, bin, "-vv", verb, "origin")
			time.Sleep(100 * time.Millisecond)
		}
	})

	// The reader: the state as a person reads it, through git backup and
	// through git itself. Once the state ref exists, every read must work.
	goActor(func() {
		seen := false
		unreadable := func(c stressCall, what string) {
			s.mu.Lock()
			s.unreadable++
			s.mu.Unlock()
			s.failf("unreadable state (%s): %s", what, c)
		}
		quiet := []int{0, 1, 128}
		for running() {
			s.mu.Lock()
			s.reads++
			s.mu.Unlock()
			s.op("read")
			c := s.run("reader", repo, quiet, bin, "list", "--json")
			if c.code != 0 {
				unreadable(c, "list --json")
			} else if !json.Valid([]byte(c.stdout)) {
				unreadable(c, "list --json printed no JSON")
			}
			c = s.run("reader", repo, quiet, "git", "rev-parse", "-q", "--verify", gitstate.StateRef)
			commit := strings.TrimSpace(c.stdout)
			if c.code != 0 || commit == "" {
				if seen {
					unreadable(c, gitstate.StateRef+" is gone")
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			seen = true
			if c := s.run("reader", repo, quiet, "git", "cat-file", "-p", commit); c.code != 0 {
				unreadable(c, "the state commit")
			}
			c = s.run("reader", repo, quiet, "git", "ls-tree", "-r", commit)
			if c.code != 0 {
				unreadable(c, "the state tree")
				continue
			}
			var blobs []string
			for _, line := range strings.Split(strings.TrimSpace(c.stdout), "\n") {
				f := strings.Fields(line) // mode type id\tpath
				if len(f) == 4 && f[1] == "blob" && len(strings.ReplaceAll(f[3], "/", "")) == 40 {
					blobs = append(blobs, f[2])
				}
			}
			cmd := exec.Command("git", "cat-file", "--batch")
			cmd.Dir, cmd.Env = repo, env
			cmd.Stdin = strings.NewReader(strings.Join(blobs, "\n") + "\n")
			out, err := cmd.Output()
			s.mu.Lock()
			s.procs++
			s.mu.Unlock()
			if err != nil {
				unreadable(stressCall{who: "reader", dir: repo, args: []string{"git", "cat-file", "--batch"}, code: -1, stderr: err.Error()}, "the notes")
				continue
			}
			if bad := checkNotes(out); bad != "" {
				unreadable(stressCall{who: "reader", dir: repo, args: []string{"git", "cat-file", "--batch"}}, bad)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	wg.Wait()
	if err := mon.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	monStopped = true
	select {
	case err := <-monDone:
		if err != nil {
			s.failf("monitor: exit after SIGTERM: %v\n%s", err, monErr.String())
		}
	case <-time.After(time.Minute):
		mon.Process.Kill()
		<-monDone
		s.failf("monitor: still running a minute after SIGTERM\n%s", monErr.String())
	}
	s.procs++

	// Bring both clones to the same state: the second clone's backups
	// reach this one, and this one's reach the second clone.
	s.run("final", clone, onlyZero, bin, "sync", "origin")
	s.run("final", repo, onlyZero, bin, "sync", "origin")
	s.run("final", clone, onlyZero, bin, "fetch", "origin")

	// What the monitor says it did: moves and autosaves.
	monData, err := os.ReadFile(monitorLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(monData), "\n") {
		if m := monitorMove.FindStringSubmatch(line); m != nil {
			s.reported[m[1]] = append(s.reported[m[1]], "move:"+m[2]+">"+m[3]+":"+m[4])
		} else if m := monitorAutosave.FindStringSubmatch(line); m != nil {
			s.reported[m[1]] = append(s.reported[m[1]], "create:autosave")
		}
	}

	// Every user command that exited 0 has its event, and no other user
	// event is there; every move a hook or the monitor reported is there.
	expected, lost, extra := 0, 0, 0
	ids := make([]string, 0, len(s.want))
	for id := range s.want {
		ids = append(ids, id)
	}
	all := slices.Clone(ids)
	for id := range s.reported {
		if _, ok := s.want[id]; !ok {
			all = append(all, id)
		}
	}
	sort.Strings(ids)
	sort.Strings(all)
	for _, id := range all {
		want, reported := s.want[id], s.reported[id]
		expected += len(want) + len(reported)
		c := s.run("final", repo, onlyZero, bin, "show", "--json", id)
		var b struct {
			Events []gitstate.Event `json:"events"`
		}
		if err := json.Unmarshal([]byte(c.stdout), &b); err != nil {
			s.failf("show --json %s: %v\n%s", id, err, c)
			lost += len(want) + len(reported)
			continue
		}
		var user, other []string
		for _, e := range b.Events {
			switch {
			case e.Trigger == "user" && e.Kind == gitstate.KindMove:
				user = append(user, "move:"+e.To+":"+e.Reason)
			case e.Trigger == "user":
				user = append(user, e.Kind)
			case e.Kind == gitstate.KindMove:
				other = append(other, "move:"+e.From+">"+e.To+":"+e.Trigger)
			default:
				other = append(other, e.Kind+":"+e.Trigger)
			}
		}
		l, x := len(want)-commonCount(want, user), len(user)-commonCount(user, want)
		if l > 0 || x > 0 || !slices.Equal(user, want) {
			s.failf("backup %s: the user commands that exited 0 wrote %v; its log has %v", id, want, user)
		}
		if lr := len(reported) - commonCount(reported, other); lr > 0 {
			s.failf("backup %s: hooks and the monitor reported %v; its log has %v", id, reported, other)
			l += lr
		}
		lost, extra = lost+l, extra+x
	}
	// The second clone's backups, in both clones.
	var cloneIDs []string
	cloneWant.Range(func(k, _ any) bool { cloneIDs = append(cloneIDs, k.(string)); return true })
	sort.Strings(cloneIDs)
	for _, dir := range []string{repo, clone} {
		c := s.run("final", dir, onlyZero, bin, "list", "--json")
		var list []struct {
			ID      string `json:"id"`
			Trigger string `json:"trigger"`
		}
		if err := json.Unmarshal([]byte(c.stdout), &list); err != nil {
			s.failf("list --json: %v\n%s", err, c)
			continue
		}
		listed := map[string]bool{}
		for _, b := range list {
			listed[b.ID] = true
		}
		for _, id := range append(slices.Clone(ids), cloneIDs...) {
			if !listed[id] {
				s.failf("backup %s (created with exit 0) is not listed in %s", id, dir)
				if dir == repo || slices.Contains(cloneIDs, id) {
					lost++
				}
			}
		}
		if dir == repo {
			expected += len(cloneIDs)
		}
	}

	// Consistency, as git and git-backup see it.
	// The second clone may keep the snapshot of a backup this one archived
	// (it cannot show its changes are covered): fsck names it, by design.
	kept := 0
	for _, dir := range []string{repo, clone} {
		c := s.run("final", dir, []int{0, 1}, bin, "fsck", "--json")
		var res struct {
			Findings []struct {
				Kind    string `json:"kind"`
				Message string `json:"message"`
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(c.stdout), &res); err != nil {
			s.failf("fsck --json: %v\n%s", err, c)
		}
		bad := 0
		for _, f := range res.Findings {
			if dir == clone && f.Kind == "stale-ref" && strings.Contains(f.Message, "kept locally") {
				kept++
				continue
			}
			bad++
			s.failf("git backup fsck in %s: %s: %s", dir, f.Kind, f.Message)
		}
		if bad == 0 && c.code != 0 && len(res.Findings) == 0 {
			s.failf("git backup fsck in %s: exit %d without findings: %s", dir, c.code, c)
		}
		s.run("final", dir, onlyZero, "git", "fsck", "--no-dangling")
	}
	s.run("final", remote, onlyZero, "git", "fsck", "--no-dangling")

	// The logs: no panic; hooks and monitor failures other than give-ups
	// are failures; their compare-and-swap retries are counted.
	hookErr := regexp.MustCompile(`^\S+ (post-commit|post-merge|post-rewrite|pre-push) \[.*\]: (.*)$`)
	hookErrors := 0
	for _, lg := range []struct{ who, path string }{{"hooks", hooksLog}, {"monitor", monitorLog}} {
		data, err := os.ReadFile(lg.path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.Contains(line, "panic"):
				s.failf("%s log: %s", lg.who, line)
			case strings.Contains(line, casRetry):
				s.retries[lg.who]++
			case strings.Contains(line, "gave up after repeated compare-and-swap conflicts"):
				s.gaveUp[lg.who]++
				if lg.who == "hooks" && hookErr.MatchString(line) {
					hookErrors++
				}
			case lg.who == "hooks" && hookErr.MatchString(line):
				hookErrors++
				s.failf("%s log: %s", lg.who, line)
			case strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN"):
				s.failf("%s log: %s", lg.who, line)
			}
		}
	}
	if hookErrors != s.hookFailures {
		s.failf("the hooks failed %d time(s) (git's output says), hooks.log explains %d", s.hookFailures, hookErrors)
	}
	if strings.Contains(monErr.String(), "panic") || strings.Contains(monErr.String(), "DATA RACE") {
		s.failf("monitor stderr:\n%s", monErr.String())
	}

	for _, f := range s.failures {
		t.Error(f)
	}
	for i, c := range s.giveUps {
		if i == 10 {
			t.Logf("and %d more give-ups", len(s.giveUps)-i)
			break
		}
		var why []string
		for _, l := range strings.Split(c.stderr, "\n") {
			if strings.HasPrefix(l, "git-backup: ") {
				why = append(why, l)
			}
		}
		t.Logf("gave up (exit 4): [%s] %s: %s", c.who, strings.Join(c.args[1:], " "), strings.Join(why, "; "))
	}
	if keep := os.Getenv("GIT_BACKUP_STRESS_KEEP"); keep != "" {
		if out, err := exec.Command("cp", "-a", root, keep).CombinedOutput(); err != nil {
			t.Logf("keep the repositories in %s: %v\n%s", keep, err, out)
		} else {
			t.Logf("the repositories are kept in %s", keep)
		}
	}
	if expected == 0 {
		t.Error("no user command succeeded")
	}
	if lost > 0 {
		t.Errorf("%d lost updates", lost)
	}
	if extra > 0 {
		t.Errorf("%d events in the user's name that no successful command wrote", extra)
	}
	ops, total := summarize(s.ops)
	retries, totalRetries := summarize(s.retries)
	gaveUp, totalGaveUp := summarize(s.gaveUp)
	report(t, "concurrency stress",
		fmt.Sprintf("%v on one repository: %d processes at once (committer with the hooks, monitor, %d users, syncer, second clone, reader), seed %d", duration, workers+5, workers, seed),
		fmt.Sprintf("%d operations (%s), %d processes run; CAS retries %d (%s); give-ups (exit 4) %d (%s); events expected %d, lost updates %d, unexpected %d; reads %d, unreadable %d; snapshots kept by the second clone %d",
			total, ops, s.procs, totalRetries, retries, totalGaveUp, gaveUp, expected, lost, extra, s.reads, s.unreadable, kept))
}

// checkNotes parses the output of git cat-file --batch over state notes and
// says what is wrong with it ("" when every note is whole).
func checkNotes(out []byte) string {
	r := bufio.NewReader(bytes.NewReader(out))
	for {
		header, err := r.ReadString('\n')
		if err != nil {
			return ""
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			return "cat-file: " + strings.TrimSpace(header)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return "cat-file: " + strings.TrimSpace(header)
		}
		data := make([]byte, n+1)
		if _, err := io.ReadFull(r, data); err != nil {
			return "cat-file: short object " + f[0]
		}
		if _, bad := gitstate.ParseNote(data[:n]); len(bad) > 0 {
			return fmt.Sprintf("note %s: %v", f[0], bad[0])
		}
	}
}

// summarize writes counts by kind as "kind n, …" and returns their sum.
func summarize(m map[string]int) (string, int) {
	keys := make([]string, 0, len(m))
	total := 0
	for k, n := range m {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	if len(parts) == 0 {
		return "none", 0
	}
	return strings.Join(parts, ", "), total
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

func writeStressFile(t *testing.T, dir, name, content string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Error(err)
	}
}
