package gitstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// ConfigEntry is one git config value and the scope it came from
// (system, global, local, worktree, command).
type ConfigEntry struct {
	Scope string
	Key   string // lower-cased section and name, as git prints it
	Value string
}

// ReadConfig returns every config value visible in the repository, in git's
// order (later entries override earlier ones).
func (r *Repo) ReadConfig(ctx context.Context) ([]ConfigEntry, error) {
	return ReadConfigAt(ctx, r.root())
}

// ReadConfigAt is ReadConfig for the repository that contains dir, without
// opening it first, so a command can read config while it opens the repository.
func ReadConfigAt(ctx context.Context, dir string) ([]ConfigEntry, error) {
	out, err := git(ctx, runOpts{dir: dir, readOnly: true}, "config", "-z", "--list", "--show-scope")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && ge.Code == 1 && strings.TrimSpace(ge.Stderr) == "" {
			return nil, nil // no config at all
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfigList(out)
}

// parseConfigList parses `git config -z --list --show-scope`: records of
// "scope\0key\nvalue\0" (a key without value has no newline).
func parseConfigList(out []byte) ([]ConfigEntry, error) {
	var es []ConfigEntry
	recs := bytes.Split(out, []byte{0})
	for i := 0; i+1 < len(recs); i += 2 {
		scope := string(recs[i])
		kv := string(recs[i+1])
		k, v, _ := strings.Cut(kv, "\n")
		es = append(es, ConfigEntry{Scope: scope, Key: k, Value: v})
	}
	return es, nil
}

// ConfigScopes are the scopes git-backup writes to.
var ConfigScopes = []string{"local", "global", "system", "worktree"}

// SetConfig sets key to value in scope ("local" by default), replacing all values.
func (r *Repo) SetConfig(ctx context.Context, scope, key, value string) error {
	if _, err := r.git(ctx, runOpts{}, "config", "--"+scopeOr(scope), "--replace-all", key, value); err != nil {
		return fmt.Errorf("set %s in %s config: %w", key, scopeOr(scope), err)
	}
	return nil
}

// AddConfig adds one more value to a multi-valued key.
func (r *Repo) AddConfig(ctx context.Context, scope, key, value string) error {
	if _, err := r.git(ctx, runOpts{}, "config", "--"+scopeOr(scope), "--add", key, value); err != nil {
		return fmt.Errorf("add %s to %s config: %w", key, scopeOr(scope), err)
	}
	return nil
}

// UnsetConfig removes every value of key in scope; a key that is not set is not an error.
func (r *Repo) UnsetConfig(ctx context.Context, scope, key string) error {
	_, err := r.git(ctx, runOpts{}, "config", "--"+scopeOr(scope), "--unset-all", key)
	var ge *GitError
	if errors.As(err, &ge) && ge.Code == 5 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unset %s in %s config: %w", key, scopeOr(scope), err)
	}
	return nil
}

func scopeOr(s string) string {
	if s == "" {
		return "local"
	}
	return s
}
