package transitions

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/git-backup/git-backup/gitstate"
)

// planWorld is a random view, its facts and a policy.
type planWorld struct {
	fx  planFixture
	p   Policy
	ids []string
}

var allLevels = []Level{LevelGentle, LevelModerate, LevelAggressive, LevelNuclear,
	LevelOK, LevelWarning, LevelCritical, LevelEmergency, LevelArchive, "bogus"}

func genPlanWorld(t *rapid.T) planWorld {
	n := rapid.IntRange(0, 14).Draw(t, "backups")
	var specs []planSpec
	for i := range n {
		l := fmt.Sprintf("b%d.", i)
		age := time.Duration(rapid.SampledFrom([]int{0, 30, 60, 61, 1440, 2880}).Draw(t, l+"ageBase")+
			rapid.IntRange(0, 40*1440).Draw(t, l+"age")*rapid.IntRange(0, 1).Draw(t, l+"ageOn")) * time.Minute
		specs = append(specs, planSpec{
			id:       fmt.Sprintf("2026%02d-%c", i, 'a'+rune(i)),
			state:    rapid.SampledFrom(States).Draw(t, l+"state"),
			age:      age,
			inState:  time.Duration(rapid.Float64Range(0, 1).Draw(t, l+"inState") * float64(age)),
			size:     rapid.SampledFrom([]int64{0, 1, 1 << 20, 200 << 20, 600 << 20}).Draw(t, l+"size"),
			cov:      rapid.SampledFrom([]float64{-1, 0, 0.3, 0.5, 0.75, 0.99, 1, 1.5, math.NaN()}).Draw(t, l+"cov"),
			pinned:   rapid.IntRange(0, 3).Draw(t, l+"pinned") == 0,
			verified: rapid.IntRange(0, 3).Draw(t, l+"verified") == 0,
		})
	}
	fx := newPlanFixture(specs...)
	fx.f.LastAccess = map[string]time.Time{}
	for i, b := range fx.v.Backups {
		l := fmt.Sprintf("v%d.", i)
		if rapid.IntRange(0, 7).Draw(t, l+"damaged") == 0 {
			b.Damaged = []string{"damaged"}
		}
		if rapid.Bool().Draw(t, l+"accessed") {
			fx.f.LastAccess[b.ID] = planNow.Add(-time.Duration(rapid.IntRange(0, 300).Draw(t, l+"access")) * time.Hour)
		}
	}
	durations := []time.Duration{0, time.Hour, planDay, 3 * planDay, 7 * planDay}
	p := DefaultPolicy()
	p.PendingTimeout = rapid.SampledFrom(durations).Draw(t, "pendingTimeout")
	p.ConfirmedTimeout = rapid.SampledFrom(durations).Draw(t, "confirmedTimeout")
	p.CleanableTimeout = rapid.SampledFrom(durations).Draw(t, "cleanableTimeout")
	p.ArchiveRetention = rapid.SampledFrom(durations).Draw(t, "archiveRetention")
	p.MinAge = rapid.SampledFrom([]time.Duration{time.Minute, time.Hour, planDay, 3 * planDay}).Draw(t, "minAge")
	p.CompressBeforeDelete = rapid.Bool().Draw(t, "compress")
	p.CleanupStrategy = rapid.SampledFrom([]string{StrategyOldestFirst, StrategyLargestFirst, StrategyConfidenceBased, "bogus"}).Draw(t, "strategy")
	p.EmergencyStrategy = rapid.SampledFrom([]string{EmergencyConservative, EmergencyAggressive, EmergencyNuclear, "bogus"}).Draw(t, "emergencyStrategy")
	p.MaxCleanupPerCycle = rapid.IntRange(1, 6).Draw(t, "maxCleanupPerCycle")
	p.EmergencyCleanupLimit = rapid.IntRange(1, 8).Draw(t, "emergencyCleanupLimit")
	p.DiskPressureConfidenceBoost = rapid.Float64Range(0, 1).Draw(t, "boost")
	p.EmergencyConfidenceOverride = rapid.Float64Range(0, 1).Draw(t, "override")
	var ids []string
	for _, s := range specs {
		if rapid.Bool().Draw(t, "pick."+s.id) {
			ids = append(ids, s.id)
		}
	}
	if rapid.Bool().Draw(t, "unknownID") {
		ids = append(ids, "no-such-backup")
	}
	ids = rapid.Permutation(ids).Draw(t, "idOrder")
	return planWorld{fx: fx, p: p, ids: ids}
}

