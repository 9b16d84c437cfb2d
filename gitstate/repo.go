package gitstate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// ErrNotRepository is returned by Open outside a git repository.
var ErrNotRepository = errors.New("not a git repository")

// ErrBare is returned by Open in a bare repository: there is no work to back up.
var ErrBare = errors.New("bare repository")

// Repo is one repository (or linked worktree) that git-backup works on.
type Repo struct {
	WorkTree  string // top of the work tree
	GitDir    string // this worktree's git dir (holds HEAD and the index)
	CommonDir string // the git dir shared by all worktrees (objects, refs, config)

	once    sync.Once
	objs    *filesystem.Storage
	objsErr error
}

// Open finds the repository that contains dir, the way git does (GIT_DIR,
// .git files of worktrees and submodules, discovery across parents).
func Open(ctx context.Context, dir string) (*Repo, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open repository: %q is not a directory", abs)
	}
	out, err := git(ctx, runOpts{dir: abs, readOnly: true},
		"rev-parse", "--is-bare-repository", "--is-inside-work-tree", "--absolute-git-dir", "--git-common-dir")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && strings.Contains(ge.Stderr, "not a git repository") {
			return nil, fmt.Errorf("%w: %q (run git-backup inside a repository's work tree, or pass -C <path>)", ErrNotRepository, abs)
		}
		return nil, fmt.Errorf("open repository %q: %w", abs, err)
	}
	lines := strings.Split(trimNL(out), "\n")
	if len(lines) < 4 {
		return nil, fmt.Errorf("open repository %q: unexpected rev-parse output %q", abs, out)
	}
	if lines[0] == "true" {
		return nil, fmt.Errorf("%w: %q has no work tree to back up (run git-backup in a clone with a work tree)", ErrBare, abs)
	}
	if lines[1] != "true" {
		return nil, fmt.Errorf("%w: %q is inside the git directory, not the work tree (cd to the work tree)", ErrNotRepository, abs)
	}
	r := &Repo{GitDir: lines[2], CommonDir: lines[3]}
	if !filepath.IsAbs(r.CommonDir) {
		r.CommonDir = filepath.Join(abs, r.CommonDir)
	}
	r.CommonDir = filepath.Clean(r.CommonDir)
	top, err := git(ctx, runOpts{dir: abs, readOnly: true}, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("open repository %q: %w", abs, err)
	}
	r.WorkTree = trimNL(top)
	return r, nil
}

// storage is the go-git object store of the common git dir, opened once.
func (r *Repo) storage() (*filesystem.Storage, error) {
	r.once.Do(func() {
		fs := osfs.New(r.CommonDir)
		if _, err := os.Stat(filepath.Join(r.CommonDir, "objects")); err != nil {
			r.objsErr = fmt.Errorf("open object store: %w", err)
			return
		}
		r.objs = filesystem.NewStorageWithOptions(fs, cache.NewObjectLRUDefault(), filesystem.Options{
			// Alternates (git clone --shared, --reference) resolve against the real file system.
			AlternatesFS: osfs.New("/"),
		})
	})
	return r.objs, r.objsErr
}

// BackupDir is <git common dir>/backup: git-backup's private files (caches,
// history, locks). It is created on demand.
func (r *Repo) BackupDir() string { return filepath.Join(r.CommonDir, "backup") }

// ensureBackupDir creates BackupDir and a subdirectory of it.
func (r *Repo) ensureBackupDir(sub string) (string, error) {
	d := filepath.Join(r.BackupDir(), sub)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create %q: %w", d, err)
	}
	return d, nil
}
