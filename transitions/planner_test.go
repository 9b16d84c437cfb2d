package transitions

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// planNow is the fixed clock of the planner's tests.
var planNow = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)

const planDay = 24 * time.Hour

// planSpec describes one backup of a test view. cov < 0 leaves coverage unmeasured.
type planSpec struct {
	id       string
	state    State
	age      time.Duration // since created
	inState  time.Duration // since it entered state; age when 0
	size     int64
	cov      float64
	pinned   bool
	verified bool
}

// planLifecycle is the path a test backup takes to reach each state.
var planLifecycle = map[State][]State{
	Created:   nil,
	Pending:   {Pending},
	Confirmed: {Pending, Confirmed},
	Cleanable: {Pending, Confirmed, Cleanable},
	Archived:  {Pending, Confirmed, Cleanable, Archived},
	Deleted:   {Pending, Confirmed, Cleanable, Deleted},
}

// build folds a real event log for s: created age ago, moved along the
// planLifecycle, entering its state inState ago, then pinned if asked.
func (s planSpec) build() *Backup {
	sum := sha1.Sum([]byte(s.id))
	snap := hex.EncodeToString(sum[:])
	created := planNow.Add(-s.age)
	inState := s.inState
	if inState == 0 || inState > s.age {
		inState = s.age
	}
	entered := planNow.Add(-inState)
	evs := []gitstate.Event{{Kind: gitstate.KindCreate, Time: created, Clock: 1, Clone: "c0", To: string(Created), Trigger: "user",
		ID: s.id, Snapshot: snap, Base: strings.Repeat("1", 40), Files: 1, SizeBytes: s.size}}
	path := planLifecycle[s.state]
	for i, to := range path {
		t := entered
		if i < len(path)-1 { // earlier steps spread between creation and entry
			t = created.Add(entered.Sub(created) * time.Duration(i+1) / time.Duration(len(path)))
		}
		evs = append(evs, gitstate.Event{Kind: gitstate.KindMove, Time: t, Clock: uint64(i + 2), Clone: "c0", To: string(to), Trigger: "user"})
	}
	if s.pinned {
		evs = append(evs, gitstate.Event{Kind: gitstate.KindPin, Time: entered, Clock: uint64(len(evs) + 1), Clone: "c0", Trigger: "user"})
	}
	b := Fold(snap, evs, nil)
	if b.State != s.state || b.Pinned != s.pinned {
		panic(fmt.Sprintf("test backup %s folded to %s pinned=%v", s.id, b.State, b.Pinned))
	}
	return b
}

// planFixture is a view and the facts measured on it.
type planFixture struct {
	v *View
	f PlanFacts
}

func newPlanFixture(specs ...planSpec) planFixture {
	v := &View{byID: map[string]*Backup{}, bySnap: map[string]*Backup{}}
	f := PlanFacts{Now: planNow, Coverage: map[*Backup]float64{}, ArchiveVerified: map[string]bool{}, ArchiveBytes: map[string]int64{}}
	for _, s := range specs {
		b := s.build()
		v.add(b)
		if s.cov >= 0 {
			f.Coverage[b] = s.cov
		}
		if s.verified {
			f.ArchiveVerified[s.id] = true
		}
		if s.state == Archived {
			f.ArchiveBytes[s.id] = s.size / 2
		}
	}
	sortBackups(v.Backups)
	return planFixture{v, f}
}

// moves renders a plan's moves compactly: "ID FROM>TO action[!]", ! when forced.
func planMoves(p Plan) []string {
	var out []string
	for _, m := range p.Moves {
		s := fmt.Sprintf("%s %s>%s %s", m.ID, m.From, m.To, m.Action)
		if m.Forced {
			s += "!"
		}
		out = append(out, s)
	}
	return out
}

// skips renders a plan's skipped candidates: "ID why".
func planSkips(p Plan) []string {
	var out []string
	for _, s := range p.Skipped {
		out = append(out, s.ID+" "+string(s.Why))
	}
	return out
}

func samePlanLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestPlannedMove_Events(t *testing.T) {
	fx := newPlanFixture(planSpec{id: "a", state: Created, age: 3 * planDay, size: 10, cov: 0.5})
	p := PlanEscalation(fx.v, fx.f, DefaultPolicy(), LevelEmergency, 0)
	if len(p.Moves) != 1 {
		t.Fatalf("moves %q", planMoves(p))
	}
	m := p.Moves[0]
	evs := m.Events()
	if len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
	e := evs[0]
	if e.Kind != gitstate.KindMove || e.From != "CREATED" || e.To != "ARCHIVED" || e.Trigger != "disk" || !e.Forced ||
		e.Reason != m.Reason || e.Coverage == nil || *e.Coverage != 0.5 {
		t.Errorf("event %+v from move %+v", e, m)
	}
	// the event folds: the log accepts exactly what the plan said
	e.Time, e.Clock, e.Clone = planNow, m.Backup.NextClock(), "c0"
	after := Fold(m.Backup.Snapshot, append(m.Backup.Events, e), nil)
	if after.State != Archived || after.Ignored != 0 || !after.StateSince().Equal(planNow) {
		t.Errorf("after the event: %s ignored %d since %s", after.State, after.Ignored, after.StateSince())
	}
	*m.Coverage = 0.9
	if *e.Coverage != 0.5 {
		t.Errorf("Events shares the move's coverage")
	}
	m.Coverage = nil
	if m.Events()[0].Coverage != nil {
		t.Errorf("unmeasured coverage recorded")
	}
}

func TestPlan_BackupsAndFreesBytes(t *testing.T) {
	fx := newPlanFixture(
		planSpec{id: "a", state: Confirmed, age: 3 * planDay, size: 100, cov: 1},
		planSpec{id: "b", state: Cleanable, age: 4 * planDay, size: 50, cov: 1},
	)
	p := PlanCleanup(fx.v, fx.f, DefaultPolicy(), LevelModerate, 0)
	samePlanLines(t, "moves", planMoves(p), []string{"b CLEANABLE>ARCHIVED archive", "a CONFIRMED>CLEANABLE promote", "a CLEANABLE>ARCHIVED archive"})
	if p.Backups() != 2 || p.FreesBytes() != 150 || p.Moves[1].FreesBytes != 0 {
		t.Errorf("backups %d, frees %d, promotion frees %d", p.Backups(), p.FreesBytes(), p.Moves[1].FreesBytes)
	}
}

func TestParseLevel(t *testing.T) {
	for _, s := range []string{"gentle", "Moderate", " AGGRESSIVE ", "nuclear"} {
		if l, err := ParseLevel(s); err != nil || strings.ToLower(strings.TrimSpace(s)) != string(l) {
			t.Errorf("ParseLevel(%q) = %q, %v", s, l, err)
		}
	}
	for _, s := range []string{"", "warning", "extreme"} {
		if _, err := ParseLevel(s); err == nil {
			t.Errorf("ParseLevel(%q) accepted", s)
		}
	}
}
