package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// binDir holds the git-backup binary built once for all scripts.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "git-backup-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	args := []string{"build", "-o", filepath.Join(dir, "git-backup")}
	// The binary is built with the race detector only on request: every
	// script runs it dozens of times, and the in-process code is already
	// tested under -race by the packages' own tests.
	if raceEnabled && os.Getenv("GIT_BACKUP_E2E_RACE") != "" {
		args = append(args, "-race")
	}
	args = append(args, "../cmd/git-backup")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build git-backup:", err)
		return 1
	}
	return m.Run()
}

// TestScripts runs every testdata/script/*.txtar against the built binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, Params("testdata/script"))
}

// Params is the testscript setup shared by all suites: a private HOME, no
// system config, a fixed identity, and git-backup on PATH.
func Params(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, ".home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("GIT_AUTHOR_NAME", "Test Author")
			env.Setenv("GIT_AUTHOR_EMAIL", "author@example.com")
			env.Setenv("GIT_COMMITTER_NAME", "Test Committer")
			env.Setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
			env.Setenv("GIT_BACKUP_TEST", "1")
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			return os.WriteFile(filepath.Join(home, ".gitconfig"),
				[]byte("[init]\n\tdefaultBranch = main\n[user]\n\tname = Test User\n\temail = user@example.com\n[protocol \"file\"]\n\tallow = always\n"), 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile":   cmdWaitFile,
			"stdoutjson": cmdStdoutJSON,
			"writebytes": cmdWriteBytes,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "linux":
				return runtime.GOOS == "linux", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	}
}

// waitfile PATH [SECONDS]: wait until PATH exists.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: waitfile PATH [SECONDS]")
	}
	limit := 10 * time.Second
	if len(args) > 1 {
		d, err := time.ParseDuration(args[1] + "s")
		ts.Check(err)
		limit = d
	}
	p := ts.MkAbs(args[0])
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			if neg {
				ts.Fatalf("%s exists", p)
			}
			return
		}
	}
	if !neg {
		ts.Fatalf("%s did not appear within %v", p, limit)
	}
}

// stdoutjson EXPR: check the last command's stdout as JSON with a small
// path language: `stdoutjson .0.state == PENDING`, `stdoutjson length == 3`,
// `stdoutjson .backup.id != null`.
func cmdStdoutJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: stdoutjson PATH ==|!= VALUE")
	}
	got, err := jsonPath([]byte(ts.ReadFile("stdout")), args[0])
	if err != nil {
		ts.Fatalf("stdoutjson %s: %v", args[0], err)
	}
	eq := got == args[2]
	switch args[1] {
	case "==":
	case "!=":
		eq = !eq
	default:
		ts.Fatalf("stdoutjson: operator must be == or !=")
	}
	if eq == neg {
		ts.Fatalf("stdoutjson %s: got %s, want %s %s", args[0], got, args[1], args[2])
	}
}

// writebytes PATH HEX...: write raw bytes (for names and contents that
// txtar cannot hold).
func cmdWriteBytes(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: writebytes PATH TEXT (\\n and \\xNN escapes)")
	}
	data := unescape(strings.Join(args[1:], " "))
	ts.Check(os.WriteFile(ts.MkAbs(string(unescape(args[0]))), data, 0o644))
}

func unescape(s string) []byte {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'x':
				if i+3 < len(s) {
					var v byte
					fmt.Sscanf(s[i+2:i+4], "%02x", &v)
					b.WriteByte(v)
					i += 3
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.Bytes()
}
