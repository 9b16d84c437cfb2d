package test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadline bounds every wait of these tests; a machine slower than this has
// a problem worth a failure.
const deadline = 60 * time.Second

// startMonitor starts the binary itself (not through git, so signals reach
// it) as `git-backup monitor args...` in dir. The returned channel receives
// its exit error once it has exited; its stderr is in the buffer.
func startMonitor(t *testing.T, env []string, dir string, args ...string) (*exec.Cmd, <-chan error, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "git-backup"), append([]string{"monitor"}, args...)...)
	var stderr bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stderr = dir, env, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})
	return cmd, done, &stderr
}

// waitFor polls cond until it holds; it fails with what when the deadline
// passes or the monitor exits first.
func waitFor(t *testing.T, what string, exited <-chan error, stderr *bytes.Buffer, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("monitor exited (%v) before %s; stderr:\n%s", err, what, stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(end) {
			t.Fatalf("no %s after %s; stderr:\n%s", what, deadline, stderr)
		}
	}
}

// waitExit waits for the monitor to exit and returns its exit code.
func waitExit(t *testing.T, exited <-chan error, stderr *bytes.Buffer) int {
	t.Helper()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		}
		t.Fatalf("monitor: %v", err)
	case <-time.After(deadline):
		t.Fatalf("monitor still running %s after the signal; stderr:\n%s", deadline, stderr)
	}
	return -1
}

type monitorStatus struct {
	Running bool `json:"running"`
	PID     int  `json:"pid"`
}

func readMonitorStatus(t *testing.T, env []string, dir string) monitorStatus {
	t.Helper()
	out := mustRun(t, env, dir, "git", "backup", "monitor", "status", "--json")
	var st monitorStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("monitor status --json: %v\n%s", err, out)
	}
	return st
}

func newMonitorRepo(t *testing.T, env []string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	mustRun(t, env, "", "git", "init", "-q", dir)
	mustRun(t, env, dir, "git", "config", "backup.autoInstallHooks", "false")
	writeKillFile(t, dir, "a.txt", 1)
	mustRun(t, env, dir, "git", "add", "a.txt")
	mustRun(t, env, dir, "git", "commit", "-q", "-m", "init")
	return dir
}

// TestMonitorSIGTERMDuringArchive stops a monitor with SIGTERM while it
// archives uncovered CLEANABLE backups of a few MB each: it finishes the move
// in hand and exits 0, every backup keeps its ref or a verified archive, and
// fsck finds the repository clean (or clean after --repair).
func TestMonitorSIGTERMDuringArchive(t *testing.T) {
	env := e2eEnv(t)
	dir := newMonitorRepo(t, env)
	archives := filepath.Join(t.TempDir(), "archives")
	mustRun(t, env, dir, "git", "config", "backup.compressBeforeDelete", "true")
	mustRun(t, env, dir, "git", "config", "backup.archiveDir", archives)
	for i := range 5 {
		// Random bytes do not compress: each archive takes its time.
		data := make([]byte, 3<<20)
		rand.Read(data)
		name := fmt.Sprintf("blob%d.bin", i)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSpace(mustRun(t, env, dir, "git", "backup", "create", "-q", "--", name))
		mustRun(t, env, dir, "git", "backup", "transition", id, "pending", "--yes")
		mustRun(t, env, dir, "git", "backup", "transition", id, "cleanable", "--yes")
	}
	cmd, exited, stderr := startMonitor(t, env, dir, "--time-offset", "30d", "--prune-grace", "0")
	waitFor(t, "archive file in the archive dir", exited, stderr, func() bool {
		es, _ := os.ReadDir(archives)
		return len(es) > 0
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, exited, stderr); code != 0 {
		t.Fatalf("monitor exited %d after SIGTERM, want 0; stderr:\n%s", code, stderr)
	}
	states := checkInvariant(t, env, dir)
	t.Logf("states after SIGTERM: %v", states)
	if _, errOut, code := runIn(t, env, dir, "git", "backup", "fsck"); code != 0 {
		t.Logf("fsck exit %d:\n%s", code, errOut)
		mustRun(t, env, dir, "git", "backup", "fsck", "--repair")
		mustRun(t, env, dir, "git", "backup", "fsck")
		checkInvariant(t, env, dir)
	}
}

// TestMonitorSIGKILLThenRestart kills a monitor with SIGKILL and starts
// another at once: the kernel dropped the lock, so it serves the repository,
// monitor status reports it with its own pid, and a third monitor is refused
// naming that pid.
func TestMonitorSIGKILLThenRestart(t *testing.T) {
	env := e2eEnv(t)
	dir := newMonitorRepo(t, env)
	first, exited, stderr := startMonitor(t, env, dir)
	waitFor(t, "monitor status naming the first monitor", exited, stderr, func() bool {
		st := readMonitorStatus(t, env, dir)
		return st.Running && st.PID == first.Process.Pid
	})
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited

	second, exited2, stderr2 := startMonitor(t, env, dir)
	waitFor(t, "monitor status naming the restarted monitor", exited2, stderr2, func() bool {
		st := readMonitorStatus(t, env, dir)
		return st.Running && st.PID == second.Process.Pid
	})
	out := mustRun(t, env, dir, "git", "backup", "monitor", "status")
	if want := fmt.Sprintf("running, pid %d,", second.Process.Pid); !strings.Contains(out, want) {
		t.Errorf("monitor status does not say %q:\n%s", want, out)
	}

	_, errOut, code := runIn(t, env, dir, filepath.Join(binDir, "git-backup"), "monitor", "--once")
	if code != 1 {
		t.Errorf("a monitor beside the running one exited %d, want 1:\n%s", code, errOut)
	}
	if want := fmt.Sprintf("(pid %d,", second.Process.Pid); !strings.Contains(errOut, want) {
		t.Errorf("the refusal does not name the running monitor %q:\n%s", want, errOut)
	}

	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, exited2, stderr2); code != 0 {
		t.Errorf("restarted monitor exited %d after SIGTERM, want 0; stderr:\n%s", code, stderr2)
	}
}
