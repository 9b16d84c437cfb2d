package transitions

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// specLifecycle is SPEC §3's diagram and §6's timeouts, written out pair by pair:
// the moves allowed without force.
var specLifecycle = map[[2]State]bool{
	{Created, Pending}:     true, // a commit covers it
	{Pending, Confirmed}:   true, // merged
	{Pending, Cleanable}:   true, // backup.pendingTimeout: never merged
	{Confirmed, Cleanable}: true, // time or policy
	{Cleanable, Archived}:  true,
	{Cleanable, Deleted}:   true,
	{Archived, Deleted}:    true,
	// unarchive brings an archive back as a live snapshot
	{Archived, Created}:   true,
	{Archived, Pending}:   true,
	{Archived, Confirmed}: true,
	{Archived, Cleanable}: true,
}

var cleanupStates = map[State]bool{Cleanable: true, Archived: true, Deleted: true}

func TestCheckMove_everyPair(t *testing.T) {
	triggers := append(append([]Trigger{}, Triggers...), "", "autosave")
	for _, from := range States {
		for _, to := range States {
			for _, forced := range []bool{false, true} {
				for _, pinned := range []bool{false, true} {
					for _, tr := range triggers {
						name := fmt.Sprintf("%s→%s/forced=%v/pinned=%v/%q", from, to, forced, pinned, tr)
						want := from != to && from != Deleted &&
							!(pinned && tr != TriggerUser && cleanupStates[to]) &&
							(forced || specLifecycle[[2]State{from, to}])
						err := CheckMove(from, to, forced, pinned, tr)
						if (err == nil) != want {
							t.Errorf("%s: CheckMove = %v, want allowed=%v", name, err, want)
						}
						if err != nil {
							if !errors.Is(err, ErrRefused) {
								t.Errorf("%s: error %v does not wrap ErrRefused", name, err)
							}
							var me *MoveError
							if !errors.As(err, &me) || me.From != from || me.To != to {
								t.Errorf("%s: error %v is not a MoveError naming the move", name, err)
							}
						}
						if got := IsLegal(from, to); got != specLifecycle[[2]State{from, to}] {
							t.Errorf("IsLegal(%s, %s) = %v", from, to, got)
						}
					}
				}
			}
		}
	}
}

func TestCheckMove_pinnedRefusesAutomaticCleanup(t *testing.T) {
	for _, tr := range []Trigger{TriggerDisk, TriggerHook, TriggerTime, TriggerRemote, ""} {
		for _, m := range [][2]State{{Pending, Cleanable}, {Confirmed, Cleanable}, {Cleanable, Archived}, {Cleanable, Deleted}, {Archived, Deleted}} {
			for _, forced := range []bool{false, true} {
				err := CheckMove(m[0], m[1], forced, true, tr)
				if err == nil || !strings.Contains(err.Error(), "pinned") {
					t.Errorf("%s %s→%s forced=%v on a pinned backup: %v, want refused as pinned", tr, m[0], m[1], forced, err)
				}
			}
		}
	}
}

func TestCheckMove_pinnedAllowsUserAndForwardMoves(t *testing.T) {
	if err := CheckMove(Cleanable, Deleted, false, true, TriggerUser); err != nil {
		t.Errorf("the user deleting a pinned backup: %v", err)
	}
	if err := CheckMove(Created, Pending, false, true, TriggerHook); err != nil {
		t.Errorf("a hook moving a pinned backup to PENDING: %v", err)
	}
	if err := CheckMove(Pending, Confirmed, false, true, TriggerRemote); err != nil {
		t.Errorf("a remote confirming a pinned backup: %v", err)
	}
}

func TestCheckMove_deletedIsTerminalEvenForced(t *testing.T) {
	for _, to := range States {
		for _, tr := range Triggers {
			if err := CheckMove(Deleted, to, true, false, tr); err == nil {
				t.Errorf("forced DELETED → %s by %s allowed", to, tr)
			}
		}
	}
}

func TestCheckMove_sameStateRefused(t *testing.T) {
	for _, s := range States {
		if err := CheckMove(s, s, true, false, TriggerUser); err == nil || !strings.Contains(err.Error(), "already") {
			t.Errorf("%s → %s: %v, want refused as already there", s, s, err)
		}
	}
}

func TestCheckMove_illegalMoveNamesTheLegalOnesAndForce(t *testing.T) {
	err := CheckMove(Created, Deleted, false, false, TriggerUser)
	if err == nil || !strings.Contains(err.Error(), "PENDING") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("CREATED → DELETED: %v, want the legal moves and --force named", err)
	}
}

func TestCheckMove_unknownStatesRefusedEvenForced(t *testing.T) {
	for _, m := range [][2]State{{Created, ""}, {Created, "pending"}, {Created, "LOST"}, {"", Pending}, {"LOST", Pending}} {
		if err := CheckMove(m[0], m[1], true, false, TriggerUser); err == nil {
			t.Errorf("forced %q → %q allowed", m[0], m[1])
		} else if !errors.Is(err, ErrRefused) {
			t.Errorf("%q → %q: %v does not wrap ErrRefused", m[0], m[1], err)
		}
	}
}

func TestParseState_anyCase(t *testing.T) {
	for _, s := range States {
		for _, in := range []string{string(s), strings.ToLower(string(s)), " " + string(s)[:1] + strings.ToLower(string(s)[1:]) + "\t"} {
			got, err := ParseState(in)
			if err != nil || got != s {
				t.Errorf("ParseState(%q) = %q, %v; want %s", in, got, err, s)
			}
		}
	}
	for _, in := range []string{"", "archive", "deleted!", "CREATED PENDING", "ARCHIVED\x00"} {
		if got, err := ParseState(in); err == nil {
			t.Errorf("ParseState(%q) = %q, want an error", in, got)
		} else if !strings.Contains(err.Error(), "cleanable") {
			t.Errorf("ParseState(%q) error %q does not list the states", in, err)
		}
	}
}

func TestTrigger_Priority(t *testing.T) {
	want := map[Trigger]int{TriggerUser: 5, TriggerDisk: 4, TriggerHook: 3, TriggerTime: 2, TriggerRemote: 1, "": 0, "autosave": 0, "USER": 0}
	for tr, p := range want {
		if got := tr.Priority(); got != p {
			t.Errorf("%q.Priority() = %d, want %d", tr, got, p)
		}
	}
	for i := 1; i < len(Triggers); i++ {
		if Triggers[i-1].Priority() <= Triggers[i].Priority() {
			t.Errorf("%s does not outrank %s", Triggers[i-1], Triggers[i])
		}
	}
}

func TestState_Live(t *testing.T) {
	want := map[State]bool{Created: true, Pending: true, Confirmed: true, Cleanable: true, Archived: false, Deleted: false, "": false}
	for s, w := range want {
		if s.Live() != w {
			t.Errorf("%q.Live() = %v, want %v", s, s.Live(), w)
		}
	}
}
