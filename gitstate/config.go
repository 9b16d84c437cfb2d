package gitstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ConfigEntry is one git config value and the scope it came from
// (system, global, local, worktree, command).
type ConfigEntry struct {
	Scope string
	Key   string // lower-cased section and name, as git prints it
	Value string
	File  string // the file it was read from, when it came from a file
}

// ReadConfig returns every config value visible in the repository, in git's
// order (later entries override earlier ones).
func (r *Repo) ReadConfig(ctx context.Context) ([]ConfigEntry, error) {
	return ReadConfigAt(ctx, r.root())
}

// ReadConfigAt is ReadConfig for the repository that contains dir, without
// opening it first, so a command can read config while it opens the repository.
func ReadConfigAt(ctx context.Context, dir string) ([]ConfigEntry, error) {
	out, err := git(ctx, runOpts{dir: dir, readOnly: true}, "config", "-z", "--list", "--show-scope", "--show-origin")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && ge.Code == 1 && strings.TrimSpace(ge.Stderr) == "" {
			return nil, nil // no config at all
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	es, err := parseConfigList(out)
	for i := range es {
		if es[i].File != "" && !filepath.IsAbs(es[i].File) {
			if abs, err := filepath.Abs(filepath.Join(dir, es[i].File)); err == nil {
				es[i].File = abs
			}
		}
	}
	return es, err
}

// parseConfigList parses `git config -z --list --show-scope --show-origin`:
// records of "scope\0origin\0key\nvalue\0" (a key without value has no
// newline; the origin of a file is "file:<path>").
func parseConfigList(out []byte) ([]ConfigEntry, error) {
	var es []ConfigEntry
	recs := bytes.Split(out, []byte{0})
	for i := 0; i+2 < len(recs); i += 3 {
		scope := string(recs[i])
		file, _ := strings.CutPrefix(string(recs[i+1]), "file:")
		if !bytes.HasPrefix(recs[i+1], []byte("file:")) {
			file = ""
		}
		k, v, _ := strings.Cut(string(recs[i+2]), "\n")
		es = append(es, ConfigEntry{Scope: scope, Key: k, Value: v, File: file})
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
