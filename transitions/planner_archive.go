package transitions

import "fmt"

// PlanArchive plans `archive ID…`: each named backup moves to ARCHIVED now,
// with the user trigger. A CLEANABLE backup is archived as the lifecycle
// allows; a CREATED, PENDING or CONFIRMED one only with force, and the move
// is marked forced. A pinned backup needs force too. Archiving keeps the
// content (in a verified archive), so minAge does not apply. ARCHIVED,
// DELETED, damaged and unknown backups are skipped. IDs may be unique
// prefixes or "latest"; a backup named twice is planned once.
func PlanArchive(v *View, ids []string, f PlanFacts, p Policy, force bool) Plan {
	plan := Plan{Trigger: TriggerUser, Title: fmt.Sprintf("archive of %d backup(s)", len(ids))}
	for _, n := range named(v, ids) {
		if n.unknown != nil {
			plan.Skipped = append(plan.Skipped, *n.unknown)
			continue
		}
		b := n.b
		switch {
		case b.State == Archived:
			plan.skip(b, SkipState, "already ARCHIVED at "+deref(b.Archive))
			continue
		case !b.Live():
			plan.skip(b, SkipState, "DELETED: its content is gone")
			continue
		case len(b.Damaged) > 0 || b.ID == "":
			plan.skip(b, SkipDamaged, "its event log is damaged (git backup fsck)")
			continue
		case !force && b.Pinned:
			plan.skip(b, SkipPinned, "pinned (git backup unpin ID first, or --force)")
			continue
		case !force && b.State != Cleanable:
			plan.skip(b, SkipState, fmt.Sprintf("%s: only CLEANABLE backups are archived without --force", b.State))
			continue
		}
		c := f.evaluate(b, p, 0)
		why := fmt.Sprintf("asked for: %s, %s old, %s", b.State, roundDuration(c.age), confidenceNote(c, -1))
		m := planMove(c, b.State, Archived, ActionArchive, TriggerUser, why+": archive")
		m.FreesBytes = b.SizeBytes
		plan.Moves = append(plan.Moves, m)
	}
	return plan
}
