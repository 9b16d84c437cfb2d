package transitions

import (
	"strings"
	"testing"
	"time"
)

func idsView() planFixture {
	return newPlanFixture(
		planSpec{id: "20260501-cleanable", state: Cleanable, age: 9 * planDay, size: 10, cov: 1},
		planSpec{id: "20260502-partial", state: Cleanable, age: 8 * planDay, size: 10, cov: 0.5},
		planSpec{id: "20260503-confirmed", state: Confirmed, age: 7 * planDay, size: 10, cov: 1},
		planSpec{id: "20260504-pending", state: Pending, age: 6 * planDay, size: 10, cov: 0.2},
		planSpec{id: "20260505-created", state: Created, age: 5 * planDay, size: 10, cov: 0},
		planSpec{id: "20260506-archived", state: Archived, age: 40 * planDay, size: 10, cov: 0},
		planSpec{id: "20260507-deleted", state: Deleted, age: 40 * planDay, size: 10, cov: 1},
		planSpec{id: "20260508-pinned", state: Cleanable, age: 9 * planDay, size: 10, cov: 1, pinned: true},
		planSpec{id: "20260509-young", state: Cleanable, age: 10 * time.Minute, size: 10, cov: 1},
	)
}

// TestPlanIDs_userChoice: the user's IDs in their order, whatever their
// confidence; what cannot be cleaned is skipped with the reason.
func TestPlanIDs_userChoice(t *testing.T) {
	all := []string{"20260506", "20260501-cleanable", "20260502", "20260503", "20260504", "20260505", "20260507", "20260508", "20260509", "nope", "2026050", "20260501-cleanable"}
	cases := []struct {
		name     string
		force    bool
		compress bool
		moves    []string
		skips    []string
	}{
		{name: "without force", compress: false,
			moves: []string{"20260506-archived ARCHIVED>DELETED delete", "20260501-cleanable CLEANABLE>DELETED delete",
				"20260502-partial CLEANABLE>ARCHIVED archive",
				"20260503-confirmed CONFIRMED>CLEANABLE promote", "20260503-confirmed CLEANABLE>DELETED delete",
				"20260504-pending PENDING>CLEANABLE promote", "20260504-pending CLEANABLE>ARCHIVED archive"},
			skips: []string{"20260505-created state", "20260507-deleted state", "20260508-pinned pinned", "20260509-young min_age", "nope unknown", "2026050 unknown"}},
		{name: "with force: pinned and CREATED too, never what is younger than minAge nor uncovered content deleted", force: true, compress: false,
			moves: []string{"20260506-archived ARCHIVED>DELETED delete", "20260501-cleanable CLEANABLE>DELETED delete",
				"20260502-partial CLEANABLE>ARCHIVED archive",
				"20260503-confirmed CONFIRMED>CLEANABLE promote", "20260503-confirmed CLEANABLE>DELETED delete",
				"20260504-pending PENDING>CLEANABLE promote", "20260504-pending CLEANABLE>ARCHIVED archive",
				"20260505-created CREATED>ARCHIVED archive!", "20260508-pinned CLEANABLE>DELETED delete"},
			skips: []string{"20260507-deleted state", "20260509-young min_age", "nope unknown", "2026050 unknown"}},
		{name: "compressBeforeDelete archives what is covered", compress: true,
			moves: []string{"20260506-archived ARCHIVED>DELETED delete", "20260501-cleanable CLEANABLE>ARCHIVED archive",
				"20260502-partial CLEANABLE>ARCHIVED archive",
				"20260503-confirmed CONFIRMED>CLEANABLE promote", "20260503-confirmed CLEANABLE>ARCHIVED archive",
				"20260504-pending PENDING>CLEANABLE promote", "20260504-pending CLEANABLE>ARCHIVED archive"},
			skips: []string{"20260505-created state", "20260507-deleted state", "20260508-pinned pinned", "20260509-young min_age", "nope unknown", "2026050 unknown"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := idsView()
			p := DefaultPolicy()
			p.CompressBeforeDelete = tc.compress
			plan := PlanIDs(fx.v, all, fx.f, p, tc.force)
			samePlanLines(t, "moves", planMoves(plan), tc.moves)
			samePlanLines(t, "skipped", planSkips(plan), tc.skips)
			for _, m := range plan.Moves {
				if m.Trigger != TriggerUser || !strings.HasPrefix(m.Reason, "asked for: ") {
					t.Errorf("move %+v", m)
				}
				if m.ID == "20260508-pinned" && (m.Forced || !strings.Contains(m.Reason, "pinned (--force)")) {
					t.Errorf("pinned move %+v", m)
				}
			}
		})
	}
}

func TestPlanIDs_damagedNeedsForce(t *testing.T) {
	fx := idsView()
	fx.v.ByID("20260501-cleanable").Damaged = []string{"unreadable event at line 2"}
	ids := []string{"20260501-cleanable"}
	if plan := PlanIDs(fx.v, ids, fx.f, DefaultPolicy(), false); len(plan.Moves) != 0 || planSkips(plan)[0] != "20260501-cleanable damaged" {
		t.Errorf("without force: %q %q", planMoves(plan), planSkips(plan))
	}
	if plan := PlanIDs(fx.v, ids, fx.f, DefaultPolicy(), true); len(plan.Moves) != 1 {
		t.Errorf("with force: %q %q", planMoves(plan), planSkips(plan))
	}
}

func TestPlanIDs_latest(t *testing.T) {
	fx := idsView()
	plan := PlanIDs(fx.v, []string{"latest"}, fx.f, DefaultPolicy(), false)
	samePlanLines(t, "skipped", planSkips(plan), []string{"20260509-young min_age"})
}
