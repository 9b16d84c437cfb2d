package transitions

import (
	"fmt"
	"slices"
)

// The emergency strategies, values of backup.emergencyStrategy.
const (
	EmergencyConservative = "conservative"
	EmergencyAggressive   = "aggressive"
	EmergencyNuclear      = "nuclear"
)

// Fixed figures of SPEC §7's table.
const (
	warningConfidence      = 0.85
	criticalConfidence     = 0.70
	conservativeConfidence = 0.75
	warningLimit           = 5
	archiveDiskLimit       = 10
)

// levelRow is one row of SPEC §7's table, as it applies under a policy.
type levelRow struct {
	name      string // in reasons: "warning", "moderate", "emergency (aggressive)"
	states    map[State]bool
	threshold float64 // confidence needed; negative: none
	limit     int     // backups per plan; 0: none
	rule      cleanRule
	strategy  string
	trigger   Trigger
	boost     float64
	emergency bool // which escalation applies: emergency's, else critical's
}

// rowFor maps a level to its row. gentle is warning, moderate is critical,
// aggressive and nuclear are emergency with that strategy; the emergency disk
// level follows backup.emergencyStrategy (conservative when unknown).
// Aggressive cleans what critical does plus PENDING, at
// emergencyConfidenceOverride (0.50 by default).
func rowFor(lvl Level, p Policy) (levelRow, bool) {
	r := levelRow{name: string(lvl), strategy: p.CleanupStrategy, trigger: TriggerUser}
	if lvl.Disk() {
		r.trigger, r.boost = TriggerDisk, p.DiskPressureConfidenceBoost
	}
	strategy := ""
	switch lvl {
	case LevelWarning, LevelGentle:
		r.states, r.threshold, r.limit, r.rule = stateSet(Cleanable), warningConfidence, warningLimit, ruleCompress
		return r, true
	case LevelCritical, LevelModerate:
		r.states, r.threshold, r.limit, r.rule = stateSet(Cleanable, Confirmed), criticalConfidence, positiveOr(p.MaxCleanupPerCycle, DefaultPolicy().MaxCleanupPerCycle), ruleCompress
		return r, true
	case LevelArchive:
		r.states, r.threshold, r.limit, r.strategy, r.boost = stateSet(Archived), -1, archiveDiskLimit, StrategyOldestFirst, 0
		r.name = "archive disk"
		return r, true
	case LevelEmergency:
		strategy = p.EmergencyStrategy
	case LevelAggressive:
		strategy = EmergencyAggressive
	case LevelNuclear:
		strategy = EmergencyNuclear
	default:
		return r, false
	}
	r.emergency = true
	switch strategy {
	case EmergencyAggressive:
		r.states, r.threshold, r.limit, r.rule = stateSet(Cleanable, Confirmed, Pending), p.EmergencyConfidenceOverride, positiveOr(p.EmergencyCleanupLimit, DefaultPolicy().EmergencyCleanupLimit), ruleEmergency
	case EmergencyNuclear:
		r.states, r.threshold, r.limit, r.rule = stateSet(Created, Pending, Confirmed, Cleanable, Archived), -1, 0, ruleNuclear
	default:
		strategy = EmergencyConservative
		r.states, r.threshold, r.limit, r.rule = stateSet(Cleanable), conservativeConfidence, positiveOr(p.MaxCleanupPerCycle, DefaultPolicy().MaxCleanupPerCycle), ruleEmergency
	}
	if lvl == LevelEmergency {
		r.name = "emergency (" + strategy + ")"
	}
	return r, true
}

func stateSet(ss ...State) map[State]bool {
	m := map[State]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}

func positiveOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// planCap combines a row's limit with the caller's max; 0 means none.
func planCap(limit, max int) int {
	switch {
	case max > 0 && (limit <= 0 || max < limit):
		return max
	case limit > 0:
		return limit
	}
	return 0
}

