package gitstate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// WorkOptions says which part of the working tree a snapshot takes.
type WorkOptions struct {
	IncludeIgnored bool     // also ignored files
	Pathspec       []string // limit to these paths (git pathspec syntax); the rest is as in HEAD
	Dir            string   // directory the pathspecs are relative to; the work tree by default
}

// Work is the working tree written as a tree object, with what it is based on.
type Work struct {
	Tree string
	Head Head
}

// WriteWorkTree writes the working tree (tracked files as on disk, untracked
// files that are not ignored) as a tree object, through a private index seeded
// from the real one so git's stat cache is kept and unchanged files are not
// re-hashed. HEAD, the real index, the working tree and the stash are untouched.
func (r *Repo) WriteWorkTree(ctx context.Context, o WorkOptions) (Work, error) {
	head, err := r.Head()
	if err != nil {
		return Work{}, err
	}
	tmp, err := r.privateIndex()
	if err != nil {
		return Work{}, err
	}
	defer os.Remove(tmp)
	env := []string{"GIT_INDEX_FILE=" + tmp}
	if len(o.Pathspec) > 0 {
		// Outside the pathspec the snapshot is HEAD, not what the real index
		// has staged there.
		if err := r.resetToHead(ctx, env, head.Commit); err != nil {
			return Work{}, fmt.Errorf("snapshot work tree: %w", err)
		}
	}
	args := []string{"-c", "advice.addEmbeddedRepo=false", "-c", "core.fsmonitor=false", "add", "--all"}
	if o.IncludeIgnored {
		args = append(args, "--force")
	}
	args = append(args, "--")
	if len(o.Pathspec) > 0 {
		args = append(args, o.Pathspec...)
	} else {
		args = append(args, ":/")
	}
	dir := o.Dir
	if dir == "" {
		dir = r.WorkTree
	}
	if _, err := r.git(ctx, runOpts{dir: dir, env: env}, args...); err != nil {
		return Work{}, fmt.Errorf("snapshot work tree: %w", err)
	}
	out, err := r.git(ctx, runOpts{env: env}, "write-tree")
	if err != nil {
		return Work{}, fmt.Errorf("snapshot work tree: %w", err)
	}
	return Work{Tree: trimNL(out), Head: head}, nil
}

// resetToHead makes the private index in env hold HEAD's tree (nothing on an
// unborn branch), keeping the stat data of entries that match it.
func (r *Repo) resetToHead(ctx context.Context, env []string, head string) error {
	if head == "" {
		_, err := r.git(ctx, runOpts{env: env}, "read-tree", "--empty")
		return err
	}
	if _, err := r.git(ctx, runOpts{env: env}, "read-tree", "-m", head); err == nil {
		return nil
	}
	// An index with conflicts refuses a merge: read the tree afresh.
	_, err := r.git(ctx, runOpts{env: env}, "read-tree", head)
	return err
}

// privateIndex copies the real index (keeping its mtime, which git's racy-clean
// check depends on) to a new file in the git dir and returns its path.
func (r *Repo) privateIndex() (string, error) {
	tmp, err := r.privateIndexPath()
	if err != nil {
		return "", err
	}
	src := os.Getenv("GIT_INDEX_FILE")
	if src == "" {
		src = filepath.Join(r.GitDir, "index")
	} else if !filepath.IsAbs(src) {
		src = filepath.Join(r.WorkTree, src)
	}
	in, err := os.Open(src)
	if os.IsNotExist(err) {
		return tmp, nil // no index yet: git starts an empty one
	}
	if err != nil {
		return "", fmt.Errorf("copy index: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", fmt.Errorf("copy index: %w", err)
	}
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("copy index to %q: %w", tmp, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("copy index to %q: %w", tmp, err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("copy index to %q: %w", tmp, err)
	}
	if err := os.Chtimes(tmp, fi.ModTime(), fi.ModTime()); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("copy index to %q: %w", tmp, err)
	}
	return tmp, nil
}

// privateIndexPath names a new private index file in the git dir. A killed
// process can leave one behind; fsck removes old ones.
func (r *Repo) privateIndexPath() (string, error) {
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("name private index: %w", err)
	}
	return filepath.Join(r.GitDir, fmt.Sprintf("%s%d.%s", PrivateIndexPrefix, os.Getpid(), hex.EncodeToString(rnd[:]))), nil
}

