package gitstate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// LayoutFile is the root entry of the state tree that names its layout version.
const LayoutFile = "layout"

// LayoutVersion is the state tree layout this build writes and reads.
const LayoutVersion = "git-backup-state 1"

// StateView is one version of refs/backups/state: a commit whose tree is in
// git-notes format (paths are snapshot commit IDs, with fan-out).
type StateView struct {
	Commit string            // "" when the ref does not exist yet
	Tree   string            // tree of Commit
	Layout string            // content of the layout file, trimmed
	Notes  map[string]string // snapshot commit ID → note blob ID
	paths  map[string]string // snapshot commit ID → path of its note in the tree
}

// StateCommit returns the commit refs/backups/state points to ("" if none),
// without reading its tree.
func (r *Repo) StateCommit() (string, error) { return r.ReadRef(StateRef) }

// ReadState reads the state at commit (the current ref when commit is "").
func (r *Repo) ReadState(commit string) (*StateView, error) {
	if commit == "" {
		c, err := r.StateCommit()
		if err != nil {
			return nil, err
		}
		commit = c
	}
	v := &StateView{Commit: commit, Notes: map[string]string{}, paths: map[string]string{}}
	if commit == "" {
		v.Layout = LayoutVersion
		return v, nil
	}
	c, err := r.readCommit(plumbing.NewHash(commit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", StateRef, err)
	}
	v.Tree = c.TreeHash.String()
	if err := r.walkNotes(c.TreeHash, "", "", v); err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", StateRef, short(commit), err)
	}
	return v, nil
}

// walkNotes collects notes below tree id. dir is the tree path, hex the
// concatenated fan-out prefix so far.
func (r *Repo) walkNotes(id plumbing.Hash, dir, hex string, v *StateView) error {
	t, err := r.readTree(id)
	if err != nil {
		return err
	}
	for _, e := range t.Entries {
		p := e.Name
		if dir != "" {
			p = dir + "/" + e.Name
		}
		switch {
		case dir == "" && e.Name == LayoutFile && e.Mode.IsFile():
			b, err := r.ReadBlob(e.Hash.String())
			if err != nil {
				return err
			}
			v.Layout = strings.TrimSpace(string(b))
		case e.Mode == filemode.Dir && isHex(e.Name) && len(hex)+len(e.Name) < 40:
			if err := r.walkNotes(e.Hash, p, hex+e.Name, v); err != nil {
				return err
			}
		case e.Mode.IsFile() && isHex(e.Name) && len(hex)+len(e.Name) == 40:
			snap := strings.ToLower(hex + e.Name)
			v.Notes[snap] = e.Hash.String()
			v.paths[snap] = p
		}
	}
	return nil
}

// NotePath is the path of snapshot's note in the state tree ("" when it has
// none), e.g. for `git cat-file -p refs/backups/state:<path>`.
func (v *StateView) NotePath(snapshot string) string { return v.paths[snapshot] }

// notePath is where this build writes the note of snapshot: one level of fan-out.
func notePath(snapshot string) string { return snapshot[:2] + "/" + snapshot[2:] }

// StateChange is one compare-and-swap transaction on refs/backups/state.
type StateChange struct {
	Base    *StateView        // the state the change was decided on
	Notes   map[string][]byte // snapshot → complete new note content
	Parents []string          // extra parents (a merge), after Base.Commit
	Message string            // the audit-log message
	Refs    []RefUpdate       // snapshot refs created or dropped in the same transaction
	Time    time.Time
}

