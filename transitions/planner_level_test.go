package transitions

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// levelView has a backup of every kind the disk table tells apart. Old,
// small, never accessed backups have confidence 0.4 + 0.6 × coverage; the
// name says the confidence without the disk boost (0.2 by default).
func levelView() planFixture {
	return newPlanFixture(
		planSpec{id: "del", state: Deleted, age: 13 * planDay, size: 10, cov: 1},
		planSpec{id: "ar", state: Archived, age: 12 * planDay, size: 400, cov: 0.5},
		planSpec{id: "pinned", state: Cleanable, age: 11 * planDay, size: 10, cov: 1, pinned: true},
		planSpec{id: "cl-100", state: Cleanable, age: 10 * planDay, size: 10, cov: 1},
		planSpec{id: "cl-88", state: Cleanable, age: 9 * planDay, size: 10, cov: 0.8},
		planSpec{id: "cl-76", state: Cleanable, age: 8 * planDay, size: 10, cov: 0.6},
		planSpec{id: "cl-70", state: Cleanable, age: 7 * planDay, size: 10, cov: 0.5},
		planSpec{id: "cl-55", state: Cleanable, age: 6 * planDay, size: 10, cov: 0.25},
		planSpec{id: "cf-100", state: Confirmed, age: 5 * planDay, size: 10, cov: 1},
		planSpec{id: "cf-64", state: Confirmed, age: 108 * time.Hour, size: 10, cov: 0.4},
		planSpec{id: "pe-52", state: Pending, age: 4 * planDay, size: 10, cov: 0.2},
		planSpec{id: "pe-40", state: Pending, age: 84 * time.Hour, size: 10, cov: 0},
		planSpec{id: "cr", state: Created, age: 3 * planDay, size: 10, cov: 0},
		planSpec{id: "young", state: Cleanable, age: 30 * time.Minute, size: 10, cov: 1},
	)
}

