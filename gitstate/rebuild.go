package gitstate

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// WriteBlobFrom stores size bytes read from rd as a blob and returns its ID.
// Content is stored as is (no filters). Small blobs are written in process;
// larger ones are streamed to git hash-object, so memory stays flat. The
// caller checks the ID against the one it expects.
func (r *Repo) WriteBlobFrom(ctx context.Context, rd io.Reader, size int64) (string, error) {
	if size <= streamThreshold {
		data, err := io.ReadAll(io.LimitReader(rd, size+1))
		if err != nil {
			return "", fmt.Errorf("write blob: %w", err)
		}
		if int64(len(data)) != size {
			return "", fmt.Errorf("write blob: %d bytes read, want %d", len(data), size)
		}
		h, err := r.writeBlob(data)
		if err != nil {
			return "", err
		}
		return h.String(), nil
	}
	cr := &countingReader{r: io.LimitReader(rd, size)}
	out, err := r.git(ctx, runOpts{stdin: cr}, "hash-object", "-t", "blob", "-w", "--no-filters", "--stdin")
	if err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	if cr.n != size {
		return "", fmt.Errorf("write blob: %d bytes read, want %d", cr.n, size)
	}
	return trimNL(out), nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// WriteRawCommit stores a commit object given as git stores it (without the
// "commit <size>" header; base64-encoded as archives keep it) and returns
// its ID. It refuses content that does not decode as a commit.
func (r *Repo) WriteRawCommit(encoded string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("write commit: not base64: %w", err)
	}
	c := &object.Commit{}
	if err := c.Decode(memoryObject(plumbing.CommitObject, raw)); err != nil {
		return "", fmt.Errorf("write commit: not a commit object: %w", err)
	}
	s, err := r.storage()
	if err != nil {
		return "", err
	}
	o := s.NewEncodedObject()
	o.SetType(plumbing.CommitObject)
	o.SetSize(int64(len(raw)))
	w, err := o.Writer()
	if err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	h, err := s.SetEncodedObject(o)
	if err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	return h.String(), nil
}

// TreeEntry is one path of a tree to build: Mode "" removes the path.
type TreeEntry struct {
	Path string
	Mode string // octal, as git prints it
	ID   string // blob, or commit for a gitlink
}

// BuildTree writes the tree that is base (a tree ID; "" for the empty tree)
// with entries applied, through a private index, and returns its ID. Every
// blob it names must be in the object store.
func (r *Repo) BuildTree(ctx context.Context, base string, entries []TreeEntry) (string, error) {
	tmp, err := r.privateIndexPath()
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	env := []string{"GIT_INDEX_FILE=" + tmp}
	args := []string{"read-tree", "--empty"}
	if base != "" {
		args = []string{"read-tree", base}
	}
	if _, err := r.git(ctx, runOpts{env: env}, args...); err != nil {
		return "", fmt.Errorf("build tree: %w", err)
	}
	var in bytes.Buffer
	// Removals first, so a file replaced by a directory (or the reverse)
	// never meets its old self.
	for _, e := range entries {
		if e.Mode == "" {
			fmt.Fprintf(&in, "0 %s\t%s\x00", ZeroID, e.Path)
		}
	}
	for _, e := range entries {
		if e.Mode != "" {
			fmt.Fprintf(&in, "%s %s\t%s\x00", e.Mode, e.ID, e.Path)
		}
	}
	if in.Len() > 0 {
		if _, err := r.git(ctx, runOpts{env: env, stdin: &in}, "update-index", "--add", "--remove", "--replace", "-z", "--index-info"); err != nil {
			return "", fmt.Errorf("build tree: %w", err)
		}
	}
	out, err := r.git(ctx, runOpts{env: env}, "write-tree")
	if err != nil {
		return "", fmt.Errorf("build tree: %w", err)
	}
	return trimNL(out), nil
}

