package transitions

import (
	"errors"
	"fmt"
	"strings"
)

// State is where a backup is in its lifecycle.
type State string

// The states, in lifecycle order.
const (
	Created   State = "CREATED"
	Pending   State = "PENDING"
	Confirmed State = "CONFIRMED"
	Cleanable State = "CLEANABLE"
	Archived  State = "ARCHIVED"
	Deleted   State = "DELETED"
)

// States lists every state in lifecycle order.
var States = []State{Created, Pending, Confirmed, Cleanable, Archived, Deleted}

// ParseState accepts a state name in any case.
func ParseState(s string) (State, error) {
	u := State(strings.ToUpper(strings.TrimSpace(s)))
	for _, st := range States {
		if st == u {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown state %q (one of created, pending, confirmed, cleanable, archived, deleted)", s)
}

// Live reports whether a backup in this state still has its snapshot ref.
func (s State) Live() bool { return s != Archived && s != Deleted && s != "" }

// Trigger is what caused a move. Higher priority triggers win races.
type Trigger string

// The triggers, highest priority first.
const (
	TriggerUser   Trigger = "user"
	TriggerDisk   Trigger = "disk"
	TriggerHook   Trigger = "hook"
	TriggerTime   Trigger = "time"
	TriggerRemote Trigger = "remote"
)

// Triggers lists the triggers, highest priority first.
var Triggers = []Trigger{TriggerUser, TriggerDisk, TriggerHook, TriggerTime, TriggerRemote}

// Priority is higher for triggers that win: user 5 … remote 1; unknown 0.
func (t Trigger) Priority() int {
	for i, x := range Triggers {
		if x == t {
			return len(Triggers) - i
		}
	}
	return 0
}

// legal is the table of moves allowed without force.
var legal = map[State][]State{
	Created:   {Pending},
	Pending:   {Confirmed, Cleanable},
	Confirmed: {Cleanable},
	Cleanable: {Archived, Deleted},
	// unarchive brings an archive back as a live snapshot in the state it had
	Archived: {Deleted, Created, Pending, Confirmed, Cleanable},
}

// IsLegal reports whether from → to is allowed without force.
func IsLegal(from, to State) bool {
	for _, s := range legal[from] {
		if s == to {
			return true
		}
	}
	return false
}

// MoveError explains a refused move.
type MoveError struct {
	From, To State
	Why      string
}

func (e *MoveError) Error() string {
	return fmt.Sprintf("move %s → %s refused: %s", e.From, e.To, e.Why)
}

// CheckMove says whether a move may happen. Forced moves may do anything but
// leave DELETED (its content is gone), stay in place or go to a state that is
// not in States; automatic triggers may never move a pinned backup towards
// cleanup.
func CheckMove(from, to State, forced, pinned bool, t Trigger) error {
	switch {
	case from == to:
		return &MoveError{from, to, "the backup is already " + string(to)}
	case from == Deleted:
		return &MoveError{from, to, "a DELETED backup's content is gone; nothing can bring it back"}
	case to == "":
		return &MoveError{from, to, "no target state"}
	case !known(from) || !known(to):
		return &MoveError{from, to, "unknown state (one of " + joinStates(States) + ")"}
	}
	if pinned && t != TriggerUser && (to == Cleanable || to == Archived || to == Deleted) {
		return &MoveError{from, to, "the backup is pinned (git backup unpin ID first)"}
	}
	if forced || IsLegal(from, to) {
		return nil
	}
	return &MoveError{from, to, "not a legal move (legal from " + string(from) + ": " + joinStates(legal[from]) + "; pass --force to override)"}
}

func known(s State) bool {
	for _, x := range States {
		if x == s {
			return true
		}
	}
	return false
}

func joinStates(ss []State) string {
	if len(ss) == 0 {
		return "none"
	}
	var b []string
	for _, s := range ss {
		b = append(b, string(s))
	}
	return strings.Join(b, ", ")
}

// ErrRefused marks a move or command refused for safety: declined at a
// prompt, below the confidence threshold, pinned, illegal without --force,
// or it would overwrite work.
var ErrRefused = errors.New("refused for safety")

func (e *MoveError) Unwrap() error { return ErrRefused }