// shuffled is the same view with its backups in another order.
func shuffled(t *rapid.T, v *View) *View {
	w := *v
	w.Backups = rapid.Permutation(v.Backups).Draw(t, "viewOrder")
	return &w
}

// nuclear reports whether lvl may delete content not fully covered.
func nuclear(lvl Level, p Policy) bool {
	return lvl == LevelNuclear || lvl == LevelEmergency && p.EmergencyStrategy == EmergencyNuclear
}

// checkPlan checks what every plan must respect. auto: an automatic plan
// (pins and damaged logs excluded); force: PlanIDs with --force.
func checkPlan(t *rapid.T, w planWorld, plan Plan, lvl Level, auto, force bool) {
	p, f := w.p, w.fx.f
	at := map[*Backup]State{}
	done := map[*Backup]bool{}
	var last *Backup
	for i, m := range plan.Moves {
		b := m.Backup
		where := fmt.Sprintf("move %d %s %s→%s (%s)", i, m.ID, m.From, m.To, m.Reason)
		if b == nil || m.ID != b.ID {
			t.Fatalf("%s: backup %v", where, b)
		}
		if b != last && done[b] {
			t.Fatalf("%s: the backup's moves are not together", where)
		}
		done[b], last = true, b
		from, ok := at[b]
		if !ok {
			from = b.State
		}
		if m.From != from {
			t.Fatalf("%s: from %s, the backup is %s", where, m.From, from)
		}
		at[b] = m.To
		if m.Forced != !IsLegal(m.From, m.To) {
			t.Fatalf("%s: forced=%v, legal=%v", where, m.Forced, IsLegal(m.From, m.To))
		}
		if err := CheckMove(m.From, m.To, m.Forced, b.Pinned, m.Trigger); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if age := planNow.Sub(b.CreatedAt); age < p.MinAge {
			t.Fatalf("%s: %s old, minAge %s", where, age, p.MinAge)
		}
		if auto && (b.Pinned || len(b.Damaged) > 0) {
			t.Fatalf("%s: pinned %v, damaged %v in an automatic plan", where, b.Pinned, b.Damaged)
		}
		if b.Pinned && !force && !auto {
			t.Fatalf("%s: pinned without force", where)
		}
		cov, measured := f.Coverage[b]
		if !measured || math.IsNaN(cov) || cov < 0 {
			cov = 0
		}
		if m.To == Deleted && m.From.Live() {
			if f.ArchiveVerified[b.ID] {
				t.Fatalf("%s: deleted while a verified archive exists", where)
			}
			if cov < 1 && !(nuclear(lvl, p) && !p.CompressBeforeDelete) {
				t.Fatalf("%s: coverage %v deleted without an archive at level %q", where, cov, lvl)
			}
		}
		wantAction := map[State]Action{Cleanable: ActionPromote, Archived: ActionArchive, Deleted: ActionDelete}[m.To]
		if m.Action != wantAction || m.FreesBytes < 0 || m.Action == ActionPromote && m.FreesBytes != 0 || m.Reason == "" {
			t.Fatalf("%s: action %s frees %d", where, m.Action, m.FreesBytes)
		}
		if m.Confidence < 0 || m.Confidence > 1 {
			t.Fatalf("%s: confidence %v", where, m.Confidence)
		}
		evs := m.Events()
		if len(evs) != 1 || evs[0].Kind != gitstate.KindMove || evs[0].From != string(m.From) || evs[0].To != string(m.To) ||
			evs[0].Trigger != string(m.Trigger) || evs[0].Forced != m.Forced || evs[0].Reason != m.Reason {
			t.Fatalf("%s: events %+v", where, evs)
		}
	}
	// the coordinator writing the moves' events gets exactly the plan's states
	for b, to := range at {
		evs := slices.Clone(b.Events)
		clock := b.NextClock()
		for _, m := range plan.Moves {
			if m.Backup == b {
				e := m.Events()[0]
				e.Time, e.Clock, e.Clone = planNow, clock, "c9"
				clock++
				evs = append(evs, e)
			}
		}
		if after := Fold(b.Snapshot, evs, nil); after.State != to || after.Ignored != b.Ignored {
			t.Fatalf("%s: folded to %s with %d ignored events, the plan said %s", b.ID, after.State, after.Ignored-b.Ignored, to)
		}
	}
	for _, s := range plan.Skipped {
		if s.Backup != nil && done[s.Backup] {
			t.Fatalf("%s both moved and skipped (%s)", s.ID, s.Reason)
		}
	}
}

