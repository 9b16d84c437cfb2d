package hooks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// maxInput bounds what a hook reads from git on stdin.
const maxInput = 16 << 20

// Result is what one hook run did.
type Result struct {
	Hook  string
	Batch *transitions.Batch // moves committed, nil when none
	Note  string
}

// Run is the entry point git reaches through our shims:
//
//   - post-commit (no arguments): CREATED backups the new commit contains
//     become PENDING.
//   - post-merge <squash flag: 1|0>: PENDING backups now on an integration
//     branch become CONFIRMED (and CREATED ones the merge contains, PENDING).
//   - post-rewrite <amend|rebase>, stdin "<old> <new> [<extra>]" per line:
//     covering commits are followed to their rewrites, then as post-merge.
//   - pre-push <remote> <url>, stdin "<local ref> <local oid> <remote ref>
//     <remote oid>" per line: recorded; backups the remote-tracking ref shows
//     are confirmed by the next hook or command.
//
// It checks its arguments and input and does O(changed paths) work.
func Run(ctx context.Context, s *transitions.Store, name string, args []string, stdin io.Reader) (Result, error) {
	res := Result{Hook: name}
	head, err := s.Repo.Head()
	if err != nil {
		return res, err
	}
	if err := CheckArgs(name, args); err != nil {
		return res, err
	}
	switch name {
	case "post-commit":
		res.Batch, err = s.Advance(ctx, transitions.AdvanceRequest{Head: head.Commit, Branch: head.Branch, CommitOnly: true})
	case "post-merge":
		res.Batch, err = s.Advance(ctx, transitions.AdvanceRequest{Head: head.Commit, Branch: head.Branch})
	case "post-rewrite":
		rw, bad := ParseRewrites(io.LimitReader(stdin, maxInput))
		if bad > 0 {
			res.Note = fmt.Sprintf("skipped %d malformed line(s) of input", bad)
		}
		res.Batch, err = s.Advance(ctx, transitions.AdvanceRequest{Head: head.Commit, Branch: head.Branch, Rewritten: rw})
	case "pre-push":
		pushes, bad := ParsePushes(io.LimitReader(stdin, maxInput))
		if bad > 0 {
			res.Note = fmt.Sprintf("skipped %d malformed line(s) of input", bad)
		}
		if err := s.Repo.RecordPushes(args[0], pushes, time.Now()); err != nil {
			return res, err
		}
		res.Batch, err = s.Advance(ctx, transitions.AdvanceRequest{Branch: head.Branch})
	}
	return res, err
}

// CheckArgs checks the arguments git gives hook name (see Run).
func CheckArgs(name string, args []string) error {
	switch name {
	case "post-commit":
		if len(args) != 0 {
			return fmt.Errorf("post-commit hook: unexpected arguments %q", args)
		}
	case "post-merge":
		if len(args) != 1 || (args[0] != "0" && args[0] != "1") {
			return fmt.Errorf("post-merge hook: want one argument, the squash flag 0 or 1; got %q", args)
		}
	case "post-rewrite":
		if len(args) < 1 || (args[0] != "amend" && args[0] != "rebase") {
			return fmt.Errorf("post-rewrite hook: want amend or rebase; got %q", args)
		}
	case "pre-push":
		if len(args) != 2 {
			return fmt.Errorf("pre-push hook: want <remote> <url>; got %q", args)
		}
	default:
		return fmt.Errorf("unknown hook %q (git-backup handles %s)", name, strings.Join(Names, ", "))
	}
	return nil
}

// ParseRewrites reads post-rewrite's stdin: "<old> <new> [<extra>]" lines.
// It returns old → new and the number of malformed lines skipped.
func ParseRewrites(r io.Reader) (map[string]string, int) {
	m := map[string]string{}
	bad := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 || !isOID(f[0]) || !isOID(f[1]) {
			bad++
			continue
		}
		m[strings.ToLower(f[0])] = strings.ToLower(f[1])
	}
	if sc.Err() != nil {
		bad++
	}
	return m, bad
}

// ParsePushes reads pre-push's stdin: "<local ref> <local oid> <remote ref>
// <remote oid>" lines. It returns the pushes and the number of malformed
// lines skipped.
func ParsePushes(r io.Reader) ([]gitstate.Push, int) {
	var ps []gitstate.Push
	bad := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 || !isOID(f[1]) || !isOID(f[3]) {
			bad++
			continue
		}
		ps = append(ps, gitstate.Push{LocalRef: f[0], Local: strings.ToLower(f[1]), RemoteRef: f[2], Remote: strings.ToLower(f[3])})
	}
	if sc.Err() != nil {
		bad++
	}
	return ps, bad
}

// isOID accepts a full SHA-1 or SHA-256 object ID.
func isOID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
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
