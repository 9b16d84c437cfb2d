package transitions

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/git-backup/git-backup/gitstate"
)

const foldSnap = "abcdef1234567890abcdef1234567890abcdef12"

var foldT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func createEvent() gitstate.Event {
	return gitstate.Event{Kind: gitstate.KindCreate, Time: foldT0, Clock: 1, Clone: "c0", To: string(Created), Trigger: "user",
		ID: "20260301-100000-abcdef1", Snapshot: foldSnap, Tree: gitstate.EmptyTreeID, Base: "1111111111111111111111111111111111111111", Branch: "main", Files: 1, SizeBytes: 3}
}

func moveEvent(clock uint64, to State, tr Trigger, forced bool) gitstate.Event {
	return gitstate.Event{Kind: gitstate.KindMove, Time: foldT0.Add(time.Duration(clock) * time.Minute), Clock: clock, Clone: "c0", To: string(to), Trigger: string(tr), Forced: forced}
}

func TestFold_lifecycle(t *testing.T) {
	arch := moveEvent(5, Archived, TriggerDisk, false)
	arch.Archive = "/a/x.tar.zst"
	cov := moveEvent(2, Pending, TriggerHook, false)
	cov.CoveredBy = "2222222222222222222222222222222222222222"
	evs := []gitstate.Event{createEvent(), cov, moveEvent(3, Confirmed, TriggerHook, false), moveEvent(4, Cleanable, TriggerTime, false), arch}
	b := Fold(foldSnap, evs, nil)
	if b.State != Archived || b.Archive == nil || *b.Archive != "/a/x.tar.zst" || b.CoveredBy == nil || *b.CoveredBy != cov.CoveredBy {
		t.Fatalf("folded %+v", b)
	}
	if !b.UpdatedAt.Equal(arch.Time) || !b.CreatedAt.Equal(foldT0) || b.Ignored != 0 || len(b.Damaged) != 0 {
		t.Errorf("folded %+v", b)
	}
	if b.ID != "20260301-100000-abcdef1" || b.Base == nil || b.Branch == nil || *b.Branch != "main" || b.Files != 1 || b.SizeBytes != 3 {
		t.Errorf("creation fields: %+v", b)
	}
	if b.NextClock() != 6 {
		t.Errorf("NextClock = %d, want 6", b.NextClock())
	}
	// unarchive: live again, the archive is no longer where the content is
	un := Fold(foldSnap, append(evs, moveEvent(6, Cleanable, TriggerUser, false)), nil)
	if un.State != Cleanable || un.Archive != nil {
		t.Errorf("unarchived: state %s archive %v", un.State, un.Archive)
	}
}

func TestFold_illegalMovesAreIgnored(t *testing.T) {
	evs := []gitstate.Event{createEvent(), moveEvent(2, Deleted, TriggerTime, false), moveEvent(3, Confirmed, TriggerHook, false)}
	b := Fold(foldSnap, evs, nil)
	if b.State != Created || b.Ignored != 2 {
		t.Errorf("state %s ignored %d, want CREATED and 2", b.State, b.Ignored)
	}
	if !b.UpdatedAt.Equal(foldT0) {
		t.Errorf("ignored events moved updated_at to %v", b.UpdatedAt)
	}
	forced := Fold(foldSnap, append(evs, moveEvent(4, Deleted, TriggerUser, true)), nil)
	if forced.State != Deleted {
		t.Errorf("a forced move did not apply: %s", forced.State)
	}
}

func TestFold_pinnedBlocksAutomaticCleanupUntilUnpinned(t *testing.T) {
	pin := gitstate.Event{Kind: gitstate.KindPin, Time: foldT0, Clock: 2, Clone: "c0", Trigger: "user"}
	unpin := gitstate.Event{Kind: gitstate.KindUnpin, Time: foldT0, Clock: 5, Clone: "c0", Trigger: "user"}
	evs := []gitstate.Event{createEvent(), pin, moveEvent(3, Pending, TriggerHook, false), moveEvent(4, Cleanable, TriggerTime, false)}
	b := Fold(foldSnap, evs, nil)
	if b.State != Pending || !b.Pinned {
		t.Fatalf("pinned: state %s pinned %v, want PENDING and pinned", b.State, b.Pinned)
	}
	b = Fold(foldSnap, append(evs, unpin, moveEvent(6, Cleanable, TriggerTime, false)), nil)
	if b.State != Cleanable || b.Pinned {
		t.Fatalf("unpinned: state %s pinned %v, want CLEANABLE", b.State, b.Pinned)
	}
}