// PrivateIndexPrefix starts the name of every private index file in the git dir.
const PrivateIndexPrefix = "git-backup-index."

// Author is who a snapshot commit is attributed to.
type Author struct{ Name, Email string }

// WriteSnapshotCommit stores the snapshot commit for tree on base ("" on an
// unborn branch) and returns its ID. It writes no ref.
func (r *Repo) WriteSnapshotCommit(tree, base, msg string, who Author, when time.Time) (string, error) {
	if who.Name == "" {
		who.Name = "git-backup"
	}
	if who.Email == "" {
		who.Email = "git-backup@localhost"
	}
	var parents []plumbing.Hash
	if base != "" {
		parents = append(parents, plumbing.NewHash(base))
	}
	h, err := r.writeCommit(plumbing.NewHash(tree), parents, object.Signature{Name: who.Name, Email: who.Email, When: when}, msg)
	if err != nil {
		return "", fmt.Errorf("write snapshot commit: %w", err)
	}
	return h.String(), nil
}

// ChangedPaths lists the paths whose content or mode differs between two trees
// (from "" means the empty tree), with blob IDs and sizes.
func (r *Repo) ChangedPaths(ctx context.Context, from, to string, pathspec ...string) ([]PathChange, error) {
	if from == "" {
		from = EmptyTreeID
	}
	args := []string{"diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", from, to}
	if len(pathspec) > 0 {
		args = append(append(args, "--"), pathspec...)
	}
	out, err := r.git(ctx, runOpts{readOnly: true}, args...)
	if err != nil {
		return nil, fmt.Errorf("list changed paths: %w", err)
	}
	return r.parseRawDiff(out)
}

// parseRawDiff parses `git diff-tree -r -z` output.
func (r *Repo) parseRawDiff(out []byte) ([]PathChange, error) {
	var pcs []PathChange
	var sizeIDs []string
	var sizeAt []int
	for len(out) > 0 {
		i := bytes.IndexByte(out, 0)
		if i < 0 {
			return nil, fmt.Errorf("parse diff: truncated record %q", out)
		}
		meta := string(out[:i])
		out = out[i+1:]
		j := bytes.IndexByte(out, 0)
		if j < 0 {
			return nil, fmt.Errorf("parse diff: record without path")
		}
		path := string(out[:j])
		out = out[j+1:]
		f := strings.Fields(strings.TrimPrefix(meta, ":"))
		if len(f) < 5 {
			return nil, fmt.Errorf("parse diff: bad record %q", meta)
		}
		pc := PathChange{Path: path}
		if f[2] != ZeroID {
			pc.BaseBlob = f[2]
		}
		if f[3] != ZeroID {
			pc.Blob, pc.Mode = f[3], f[1]
		}
		sizeOf := pc.Blob
		if sizeOf == "" {
			sizeOf = pc.BaseBlob
		}
		if f[1] == "160000" || (pc.Blob == "" && f[0] == "160000") {
			sizeOf = "" // a submodule's commit is not in this repository
		}
		if sizeOf != "" {
			sizeIDs, sizeAt = append(sizeIDs, sizeOf), append(sizeAt, len(pcs))
		}
		pcs = append(pcs, pc)
	}
	sizes, err := r.BlobSizes(sizeIDs)
	if err != nil {
		return nil, fmt.Errorf("list changed paths: %w", err)
	}
	for k, i := range sizeAt {
		pcs[i].Size = max(sizes[k], 0)
	}
	return pcs, nil
}

// NewBackupID makes a backup ID: YYYYMMDD-HHMMSS-<hex> in UTC, with at least
// seven hex digits of the snapshot commit, more when taken returns true.
func NewBackupID(when time.Time, snapshot string, taken func(string) bool) string {
	stamp := when.UTC().Format("20060102-150405")
	for n := 7; n < len(snapshot); n++ {
		id := stamp + "-" + snapshot[:n]
		if taken == nil || !taken(id) {
			return id
		}
	}
	return stamp + "-" + snapshot
}
