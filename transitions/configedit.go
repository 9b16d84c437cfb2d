package transitions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// ConfigWrite is one key's new values in one scope; no values unsets it.
type ConfigWrite struct {
	Scope  string // local (the default), global, system or worktree
	Key    *Key
	Values []string
}

// ErrNoHistory is RollbackConfig with nothing to undo.
var ErrNoHistory = errors.New("no config change to roll back")

// scopeRank orders scopes the way git reads them: later ones win.
var scopeRank = map[string]int{"system": 0, "global": 1, "local": 2, "worktree": 3, "command": 4}

func scopeOr(s string) string {
	if s == "" {
		return "local"
	}
	return s
}

// ScopeValues returns the values of key (any case) set in one scope.
func ScopeValues(entries []gitstate.ConfigEntry, scope, key string) []string {
	var vs []string
	for _, e := range entries {
		if e.Scope == scope && strings.EqualFold(e.Key, key) {
			vs = append(vs, e.Value)
		}
	}
	return vs
}

// ProposeConfig returns entries as git would list them after writes: each
// write replaces its key's entries in its scope, at that scope's place in
// git's order.
func ProposeConfig(entries []gitstate.ConfigEntry, writes []ConfigWrite) []gitstate.ConfigEntry {
	out := slices.Clone(entries)
	for _, w := range writes {
		scope := scopeOr(w.Scope)
		out = slices.DeleteFunc(out, func(e gitstate.ConfigEntry) bool {
			return e.Scope == scope && strings.EqualFold(e.Key, w.Key.Name)
		})
		at := 0
		for i, e := range out {
			if r, ok := scopeRank[e.Scope]; ok && r <= scopeRank[scope] {
				at = i + 1
			}
		}
		add := make([]gitstate.ConfigEntry, 0, len(w.Values))
		for _, v := range w.Values {
			add = append(add, gitstate.ConfigEntry{Scope: scope, Key: strings.ToLower(w.Key.Name), Value: v})
		}
		out = slices.Insert(out, at, add...)
	}
	return out
}

// CheckWrites validates writes against the current entries: every value must
// be in its key's range, and the result must not contradict itself in a way
// the current config does not already. It returns writes with canonical values.
func CheckWrites(entries []gitstate.ConfigEntry, writes []ConfigWrite) ([]ConfigWrite, error) {
	out := make([]ConfigWrite, 0, len(writes))
	for _, w := range writes {
		if w.Key == nil {
			return nil, errors.New("check config: no key")
		}
		if _, ok := scopeRank[scopeOr(w.Scope)]; !ok || w.Scope == "command" {
			return nil, fmt.Errorf("check %s: cannot write to scope %q (use local, global, system or worktree)", w.Key.Name, w.Scope)
		}
		n := ConfigWrite{Scope: scopeOr(w.Scope), Key: w.Key}
		for _, v := range w.Values {
			c, err := w.Key.Normalize(v)
			if err != nil {
				return nil, err
			}
			n.Values = append(n.Values, c)
		}
		out = append(out, n)
	}
	_, before := loadPolicy(entries)
	_, after := loadPolicy(ProposeConfig(entries, out))
	for _, err := range after {
		if !slices.ContainsFunc(before, func(b error) bool { return b.Error() == err.Error() }) {
			return nil, err
		}
	}
	return out, nil
}