func TestFold_damage(t *testing.T) {
	b := Fold(foldSnap, []gitstate.Event{moveEvent(2, Pending, TriggerHook, false)}, nil)
	if b.State != "" || len(b.Damaged) == 0 || b.Ignored != 1 {
		t.Errorf("no creation event: state %q damaged %v ignored %d", b.State, b.Damaged, b.Ignored)
	}
	other := createEvent()
	other.Snapshot = strings.Repeat("9", 40)
	b = Fold(foldSnap, []gitstate.Event{other}, []gitstate.LineError{{Line: 2, Text: "{", Err: fmt.Errorf("bad")}})
	// Another backup's creation event is not taken: its ID would then name
	// two backups.
	if b.State != "" || b.ID != "" || len(b.Damaged) != 3 || !strings.Contains(b.Damaged[1], "creation event names snapshot 9999") {
		t.Errorf("wrong snapshot and a bad line: state %q id %q damaged %v", b.State, b.ID, b.Damaged)
	}
	b = Fold(foldSnap, []gitstate.Event{createEvent(), moveEvent(2, "GONE", TriggerUser, true)}, nil)
	if b.State != Created || len(b.Damaged) != 1 || !strings.Contains(b.Damaged[0], "GONE") {
		t.Errorf("a move to an unknown state: state %q damaged %v", b.State, b.Damaged)
	}
}

func TestFold_firstCreationEventWins(t *testing.T) {
	second := createEvent()
	second.Clock, second.Message = 3, "later"
	b := Fold(foldSnap, []gitstate.Event{second, createEvent()}, nil)
	if b.Message != "" || b.State != Created {
		t.Errorf("folded %+v", b)
	}
}

// --- properties ---

var foldClones = []string{"c0", "c1", "c2"}

// genEvent draws a random non-creation event with a clock in [1, maxClock].
func genEvent(t *rapid.T, maxClock uint64, label string) gitstate.Event {
	clock := rapid.Uint64Range(1, maxClock).Draw(t, label+"clock")
	e := gitstate.Event{
		Time:    foldT0.Add(time.Duration(rapid.IntRange(0, 10000).Draw(t, label+"sec")) * time.Second),
		Clock:   clock,
		Clone:   rapid.SampledFrom(foldClones).Draw(t, label+"clone"),
		Trigger: string(rapid.SampledFrom(append(slices.Clone(Triggers), "", "autosave")).Draw(t, label+"trigger")),
	}
	switch rapid.IntRange(0, 9).Draw(t, label+"kind") {
	case 0:
		e.Kind = gitstate.KindPin
	case 1:
		e.Kind = gitstate.KindUnpin
	case 2:
		e.Kind = gitstate.KindCover
		c := float64(rapid.IntRange(0, 4).Draw(t, label+"cov")) / 4
		e.Coverage = &c
		e.CoveredBy = rapid.SampledFrom([]string{"", "aaaa", "bbbb"}).Draw(t, label+"by")
	default:
		e.Kind = gitstate.KindMove
		e.To = string(rapid.SampledFrom(States).Draw(t, label+"to"))
		e.Forced = rapid.Bool().Draw(t, label+"forced")
		e.From = string(rapid.SampledFrom(States).Draw(t, label+"from")) // not trusted by Fold
		e.CoveredBy = rapid.SampledFrom([]string{"", "cccc"}).Draw(t, label+"by")
		if e.To == string(Archived) {
			e.Archive = rapid.SampledFrom([]string{"", "x.tar.zst"}).Draw(t, label+"archive")
		}
	}
	return e
}

// genLog draws a creation event and up to n more events.
func genLog(t *rapid.T, n int, label string) []gitstate.Event {
	evs := []gitstate.Event{createEvent()}
	k := rapid.IntRange(0, n).Draw(t, label+"len")
	for i := range k {
		evs = append(evs, genEvent(t, uint64(k+2), fmt.Sprintf("%s%d.", label, i)))
	}
	return evs
}

// summary is what must not depend on the order events arrive in.
func foldSummary(b *Backup) string {
	deref := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	var lines [][]byte
	for _, e := range b.Events {
		lines = append(lines, e.Line())
	}
	return fmt.Sprintf("id=%s state=%s pinned=%v covered_by=%s archive=%s updated=%s created=%s cov=%v ignored=%d damaged=%q events=%s",
		b.ID, b.State, b.Pinned, deref(b.CoveredBy), deref(b.Archive), b.UpdatedAt.Format(time.RFC3339Nano), b.CreatedAt.Format(time.RFC3339Nano),
		b.RecordedCoverage, b.Ignored, b.Damaged, bytes.Join(lines, []byte("|")))
}

