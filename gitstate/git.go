package gitstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// runOpts tunes one git invocation.
type runOpts struct {
	dir      string    // working directory; the repository's work tree by default
	env      []string  // extra environment, KEY=VALUE
	stdin    io.Reader // standard input
	stdout   io.Writer // when set, stdout streams here instead of being returned
	readOnly bool      // GIT_OPTIONAL_LOCKS=0: never take the index lock opportunistically
}

// GitError is a git command that exited non-zero. Its message carries git's
// own diagnostic, so callers can show it as is.
type GitError struct {
	Args   []string
	Stderr string
	Code   int
}

func (e *GitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.Code)
	}
	if hint := damageHint(msg); hint != "" {
		msg += " (" + hint + ")"
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

// damageMarks are what git prints when the repository itself is damaged,
// with the way out to add to git's own words.
var damageMarks = []struct{ mark, hint string }{
	{"packed-refs", PackedRefsHint},
	{"bad config line", "fix that line of the file git names (or run git config --edit on it)"},
	{"bad numeric config value", "fix the value git names with git config"},
	{"is corrupt", ObjectStoreHint},
	{"corrupt loose object", ObjectStoreHint},
	{"unable to read", ObjectStoreHint},
	{"unable to unpack", ObjectStoreHint},
	{"inflate: data stream error", ObjectStoreHint},
	{"Could not read", ObjectStoreHint},
	{"did not send all necessary objects", ObjectStoreHint},
	{"bad object", ObjectStoreHint},
	{"missing blob", ObjectStoreHint},
	{"missing tree", ObjectStoreHint},
	{"invalid object", ObjectStoreHint},
	{"Failed to traverse parents", ObjectStoreHint},
	{"object file", ObjectStoreHint},
}

// damageHint is the way out of git's diagnostic msg when it reports a
// damaged repository, or "".
func damageHint(msg string) string {
	for _, d := range damageMarks {
		if strings.Contains(msg, d.mark) {
			return d.hint
		}
	}
	return ""
}

// baseEnv is the environment every git child gets. Hooks run by git commands
// we start must not re-enter git-backup's own hooks.
func baseEnv(extra []string, readOnly bool) []string {
	env := os.Environ()
	env = append(env, "GIT_BACKUP_IN_HOOK=1", "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
	if readOnly {
		env = append(env, "GIT_OPTIONAL_LOCKS=0")
	}
	return append(env, extra...)
}

// git runs git with args and returns its stdout.
func git(ctx context.Context, o runOpts, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = o.dir
	cmd.Env = baseEnv(o.env, o.readOnly)
	cmd.Stdin = o.stdin
	var stdout, stderr bytes.Buffer
	if o.stdout != nil {
		cmd.Stdout = o.stdout
	} else {
		cmd.Stdout = &stdout
	}
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.Bytes(), &GitError{Args: args, Stderr: stderr.String(), Code: ee.ExitCode()}
		}
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("run git: %w (install git 2.27 or later and put it on PATH)", err)
		}
		return nil, fmt.Errorf("run git %s: %w", args[0], err)
	}
	return stdout.Bytes(), nil
}

// git runs git in the repository.
func (r *Repo) git(ctx context.Context, o runOpts, args ...string) ([]byte, error) {
	if o.dir == "" {
		o.dir = r.root()
	}
	return git(ctx, o, args...)
}

// root is the directory git commands run in: the work tree, or the git dir.
func (r *Repo) root() string {
	if r.WorkTree != "" {
		return r.WorkTree
	}
	return r.GitDir
}

func trimNL(b []byte) string { return strings.TrimRight(string(b), "\n") }

// IsDamage reports whether err comes from a damaged repository: a missing
// or unreadable object, a damaged packed-refs or config file. Such an error
// already says what to run; retrying later does not help.
func IsDamage(err error) bool {
	if errors.Is(err, ErrObjectMissing) || errors.Is(err, ErrObjectDamaged) {
		return true
	}
	var ge *GitError
	return errors.As(err, &ge) && damageHint(strings.TrimSpace(ge.Stderr)) != ""
}
