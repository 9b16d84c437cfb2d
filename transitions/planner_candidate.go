package transitions

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// planCandidate is a backup with the facts one plan decides on.
type planCandidate struct {
	b        *Backup
	age      time.Duration // since created
	inState  time.Duration // since it entered its current state
	cov      float64       // in [0,1]; 0 when not measured
	measured bool          // cov was measured
	conf     float64       // confidence, with the boost when there is one, at most 1
	rawConf  float64       // confidence without the boost
	boost    float64
	verified bool // a verified archive exists
}

// covered reports full coverage: deleting the backup loses nothing.
func (c planCandidate) covered() bool { return c.cov >= 1 }

// evaluate gathers a backup's facts. boost is added to its confidence
// (capped at 1.0) at disk levels.
func (f PlanFacts) evaluate(b *Backup, p Policy, boost float64) planCandidate {
	c := planCandidate{b: b, age: f.Now.Sub(b.CreatedAt), inState: f.Now.Sub(b.StateSince()), boost: boost}
	if v, ok := f.Coverage[b]; ok && !math.IsNaN(v) && v >= 0 {
		c.cov, c.measured = min(v, 1), true
	}
	c.rawConf, _ = Confidence(b, Facts{Now: f.Now, Coverage: c.cov, LastAccess: f.LastAccess[b.ID]}, p)
	c.conf = round3(clamp01(c.rawConf + boost))
	c.verified = f.ArchiveVerified[b.ID]
	return c
}

// automaticExclusion says why no automatic trigger may clean c: a damaged
// log, a pin, or an age below backup.minAge. ok is true when none applies.
func automaticExclusion(c planCandidate, p Policy) (SkipWhy, string, bool) {
	switch {
	case len(c.b.Damaged) > 0 || c.b.ID == "":
		return SkipDamaged, "its event log is damaged (git backup fsck)", false
	case c.b.Pinned:
		return SkipPinned, "pinned: never cleaned automatically", false
	case c.age < p.MinAge:
		return SkipMinAge, fmt.Sprintf("%s old, younger than minAge %s: nothing younger is cleaned", roundDuration(c.age), FormatDuration(p.MinAge)), false
	}
	return "", "", true
}

// oldestFirst orders backups oldest first, IDs breaking ties: the deterministic
// order plans walk a view in.
func oldestFirst(bs []*Backup) []*Backup {
	out := slices.Clone(bs)
	slices.SortStableFunc(out, func(a, b *Backup) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID), strings.Compare(a.Snapshot, b.Snapshot))
	})
	return out
}

// Strategies are the values of backup.cleanupStrategy.
const (
	StrategyOldestFirst     = "oldest_first"
	StrategyLargestFirst    = "largest_first"
	StrategyConfidenceBased = "confidence_based"
)

// orderCandidates sorts candidates by backup.cleanupStrategy (oldest_first when
// unknown); age, then ID, break ties so the order is total.
func orderCandidates(cs []planCandidate, strategy string) {
	slices.SortStableFunc(cs, func(a, b planCandidate) int {
		var k int
		switch strategy {
		case StrategyLargestFirst:
			k = cmp.Compare(b.b.SizeBytes, a.b.SizeBytes)
		case StrategyConfidenceBased:
			k = cmp.Compare(b.conf, a.conf)
		}
		return cmp.Or(k, a.b.CreatedAt.Compare(b.b.CreatedAt), strings.Compare(a.b.ID, b.b.ID), strings.Compare(a.b.Snapshot, b.b.Snapshot))
	})
}

// cleanRule is how a live backup leaves the git dir.
type cleanRule int

const (
	// ruleCompress (time policies, warning, critical, the user's IDs):
	// archive when compressBeforeDelete or not fully covered, else delete.
	ruleCompress cleanRule = iota
	// ruleEmergency: delete what is fully covered, archive the rest (SPEC §7:
	// archive first when not fully covered; §4: never delete it below nuclear).
	ruleEmergency
	// ruleNuclear: like ruleEmergency, but content not fully covered is
	// deleted without an archive unless compressBeforeDelete.
	ruleNuclear
)

// cleanTarget decides ARCHIVED or DELETED for a live backup, and says why. A live
// backup that already has a verified archive is always archived.
func cleanTarget(c planCandidate, rule cleanRule, p Policy) (State, Action, string) {
	cov := "covered " + floorPercent(c.cov)
	if !c.measured {
		cov = "coverage not measured"
	}
	switch {
	case c.verified:
		return Archived, ActionArchive, cov + ", a verified archive exists: archive"
	case !c.covered() && (rule != ruleNuclear || p.CompressBeforeDelete):
		return Archived, ActionArchive, cov + ": archive (not fully covered)"
	case !c.covered():
		return Deleted, ActionDelete, cov + ": delete without an archive (nuclear, compressBeforeDelete off)"
	case rule == ruleCompress && p.CompressBeforeDelete:
		return Archived, ActionArchive, cov + ": archive (compressBeforeDelete)"
	}
	return Deleted, ActionDelete, cov + ": delete"
}

// floorPercent prints a share rounded down, so 0.999 never reads as 100%.
func floorPercent(x float64) string {
	return fmt.Sprintf("%d%%", int(math.Floor(x*100+1e-9)))
}

// planMove builds one planned move of c's backup.
func planMove(c planCandidate, from, to State, a Action, t Trigger, reason string) PlannedMove {
	m := PlannedMove{Backup: c.b, ID: c.b.ID, From: from, To: to, Action: a, Trigger: t,
		Forced: !IsLegal(from, to), Reason: reason, Confidence: c.conf}
	if c.measured {
		m.Coverage = ptr(round3(c.cov))
	}
	if m.Forced {
		m.Reason += fmt.Sprintf(" (forced: %s → %s is outside the lifecycle)", from, to)
	}
	return m
}

// cleanMoves takes a backup out of the git dir (or removes its archive):
// PENDING and CONFIRMED are promoted to CLEANABLE first, CLEANABLE is archived
// or deleted by rule, CREATED goes straight to ARCHIVED or DELETED (forced),
// ARCHIVED to DELETED. why prefixes every move's reason.
func cleanMoves(c planCandidate, rule cleanRule, p Policy, f PlanFacts, t Trigger, why string) []PlannedMove {
	from := c.b.State
	var ms []PlannedMove
	switch from {
	case Archived:
		m := planMove(c, Archived, Deleted, ActionDelete, t, why+": delete the archive")
		m.FreesBytes = f.ArchiveBytes[c.b.ID]
		return []PlannedMove{m}
	case Pending, Confirmed:
		ms = append(ms, planMove(c, from, Cleanable, ActionPromote, t, why+": promote to CLEANABLE to clean it"))
		from = Cleanable
	case Cleanable, Created:
	default:
		return nil
	}
	to, a, how := cleanTarget(c, rule, p)
	m := planMove(c, from, to, a, t, why+", "+how)
	m.FreesBytes = c.b.SizeBytes
	return append(ms, m)
}

// confidenceNote prints the confidence compared with a threshold (none when
// negative), and the boost when there is one.
func confidenceNote(c planCandidate, threshold float64) string {
	s := fmt.Sprintf("confidence %.2f", c.conf)
	if c.boost > 0 {
		s += fmt.Sprintf(" (%.2f + disk boost %.2f, at most 1)", c.rawConf, c.boost)
	}
	if threshold >= 0 {
		op := "≥"
		if c.conf < threshold {
			op = "<"
		}
		s += fmt.Sprintf(" %s %.2f", op, threshold)
	}
	return s
}