// TestPlanner_properties: for random views, policies and levels, no plan
// moves a pinned backup automatically, a backup younger than minAge, or
// deletes content not fully covered without an archive below nuclear; every
// move is legal or marked forced and folds as planned; plans are
// deterministic whatever the order of the view.
func TestPlanner_properties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genPlanWorld(t)
		v, f, p := w.fx.v, w.fx.f, w.p
		lvl := rapid.SampledFrom(allLevels).Draw(t, "level")
		max := rapid.IntRange(-1, 6).Draw(t, "max")
		force := rapid.Bool().Draw(t, "force")
		other := shuffled(t, v)

		tp := PlanTime(v, f, p)
		checkPlan(t, w, tp, "", true, false)
		for _, m := range tp.Moves {
			timeout := map[State]time.Duration{Pending: p.PendingTimeout, Confirmed: p.ConfirmedTimeout, Cleanable: p.CleanableTimeout, Archived: p.ArchiveRetention}[m.From]
			if m.Trigger != TriggerTime || timeout <= 0 || planNow.Sub(m.Backup.StateSince()) < timeout {
				t.Fatalf("time move %+v not due (timeout %s)", m, timeout)
			}
		}

		cp := PlanCleanup(v, f, p, lvl, max)
		checkPlan(t, w, cp, lvl, true, false)
		ep := PlanEscalation(v, f, p, lvl, max)
		checkPlan(t, w, ep, lvl, true, false)
		r, ok := rowFor(lvl, p)
		for _, plan := range []Plan{cp, ep} {
			if !ok && len(plan.Moves) > 0 {
				t.Fatalf("level %q has no row but planned %d moves", lvl, len(plan.Moves))
			}
			if limit := planCap(r.limit, max); limit > 0 && plan.Backups() > limit {
				t.Fatalf("level %q max %d: %d backups, limit %d", lvl, max, plan.Backups(), limit)
			}
			for _, m := range plan.Moves {
				if wantT := map[bool]Trigger{true: TriggerDisk, false: TriggerUser}[lvl.Disk()]; m.Trigger != wantT {
					t.Fatalf("level %q: trigger %s", lvl, m.Trigger)
				}
			}
		}
		for _, m := range cp.Moves {
			if !r.states[m.Backup.State] {
				t.Fatalf("level %q moved a %s backup", lvl, m.Backup.State)
			}
			if r.threshold >= 0 && m.Confidence < r.threshold {
				t.Fatalf("level %q: confidence %v below %v", lvl, m.Confidence, r.threshold)
			}
		}

		ip := PlanIDs(v, w.ids, f, p, force)
		checkPlan(t, w, ip, "", false, force)
		for _, m := range ip.Moves {
			if m.To == Deleted && m.From.Live() && f.Coverage[m.Backup] < 1 {
				t.Fatalf("PlanIDs deleted content not fully covered: %+v", m)
			}
		}

		// determinism: again, and on the view in another order
		if again := PlanCleanup(other, f, p, lvl, max); !reflect.DeepEqual(again, cp) {
			t.Fatalf("PlanCleanup differs on a reordered view:\n%q\n%q", planMoves(cp), planMoves(again))
		}
		if again := PlanEscalation(other, f, p, lvl, max); !reflect.DeepEqual(again, ep) {
			t.Fatalf("PlanEscalation differs on a reordered view")
		}
		if again := PlanTime(other, f, p); !reflect.DeepEqual(again, tp) {
			t.Fatalf("PlanTime differs on a reordered view")
		}
		if again := PlanIDs(other, w.ids, f, p, force); !reflect.DeepEqual(again, ip) {
			t.Fatalf("PlanIDs differs on a reordered view")
		}
	})
}