// PlanCleanup plans a cleanup at a level, per SPEC §7's table:
//
//   - warning, gentle: CLEANABLE with confidence ≥ 0.85, at most 5;
//   - critical, moderate: CLEANABLE and CONFIRMED, ≥ 0.70, at most
//     maxCleanupPerCycle;
//   - emergency by emergencyStrategy: conservative (CLEANABLE, ≥ 0.75,
//     maxCleanupPerCycle), aggressive (CLEANABLE, CONFIRMED and PENDING,
//     ≥ emergencyConfidenceOverride, emergencyCleanupLimit), nuclear (every
//     state, no threshold, no limit); aggressive and nuclear are also user levels;
//   - archive (the archive file system at critical or above): the oldest
//     ARCHIVED → DELETED, at most 10.
//
// At disk levels confidence includes diskPressureConfidenceBoost, capped at
// 1.0, and moves carry the disk trigger; user levels carry the user trigger.
// Candidates are ordered by cleanupStrategy; max > 0 caps the number of
// backups further. PENDING and CONFIRMED backups are promoted to CLEANABLE,
// then cleaned: two moves. A CLEANABLE backup is archived when it is not fully
// covered (or has a verified archive); fully covered ones are archived at
// warning and critical when compressBeforeDelete, and deleted at emergency.
// Only nuclear deletes content not fully covered, and only when
// compressBeforeDelete is off; it moves CREATED backups (forced), and takes
// the moves that destroy content found nowhere else (an archive of content
// not fully covered, or such content deleted without an archive) after all
// the others, each group in strategy order. Pinned backups, backups younger
// than minAge and damaged logs are never in the plan. An unknown level, or
// LevelOK, gives an empty plan.
func PlanCleanup(v *View, f PlanFacts, p Policy, lvl Level, max int) Plan {
	r, ok := rowFor(lvl, p)
	plan := Plan{Level: lvl, Trigger: r.trigger, Title: planTitle("cleanup", lvl, f, p)}
	if !ok {
		return plan
	}
	var cs []planCandidate
	for _, b := range oldestFirst(v.Backups) {
		if !r.states[b.State] {
			continue
		}
		c := f.evaluate(b, p, r.boost)
		if why, reason, ok := automaticExclusion(c, p); !ok {
			plan.skip(b, why, reason)
			continue
		}
		if r.threshold >= 0 && c.conf < r.threshold {
			plan.skip(b, SkipThreshold, fmt.Sprintf("%s: %s", r.name, confidenceNote(c, r.threshold)))
			continue
		}
		cs = append(cs, c)
	}
	orderCandidates(cs, r.strategy)
	if r.rule == ruleNuclear {
		// what loses content goes last: the monitor may stop before it
		slices.SortStableFunc(cs, func(a, b planCandidate) int {
			la, lb := losesContent(a, p), losesContent(b, p)
			switch {
			case la == lb:
				return 0
			case lb:
				return -1
			}
			return 1
		})
	}
	limit := planCap(r.limit, max)
	for i, c := range cs {
		if limit > 0 && i >= limit {
			plan.skip(c.b, SkipLimit, fmt.Sprintf("%s: limit of %d backups reached", r.name, limit))
			continue
		}
		why := fmt.Sprintf("%s: %s, %s old", r.name, c.b.State, roundDuration(c.age))
		if r.threshold >= 0 {
			why += ", " + confidenceNote(c, r.threshold)
		}
		plan.Moves = append(plan.Moves, cleanMoves(c, r.rule, p, f, r.trigger, why)...)
	}
	return plan
}

// planTitle names a plan for the audit log, with the usage behind a disk level.
func planTitle(what string, lvl Level, f PlanFacts, p Policy) string {
	switch lvl {
	case LevelWarning, LevelCritical, LevelEmergency:
		return fmt.Sprintf("%s at disk level %s (git dir %.0f%% used)", what, lvl, f.Disk.UsedPercent(p))
	case LevelArchive:
		return fmt.Sprintf("%s at archive disk level (%.0f%% used)", what, f.Disk.ArchiveUsed)
	}
	return fmt.Sprintf("%s at level %s", what, lvl)
}

// losesContent reports whether cleaning c at the nuclear level destroys
// content that exists nowhere else: an archive of a backup not fully covered,
// or such a live backup deleted without an archive.
func losesContent(c planCandidate, p Policy) bool {
	if c.b.State == Archived {
		return !c.covered()
	}
	return !c.covered() && !c.verified && !p.CompressBeforeDelete
}