// CommitState writes the new state tree and commit and moves refs/backups/state
// from Base.Commit to it together with Refs, all or nothing. It returns the new
// state commit, or an error wrapping ErrConflict when any ref moved meanwhile.
func (r *Repo) CommitState(ctx context.Context, ch StateChange) (string, error) {
	if ch.Base == nil {
		return "", fmt.Errorf("commit state: no base state")
	}
	edits := map[string]plumbing.Hash{}
	for snap, note := range ch.Notes {
		if !isHex(snap) || len(snap) != 40 {
			return "", fmt.Errorf("commit state: %q is not a snapshot commit ID", snap)
		}
		h, err := r.writeBlob(note)
		if err != nil {
			return "", fmt.Errorf("commit state: %w", err)
		}
		if old, ok := ch.Base.paths[snap]; ok && old != notePath(snap) {
			edits[old] = plumbing.ZeroHash
		}
		edits[notePath(snap)] = h
	}
	if ch.Base.Layout != LayoutVersion || ch.Base.Commit == "" {
		h, err := r.writeBlob([]byte(LayoutVersion + "\n"))
		if err != nil {
			return "", fmt.Errorf("commit state: %w", err)
		}
		edits[LayoutFile] = h
	}
	root := plumbing.ZeroHash
	if ch.Base.Tree != "" {
		root = plumbing.NewHash(ch.Base.Tree)
	}
	tree, err := r.editTree(root, edits)
	if err != nil {
		return "", fmt.Errorf("commit state: %w", err)
	}
	var parents []plumbing.Hash
	if ch.Base.Commit != "" {
		// The state may have been read from the fold cache: a commit on top of
		// a parent that is gone would break the audit log for good.
		if _, err := r.readCommit(plumbing.NewHash(ch.Base.Commit)); err != nil {
			return "", fmt.Errorf("commit state: %s points to %s, which cannot be read: %w", StateRef, ch.Base.Commit, err)
		}
		parents = append(parents, plumbing.NewHash(ch.Base.Commit))
	}
	for _, p := range ch.Parents {
		parents = append(parents, plumbing.NewHash(p))
	}
	when := ch.Time
	if when.IsZero() {
		when = time.Now()
	}
	sig := object.Signature{Name: "git-backup", Email: "git-backup@localhost", When: when}
	c, err := r.writeCommit(tree, parents, sig, ch.Message)
	if err != nil {
		return "", fmt.Errorf("commit state: %w", err)
	}
	ups := append([]RefUpdate{{Name: StateRef, Old: ch.Base.Commit, New: c.String()}}, ch.Refs...)
	if err := r.UpdateRefs(ctx, "git-backup: "+firstLine(ch.Message), ups); err != nil {
		return "", err
	}
	return c.String(), nil
}

// editTree applies edits (path → blob; ZeroHash deletes) to tree root (ZeroHash:
// empty) and returns the new tree. Subtrees left empty disappear.
func (r *Repo) editTree(root plumbing.Hash, edits map[string]plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !root.IsZero() {
		t, err := r.readTree(root)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, t.Entries...)
	}
	here := map[string]plumbing.Hash{}
	below := map[string]map[string]plumbing.Hash{}
	for p, h := range edits {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if below[dir] == nil {
				below[dir] = map[string]plumbing.Hash{}
			}
			below[dir][rest] = h
		} else {
			here[p] = h
		}
	}
	out := entries[:0:0]
	seen := map[string]bool{}
	for _, e := range entries {
		if h, ok := here[e.Name]; ok {
			seen[e.Name] = true
			if !h.IsZero() {
				out = append(out, object.TreeEntry{Name: e.Name, Mode: filemode.Regular, Hash: h})
			}
			continue
		}
		if sub, ok := below[e.Name]; ok && e.Mode == filemode.Dir {
			seen[e.Name] = true
			nh, err := r.editTree(e.Hash, sub)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if !nh.IsZero() {
				out = append(out, object.TreeEntry{Name: e.Name, Mode: filemode.Dir, Hash: nh})
			}
			continue
		}
		out = append(out, e)
	}
	for name, h := range here {
		if !seen[name] && !h.IsZero() {
			out = append(out, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
		}
	}
	for name, sub := range below {
		if seen[name] {
			continue
		}
		nh, err := r.editTree(plumbing.ZeroHash, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if !nh.IsZero() {
			out = append(out, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: nh})
		}
	}
	if len(out) == 0 {
		return plumbing.ZeroHash, nil
	}
	return r.writeTree(out)
}

// StateLog returns the first-parent history of refs/backups/state, newest first,
// at most limit commits (0: all).
func (r *Repo) StateLog(limit int) ([]CommitInfo, error) {
	id, err := r.StateCommit()
	if err != nil || id == "" {
		return nil, err
	}
	var out []CommitInfo
	for id != "" && (limit == 0 || len(out) < limit) {
		c, err := r.Commit(id)
		if err != nil {
			return out, err
		}
		out = append(out, c)
		id = ""
		if len(c.Parents) > 0 {
			id = c.Parents[0]
		}
	}
	return out, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// NewStateView rebuilds a view of the state from what a cache remembered of
// it: commit, tree, layout, and each note's blob and path. Callers must have
// checked that commit is still what refs/backups/state points to.
func NewStateView(commit, tree, layout string, notes, paths map[string]string) *StateView {
	return &StateView{Commit: commit, Tree: tree, Layout: layout, Notes: notes, paths: paths}
}
