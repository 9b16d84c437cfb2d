package test

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/git-backup/git-backup/gitstate"
)

// TestMonitorDiskLevelsOnARealFileSystem puts a repository on a small tmpfs,
// fills it past the emergency threshold with a file and backups of
// incompressible content, and checks that one monitor cycle archives backups
// (to an archive directory elsewhere), reclaims their objects and brings the
// file system below the emergency level. It needs root to mount, and is
// skipped otherwise.
func TestMonitorDiskLevelsOnARealFileSystem(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root): %v %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	env := e2eEnv(t)
	dir := filepath.Join(mnt, "repo")
	mustRun(t, env, "", "git", "init", "-q", dir)
	for _, kv := range [][2]string{{"backup.autoInstallHooks", "false"}, {"backup.autosaveInterval", "0"},
		{"backup.archiveDir", filepath.Join(t.TempDir(), "archives")}} {
		mustRun(t, env, dir, "git", "config", kv[0], kv[1])
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, dir, "git", "add", "a.txt")
	mustRun(t, env, dir, "git", "commit", "-q", "-m", "init")
	for _, name := range []string{"b1", "b2", "b3", "b4"} {
		data := make([]byte, 600<<10)
		_, _ = rand.Read(data)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSpace(mustRun(t, env, dir, "git", "backup", "create", "-q", "-m", name))
		mustRun(t, env, dir, "git", "backup", "transition", id, "cleanable", "--yes", "--force")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	// Fill the file system to 96% used.
	u, err := gitstate.Usage(dir)
	if err != nil {
		t.Fatal(err)
	}
	size := u.TotalBytes
	want := uint64(float64(size) * 0.96)
	used := size - u.FreeBytes
	if want > used {
		if err := os.WriteFile(filepath.Join(mnt, "filler"), make([]byte, want-used), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	syscall.Sync()
	before, _ := gitstate.Usage(dir)
	if before.UsedPercent < 95 {
		t.Fatalf("could not fill to the emergency level: %.1f%%", before.UsedPercent)
	}
	mustRun(t, env, dir, "git", "backup", "monitor", "--once", "--time-offset", "2d", "--prune-grace", "0", "-v")
	after, _ := gitstate.Usage(dir)
	t.Logf("git dir's file system: %.1f%% used before, %.1f%% after", before.UsedPercent, after.UsedPercent)
	if after.UsedPercent >= 95 {
		t.Fatalf("still in emergency after a cycle: %.1f%%", after.UsedPercent)
	}
	var bs []struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, dir, "git", "backup", "list", "--json")), &bs); err != nil {
		t.Fatal(err)
	}
	archived := 0
	for _, b := range bs {
		if b.State == "ARCHIVED" {
			archived++
		}
	}
	t.Logf("%d of %d backups archived", archived, len(bs))
	if archived == 0 {
		t.Fatalf("nothing archived: %+v", bs)
	}
	st := mustRun(t, env, dir, "git", "backup", "monitor", "status", "--json")
	if !strings.Contains(st, `"outcome": "ok"`) || strings.Contains(st, `"level": "emergency"`) {
		t.Fatalf("monitor status: %s", st)
	}
}
