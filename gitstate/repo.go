package gitstate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// ErrNotRepository is returned by Open outside a git repository.
var ErrNotRepository = errors.New("not a git repository")

// ErrBare is returned by Open in a bare repository: there is no work to back up.
var ErrBare = errors.New("bare repository")

// Repo is one repository (or linked worktree) that git-backup works on.
//
// Its in-process object store (go-git's) is not safe for concurrent use: a
// goroutine that reads or writes objects beside another one opens its own Repo.
type Repo struct {
	WorkTree  string // top of the work tree
	GitDir    string // this worktree's git dir (holds HEAD and the index)
	CommonDir string // the git dir shared by all worktrees (objects, refs, config)

	mu         sync.Mutex
	objs       *filesystem.Storage
	batch      *catFile // git cat-file --batch, started on first use
	batchCheck *catFile // git cat-file --batch-check
	stream     *catFile // git cat-file --batch that OpenBlob streams from

	packed     map[string]string // packed-refs, parsed once per version of the file
	packedSize int64
	packedTime time.Time
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
	// One process in the common case: --show-toplevel fails outside a work
	// tree (bare, inside the git dir), so only then ask again without it, to
	// tell those cases apart.
	args := []string{"rev-parse", "--is-bare-repository", "--is-inside-work-tree", "--absolute-git-dir", "--git-common-dir"}
	out, err := git(ctx, runOpts{dir: abs, readOnly: true}, append(args, "--show-toplevel")...)
	if err != nil {
		out, err = git(ctx, runOpts{dir: abs, readOnly: true}, args...)
	}
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
	if len(lines) >= 5 && lines[4] != "" {
		r.WorkTree = lines[4]
		return r, nil
	}
	top, err := git(ctx, runOpts{dir: abs, readOnly: true}, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("open repository %q: %w", abs, err)
	}
	r.WorkTree = trimNL(top)
	return r, nil
}

// storage is the go-git object store of the common git dir, opened on first
// use and kept until Close.
//
// It keeps the pack files it has read open (KeepDescriptors): without that,
// go-git opens, checks and closes the pack file again for every object it
// reads from it, which made reading 10,000 state notes several times slower.
// A pack that git gc deletes meanwhile stays readable through its open file;
// objects packed after the store was opened are found after Close.
func (r *Repo) storage() (*filesystem.Storage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.objs != nil {
		return r.objs, nil
	}
	if _, err := os.Stat(filepath.Join(r.CommonDir, "objects")); err != nil {
		return nil, fmt.Errorf("open object store: %w", err)
	}
	r.objs = filesystem.NewStorageWithOptions(osfs.New(r.CommonDir), cache.NewObjectLRUDefault(), filesystem.Options{
		// Alternates (git clone --shared, --reference) resolve against the real file system.
		AlternatesFS:    osfs.New("/"),
		KeepDescriptors: true,
	})
	return r.objs, nil
}

// Close releases the object store and the pack files it holds open. The Repo
// stays usable: the next read opens the store again and sees every pack and
// object written since. A long-running process (the monitor) closes its Repo
// after each cycle, so pack files git gc replaced are freed on disk.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range []**catFile{&r.batch, &r.batchCheck, &r.stream} {
		if *c != nil && (*c).cmd != nil {
			(*c).close()
		}
		*c = nil
	}
	if r.objs == nil {
		return nil
	}
	err := r.objs.Close()
	r.objs = nil
	if err != nil {
		return fmt.Errorf("close object store: %w", err)
	}
	return nil
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
