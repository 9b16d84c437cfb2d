package gitstate

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CheckoutOptions says which files of a tree to write and where.
type CheckoutOptions struct {
	Paths []string // paths relative to the top of the tree; all when empty
	// Prefix is a directory to write into instead of the work tree. It must be
	// absolute.
	Prefix string
}

// CheckoutTree writes files of tree into the work tree (or o.Prefix) through
// a private index, honouring modes, symlinks and git's filters. It changes
// neither HEAD nor the real index.
func (r *Repo) CheckoutTree(ctx context.Context, tree string, o CheckoutOptions) error {
	tmp, err := r.privateIndexPath()
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	env := []string{"GIT_INDEX_FILE=" + tmp}
	if _, err := r.git(ctx, runOpts{env: env}, "read-tree", tree); err != nil {
		return fmt.Errorf("checkout %s: %w", short(tree), err)
	}
	args := []string{"checkout-index", "--force"}
	if o.Prefix != "" {
		if !filepath.IsAbs(o.Prefix) {
			return fmt.Errorf("checkout %s: prefix %q is not absolute", short(tree), o.Prefix)
		}
		args = append(args, "--prefix="+strings.TrimRight(o.Prefix, "/")+"/")
	}
	var stdin io.Reader
	if len(o.Paths) == 0 {
		args = append(args, "--all")
	} else {
		args = append(args, "-z", "--stdin")
		stdin = strings.NewReader(strings.Join(o.Paths, "\x00") + "\x00")
	}
	if _, err := r.git(ctx, runOpts{env: env, stdin: stdin}, args...); err != nil {
		return fmt.Errorf("checkout %s: %w", short(tree), err)
	}
	return nil
}

// RemoveWorkFile deletes path (relative to the top of the work tree) and the
// directories it leaves empty. A path that is already gone is not an error.
func (r *Repo) RemoveWorkFile(path string) error {
	full := filepath.Join(r.WorkTree, filepath.FromSlash(path))
	if !strings.HasPrefix(full, r.WorkTree+string(filepath.Separator)) {
		return fmt.Errorf("remove %q: outside the work tree", path)
	}
	if err := os.Remove(full); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %q: %w", path, err)
	}
	for dir := filepath.Dir(full); dir != r.WorkTree && strings.HasPrefix(dir, r.WorkTree); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// DiffOptions tunes Diff.
type DiffOptions struct {
	Paths []string
	Stat  bool
	Out   io.Writer
}

// Diff runs git diff between two commits or trees, writing to o.Out (git
// colours and pages as usual when o.Out is a terminal).
func (r *Repo) Diff(ctx context.Context, from, to string, o DiffOptions) error {
	if from == "" {
		from = EmptyTreeID
	}
	args := []string{"diff"}
	if o.Stat {
		args = append(args, "--stat")
	}
	args = append(args, from, to, "--")
	args = append(args, o.Paths...)
	if _, err := r.git(ctx, runOpts{readOnly: true, stdout: o.Out}, args...); err != nil {
		return fmt.Errorf("diff %s %s: %w", short(from), short(to), err)
	}
	return nil
}

// TreeFiles lists the files (blobs, symlinks and gitlinks) of tree under the
// given paths (all when none), relative to the top of the tree.
func (r *Repo) TreeFiles(ctx context.Context, tree string, paths []string) ([]string, error) {
	args := append([]string{"ls-tree", "-r", "-z", "--name-only", "--full-tree", tree, "--"}, paths...)
	out, err := r.git(ctx, runOpts{readOnly: true}, args...)
	if err != nil {
		return nil, fmt.Errorf("list files of %s: %w", short(tree), err)
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}
