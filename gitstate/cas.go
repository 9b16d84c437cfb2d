package gitstate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// ErrConflict means a ref was not at the value a transaction expected: someone
// else moved it first. Re-read, re-decide and try again.
var ErrConflict = errors.New("ref changed concurrently")

// RefUpdate is one ref change in a transaction. Old "" means the ref must not
// exist yet; New "" deletes the ref.
type RefUpdate struct {
	Name string
	Old  string
	New  string
}

// writers serialises writers inside one process, per common git dir, so
// goroutines of one process do not burn compare-and-swap retries on each other.
var writers sync.Map // common dir → *sync.Mutex

// WriterLock is the in-process mutex for writers of this repository.
func (r *Repo) WriterLock() *sync.Mutex {
	m, _ := writers.LoadOrStore(r.CommonDir, &sync.Mutex{})
	return m.(*sync.Mutex)
}

// UpdateRefs applies all updates atomically with git update-ref --stdin
// (start/prepare/commit), each checked against its old value. It returns an
// error wrapping ErrConflict when any ref was not at its expected value.
func (r *Repo) UpdateRefs(ctx context.Context, msg string, ups []RefUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("start\n")
	for _, u := range crashOrder(ups) {
		old := u.Old
		if old == "" {
			old = ZeroID
		}
		switch {
		case u.New == "":
			fmt.Fprintf(&b, "delete %s %s\n", u.Name, old)
		default:
			fmt.Fprintf(&b, "update %s %s %s\n", u.Name, u.New, old)
		}
	}
	b.WriteString("prepare\ncommit\n")
	_, err := r.git(ctx, runOpts{stdin: strings.NewReader(b.String())}, "-c", "core.filesRefLockTimeout=100", "update-ref", "-m", msg, "--stdin")
	if err == nil {
		return nil
	}
	var ge *GitError
	if errors.As(err, &ge) && isConflict(ge.Stderr) {
		hint := ""
		if strings.Contains(ge.Stderr, ".lock': File exists") {
			hint = " (when no git process runs in this repository, one was killed holding that lock file: git backup fsck --repair removes it once it is an hour old)"
		}
		return fmt.Errorf("update refs: %w: %s%s", ErrConflict, strings.TrimSpace(ge.Stderr), hint)
	}
	return fmt.Errorf("update refs: %w", err)
}

// crashOrder orders a transaction's updates for a process killed while git
// commits it: git's files backend renames the lock files into place one by
// one, in the order given, and deletes refs after every update. So every ref
// the new state names is created before refs/backups/state moves, and the
// refs it no longer needs go after it: a crash in between leaves a snapshot
// ref without a note or a ref the state dropped (both found by fsck, and the
// content kept), never a live backup without its ref.
func crashOrder(ups []RefUpdate) []RefUpdate {
	out := make([]RefUpdate, 0, len(ups))
	rank := func(u RefUpdate) int {
		switch {
		case u.New == "":
			return 2
		case u.Name == StateRef:
			return 1
		}
		return 0
	}
	for r := range 3 {
		for _, u := range ups {
			if rank(u) == r {
				out = append(out, u)
			}
		}
	}
	return out
}

// isConflict recognises git's messages for a lost compare-and-swap or a ref
// locked by another process at this moment. "unable to resolve reference 'X'"
// is a conflict only as it stands (the ref went away); followed by a reason
// (": Permission denied", ": reference broken") it is a failure no retry fixes.
func isConflict(stderr string) bool {
	for _, s := range []string{
		"but expected",
		"reference already exists",
		"File exists",
	} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return refGone.MatchString(stderr)
}

var refGone = regexp.MustCompile(`(?m)unable to resolve reference '[^']*'\s*$`)