// TestPlanCleanup_specTable has a case for every row of SPEC §7's disk table
// and every user level.
func TestPlanCleanup_specTable(t *testing.T) {
	excluded := []string{"pinned pinned", "young min_age"}
	cases := []struct {
		name    string
		lvl     Level
		policy  func(*Policy)
		trigger Trigger
		moves   []string
		skips   []string
	}{
		{name: "warning: CLEANABLE at ≥ 0.85 with the boost", lvl: LevelWarning, trigger: TriggerDisk,
			moves: []string{"cl-100 CLEANABLE>ARCHIVED archive", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive", "cl-70 CLEANABLE>ARCHIVED archive"},
			skips: []string{"pinned pinned", "cl-55 threshold", "young min_age"}},
		{name: "warning without compressBeforeDelete deletes what is covered", lvl: LevelWarning, trigger: TriggerDisk,
			policy: func(p *Policy) { p.CompressBeforeDelete = false },
			moves:  []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive", "cl-70 CLEANABLE>ARCHIVED archive"},
			skips:  []string{"pinned pinned", "cl-55 threshold", "young min_age"}},
		{name: "gentle: the warning row without the boost", lvl: LevelGentle, trigger: TriggerUser,
			moves: []string{"cl-100 CLEANABLE>ARCHIVED archive", "cl-88 CLEANABLE>ARCHIVED archive"},
			skips: []string{"pinned pinned", "cl-76 threshold", "cl-70 threshold", "cl-55 threshold", "young min_age"}},
		{name: "critical: CLEANABLE and CONFIRMED at ≥ 0.70 with the boost, CONFIRMED promoted then cleaned", lvl: LevelCritical, trigger: TriggerDisk,
			moves: []string{"cl-100 CLEANABLE>ARCHIVED archive", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive",
				"cl-70 CLEANABLE>ARCHIVED archive", "cl-55 CLEANABLE>ARCHIVED archive",
				"cf-100 CONFIRMED>CLEANABLE promote", "cf-100 CLEANABLE>ARCHIVED archive",
				"cf-64 CONFIRMED>CLEANABLE promote", "cf-64 CLEANABLE>ARCHIVED archive"},
			skips: excluded},
		{name: "moderate: the critical row without the boost; 0.70 itself passes", lvl: LevelModerate, trigger: TriggerUser,
			policy: func(p *Policy) { p.CompressBeforeDelete = false },
			moves: []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive",
				"cl-70 CLEANABLE>ARCHIVED archive", "cf-100 CONFIRMED>CLEANABLE promote", "cf-100 CLEANABLE>DELETED delete"},
			skips: []string{"pinned pinned", "cl-55 threshold", "cf-64 threshold", "young min_age"}},
		{name: "emergency conservative: CLEANABLE at ≥ 0.75, covered deleted, the rest archived", lvl: LevelEmergency, trigger: TriggerDisk,
			policy: func(p *Policy) { p.EmergencyStrategy = EmergencyConservative },
			moves: []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive",
				"cl-70 CLEANABLE>ARCHIVED archive", "cl-55 CLEANABLE>ARCHIVED archive"},
			skips: excluded},
		{name: "emergency conservative with a lower boost", lvl: LevelEmergency, trigger: TriggerDisk,
			policy: func(p *Policy) { p.EmergencyStrategy, p.DiskPressureConfidenceBoost = EmergencyConservative, 0.1 },
			moves:  []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive", "cl-70 CLEANABLE>ARCHIVED archive"},
			skips:  []string{"pinned pinned", "cl-55 threshold", "young min_age"}},
		{name: "emergency aggressive: adds PENDING at ≥ 0.50", lvl: LevelEmergency, trigger: TriggerDisk,
			moves: []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive",
				"cl-70 CLEANABLE>ARCHIVED archive", "cl-55 CLEANABLE>ARCHIVED archive",
				"cf-100 CONFIRMED>CLEANABLE promote", "cf-100 CLEANABLE>DELETED delete",
				"cf-64 CONFIRMED>CLEANABLE promote", "cf-64 CLEANABLE>ARCHIVED archive",
				"pe-52 PENDING>CLEANABLE promote", "pe-52 CLEANABLE>ARCHIVED archive",
				"pe-40 PENDING>CLEANABLE promote", "pe-40 CLEANABLE>ARCHIVED archive"},
			skips: excluded},
		{name: "aggressive: the emergency aggressive row without the boost", lvl: LevelAggressive, trigger: TriggerUser,
			policy: func(p *Policy) { p.EmergencyStrategy = EmergencyConservative }, // the user level does not read it
			moves: []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive", "cl-76 CLEANABLE>ARCHIVED archive",
				"cl-70 CLEANABLE>ARCHIVED archive", "cl-55 CLEANABLE>ARCHIVED archive",
				"cf-100 CONFIRMED>CLEANABLE promote", "cf-100 CLEANABLE>DELETED delete",
				"cf-64 CONFIRMED>CLEANABLE promote", "cf-64 CLEANABLE>ARCHIVED archive",
				"pe-52 PENDING>CLEANABLE promote", "pe-52 CLEANABLE>ARCHIVED archive"},
			skips: []string{"pinned pinned", "pe-40 threshold", "young min_age"}},
		{name: "aggressive reads emergencyConfidenceOverride", lvl: LevelAggressive, trigger: TriggerUser,
			policy: func(p *Policy) { p.EmergencyConfidenceOverride = 0.8 },
			moves: []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive",
				"cf-100 CONFIRMED>CLEANABLE promote", "cf-100 CLEANABLE>DELETED delete"},
			skips: []string{"pinned pinned", "cl-76 threshold", "cl-70 threshold", "cl-55 threshold", "cf-64 threshold", "pe-52 threshold", "pe-40 threshold", "young min_age"}},
		{name: "emergency nuclear: every state, archives what is not covered while compressBeforeDelete, the last copy deleted last", lvl: LevelEmergency, trigger: TriggerDisk,
			policy: func(p *Policy) { p.EmergencyStrategy = EmergencyNuclear },
			moves: []string{"cl-100 CLEANABLE>DELETED delete", "cl-88 CLEANABLE>ARCHIVED archive",
				"cl-76 CLEANABLE>ARCHIVED archive", "cl-70 CLEANABLE>ARCHIVED archive", "cl-55 CLEANABLE>ARCHIVED archive",
				"cf-100 CONFIRMED>CLEANABLE promote", "cf-100 CLEANABLE>DELETED delete",
				"cf-64 CONFIRMED>CLEANABLE promote", "cf-64 CLEANABLE>ARCHIVED archive",
				"pe-52 PENDING>CLEANABLE promote", "pe-52 CLEANABLE>ARCHIVED archive",
				"pe-40 PENDING>CLEANABLE promote", "pe-40 CLEANABLE>ARCHIVED archive",
				"cr CREATED>ARCHIVED archive!", "ar ARCHIVED>DELETED delete"},
			skips: excluded},
		{name: "nuclear without compressBeforeDelete deletes everything old enough, what is covered first", lvl: LevelNuclear, trigger: TriggerUser,
			policy: func(p *Policy) { p.CompressBeforeDelete = false },
			moves: []string{"cl-100 CLEANABLE>DELETED delete", "cf-100 CONFIRMED>CLEANABLE promote", "cf-100 CLEANABLE>DELETED delete",
				"ar ARCHIVED>DELETED delete", "cl-88 CLEANABLE>DELETED delete",
				"cl-76 CLEANABLE>DELETED delete", "cl-70 CLEANABLE>DELETED delete", "cl-55 CLEANABLE>DELETED delete",
				"cf-64 CONFIRMED>CLEANABLE promote", "cf-64 CLEANABLE>DELETED delete",
				"pe-52 PENDING>CLEANABLE promote", "pe-52 CLEANABLE>DELETED delete",
				"pe-40 PENDING>CLEANABLE promote", "pe-40 CLEANABLE>DELETED delete",
				"cr CREATED>DELETED delete!"},
			skips: excluded},
		{name: "archive disk: ARCHIVED → DELETED", lvl: LevelArchive, trigger: TriggerDisk,
			moves: []string{"ar ARCHIVED>DELETED delete"}},
		{name: "ok: nothing", lvl: LevelOK},
		{name: "unknown level: nothing", lvl: "extreme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := levelView()
			p := DefaultPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			plan := PlanCleanup(fx.v, fx.f, p, tc.lvl, 0)
			samePlanLines(t, "moves", planMoves(plan), tc.moves)
			samePlanLines(t, "skipped", planSkips(plan), tc.skips)
			if plan.Level != tc.lvl || len(plan.Moves) > 0 && plan.Trigger != tc.trigger {
				t.Errorf("plan level %q trigger %q, want %q %q", plan.Level, plan.Trigger, tc.lvl, tc.trigger)
			}
			for _, m := range plan.Moves {
				if m.Trigger != tc.trigger || m.Reason == "" || m.Backup == nil || m.ID != m.Backup.ID {
					t.Errorf("move %+v", m)
				}
			}
		})
	}
}

