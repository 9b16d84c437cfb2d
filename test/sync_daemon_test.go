package test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSyncOverGitDaemon shares backups between two clones through git
// daemon on loopback (the git:// transport), snapshots included.
func TestSyncOverGitDaemon(t *testing.T) {
	daemon, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git --exec-path:", err)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(daemon)), "git-daemon")); err != nil {
		t.Skip("git daemon is not installed")
	}
	env := e2eEnv(t)
	gb := filepath.Join(binDir, "git-backup")
	dir := t.TempDir()
	base := filepath.Join(dir, "srv")
	mustRun(t, env, "", "git", "init", "-q", "--bare", filepath.Join(base, "remote.git"))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no loopback:", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
		"--base-path="+base, "--listen=127.0.0.1", fmt.Sprintf("--port=%d", port), base)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Skip("start git daemon:", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(end) {
			t.Fatal("git daemon did not start listening")
		}
	}
	url := fmt.Sprintf("git://127.0.0.1:%d/remote.git", port)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mustRun(t, env, "", "git", "clone", "-q", url, a)
	write(t, filepath.Join(a, "f.txt"), "base\n")
	mustRun(t, env, a, "git", "add", "f.txt")
	mustRun(t, env, a, "git", "commit", "-q", "-m", "init")
	mustRun(t, env, a, "git", "push", "-q", "origin", "main")
	mustRun(t, env, "", "git", "clone", "-q", url, b)

	write(t, filepath.Join(a, "f.txt"), "from a\n")
	id := strings.TrimSpace(mustRun(t, env, a, gb, "create", "-q"))
	mustRun(t, env, a, gb, "sync", "--snapshots")
	write(t, filepath.Join(b, "f.txt"), "from b\n")
	mustRun(t, env, b, gb, "create", "-q")
	mustRun(t, env, b, gb, "sync", "--snapshots")
	mustRun(t, env, a, gb, "sync")

	for _, c := range []string{a, b} {
		var bs []json.RawMessage
		if err := json.Unmarshal([]byte(mustRun(t, env, c, gb, "list", "--json")), &bs); err != nil {
			t.Fatal(err)
		}
		if len(bs) != 2 {
			t.Fatalf("%s has %d backups, want 2", filepath.Base(c), len(bs))
		}
	}
	out := filepath.Join(dir, "out")
	mustRun(t, env, b, gb, "restore", id, "--to", out)
	if got, err := os.ReadFile(filepath.Join(out, "f.txt")); err != nil || string(got) != "from a\n" {
		t.Fatalf("restored f.txt = %q, %v", got, err)
	}
}