// ApplyConfig checks writes (CheckWrites), records the previous values of
// every key it changes in the config history, then writes them. Writes that
// change nothing are left out; when nothing changes, nothing is recorded and
// the entry has no changes. command names the change in the history.
func ApplyConfig(ctx context.Context, r *gitstate.Repo, command string, now time.Time, writes []ConfigWrite) (gitstate.ConfigHistoryEntry, error) {
	entries, err := r.ReadConfig(ctx)
	if err != nil {
		return gitstate.ConfigHistoryEntry{}, err
	}
	writes, err = CheckWrites(entries, writes)
	if err != nil {
		return gitstate.ConfigHistoryEntry{}, err
	}
	h := gitstate.ConfigHistoryEntry{Time: now.UTC().Truncate(time.Second), Command: command}
	for _, w := range writes {
		old := ScopeValues(entries, w.Scope, w.Key.Name)
		if slices.Equal(old, w.Values) {
			continue
		}
		h.Changes = append(h.Changes, gitstate.ConfigChange{Scope: w.Scope, Key: w.Key.Name, Old: old, New: w.Values})
	}
	if len(h.Changes) == 0 {
		return h, nil
	}
	// History first: if a write fails half-way, rollback still puts back
	// every previous value.
	if err := r.AppendConfigHistory(h); err != nil {
		return h, err
	}
	for _, c := range h.Changes {
		if err := setValues(ctx, r, c.Scope, c.Key, c.New); err != nil {
			return h, fmt.Errorf("%w (git backup config rollback puts back the previous values)", err)
		}
	}
	return h, nil
}

// setValues makes key's values in scope exactly vs.
func setValues(ctx context.Context, r *gitstate.Repo, scope, key string, vs []string) error {
	switch len(vs) {
	case 0:
		return r.UnsetConfig(ctx, scope, key)
	case 1:
		return r.SetConfig(ctx, scope, key, vs[0])
	}
	if err := r.UnsetConfig(ctx, scope, key); err != nil {
		return err
	}
	for _, v := range vs {
		if err := r.AddConfig(ctx, scope, key, v); err != nil {
			return err
		}
	}
	return nil
}

// RollbackResult is what RollbackConfig did.
type RollbackResult struct {
	Undone  gitstate.ConfigHistoryEntry // the entry rolled back, now gone from the history
	Done    gitstate.ConfigHistoryEntry // the rollback itself, as recorded
	Drifted []string                    // keys changed since by other means (their values were replaced anyway)
}

// isRollback reports whether a history entry is a rollback's own record,
// which later rollbacks skip: rolling back twice undoes two changes.
func isRollback(e gitstate.ConfigHistoryEntry) bool { return strings.HasPrefix(e.Command, "rollback") }

// RollbackConfig puts back the previous values of the newest change in the
// config history, removes that entry and records the rollback (which a later
// rollback does not undo: it goes one change further back).
func RollbackConfig(ctx context.Context, r *gitstate.Repo, now time.Time) (RollbackResult, error) {
	var res RollbackResult
	hist, err := r.ConfigHistory()
	if err != nil {
		return res, err
	}
	i := len(hist) - 1
	for i >= 0 && isRollback(hist[i]) {
		i--
	}
	if i < 0 {
		return res, ErrNoHistory
	}
	res.Undone = hist[i]
	entries, err := r.ReadConfig(ctx)
	if err != nil {
		return res, err
	}
	res.Done = gitstate.ConfigHistoryEntry{Time: now.UTC().Truncate(time.Second), Command: "rollback of " + res.Undone.Command}
	changes := res.Undone.Changes
	for j := len(changes) - 1; j >= 0; j-- {
		c := changes[j]
		cur := ScopeValues(entries, c.Scope, c.Key)
		if !slices.Equal(cur, c.New) {
			res.Drifted = append(res.Drifted, c.Key)
		}
		// Config first, history after: a rollback cut short can simply be run again.
		if err := setValues(ctx, r, c.Scope, c.Key, c.Old); err != nil {
			return res, fmt.Errorf("roll back %s: %w", c.Key, err)
		}
		res.Done.Changes = append(res.Done.Changes, gitstate.ConfigChange{Scope: c.Scope, Key: c.Key, Old: cur, New: c.Old})
	}
	slices.Reverse(res.Done.Changes)
	hist = append(slices.Clone(hist[:i]), hist[i+1:]...)
	if err := r.WriteConfigHistory(append(hist, res.Done)); err != nil {
		return res, err
	}
	return res, nil
}