// TestPlanCleanup_emergencyArchivesFirst: at the emergency level content that
// is not fully covered is archived, never deleted, whatever compressBeforeDelete
// says; only nuclear deletes it, and only with compressBeforeDelete off.
func TestPlanCleanup_emergencyArchivesFirst(t *testing.T) {
	fx := newPlanFixture(
		planSpec{id: "partial", state: Cleanable, age: 3 * planDay, size: 10, cov: 0.99},
		planSpec{id: "unmeasured", state: Cleanable, age: 2 * planDay, size: 10, cov: -1},
	)
	for _, strategy := range []string{EmergencyConservative, EmergencyAggressive, EmergencyNuclear} {
		for _, compress := range []bool{true, false} {
			p := DefaultPolicy()
			p.EmergencyStrategy, p.CompressBeforeDelete, p.DiskPressureConfidenceBoost = strategy, compress, 1
			plan := PlanCleanup(fx.v, fx.f, p, LevelEmergency, 0)
			want := []string{"partial CLEANABLE>ARCHIVED archive", "unmeasured CLEANABLE>ARCHIVED archive"}
			if strategy == EmergencyNuclear && !compress {
				want = []string{"partial CLEANABLE>DELETED delete", "unmeasured CLEANABLE>DELETED delete"}
			}
			samePlanLines(t, fmt.Sprintf("%s compress=%v", strategy, compress), planMoves(plan), want)
			for _, m := range plan.Moves {
				if m.To == Archived && !strings.Contains(m.Reason, "not fully covered") {
					t.Errorf("reason %q does not say why it is archived", m.Reason)
				}
				if m.To == Deleted && !strings.Contains(m.Reason, "without an archive") {
					t.Errorf("reason %q does not warn of deletion without an archive", m.Reason)
				}
			}
			if len(plan.Moves) == 2 && (plan.Moves[0].Coverage == nil || *plan.Moves[0].Coverage != 0.99 || plan.Moves[1].Coverage != nil) {
				t.Errorf("coverage used: %v, %v", plan.Moves[0].Coverage, plan.Moves[1].Coverage)
			}
		}
	}
}