// TestStateSince_matchesFold: for random logs, StateSince is the time of the
// creation or of a move into the folded state, and a move appended to the
// log resets it to that move's time.
func TestStateSince_matchesFold(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		snap := "0123456789012345678901234567890123456789"
		t0 := planNow.Add(-100 * planDay)
		evs := []gitstate.Event{{Kind: gitstate.KindCreate, Time: t0, Clock: 1, Clone: "c0", To: string(Created), ID: "x", Snapshot: snap}}
		n := rapid.IntRange(0, 12).Draw(t, "n")
		for i := range n {
			l := fmt.Sprintf("e%d.", i)
			e := gitstate.Event{
				Time:    t0.Add(time.Duration(rapid.IntRange(0, 1000).Draw(t, l+"min")) * time.Minute),
				Clock:   uint64(rapid.IntRange(1, n+2).Draw(t, l+"clock")),
				Clone:   rapid.SampledFrom([]string{"c0", "c1"}).Draw(t, l+"clone"),
				Trigger: string(rapid.SampledFrom(Triggers).Draw(t, l+"trigger")),
			}
			switch rapid.IntRange(0, 5).Draw(t, l+"kind") {
			case 0:
				e.Kind = gitstate.KindPin
			case 1:
				e.Kind = gitstate.KindUnpin
			case 2:
				e.Kind = gitstate.KindCreate // a second creation is ignored
				e.ID, e.Snapshot = "y", snap
			default:
				e.Kind = gitstate.KindMove
				e.To = string(rapid.SampledFrom(States).Draw(t, l+"to"))
				e.Forced = rapid.Bool().Draw(t, l+"forced")
			}
			evs = append(evs, e)
		}
		b := Fold(snap, evs, nil)
		since := b.StateSince()
		found := false
		for _, e := range b.Events {
			if e.Time.Equal(since) && (e.Kind == gitstate.KindCreate && b.State == Created || e.Kind == gitstate.KindMove && State(e.To) == b.State) {
				found = true
			}
		}
		if !found {
			t.Fatalf("StateSince %s is no entry into %s", since, b.State)
		}
		if len(legal[b.State]) == 0 {
			return
		}
		to := rapid.SampledFrom(legal[b.State]).Draw(t, "next")
		at := planNow.Add(-time.Duration(rapid.IntRange(0, 1000).Draw(t, "at")) * time.Minute)
		next := gitstate.Event{Kind: gitstate.KindMove, Time: at, Clock: b.NextClock(), Clone: "c0", From: string(b.State), To: string(to), Trigger: string(TriggerUser)}
		after := Fold(snap, append(b.Events, next), nil)
		if after.State != to || !after.StateSince().Equal(at) {
			t.Fatalf("after a move to %s at %s: %s since %s", to, at, after.State, after.StateSince())
		}
	})
}

func TestStateSince_withoutLog(t *testing.T) {
	created := planNow.Add(-planDay)
	if got := (&Backup{State: Pending, CreatedAt: created}).StateSince(); !got.Equal(created) {
		t.Errorf("no log, no UpdatedAt: %s", got)
	}
	if got := (&Backup{State: Pending, CreatedAt: created, UpdatedAt: planNow}).StateSince(); !got.Equal(planNow) {
		t.Errorf("no log: %s, want UpdatedAt", got)
	}
	b := planSpec{id: "a", state: Confirmed, age: 3 * planDay, inState: 5 * time.Hour}.build()
	if got := b.StateSince(); !got.Equal(planNow.Add(-5 * time.Hour)) {
		t.Errorf("folded: %s", got)
	}
}
