package test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/archive"
)

// TestKilledCleanupKeepsEveryBackup kills archive and cleanup with SIGKILL
// after a random delay, many times, and checks the crash-safety invariant
// after each kill: every backup that is not DELETED has its snapshot ref or a
// verified archive. Then the command is run again to the end, and the
// invariant must still hold with every backup cleaned.
func TestKilledCleanupKeepsEveryBackup(t *testing.T) {
	trials := 12
	if testing.Short() {
		trials = 3
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GIT_BACKUP_KILL_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (GIT_BACKUP_KILL_SEED reruns it)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for trial := range trials {
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			env := e2eEnv(t)
			dir := filepath.Join(t.TempDir(), "repo")
			mustRun(t, env, "", "git", "init", "-q", dir)
			mustRun(t, env, dir, "git", "config", "backup.compressBeforeDelete", "false")
			mustRun(t, env, dir, "git", "config", "backup.autoInstallHooks", "false")
			writeKillFile(t, dir, "a.txt", 1)
			mustRun(t, env, dir, "git", "add", "a.txt")
			mustRun(t, env, dir, "git", "commit", "-q", "-m", "init")
			for i := range 6 {
				name := fmt.Sprintf("f%d.txt", i)
				writeKillFile(t, dir, name, 2000*(i+1))
				id := strings.TrimSpace(mustRun(t, env, dir, "git", "backup", "create", "-q", "--", name))
				if i%2 == 0 { // covered: deleted; the others are archived
					mustRun(t, env, dir, "git", "add", name)
					mustRun(t, env, dir, "git", "commit", "-q", "-m", name)
				}
				mustRun(t, env, dir, "git", "backup", "transition", id, "pending", "--yes")
				mustRun(t, env, dir, "git", "backup", "transition", id, "cleanable", "--yes")
			}
			args := []string{"cleanup", "--yes", "--time-offset", "4d", "--prune-grace", "0"}
			if trial%3 == 2 {
				args = []string{"archive", "--yes", "--prune-grace", "0", "latest"}
			}
			// The binary itself, not through git: SIGKILL must hit git-backup.
			cmd := exec.Command(filepath.Join(binDir, "git-backup"), args...)
			cmd.Dir, cmd.Env = dir, env
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			cmd.Process.Kill()
			cmd.Wait()
			checkInvariant(t, env, dir)

			mustRun(t, env, dir, "git", "backup", "cleanup", "--yes", "--time-offset", "4d", "--prune-grace", "0")
			states := checkInvariant(t, env, dir)
			for id, st := range states {
				if st != "ARCHIVED" && st != "DELETED" {
					t.Errorf("backup %s is %s after the cleanup ran to the end", id, st)
				}
			}
		})
	}
}

// checkInvariant checks every backup that is not DELETED against its ref
// or its archive, and returns the states by ID.
func checkInvariant(t *testing.T, env []string, dir string) map[string]string {
	t.Helper()
	out := mustRun(t, env, dir, "git", "backup", "list", "--json")
	var bs []struct {
		ID       string  `json:"id"`
		State    string  `json:"state"`
		Snapshot string  `json:"snapshot"`
		Archive  *string `json:"archive"`
	}
	if err := json.Unmarshal([]byte(out), &bs); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	refs := mustRun(t, env, dir, "git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/backups/snapshots/")
	states := map[string]string{}
	for _, b := range bs {
		states[b.ID] = b.State
		switch b.State {
		case "DELETED":
		case "ARCHIVED":
			if b.Archive == nil {
				t.Errorf("backup %s is ARCHIVED without an archive path", b.ID)
				continue
			}
			m, err := archive.Verify(*b.Archive)
			if err != nil {
				t.Errorf("backup %s: %v", b.ID, err)
			} else if m.Backup.Snapshot != b.Snapshot {
				t.Errorf("backup %s: archive holds snapshot %s, want %s", b.ID, m.Backup.Snapshot, b.Snapshot)
			}
		default:
			if !strings.Contains(refs, "refs/backups/snapshots/"+b.ID+" "+b.Snapshot) {
				t.Errorf("backup %s is %s without its snapshot ref", b.ID, b.State)
			}
		}
	}
	return states
}

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