// TestPlanCleanup_verifiedArchiveIsReused: a live backup that already has a
// verified archive is archived, even when it could be deleted.
func TestPlanCleanup_verifiedArchiveIsReused(t *testing.T) {
	fx := newPlanFixture(planSpec{id: "a", state: Cleanable, age: 3 * planDay, size: 10, cov: 1, verified: true})
	p := DefaultPolicy()
	p.CompressBeforeDelete = false
	for _, lvl := range []Level{LevelGentle, LevelEmergency, LevelNuclear} {
		plan := PlanCleanup(fx.v, fx.f, p, lvl, 0)
		samePlanLines(t, string(lvl), planMoves(plan), []string{"a CLEANABLE>ARCHIVED archive"})
		if !strings.Contains(plan.Moves[0].Reason, "verified archive exists") {
			t.Errorf("reason %q", plan.Moves[0].Reason)
		}
	}
}

// TestPlanCleanup_archiveDiskDeletesOldestTen: the archive row takes the
// oldest ARCHIVED backups, ten at most, whatever the strategy, and counts the
// archive files' sizes as freed.
func TestPlanCleanup_archiveDiskDeletesOldestTen(t *testing.T) {
	var specs []planSpec
	for i := range 12 {
		// the largest are the youngest: largest_first would pick others
		specs = append(specs, planSpec{id: fmt.Sprintf("ar%02d", i), state: Archived, age: time.Duration(20-i) * planDay, size: int64(100 * (i + 1)), cov: 0.5})
	}
	specs = append(specs, planSpec{id: "pinned", state: Archived, age: 30 * planDay, size: 10, pinned: true, cov: 1})
	fx := newPlanFixture(specs...)
	p := DefaultPolicy()
	p.CleanupStrategy = StrategyLargestFirst
	plan := PlanCleanup(fx.v, fx.f, p, LevelArchive, 0)
	var want []string
	var frees int64
	for i := range 10 {
		want = append(want, fmt.Sprintf("ar%02d ARCHIVED>DELETED delete", i))
		frees += int64(100*(i+1)) / 2
	}
	samePlanLines(t, "moves", planMoves(plan), want)
	samePlanLines(t, "skipped", planSkips(plan), []string{"pinned pinned", "ar10 limit", "ar11 limit"})
	if plan.FreesBytes() != frees {
		t.Errorf("frees %d, want %d (the archives' sizes)", plan.FreesBytes(), frees)
	}
	if got := planMoves(PlanCleanup(fx.v, fx.f, p, LevelArchive, 3)); len(got) != 3 {
		t.Errorf("max 3: %q", got)
	}
}

