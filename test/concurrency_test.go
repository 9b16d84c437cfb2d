package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// e2eEnv is the environment of every process in an end-to-end Go test: a
// private HOME, no system config, a fixed identity, git-backup on PATH.
func e2eEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"),
		[]byte("[init]\n\tdefaultBranch = main\n[user]\n\tname = Test User\n\temail = user@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") || strings.HasPrefix(kv, "PATH=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test Author", "GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Committer", "GIT_COMMITTER_EMAIL=committer@example.com",
		"GIT_BACKUP_TEST=1",
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
}

// runIn runs name with args in dir and returns stdout, stderr and the exit code.
func runIn(t *testing.T, env []string, dir, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

// mustRun runs a command that must succeed and returns its stdout.
func mustRun(t *testing.T, env []string, dir, name string, args ...string) string {
	t.Helper()
	out, errOut, code := runIn(t, env, dir, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, errOut)
	}
	return out
}

// TestConcurrentProcesses starts 8 git-backup processes at once on one
// repository. Each backs up its own file, then pins, moves and unpins its
// backup. Every command must exit 0 or, having lost the compare-and-swap
// race too often, 4; every one that exited 0 must be in the log.
func TestConcurrentProcesses(t *testing.T) {
	const workers = 8
	env := e2eEnv(t)
	dir := filepath.Join(t.TempDir(), "repo")
	mustRun(t, env, "", "git", "init", "-q", dir)
	if err := os.WriteFile(filepath.Join(dir, "base.txt"), []byte("base\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, dir, "git", "add", "base.txt")
	mustRun(t, env, dir, "git", "commit", "-q", "-m", "base")
	for w := range workers {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%d.txt", w)), []byte(fmt.Sprintf("work of worker %d\n", w)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(binDir, "git-backup")

	type step struct {
		args  []string // after the backup ID is known, "ID" is replaced by it
		event string   // what a success adds to the backup's log
	}
	steps := []step{
		{[]string{"pin", "ID"}, "pin"},
		{[]string{"transition", "ID", "pending", "--yes", "--reason", "concurrency"}, "move:PENDING"},
		{[]string{"unpin", "ID"}, "unpin"},
		{[]string{"confirm", "ID", "--yes"}, "move:CONFIRMED"},
	}
	type outcome struct {
		id     string
		events []string // events of the commands that exited 0, in order
		codes  []int
		log    []string
	}
	results := make([]outcome, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[w]
			<-start
			run := func(args ...string) (string, string, int) {
				cmd := exec.Command(bin, args...)
				cmd.Dir, cmd.Env = dir, env
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				if err != nil {
					code = -1
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						code = ee.ExitCode()
					}
				}
				res.codes = append(res.codes, code)
				res.log = append(res.log, fmt.Sprintf("git-backup %s → exit %d %s", strings.Join(args, " "), code, strings.TrimSpace(stderr.String())))
				return stdout.String(), stderr.String(), code
			}
			name := fmt.Sprintf("w%d.txt", w)
			out, _, code := run("create", "-q", "-m", "worker "+name, "--", name)
			if code != 0 {
				return
			}
			res.id = strings.TrimSpace(out)
			res.events = append(res.events, "create")
			for _, s := range steps {
				args := make([]string, len(s.args))
				for i, a := range s.args {
					args[i] = strings.ReplaceAll(a, "ID", res.id)
				}
				if _, _, code := run(args...); code != 0 {
					return // the later steps depend on this one
				}
				res.events = append(res.events, s.event)
			}
		}()
	}
	close(start)
	wg.Wait()

	succeeded := 0
	for w, res := range results {
		for i, c := range res.codes {
			if c != 0 && c != 4 {
				t.Errorf("worker %d: %s (want exit 0, or 4 after repeated conflicts)", w, res.log[i])
			}
		}
		succeeded += len(res.events)
	}

	var list []struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		Pinned  bool   `json:"pinned"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, dir, bin, "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	for i, b := range list {
		listed[b.ID] = i
	}
	created := 0
	for w, res := range results {
		if res.id == "" {
			continue
		}
		created++
		i, ok := listed[res.id]
		if !ok {
			t.Errorf("worker %d: backup %s created (exit 0) but not listed", w, res.id)
			continue
		}
		if want := fmt.Sprintf("worker w%d.txt", w); list[i].Message != want {
			t.Errorf("worker %d: backup %s has message %q, want %q", w, res.id, list[i].Message, want)
		}
		var show struct {
			State  string `json:"state"`
			Pinned bool   `json:"pinned"`
			Events []struct {
				Kind string `json:"kind"`
				To   string `json:"to"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, env, dir, bin, "show", "--json", res.id)), &show); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range show.Events {
			if e.Kind == "move" {
				got = append(got, "move:"+e.To)
			} else {
				got = append(got, e.Kind)
			}
		}
		if strings.Join(got, ",") != strings.Join(res.events, ",") {
			t.Errorf("worker %d: backup %s has events %v, but the commands that exited 0 were %v\n%s",
				w, res.id, got, res.events, strings.Join(res.log, "\n"))
		}
		if list[i].State != show.State || list[i].Pinned != show.Pinned {
			t.Errorf("worker %d: list says %s pinned=%v, show says %s pinned=%v", w, list[i].State, list[i].Pinned, show.State, show.Pinned)
		}
	}
	if len(list) != created {
		t.Errorf("%d backups listed, %d creates exited 0", len(list), created)
	}
	// One state commit per command that changed something.
	if n := strings.TrimSpace(mustRun(t, env, dir, "git", "rev-list", "--count", "refs/backups/state")); n != fmt.Sprint(succeeded) {
		t.Errorf("refs/backups/state has %s commits, %d commands exited 0", n, succeeded)
	}
	if created == 0 {
		t.Fatal("no create succeeded")
	}
	mustRun(t, env, dir, "git", "fsck", "--no-dangling")
}
