package transitions

import (
	"strings"
	"testing"
	"time"
)

// TestPlanTime_policies has a case for every time policy of SPEC §6, its
// boundary, and what keeps a due backup where it is.
func TestPlanTime_policies(t *testing.T) {
	cases := []struct {
		name   string
		specs  []planSpec
		policy func(*Policy)
		moves  []string
		skips  []string
	}{
		{name: "PENDING for pendingTimeout becomes CLEANABLE, counted from when it became PENDING",
			specs: []planSpec{
				{id: "due", state: Pending, age: 10 * planDay, inState: 8 * planDay, size: 1, cov: 0.5},
				{id: "old-but-recent", state: Pending, age: 20 * planDay, inState: 6 * planDay, size: 1, cov: 0.5},
			},
			moves: []string{"due PENDING>CLEANABLE promote"}},
		{name: "CONFIRMED for confirmedTimeout becomes CLEANABLE",
			specs: []planSpec{
				{id: "due", state: Confirmed, age: 3 * planDay, inState: 25 * time.Hour, size: 1, cov: 1},
				{id: "recent", state: Confirmed, age: 5 * planDay, inState: 23 * time.Hour, size: 1, cov: 1},
			},
			moves: []string{"due CONFIRMED>CLEANABLE promote"}},
		{name: "CLEANABLE for cleanableTimeout is archived while compressBeforeDelete",
			specs: []planSpec{
				{id: "covered", state: Cleanable, age: 9 * planDay, inState: 4 * planDay, size: 1, cov: 1},
				{id: "partial", state: Cleanable, age: 8 * planDay, inState: 4 * planDay, size: 1, cov: 0.5},
				{id: "recent", state: Cleanable, age: 9 * planDay, inState: 2 * planDay, size: 1, cov: 1},
			},
			moves: []string{"covered CLEANABLE>ARCHIVED archive", "partial CLEANABLE>ARCHIVED archive"}},
		{name: "CLEANABLE for cleanableTimeout is deleted when covered and compressBeforeDelete is off, else archived",
			policy: func(p *Policy) { p.CompressBeforeDelete = false },
			specs: []planSpec{
				{id: "covered", state: Cleanable, age: 9 * planDay, inState: 4 * planDay, size: 1, cov: 1},
				{id: "partial", state: Cleanable, age: 8 * planDay, inState: 4 * planDay, size: 1, cov: 0.999},
				{id: "unmeasured", state: Cleanable, age: 7 * planDay, inState: 4 * planDay, size: 1, cov: -1},
				{id: "has-archive", state: Cleanable, age: 6 * planDay, inState: 4 * planDay, size: 1, cov: 1, verified: true},
			},
			moves: []string{"covered CLEANABLE>DELETED delete", "partial CLEANABLE>ARCHIVED archive",
				"unmeasured CLEANABLE>ARCHIVED archive", "has-archive CLEANABLE>ARCHIVED archive"}},
		{name: "ARCHIVED for archiveRetention is deleted",
			specs: []planSpec{
				{id: "due", state: Archived, age: 40 * planDay, inState: 31 * planDay, size: 1, cov: 0},
				{id: "recent", state: Archived, age: 40 * planDay, inState: 29 * planDay, size: 1, cov: 0},
			},
			moves: []string{"due ARCHIVED>DELETED delete"}},
		{name: "a timeout reached exactly is due",
			specs: []planSpec{
				{id: "p", state: Pending, age: 7 * planDay, size: 1, cov: 0},
				{id: "c", state: Confirmed, age: 2 * planDay, inState: planDay, size: 1, cov: 0},
			},
			moves: []string{"p PENDING>CLEANABLE promote", "c CONFIRMED>CLEANABLE promote"}},
		{name: "a timeout of 0 is off",
			policy: func(p *Policy) {
				p.PendingTimeout, p.ConfirmedTimeout, p.CleanableTimeout, p.ArchiveRetention = 0, 0, 0, 0
			},
			specs: []planSpec{
				{id: "p", state: Pending, age: 700 * planDay, size: 1, cov: 1},
				{id: "c", state: Confirmed, age: 700 * planDay, size: 1, cov: 1},
				{id: "cl", state: Cleanable, age: 700 * planDay, size: 1, cov: 1},
				{id: "a", state: Archived, age: 700 * planDay, size: 1, cov: 1},
			}},
		{name: "CREATED and DELETED never time out",
			specs: []planSpec{
				{id: "cr", state: Created, age: 700 * planDay, size: 1, cov: 1},
				{id: "del", state: Deleted, age: 700 * planDay, size: 1, cov: 1},
			}},
		{name: "pinned and younger than minAge are skipped when due",
			policy: func(p *Policy) { p.MinAge = 2 * planDay },
			specs: []planSpec{
				{id: "pinned", state: Confirmed, age: 3 * planDay, size: 1, cov: 1, pinned: true},
				{id: "young", state: Confirmed, age: 36 * time.Hour, size: 1, cov: 1},
				{id: "pinned-not-due", state: Confirmed, age: 3 * planDay, inState: time.Hour, size: 1, cov: 1, pinned: true},
				{id: "ok", state: Confirmed, age: 50 * time.Hour, size: 1, cov: 1},
			},
			moves: []string{"ok CONFIRMED>CLEANABLE promote"},
			skips: []string{"pinned pinned", "young min_age"}},
		{name: "one step per plan, oldest first",
			specs: []planSpec{
				{id: "b", state: Pending, age: 30 * planDay, size: 1, cov: 1},
				{id: "a", state: Confirmed, age: 30 * planDay, size: 1, cov: 1},
				{id: "c", state: Cleanable, age: 40 * planDay, size: 1, cov: 1},
			},
			moves: []string{"c CLEANABLE>ARCHIVED archive", "a CONFIRMED>CLEANABLE promote", "b PENDING>CLEANABLE promote"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newPlanFixture(tc.specs...)
			p := DefaultPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			plan := PlanTime(fx.v, fx.f, p)
			samePlanLines(t, "moves", planMoves(plan), tc.moves)
			samePlanLines(t, "skipped", planSkips(plan), tc.skips)
			if plan.Trigger != TriggerTime || plan.Title != "time policies" {
				t.Errorf("plan trigger %q title %q", plan.Trigger, plan.Title)
			}
			for _, m := range plan.Moves {
				if m.Trigger != TriggerTime || m.Forced {
					t.Errorf("move %+v", m)
				}
			}
		})
	}
}

