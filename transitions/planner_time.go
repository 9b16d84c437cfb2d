package transitions

import (
	"fmt"
	"time"
)

// PlanTime applies the time policies of SPEC §6, each counted from when the
// backup entered its state (StateSince) and due once that long has passed:
//
//   - PENDING for pendingTimeout (never merged) → CLEANABLE;
//   - CONFIRMED for confirmedTimeout → CLEANABLE;
//   - CLEANABLE for cleanableTimeout → ARCHIVED when compressBeforeDelete or
//     not fully covered (or a verified archive exists), else DELETED;
//   - ARCHIVED for archiveRetention → DELETED.
//
// A timeout of 0 turns its policy off. A due backup that is pinned, younger
// than minAge (since created) or whose log is damaged is skipped; CREATED
// backups never time out. Each backup moves one step per plan, oldest first.
// The moves carry the time trigger.
func PlanTime(v *View, f PlanFacts, p Policy) Plan {
	plan := Plan{Trigger: TriggerTime, Title: "time policies"}
	for _, b := range oldestFirst(v.Backups) {
		var timeout time.Duration
		var key string
		switch b.State {
		case Pending:
			timeout, key = p.PendingTimeout, "pendingTimeout"
		case Confirmed:
			timeout, key = p.ConfirmedTimeout, "confirmedTimeout"
		case Cleanable:
			timeout, key = p.CleanableTimeout, "cleanableTimeout"
		case Archived:
			timeout, key = p.ArchiveRetention, "archiveRetention"
		default:
			continue
		}
		c := f.evaluate(b, p, 0)
		if timeout <= 0 || c.inState < timeout {
			continue
		}
		if why, reason, ok := automaticExclusion(c, p); !ok {
			plan.skip(b, why, reason)
			continue
		}
		why := fmt.Sprintf("%s for %s ≥ %s %s", b.State, roundDuration(c.inState), key, FormatDuration(timeout))
		switch b.State {
		case Pending:
			plan.Moves = append(plan.Moves, planMove(c, Pending, Cleanable, ActionPromote, TriggerTime, why+": never merged, CLEANABLE"))
		case Confirmed:
			plan.Moves = append(plan.Moves, planMove(c, Confirmed, Cleanable, ActionPromote, TriggerTime, why+": CLEANABLE"))
		default:
			plan.Moves = append(plan.Moves, cleanMoves(c, ruleCompress, p, f, TriggerTime, why)...)
		}
	}
	return plan
}
