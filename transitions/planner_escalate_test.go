package transitions

import (
	"strings"
	"testing"
	"time"
)

func escalationView() planFixture {
	return newPlanFixture(
		planSpec{id: "cf-25h", state: Confirmed, age: 5 * planDay, inState: 25 * time.Hour, size: 1, cov: 0},
		planSpec{id: "cf-23h", state: Confirmed, age: 5 * planDay, inState: 23 * time.Hour, size: 1, cov: 0},
		planSpec{id: "cf-pinned", state: Confirmed, age: 5 * planDay, size: 1, cov: 1, pinned: true},
		planSpec{id: "pe-3d", state: Pending, age: 4 * planDay, inState: 3 * planDay, size: 1, cov: 0},
		planSpec{id: "pe-47h", state: Pending, age: 4 * planDay, inState: 47 * time.Hour, size: 1, cov: 0},
		planSpec{id: "cr-25h", state: Created, age: 25 * time.Hour, size: 700, cov: 1},
		planSpec{id: "cr-23h", state: Created, age: 23 * time.Hour, size: 1, cov: 0},
		planSpec{id: "cl", state: Cleanable, age: 9 * planDay, size: 1, cov: 1},
	)
}

// TestPlanEscalation_levels: "if still critical" promotes CONFIRMED older than
// 1 day; "if still emergency" forces PENDING older than 2 days to CLEANABLE
// and archives CREATED older than 1 day, at every emergency strategy.
func TestPlanEscalation_levels(t *testing.T) {
	critical := []string{"cf-25h CONFIRMED>CLEANABLE promote"}
	emergency := []string{"pe-3d PENDING>CLEANABLE promote", "cr-25h CREATED>ARCHIVED archive!"}
	cases := []struct {
		lvl      Level
		strategy string
		trigger  Trigger
		moves    []string
		skips    []string
	}{
		{LevelCritical, "", TriggerDisk, critical, []string{"cf-pinned pinned"}},
		{LevelModerate, "", TriggerUser, critical, []string{"cf-pinned pinned"}},
		{LevelEmergency, EmergencyConservative, TriggerDisk, emergency, nil},
		{LevelEmergency, EmergencyAggressive, TriggerDisk, emergency, nil},
		{LevelEmergency, EmergencyNuclear, TriggerDisk, emergency, nil},
		{LevelAggressive, "", TriggerUser, emergency, nil},
		{LevelNuclear, "", TriggerUser, emergency, nil},
		{LevelWarning, "", TriggerDisk, nil, nil},
		{LevelGentle, "", TriggerUser, nil, nil},
		{LevelArchive, "", TriggerDisk, nil, nil},
		{LevelOK, "", "", nil, nil},
	}
	for _, tc := range cases {
		fx := escalationView()
		p := DefaultPolicy()
		if tc.strategy != "" {
			p.EmergencyStrategy = tc.strategy
		}
		plan := PlanEscalation(fx.v, fx.f, p, tc.lvl, 0)
		name := string(tc.lvl) + " " + tc.strategy
		samePlanLines(t, name+" moves", planMoves(plan), tc.moves)
		samePlanLines(t, name+" skipped", planSkips(plan), tc.skips)
		for _, m := range plan.Moves {
			if m.Trigger != tc.trigger || !strings.HasPrefix(m.Reason, "still ") {
				t.Errorf("%s: move %+v", name, m)
			}
			if m.To == Archived && (m.FreesBytes != 700 || !strings.Contains(m.Reason, "forced")) {
				t.Errorf("%s: archive move %+v", name, m)
			}
		}
	}
}

// TestPlanEscalation_minAgeAndMax: even an escalation leaves alone what is
// younger than minAge, and max caps it.
func TestPlanEscalation_minAgeAndMax(t *testing.T) {
	fx := escalationView()
	p := DefaultPolicy()
	p.MinAge = 30 * time.Hour
	plan := PlanEscalation(fx.v, fx.f, p, LevelEmergency, 0)
	samePlanLines(t, "moves", planMoves(plan), []string{"pe-3d PENDING>CLEANABLE promote"})
	samePlanLines(t, "skipped", planSkips(plan), []string{"cr-25h min_age"})

	plan = PlanEscalation(fx.v, fx.f, DefaultPolicy(), LevelEmergency, 1)
	samePlanLines(t, "max 1", planMoves(plan), []string{"pe-3d PENDING>CLEANABLE promote"})
	samePlanLines(t, "max 1 skipped", planSkips(plan), []string{"cr-25h limit"})

	p = DefaultPolicy()
	p.CleanupStrategy = StrategyLargestFirst
	plan = PlanEscalation(fx.v, fx.f, p, LevelEmergency, 1)
	samePlanLines(t, "largest first, max 1", planMoves(plan), []string{"cr-25h CREATED>ARCHIVED archive!"})
}