func TestPlanTime_reasonsNameTheTimeout(t *testing.T) {
	fx := newPlanFixture(
		planSpec{id: "p", state: Pending, age: 10 * planDay, inState: 8 * planDay, size: 1, cov: 0},
		planSpec{id: "cl", state: Cleanable, age: 9 * planDay, inState: 4 * planDay, size: 3000, cov: 0.5},
		planSpec{id: "a", state: Archived, age: 40 * planDay, inState: 31 * planDay, size: 3000, cov: 0},
	)
	plan := PlanTime(fx.v, fx.f, DefaultPolicy())
	want := []string{
		"ARCHIVED for 31d ≥ archiveRetention 30d: delete the archive",
		"PENDING for 8d ≥ pendingTimeout 7d: never merged, CLEANABLE",
		"CLEANABLE for 4d ≥ cleanableTimeout 3d, covered 50%: archive (not fully covered)",
	}
	var got []string
	for _, m := range plan.Moves {
		got = append(got, m.Reason)
	}
	samePlanLines(t, "reasons", got, want)
	if plan.Moves[0].FreesBytes != 1500 || plan.Moves[1].FreesBytes != 0 || plan.Moves[2].FreesBytes != 3000 {
		t.Errorf("frees %d %d %d", plan.Moves[0].FreesBytes, plan.Moves[1].FreesBytes, plan.Moves[2].FreesBytes)
	}
}

func TestPlanTime_damagedLogIsSkipped(t *testing.T) {
	fx := newPlanFixture(planSpec{id: "d", state: Confirmed, age: 3 * planDay, size: 1, cov: 1})
	fx.v.Backups[0].Damaged = []string{"unreadable event at line 3"}
	plan := PlanTime(fx.v, fx.f, DefaultPolicy())
	samePlanLines(t, "moves", planMoves(plan), nil)
	samePlanLines(t, "skipped", planSkips(plan), []string{"d damaged"})
	if !strings.Contains(plan.Skipped[0].Reason, "fsck") {
		t.Errorf("reason %q", plan.Skipped[0].Reason)
	}
}
