package gitstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
)

// Ref names of the backup store.
const (
	StateRef        = "refs/backups/state"
	SnapshotsPrefix = "refs/backups/snapshots/"
	RemotesPrefix   = "refs/backups/remotes/"
)

// SnapshotRef is the ref that keeps backup id's snapshot alive.
func SnapshotRef(id string) string { return SnapshotsPrefix + id }

// Head is where HEAD points.
type Head struct {
	Commit string // "" on an unborn branch
	Branch string // short branch name; "" when detached
}

// Head reads HEAD of this worktree in-process.
func (r *Repo) Head() (Head, error) {
	b, err := os.ReadFile(filepath.Join(r.GitDir, "HEAD"))
	if err != nil {
		return Head{}, fmt.Errorf("read HEAD: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if target, ok := strings.CutPrefix(s, "ref: "); ok {
		h := Head{Branch: strings.TrimPrefix(target, "refs/heads/")}
		id, err := r.ReadRef(target)
		if err != nil {
			return Head{}, err
		}
		h.Commit = id
		return h, nil
	}
	if !plumbing.IsHash(s) {
		return Head{}, fmt.Errorf("read HEAD: unexpected content %q", s)
	}
	return Head{Commit: s}, nil
}

// ReadRef returns the object ID ref points to (following symbolic refs), or ""
// when it does not exist.
func (r *Repo) ReadRef(name string) (string, error) {
	for range 5 {
		dir := r.CommonDir
		if name == "HEAD" || !strings.HasPrefix(name, "refs/") || strings.HasPrefix(name, "refs/worktree/") || strings.HasPrefix(name, "refs/bisect/") {
			dir = r.GitDir // per-worktree refs
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err == nil {
			v := strings.TrimSpace(string(b))
			if target, ok := strings.CutPrefix(v, "ref: "); ok {
				name = target
				continue
			}
			if !plumbing.IsHash(v) {
				return "", fmt.Errorf("read ref %q: unexpected content %q", name, v)
			}
			return strings.ToLower(v), nil
		}
		var pe *fs.PathError
		if !errors.Is(err, fs.ErrNotExist) && !(errors.As(err, &pe) && errors.Is(pe.Err, syscall.EISDIR)) && !errors.Is(err, syscall.ENOTDIR) {
			return "", fmt.Errorf("read ref %q: %w", name, err)
		}
		packed, err := r.packedRefMap()
		if err != nil {
			return "", fmt.Errorf("read ref %q: %w", name, err)
		}
		return packed[name], nil
	}
	return "", fmt.Errorf("read ref %q: symbolic refs nested too deep", name)
}

// packedRefMap returns every ref in packed-refs, parsed once per version of
// the file (by size and modification time).
func (r *Repo) packedRefMap() (map[string]string, error) {
	p := filepath.Join(r.CommonDir, "packed-refs")
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.packed != nil && r.packedSize == fi.Size() && r.packedTime.Equal(fi.ModTime()) {
		return r.packed, nil
	}
	m := map[string]string{}
	if err := readPackedRefs(p, "", m); err != nil {
		return nil, err
	}
	r.packed, r.packedSize, r.packedTime = m, fi.Size(), fi.ModTime()
	return m, nil
}

// RefsWithPrefix returns every ref under prefix with the object it points to
// (symbolic refs left out). It reads git's files itself: the loose refs below
// the prefix, over packed-refs. go-git's iterator reads every file under refs/,
// so a <ref>.lock that a git process is writing at that moment made it fail
// (empty) or list the lock as a ref (full).
func (r *Repo) RefsWithPrefix(prefix string) (map[string]string, error) {
	out := map[string]string{}
	if err := r.packedRefs(prefix, out); err != nil {
		return nil, fmt.Errorf("list refs under %q: %w", prefix, err)
	}
	dir := prefix[:strings.LastIndex(prefix, "/")+1] // the directory that holds the matches
	root := filepath.Join(r.CommonDir, filepath.FromSlash(dir))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // no such namespace, or removed meanwhile
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(d.Name(), ".lock") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := dir + filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) { // deleted meanwhile
			delete(out, name)
			return nil
		}
		if err != nil {
			return err
		}
		if id := strings.TrimSpace(string(b)); plumbing.IsHash(id) {
			out[name] = strings.ToLower(id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list refs under %q: %w", prefix, err)
	}
	return out, nil
}

// packedRefs adds the refs under prefix from the packed-refs file to out.
func (r *Repo) packedRefs(prefix string, out map[string]string) error {
	return readPackedRefs(filepath.Join(r.CommonDir, "packed-refs"), prefix, out)
}

// readPackedRefs adds the refs under prefix in packed-refs file p to out.
func readPackedRefs(p, prefix string, out map[string]string) error {
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// Git refuses a packed-refs file with a cut-off or malformed line; so
	// does this reader: skipping it would make refs vanish silently.
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return fmt.Errorf("%s is damaged: line %d %q is cut off (%s)", p, n, clipLine(b), PackedRefsHint)
		}
		line := b[:i]
		b = b[i+1:]
		if len(line) > 0 && (line[0] == '#' || line[0] == '^') { // header, peeled tag
			continue
		}
		if len(line) < 42 || line[40] != ' ' || !plumbing.IsHash(string(line[:40])) {
			return fmt.Errorf("%s is damaged: line %d %q is not a ref (%s)", p, n, clipLine(line), PackedRefsHint)
		}
		id, name := string(line[:40]), string(bytes.TrimSpace(line[41:]))
		if name != "" && strings.HasPrefix(name, prefix) {
			out[name] = strings.ToLower(id)
		}
	}
	return nil
}

// PackedRefsHint is the way out of a damaged packed-refs file.
const PackedRefsHint = "put back a good copy of the file, or remove that line; then git backup fsck --repair recreates the snapshot refs of backups whose commits remain"

func clipLine(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// SnapshotRefs returns backup ID → snapshot commit for every snapshot ref.
func (r *Repo) SnapshotRefs() (map[string]string, error) {
	refs, err := r.RefsWithPrefix(SnapshotsPrefix)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(refs))
	for n, id := range refs {
		out[strings.TrimPrefix(n, SnapshotsPrefix)] = id
	}
	return out, nil
}

// ResolveRevision turns a revision (HEAD, a branch, an abbreviated ID) into a
// commit ID.
func (r *Repo) ResolveRevision(ctx context.Context, rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("resolve %q: not a revision", rev)
	}
	out, err := r.git(ctx, runOpts{readOnly: true}, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("resolve %q: no such commit", rev)
	}
	return trimNL(out), nil
}

// Prefix is the path of dir relative to the top of the work tree ("" at the
// top), with a trailing slash, as git's --show-prefix prints it.
func (r *Repo) Prefix(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	top := r.WorkTree
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", nil
	}
	return filepath.ToSlash(rel) + "/", nil
}

// IsAncestorOfAny reports whether commit is reachable from any of tips.
func (r *Repo) IsAncestorOfAny(ctx context.Context, commit string, tips []string) bool {
	for _, t := range tips {
		if t == commit {
			return true
		}
		if _, err := r.git(ctx, runOpts{readOnly: true}, "merge-base", "--is-ancestor", commit, t); err == nil {
			return true
		}
	}
	return false
}
