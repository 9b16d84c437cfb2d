package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestCleanupRacesCreateAndHooks runs a cleanup while backups are being
// created and commits fire the post-commit hook, all on one repository.
// Every command must succeed or give up cleanly (exit 4), every backup a
// successful create printed must be in the state and live, the cleanup must
// have deleted only the CLEANABLE covered backups, and fsck must be clean.
func TestCleanupRacesCreateAndHooks(t *testing.T) {
	env := e2eEnv(t)
	dir := filepath.Join(t.TempDir(), "repo")
	mustRun(t, env, "", "git", "init", "-q", dir)
	mustRun(t, env, dir, "git", "config", "backup.compressBeforeDelete", "false")
	writeKillFile(t, dir, "a.txt", 1)
	mustRun(t, env, dir, "git", "add", "a.txt")
	mustRun(t, env, dir, "git", "commit", "-q", "-m", "init")
	mustRun(t, env, dir, "git", "backup", "hooks", "install")

	// Eight CLEANABLE backups whose content is committed on main: cleanup deletes them.
	var cleanable []string
	for i := range 8 {
		name := fmt.Sprintf("old%d.txt", i)
		writeKillFile(t, dir, name, 100*(i+1))
		id := strings.TrimSpace(mustRun(t, env, dir, "git", "backup", "create", "-q", "--", name))
		mustRun(t, env, dir, "git", "add", name)
		mustRun(t, env, dir, "git", "commit", "-q", "-m", name) // hook: CREATED → PENDING → CONFIRMED
		mustRun(t, env, dir, "git", "backup", "transition", id, "cleanable", "--yes")
		cleanable = append(cleanable, id)
	}

	run := func(args ...string) (string, int) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Error(err)
		}
		return strings.TrimSpace(string(out)), code
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var created []string
	codes := map[string][]int{}
	record := func(what string, code int) {
		mu.Lock()
		defer mu.Unlock()
		codes[what] = append(codes[what], code)
	}
	wg.Add(3)
	go func() { // the cleanup
		defer wg.Done()
		_, code := run(append([]string{"git", "backup", "cleanup", "--yes", "--time-offset", "4d"}, cleanable...)...)
		record("cleanup", code)
	}()
	go func() { // creates of new work, each of its own file
		defer wg.Done()
		for i := range 5 {
			name := fmt.Sprintf("new%d.txt", i)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("new work %d\n", i)), 0o644); err != nil {
				t.Error(err)
				return
			}
			out, code := run("git", "backup", "create", "-q", "--", name)
			record("create", code)
			if code == 0 && out != "" {
				mu.Lock()
				created = append(created, out)
				mu.Unlock()
			}
		}
	}()
	go func() { // commits firing the post-commit hook
		defer wg.Done()
		for i := range 3 {
			_, code := run("git", "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("empty %d", i))
			record("commit", code)
		}
	}()
	wg.Wait()
	for what, cs := range codes {
		for _, c := range cs {
			if c != 0 && c != 4 {
				t.Errorf("%s exited %d", what, c)
			}
		}
	}
	var list []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, dir, "git", "backup", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, b := range list {
		state[b.ID] = b.State
	}
	for _, id := range created {
		if st := state[id]; st != "CREATED" {
			t.Errorf("backup %s made by a successful create is %q", id, st)
		}
	}
	if len(created) == 0 {
		t.Error("no create succeeded")
	}
	for _, id := range cleanable {
		if st := state[id]; st != "DELETED" && codes["cleanup"][0] == 0 {
			t.Errorf("cleanable backup %s is %s after a successful cleanup", id, st)
		}
	}
	checkInvariant(t, env, dir)
	mustRun(t, env, dir, "git", "backup", "fsck")
}