// MissingObjects lists the objects reachable from tree or commit id that are
// not in the object store (id itself included); for a commit, the parents'
// history is not walked.
func (r *Repo) MissingObjects(ctx context.Context, id string) ([]string, error) {
	if !r.HasObject(id) {
		return []string{id}, nil
	}
	out, err := r.git(ctx, runOpts{readOnly: true}, "rev-list", "--objects", "--no-walk", "--missing=print", id)
	if err != nil {
		return nil, fmt.Errorf("check objects of %s: %w", short(id), err)
	}
	var missing []string
	for _, l := range strings.Split(string(out), "\n") {
		if m, ok := strings.CutPrefix(l, "?"); ok {
			missing = append(missing, strings.TrimSpace(m))
		}
	}
	return missing, nil
}

// DirDiffOptions tunes DiffDirs.
type DirDiffOptions struct {
	Stat bool // a diffstat instead of the patch
	Out  io.Writer
}

// DiffDirs prints the difference between the directories from and to, both
// directly inside dir, as git diff --no-index does, with paths relative to
// them (from/x and to/x are both shown as x). It writes no object.
func (r *Repo) DiffDirs(ctx context.Context, dir, from, to string, o DirDiffOptions) error {
	args := []string{"diff", "--no-index", "--no-renames", "--src-prefix=", "--dst-prefix="}
	if o.Stat {
		args = append(args, "--numstat", "-z")
	}
	args = append(args, "--", from, to)
	var buf bytes.Buffer
	ro := runOpts{dir: dir, readOnly: true, stdout: o.Out}
	if o.Stat {
		ro.stdout = &buf
	}
	_, err := r.git(ctx, ro, args...)
	var ge *GitError
	if err != nil && !(errors.As(err, &ge) && ge.Code == 1) { // 1: there are differences
		return fmt.Errorf("diff: %w", err)
	}
	if o.Stat {
		return writeStat(o.Out, parseNumstat(buf.Bytes(), from, to))
	}
	return nil
}

// statLine is one file of a diffstat.
type statLine struct {
	path         string
	added, delet int
	binary       bool
}

// parseNumstat parses git diff --no-index --numstat -z output, naming each
// file by its path below from or to.
func parseNumstat(out []byte, from, to string) []statLine {
	var ls []statLine
	fields := strings.Split(string(out), "\x00")
	for i := 0; i+2 < len(fields); i += 3 {
		counts := strings.Split(fields[i], "\t")
		if len(counts) < 2 {
			break
		}
		p := fields[i+2]
		if p == "/dev/null" {
			p = fields[i+1]
		}
		for _, pre := range []string{from + "/", to + "/"} {
			p = strings.TrimPrefix(p, pre)
		}
		l := statLine{path: p}
		if counts[0] == "-" {
			l.binary = true
		} else {
			fmt.Sscan(counts[0], &l.added)
			fmt.Sscan(counts[1], &l.delet)
		}
		ls = append(ls, l)
	}
	return ls
}

// writeStat prints a diffstat like git's.
func writeStat(w io.Writer, ls []statLine) error {
	width, most := 0, 0
	for _, l := range ls {
		width = max(width, len(l.path))
		most = max(most, l.added+l.delet)
	}
	var ins, del int
	for _, l := range ls {
		if l.binary {
			if _, err := fmt.Fprintf(w, " %-*s | Bin\n", width, l.path); err != nil {
				return err
			}
			continue
		}
		ins, del = ins+l.added, del+l.delet
		a, d := l.added, l.delet
		if most > 50 {
			a, d = a*50/most, d*50/most
		}
		if _, err := fmt.Fprintf(w, " %-*s | %d %s%s\n", width, l.path, l.added+l.delet, strings.Repeat("+", a), strings.Repeat("-", d)); err != nil {
			return err
		}
	}
	if len(ls) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, " %d file(s) changed, %d insertion(s)(+), %d deletion(s)(-)\n", len(ls), ins, del)
	return err
}
