package hooks

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestShim_carriesMarkerAndVersion(t *testing.T) {
	for _, n := range Names {
		s := Shim(n)
		if !bytes.HasPrefix(s, []byte("#!/bin/sh\n")) {
			t.Errorf("%s: no #!/bin/sh line", n)
		}
		if v := ShimVersion(s); v != Version {
			t.Errorf("%s: ShimVersion = %d, want %d", n, v, Version)
		}
		for _, want := range []string{`git-backup hook ` + n + ` "$@"`, n + ChainSuffix, "$" + SkipEnv, "$" + InHookEnv, "exit $status"} {
			if !bytes.Contains(s, []byte(want)) {
				t.Errorf("%s: shim lacks %q", n, want)
			}
		}
		if got := bytes.Contains(s, []byte("mktemp")); got != takesStdin[n] {
			t.Errorf("%s: copies stdin = %v, want %v", n, got, takesStdin[n])
		}
	}
}

func TestShimVersion(t *testing.T) {
	pad := strings.Repeat("# filler\n", 25)
	tests := []struct {
		name    string
		content string
		want    int
	}{
		{"empty", "", 0},
		{"foreign", "#!/bin/sh\necho hi\n", 0},
		{"ours", "#!/bin/sh\n" + Marker + "1\n", 1},
		{"newer", "#!/bin/sh\n" + Marker + "42\n", 42},
		{"CRLF and spaces", "#!/bin/sh\r\n" + Marker + " 3 \r\n", 3},
		{"zero is not ours", "#!/bin/sh\n" + Marker + "0\n", 0},
		{"negative is not ours", "#!/bin/sh\n" + Marker + "-1\n", 0},
		{"not a number", "#!/bin/sh\n" + Marker + "one\n", 0},
		{"marker not at line start", "#!/bin/sh\necho '" + Marker + "1'\n", 0},
		{"marker too far down", "#!/bin/sh\n" + pad + Marker + "1\n", 0},
		{"first valid marker", "#!/bin/sh\n" + Marker + "x\n" + Marker + "2\n", 2},
	}
	for _, tt := range tests {
		if got := ShimVersion([]byte(tt.content)); got != tt.want {
			t.Errorf("%s: ShimVersion = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// shimRun is one run of a shim under sh.
type shimRun struct {
	hook    string
	args    []string
	stdin   string
	chained string // chained hook script, "" for none
	fake    string // git-backup script on PATH, "" for none
	env     []string
}

type shimResult struct {
	status  int
	stderr  string
	dir     string // where the scripts left their traces
	chained string // stdin the chained hook saw ("" when it did not run)
	ours    string // args and stdin git-backup saw ("" when it did not run)
}

// toolPath is a PATH with the tools the shim needs and no git-backup.
func toolPath(t *testing.T) string {
	var dirs []string
	for _, tool := range []string{"sh", "dirname", "mktemp", "cat", "rm"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "git-backup")); err == nil {
			t.Skipf("git-backup is installed in %s", d)
		}
	}
	return strings.Join(dirs, string(os.PathListSeparator))
}

func runShim(t *testing.T, r shimRun) shimResult {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shims run under sh")
	}
	path := toolPath(t)
	dir := t.TempDir()
	hooksDir := filepath.Join(dir, "hooks")
	if err := os.Mkdir(hooksDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(hooksDir, r.hook), string(Shim(r.hook)))
	if r.chained != "" {
		write(filepath.Join(hooksDir, r.hook+ChainSuffix), "#!/bin/sh\ncat >\"$TRACE/chained\"\n"+r.chained)
	}
	if r.fake != "" {
		bin := filepath.Join(dir, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(bin, "git-backup"), "#!/bin/sh\n{ echo \"$*\"; cat; } >\"$TRACE/ours\"\n"+r.fake)
		path = bin + string(os.PathListSeparator) + path
	}
	cmd := exec.Command("sh", append([]string{filepath.Join(hooksDir, r.hook)}, r.args...)...)
	cmd.Env = append([]string{"PATH=" + path, "TRACE=" + dir, "TMPDIR=" + dir}, r.env...)
	cmd.Stdin = strings.NewReader(r.stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res := shimResult{dir: dir}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		res.status = ee.ExitCode()
	}
	res.stderr = stderr.String()
	b, _ := os.ReadFile(filepath.Join(dir, "chained"))
	res.chained = string(b)
	b, _ = os.ReadFile(filepath.Join(dir, "ours"))
	res.ours = string(b)
	return res
}

const pushLine = "refs/heads/f " + oidA + " refs/heads/f " + oidZ + "\n"

func TestShim_chainsAndPassesStdin(t *testing.T) {
	r := runShim(t, shimRun{hook: "pre-push", args: []string{"origin", "url"}, stdin: pushLine,
		chained: "exit 3\n", fake: "exit 0\n"})
	if r.status != 3 {
		t.Errorf("status %d, want the chained hook's 3", r.status)
	}
	if r.chained != pushLine {
		t.Errorf("chained hook read %q, want %q", r.chained, pushLine)
	}
	if want := "hook pre-push origin url\n" + pushLine; r.ours != want {
		t.Errorf("git-backup saw %q, want %q", r.ours, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing", r.stderr)
	}
	left, _ := filepath.Glob(filepath.Join(r.dir, "git-backup-hook.*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestShim_noTemporaryFile_chainedHookStillGetsStdin(t *testing.T) {
	r := runShim(t, shimRun{hook: "pre-push", args: []string{"origin", "url"}, stdin: pushLine,
		chained: "exit 1\n", fake: "exit 0\n", env: []string{"TMPDIR=/nonexistent/git-backup-test"}})
	if r.status != 1 {
		t.Errorf("status %d, want the chained hook's 1", r.status)
	}
	if r.chained != pushLine {
		t.Errorf("chained hook read %q, want %q", r.chained, pushLine)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing", r.stderr)
	}
}

func TestShim_missingOrFailing_oneLineAndChainedStatus(t *testing.T) {
	for _, tt := range []struct {
		name, fake, chained, want string
		status                    int
	}{
		{"missing", "", "", "not found on PATH, post-rewrite hook skipped", 0},
		{"missing, chained fails", "", "exit 4\n", "not found on PATH, post-rewrite hook skipped", 4},
		{"failing", "exit 1\n", "", "the post-rewrite hook failed; git is not affected", 0},
		{"failing, chained fails", "exit 2\n", "exit 5\n", "the post-rewrite hook failed; git is not affected", 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runShim(t, shimRun{hook: "post-rewrite", args: []string{"amend"}, stdin: oidA + " " + oidB + "\n",
				chained: tt.chained, fake: tt.fake})
			if r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
			if lines := strings.Count(r.stderr, "\n"); lines != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q (%d lines), want one line with %q", r.stderr, lines, tt.want)
			}
		})
	}
}

func TestShim_skipped(t *testing.T) {
	for _, env := range []string{SkipEnv + "=1", InHookEnv + "=1"} {
		r := runShim(t, shimRun{hook: "post-commit", chained: "exit 0\n", fake: "exit 0\n", env: []string{env}})
		if r.ours != "" || r.stderr != "" || r.status != 0 {
			t.Errorf("%s: git-backup saw %q, stderr %q, status %d; want it skipped", env, r.ours, r.stderr, r.status)
		}
		if _, err := os.Stat(filepath.Join(r.dir, "chained")); err != nil {
			t.Errorf("%s: the chained hook did not run", env)
		}
	}
}

func TestShim_noStdinHook_givesOursNothing(t *testing.T) {
	r := runShim(t, shimRun{hook: "post-merge", args: []string{"0"}, stdin: "unexpected\n", fake: "exit 0\n"})
	if r.ours != "hook post-merge 0\n" {
		t.Errorf("git-backup saw %q", r.ours)
	}
	if r.status != 0 || r.stderr != "" {
		t.Errorf("status %d, stderr %q", r.status, r.stderr)
	}
}
