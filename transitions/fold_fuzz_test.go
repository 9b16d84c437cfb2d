package transitions

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// eventsFromBytes turns arbitrary bytes into events, 8 bytes an event, so the
// fuzzer explores orders, clocks, ties, pins and moves (to any state, known
// or not), with or without a creation event.
func eventsFromBytes(data []byte) []gitstate.Event {
	kinds := []string{gitstate.KindCreate, gitstate.KindMove, gitstate.KindMove, gitstate.KindMove, gitstate.KindPin, gitstate.KindUnpin, gitstate.KindCover, "bogus"}
	targets := []string{"", "created", "LOST", "DELETED "}
	for _, s := range States {
		targets = append(targets, string(s), string(s))
	}
	triggers := []string{"", "autosave"}
	for _, tr := range Triggers {
		triggers = append(triggers, string(tr))
	}
	var evs []gitstate.Event
	for len(data) >= 8 {
		c := data[:8]
		data = data[8:]
		e := gitstate.Event{
			Kind:    kinds[int(c[0])%len(kinds)],
			Clock:   uint64(c[1] % 16),
			Clone:   string(rune('a' + c[2]%3)),
			To:      targets[int(c[3])%len(targets)],
			Trigger: triggers[int(c[4])%len(triggers)],
			Forced:  c[5]&1 == 1,
			Time:    time.Unix(int64(binary.BigEndian.Uint16(c[6:8]))*60, 0).UTC(),
		}
		if c[5]&2 == 2 {
			cov := float64(c[5]>>2) / 63
			e.Coverage = &cov
			e.CoveredBy = "cccc"
		}
		if c[5]&4 == 4 {
			e.Archive = "x.tar.zst"
		}
		if e.Kind == gitstate.KindCreate {
			e.ID, e.Snapshot = "20260301-100000-abcdef1", foldSnap
			if c[5]&8 == 8 {
				e.Snapshot = "0000000000000000000000000000000000000000"
			}
		}
		evs = append(evs, e)
	}
	return evs
}

// checkFold is FuzzFold's invariant: Fold never panics, its state is one of
// States, or "" with Damaged saying why, and it does not depend on order.
func checkFold(t *testing.T, evs []gitstate.Event, bad []gitstate.LineError) {
	b := Fold(foldSnap, evs, bad)
	switch {
	case b.State == "":
		if len(b.Damaged) == 0 {
			t.Fatalf("no state and no damage reported for %d events", len(evs))
		}
	case !slices.Contains(States, b.State):
		t.Fatalf("state %q is not a state", b.State)
	}
	if b.Live() && b.State == Deleted {
		t.Fatal("DELETED and live")
	}
	rev := slices.Clone(evs)
	slices.Reverse(rev)
	if got, want := foldSummary(Fold(foldSnap, rev, bad)), foldSummary(b); got != want {
		t.Fatalf("reversed arrival changed the fold:\n got %s\nwant %s", got, want)
	}
}

func FuzzFold(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 1, 1, 2, 0, 5, 2, 0, 0, 2})                         // create, move to CREATED+1
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 1, 1, 2, 1, 2, 0, 1, 0, 3})                         // create, forced move to an unknown state
	f.Add([]byte{1, 2, 0, 4, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 4, 2, 2, 0, 0, 0, 0, 0}) // a move before the creation event
	f.Add([]byte("\x00\x01\x00\x00\x00\x00\x00\x01\x04\x02\x00\x00\x00\x00\x00\x02\x01\x03\x01\x0b\x05\x01\x00\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFold(t, eventsFromBytes(data), nil)
		// The same bytes as a note: whatever parses is folded too.
		evs, bad := gitstate.ParseNote(data)
		checkFold(t, evs, bad)
	})
}