func TestFold_propertyEveryAppliedMoveIsAllowed(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Strictly increasing clocks: the arrival order is the fold order,
		// so folding each prefix shows what every single event did.
		evs := []gitstate.Event{createEvent()}
		n := rapid.IntRange(0, 40).Draw(t, "n")
		for i := range n {
			e := genEvent(t, 1, fmt.Sprintf("e%d.", i))
			e.Clock = uint64(i + 2)
			evs = append(evs, e)
		}
		prev := Fold(foldSnap, evs[:1], nil)
		if prev.State != Created {
			t.Fatalf("a creation event folds to %s", prev.State)
		}
		for i := 1; i < len(evs); i++ {
			cur := Fold(foldSnap, evs[:i+1], nil)
			e := evs[i]
			if !slices.Contains(States, cur.State) {
				t.Fatalf("event %d: state %q is not a state", i, cur.State)
			}
			if cur.State != prev.State {
				if e.Kind != gitstate.KindMove || State(e.To) != cur.State {
					t.Fatalf("event %d (%s) changed the state %s → %s", i, e.Line(), prev.State, cur.State)
				}
				if prev.State == Deleted {
					t.Fatalf("event %d moved a DELETED backup to %s", i, cur.State)
				}
				if !IsLegal(prev.State, cur.State) && !e.Forced {
					t.Fatalf("event %d: illegal unforced move %s → %s applied", i, prev.State, cur.State)
				}
				if prev.Pinned && Trigger(e.Trigger) != TriggerUser && cleanupStates[cur.State] {
					t.Fatalf("event %d: pinned backup moved to %s by %q", i, cur.State, e.Trigger)
				}
			}
			if e.Kind == gitstate.KindMove && cur.State == prev.State && cur.Ignored != prev.Ignored+1 {
				t.Fatalf("event %d: a move that did not apply was not counted as ignored", i)
			}
			if e.Kind == gitstate.KindPin && !cur.Pinned || e.Kind == gitstate.KindUnpin && cur.Pinned {
				t.Fatalf("event %d (%s): pinned = %v", i, e.Kind, cur.Pinned)
			}
			if cur.State == Deleted && cur.Live() {
				t.Fatalf("a DELETED backup is live")
			}
			prev = cur
		}
	})
}

func TestFold_propertyArrivalOrderAndDuplicatesDoNotMatter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		evs := genLog(t, 30, "")
		want := foldSummary(Fold(foldSnap, evs, nil))
		arrived := slices.Clone(evs)
		for _, i := range rapid.SliceOfN(rapid.IntRange(0, len(evs)-1), 0, 10).Draw(t, "dups") {
			arrived = append(arrived, evs[i])
		}
		arrived = rapid.Permutation(arrived).Draw(t, "order")
		if got := foldSummary(Fold(foldSnap, arrived, nil)); got != want {
			t.Fatalf("shuffled with duplicates:\n got %s\nwant %s", got, want)
		}
	})
}

func TestFold_propertyUnionIsCommutativeAndIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Two foldClones share a history, then each adds its own events.
		common := genLog(t, 10, "common")
		a := append(slices.Clone(common), genLog(t, 10, "a")[1:]...)
		b := append(slices.Clone(common), genLog(t, 10, "b")[1:]...)
		cat := func(logs ...[]gitstate.Event) []gitstate.Event { return slices.Concat(logs...) }
		ab := foldSummary(Fold(foldSnap, cat(a, b), nil))
		if ba := foldSummary(Fold(foldSnap, cat(b, a), nil)); ba != ab {
			t.Fatalf("A∪B != B∪A:\n%s\n%s", ab, ba)
		}
		if aa, a1 := foldSummary(Fold(foldSnap, cat(a, a), nil)), foldSummary(Fold(foldSnap, a, nil)); aa != a1 {
			t.Fatalf("A∪A != A:\n%s\n%s", aa, a1)
		}
		if aba := foldSummary(Fold(foldSnap, cat(a, b, a), nil)); aba != ab {
			t.Fatalf("(A∪B)∪A != A∪B:\n%s\n%s", aba, ab)
		}
		// Merging by the fold's own event list gives the same result again.
		merged := Fold(foldSnap, cat(a, b), nil)
		if again := foldSummary(Fold(foldSnap, cat(merged.Events, b), nil)); again != ab {
			t.Fatalf("re-merging the merged log changed it:\n%s\n%s", again, ab)
		}
	})
}

func TestSortEvents_totalOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		evs := genLog(t, 20, "")
		x := rapid.Permutation(evs).Draw(t, "x")
		y := rapid.Permutation(evs).Draw(t, "y")
		SortEvents(x)
		SortEvents(y)
		for i := range x {
			if !bytes.Equal(x[i].Line(), y[i].Line()) {
				t.Fatalf("position %d: %s vs %s", i, x[i].Line(), y[i].Line())
			}
			if i > 0 && x[i-1].Clock > x[i].Clock {
				t.Fatalf("clock %d before %d", x[i-1].Clock, x[i].Clock)
			}
		}
	})
}