// TestPlanCleanup_limits: each row's limit, and max on top of it.
func TestPlanCleanup_limits(t *testing.T) {
	var specs []planSpec
	for i := range 60 {
		specs = append(specs, planSpec{id: fmt.Sprintf("b%02d", i), state: Cleanable, age: time.Duration(100-i) * planDay, size: 10, cov: 1})
	}
	fx := newPlanFixture(specs...)
	p := DefaultPolicy()
	p.MaxCleanupPerCycle, p.EmergencyCleanupLimit = 7, 40
	cases := []struct {
		lvl      Level
		strategy string
		max      int
		want     int
	}{
		{LevelWarning, "", 0, 5},
		{LevelGentle, "", 0, 5},
		{LevelGentle, "", 3, 3},
		{LevelGentle, "", 9, 5},
		{LevelCritical, "", 0, 7},
		{LevelModerate, "", 2, 2},
		{LevelEmergency, EmergencyConservative, 0, 7},
		{LevelEmergency, EmergencyAggressive, 0, 40},
		{LevelEmergency, EmergencyAggressive, 45, 40},
		{LevelAggressive, "", 12, 12},
		{LevelEmergency, EmergencyNuclear, 0, 60},
		{LevelNuclear, "", 0, 60},
		{LevelNuclear, "", 25, 25},
	}
	for _, tc := range cases {
		pp := p
		if tc.strategy != "" {
			pp.EmergencyStrategy = tc.strategy
		}
		plan := PlanCleanup(fx.v, fx.f, pp, tc.lvl, tc.max)
		limited := 0
		for _, s := range plan.Skipped {
			if s.Why == SkipLimit {
				limited++
			}
		}
		if plan.Backups() != tc.want || limited != 60-tc.want {
			t.Errorf("%s %s max %d: %d backups, %d skipped for the limit; want %d", tc.lvl, tc.strategy, tc.max, plan.Backups(), limited, tc.want)
		}
		if len(plan.Moves) > 0 && plan.Moves[0].ID != "b00" {
			t.Errorf("%s: first %s, want the oldest", tc.lvl, plan.Moves[0].ID)
		}
	}
}

// TestPlanCleanup_boostIsCapped: the disk boost never lifts confidence above
// 1.0, and reasons show it.
func TestPlanCleanup_boostIsCapped(t *testing.T) {
	fx := newPlanFixture(
		planSpec{id: "full", state: Cleanable, age: 3 * planDay, size: 10, cov: 1},
		planSpec{id: "half", state: Cleanable, age: 2 * planDay, size: 10, cov: 0.5},
	)
	p := DefaultPolicy()
	p.DiskPressureConfidenceBoost = 0.9
	plan := PlanCleanup(fx.v, fx.f, p, LevelWarning, 0)
	if len(plan.Moves) != 2 {
		t.Fatalf("moves %q", planMoves(plan))
	}
	for _, m := range plan.Moves {
		if m.Confidence != 1 {
			t.Errorf("%s confidence %v, want capped at 1", m.ID, m.Confidence)
		}
		if !strings.Contains(m.Reason, "disk boost 0.90") {
			t.Errorf("reason %q does not show the boost", m.Reason)
		}
	}
	if !strings.Contains(plan.Moves[1].Reason, "confidence 1.00 (0.70 + disk boost 0.90, at most 1) ≥ 0.85") {
		t.Errorf("reason %q", plan.Moves[1].Reason)
	}
	// user levels get no boost
	if plan := PlanCleanup(fx.v, fx.f, p, LevelGentle, 0); len(plan.Moves) != 1 || plan.Moves[0].Confidence != 1 || strings.Contains(plan.Moves[0].Reason, "boost") {
		t.Errorf("gentle: %q %+v", planMoves(plan), plan.Moves)
	}
}

