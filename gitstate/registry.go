package gitstate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GlobalConfigValues returns every value of a multi-valued key in the global
// config (none when unset).
func GlobalConfigValues(ctx context.Context, key string) ([]string, error) {
	dir, err := os.UserHomeDir()
	if err != nil {
		dir = os.TempDir()
	}
	out, err := git(ctx, runOpts{dir: dir, readOnly: true}, "config", "--global", "-z", "--get-all", key)
	var ge *GitError
	if errors.As(err, &ge) && ge.Code == 1 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read global %s: %w", key, err)
	}
	var vs []string
	for _, v := range strings.Split(string(out), "\x00") {
		if v != "" {
			vs = append(vs, v)
		}
	}
	return vs, nil
}

// RegisterRepo adds path to the global backup.repo, which `git backup
// monitor --all` serves, unless it is there already.
func (r *Repo) RegisterRepo(ctx context.Context, path string) (added bool, err error) {
	vs, err := GlobalConfigValues(ctx, "backup.repo")
	if err != nil {
		return false, err
	}
	for _, v := range vs {
		if filepath.Clean(v) == filepath.Clean(path) {
			return false, nil
		}
	}
	return true, r.AddConfig(ctx, "global", "backup.repo", path)
}
