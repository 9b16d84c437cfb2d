package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestPushRace starts two pushes of different clones' states at once. The
// remote never takes a forced update: the loser is rejected, fetches, merges
// and pushes again, and afterwards every backup of both clones is on the
// remote and in both clones.
func TestPushRace(t *testing.T) {
	env := append(e2eEnv(t), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=protocol.file.allow", "GIT_CONFIG_VALUE_0=always")
	gb := filepath.Join(binDir, "git-backup") // exec looks names up in this process's PATH
	dir := t.TempDir()
	remote := filepath.Join(dir, "remote.git")
	url := "file://" + remote
	mustRun(t, env, "", "git", "init", "-q", "--bare", remote)
	clones := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}
	mustRun(t, env, "", "git", "clone", "-q", url, clones[0])
	write(t, filepath.Join(clones[0], "f.txt"), "base\n")
	mustRun(t, env, clones[0], "git", "add", "f.txt")
	mustRun(t, env, clones[0], "git", "commit", "-q", "-m", "init")
	mustRun(t, env, clones[0], "git", "push", "-q", "origin", "main")
	mustRun(t, env, "", "git", "clone", "-q", url, clones[1])

	const rounds = 3
	want := 0
	for round := range rounds {
		for i, c := range clones {
			write(t, filepath.Join(c, "f.txt"), fmt.Sprintf("clone %d round %d\n", i, round))
			mustRun(t, env, c, gb, "create", "-q")
			want++
		}
		var wg sync.WaitGroup
		results := make([]pushJSON, len(clones))
		errs := make([]string, len(clones))
		for i, c := range clones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, errOut, code := runIn(t, env, c, gb, "push", "--json")
				if code != 0 {
					errs[i] = fmt.Sprintf("exit %d: %s", code, errOut)
					return
				}
				if err := json.Unmarshal([]byte(out), &results[i]); err != nil {
					errs[i] = err.Error()
				}
			}()
		}
		wg.Wait()
		for i, e := range errs {
			if e != "" {
				t.Fatalf("round %d: push from clone %d: %s", round, i, e)
			}
		}
		if results[0].Attempts+results[1].Attempts < 3 && round > 0 {
			t.Logf("round %d: no push was rejected (attempts %d, %d)", round, results[0].Attempts, results[1].Attempts)
		}
		for _, c := range clones {
			mustRun(t, env, c, gb, "sync")
		}
		var lists []string
		for i, c := range clones {
			var bs []struct {
				ID string `json:"id"`
			}
			out := mustRun(t, env, c, gb, "list", "--json")
			if err := json.Unmarshal([]byte(out), &bs); err != nil {
				t.Fatal(err)
			}
			if len(bs) != want {
				t.Fatalf("round %d: clone %d has %d backups, want %d", round, i, len(bs), want)
			}
			ids := ""
			for _, b := range bs {
				ids += b.ID + "\n"
			}
			lists = append(lists, ids)
		}
		if lists[0] != lists[1] {
			t.Fatalf("round %d: clones disagree:\n%s\n%s", round, lists[0], lists[1])
		}
	}
	// The remote's state holds every backup too.
	check := filepath.Join(dir, "check")
	mustRun(t, env, "", "git", "clone", "-q", url, check)
	mustRun(t, env, check, gb, "fetch")
	var bs []json.RawMessage
	if err := json.Unmarshal([]byte(mustRun(t, env, check, gb, "list", "--json")), &bs); err != nil {
		t.Fatal(err)
	}
	if len(bs) != want {
		t.Fatalf("remote has %d backups, want %d", len(bs), want)
	}
}

type pushJSON struct {
	Attempts int `json:"attempts"`
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