// TestPlanCleanup_strategies: candidates ordered by cleanupStrategy, IDs
// breaking ties.
func TestPlanCleanup_strategies(t *testing.T) {
	fx := newPlanFixture(
		planSpec{id: "old-small-low", state: Cleanable, age: 9 * planDay, size: 10, cov: 0.5},
		planSpec{id: "mid-big-high", state: Cleanable, age: 5 * planDay, size: 900, cov: 1},
		planSpec{id: "new-mid-mid", state: Cleanable, age: 2 * planDay, size: 500, cov: 0.75},
		planSpec{id: "tie-b", state: Cleanable, age: 4 * planDay, size: 500, cov: 0.75},
		planSpec{id: "tie-a", state: Cleanable, age: 4 * planDay, size: 500, cov: 0.75},
	)
	cases := map[string][]string{
		StrategyOldestFirst:     {"old-small-low", "mid-big-high", "tie-a", "tie-b", "new-mid-mid"},
		StrategyLargestFirst:    {"mid-big-high", "tie-a", "tie-b", "new-mid-mid", "old-small-low"},
		StrategyConfidenceBased: {"mid-big-high", "tie-a", "tie-b", "new-mid-mid", "old-small-low"},
		"unknown":               {"old-small-low", "mid-big-high", "tie-a", "tie-b", "new-mid-mid"},
	}
	for strategy, want := range cases {
		p := DefaultPolicy()
		p.CleanupStrategy = strategy
		plan := PlanCleanup(fx.v, fx.f, p, LevelEmergency, 0)
		var got []string
		for _, m := range plan.Moves {
			got = append(got, m.ID)
		}
		samePlanLines(t, strategy, got, want)
		// the limit keeps the first ones in that order
		plan = PlanCleanup(fx.v, fx.f, p, LevelEmergency, 2)
		if len(plan.Moves) != 2 || plan.Moves[0].ID != want[0] || plan.Moves[1].ID != want[1] {
			t.Errorf("%s max 2: %q", strategy, planMoves(plan))
		}
	}
	// confidence_based compares the capped confidence: with the boost
	// uncapped, the tie-* ones (0.85 + 0.2) would pass mid-big-high (1.0).
	// Without a boost a huge size lowers confidence, and young age does too.
	p := DefaultPolicy()
	p.CleanupStrategy, p.HugeThreshold = StrategyConfidenceBased, 800
	plan := PlanCleanup(fx.v, fx.f, p, LevelNuclear, 0)
	var confs []string
	for _, m := range plan.Moves {
		confs = append(confs, fmt.Sprintf("%s %.2f", m.ID, m.Confidence))
	}
	samePlanLines(t, "nuclear by confidence", confs, []string{"mid-big-high 0.90", "tie-a 0.85", "tie-b 0.85", "new-mid-mid 0.85", "old-small-low 0.70"})
}

// TestPlanCleanup_reasonsExplain: each move says which row, how old, what
// confidence against what threshold, coverage and the action.
func TestPlanCleanup_reasonsExplain(t *testing.T) {
	fx := newPlanFixture(planSpec{id: "a", state: Confirmed, age: 3 * planDay, size: 2048, cov: 1})
	p := DefaultPolicy()
	p.CompressBeforeDelete = false
	plan := PlanCleanup(fx.v, fx.f, p, LevelModerate, 0)
	want := []string{
		"moderate: CONFIRMED, 3d old, confidence 1.00 ≥ 0.70: promote to CLEANABLE to clean it",
		"moderate: CONFIRMED, 3d old, confidence 1.00 ≥ 0.70, covered 100%: delete",
	}
	var got []string
	for _, m := range plan.Moves {
		got = append(got, m.Reason)
	}
	samePlanLines(t, "reasons", got, want)
	if plan.Moves[1].FreesBytes != 2048 || plan.Title != "cleanup at level moderate" {
		t.Errorf("frees %d, title %q", plan.Moves[1].FreesBytes, plan.Title)
	}
	fx.f.Disk = DiskFacts{GitDirUsed: 87.4}
	if got := PlanCleanup(fx.v, fx.f, p, LevelCritical, 0).Title; got != "cleanup at disk level critical (git dir 87% used)" {
		t.Errorf("title %q", got)
	}
}
