package transitions

import "fmt"

// PlanIDs plans `cleanup ID…`: the user's explicit choice, in the order
// given. Each ID may be a unique prefix or "latest" (View.Resolve); a backup
// named twice is planned once. Moves carry the user trigger and no confidence
// threshold applies: each move reports its confidence, for the command to
// ask again when it is below autoCleanupConfidence.
//
// An ARCHIVED backup is deleted (its archive goes); a CLEANABLE one is
// archived when compressBeforeDelete or not fully covered (or a verified
// archive exists), else deleted; PENDING and CONFIRMED ones are promoted to
// CLEANABLE first. Content not fully covered is never deleted directly, even
// with force. Without force, pinned backups, CREATED ones (their changes are in
// no commit) and damaged logs are skipped; with force a CREATED backup goes
// straight to ARCHIVED or DELETED, marked forced. Nothing younger than minAge
// is cleaned, force or not; DELETED and unknown backups are skipped.
func PlanIDs(v *View, ids []string, f PlanFacts, p Policy, force bool) Plan {
	plan := Plan{Trigger: TriggerUser, Title: fmt.Sprintf("cleanup of %d backup(s)", len(ids))}
	for _, n := range named(v, ids) {
		if n.unknown != nil {
			plan.Skipped = append(plan.Skipped, *n.unknown)
			continue
		}
		b := n.b
		c := f.evaluate(b, p, 0)
		switch {
		case b.State == Deleted || b.State == "":
			plan.skip(b, SkipState, "already DELETED: its content is gone")
			continue
		case !force && (len(b.Damaged) > 0 || b.ID == ""):
			plan.skip(b, SkipDamaged, "its event log is damaged (git backup fsck; --force to clean it anyway)")
			continue
		case !force && b.Pinned:
			plan.skip(b, SkipPinned, "pinned (git backup unpin ID first, or --force)")
			continue
		case c.age < p.MinAge:
			plan.skip(b, SkipMinAge, fmt.Sprintf("%s old, younger than minAge %s: nothing younger is cleaned", roundDuration(c.age), FormatDuration(p.MinAge)))
			continue
		case !force && b.State == Created:
			plan.skip(b, SkipState, "CREATED: its changes are in no commit yet (--force archives it)")
			continue
		}
		why := fmt.Sprintf("asked for: %s, %s old, %s", b.State, roundDuration(c.age), confidenceNote(c, -1))
		if b.Pinned {
			why += ", pinned (--force)"
		}
		plan.Moves = append(plan.Moves, cleanMoves(c, ruleCompress, p, f, TriggerUser, why)...)
	}
	return plan
}

// namedBackup is one name the user gave: the backup, or why there is none.
type namedBackup struct {
	b       *Backup
	unknown *Skip
}

// named resolves the IDs the user gave (full IDs, unique prefixes, "latest")
// in the order given, each backup once; a name that resolves to nothing
// carries its skip, so plans list skips in the order of the names.
func named(v *View, ids []string) []namedBackup {
	out := make([]namedBackup, 0, len(ids))
	seen := map[*Backup]bool{}
	for _, id := range ids {
		b, err := v.Resolve(id)
		switch {
		case err != nil:
			out = append(out, namedBackup{unknown: &Skip{ID: id, Why: SkipUnknown, Reason: err.Error()}})
		case !seen[b]:
			seen[b] = true
			out = append(out, namedBackup{b: b})
		}
	}
	return out
}
