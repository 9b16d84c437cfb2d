package transitions

import (
	"fmt"
	"time"
)

// How long a backup must have been in its state before the escalation
// phase moves it (SPEC §7: "older than 1 day", "older than 2 days").
const (
	escalateConfirmedAfter = 24 * time.Hour
	escalatePendingAfter   = 48 * time.Hour
	escalateCreatedAfter   = 24 * time.Hour
)

// PlanEscalation is the second phase of a disk level, for the monitor to ask
// for when the first plan did not bring usage under the level's target:
//
//   - still critical (or moderate): CONFIRMED backups in that state for at
//     least 1 day → CLEANABLE;
//   - still emergency (or aggressive, nuclear; any emergencyStrategy):
//     PENDING backups in that state for at least 2 days → CLEANABLE, and
//     CREATED backups at least 1 day old → ARCHIVED, forced, never deleted.
//
// No confidence threshold applies. Candidates are ordered by cleanupStrategy
// and capped by the level's limit and max (> 0), like PlanCleanup. Pinned
// backups, backups younger than minAge and damaged logs are never in it.
// Other levels give an empty plan.
func PlanEscalation(v *View, f PlanFacts, p Policy, lvl Level, max int) Plan {
	r, ok := rowFor(lvl, p)
	plan := Plan{Level: lvl, Trigger: r.trigger, Title: planTitle("escalation", lvl, f, p)}
	after := map[State]time.Duration{}
	switch {
	case !ok:
		return plan
	case r.emergency:
		after[Pending], after[Created] = escalatePendingAfter, escalateCreatedAfter
	case lvl == LevelCritical || lvl == LevelModerate:
		after[Confirmed] = escalateConfirmedAfter
	default:
		return plan
	}
	still := "still " + r.name
	var cs []planCandidate
	for _, b := range oldestFirst(v.Backups) {
		d, ok := after[b.State]
		if !ok {
			continue
		}
		c := f.evaluate(b, p, r.boost)
		if c.inState < d {
			continue
		}
		if why, reason, ok := automaticExclusion(c, p); !ok {
			plan.skip(b, why, reason)
			continue
		}
		cs = append(cs, c)
	}
	orderCandidates(cs, r.strategy)
	limit := planCap(r.limit, max)
	for i, c := range cs {
		if limit > 0 && i >= limit {
			plan.skip(c.b, SkipLimit, fmt.Sprintf("%s: limit of %d backups reached", still, limit))
			continue
		}
		why := fmt.Sprintf("%s: %s for %s ≥ %s", still, c.b.State, roundDuration(c.inState), FormatDuration(after[c.b.State]))
		if c.b.State == Created {
			m := planMove(c, Created, Archived, ActionArchive, r.trigger, why+": archive")
			m.FreesBytes = c.b.SizeBytes
			plan.Moves = append(plan.Moves, m)
			continue
		}
		plan.Moves = append(plan.Moves, planMove(c, c.b.State, Cleanable, ActionPromote, r.trigger, why+": promote to CLEANABLE"))
	}
	return plan
}
