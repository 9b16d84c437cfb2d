package transitions

import (
	"fmt"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// Level is how far a cleanup may reach: a level the user asks for (gentle,
// moderate, aggressive, nuclear) or a row of SPEC §7's disk table that the
// monitor measured (warning, critical, emergency, and archive for the archive
// file system at critical or above).
type Level string

// The user levels, mildest first. Each maps to a row of SPEC §7's table:
// gentle is warning, moderate is critical, aggressive and nuclear are
// emergency with that emergencyStrategy.
const (
	LevelGentle     Level = "gentle"
	LevelModerate   Level = "moderate"
	LevelAggressive Level = "aggressive"
	LevelNuclear    Level = "nuclear"
)

// The disk levels. LevelOK is below every threshold; LevelArchive is the
// archive file system at or above the critical threshold.
const (
	LevelOK        Level = "ok"
	LevelWarning   Level = "warning"
	LevelCritical  Level = "critical"
	LevelEmergency Level = "emergency"
	LevelArchive   Level = "archive"
)

// UserLevels lists the levels `cleanup --level` accepts, mildest first.
var UserLevels = []Level{LevelGentle, LevelModerate, LevelAggressive, LevelNuclear}

// ParseLevel accepts a user level in any case.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToLower(strings.TrimSpace(s)))
	for _, u := range UserLevels {
		if u == l {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown level %q (one of gentle, moderate, aggressive, nuclear)", s)
}

// Disk reports whether l was measured on disk rather than asked for by the
// user: disk levels add backup.diskPressureConfidenceBoost to confidence and
// their moves carry the disk trigger.
func (l Level) Disk() bool {
	return l == LevelWarning || l == LevelCritical || l == LevelEmergency || l == LevelArchive
}

// Action is what the coordinator does to carry out a move.
type Action string

// The actions. A backup that must be kept but leave the git dir is archived;
// its deletion, if any, is a later move of the ARCHIVED backup (archive
// retention, archive disk pressure, or the user), never part of the same move.
const (
	ActionPromote Action = "promote" // → CLEANABLE; frees nothing by itself
	ActionArchive Action = "archive" // → ARCHIVED: write and verify the archive, then drop the snapshot ref
	ActionDelete  Action = "delete"  // → DELETED: drop the snapshot ref, or remove the archive of an ARCHIVED backup
)

// PlanFacts are what the caller measured for the planner. The planner reads
// nothing else, so the same facts always give the same plan.
type PlanFacts struct {
	Now time.Time
	// Coverage is each backup's measured coverage in [0,1] (SPEC §4). A
	// backup missing from the map, or with a negative or NaN value, counts as
	// covered 0: unknown is treated as uncovered.
	Coverage map[*Backup]float64
	// LastAccess is when each backup (by ID) was last shown, diffed or restored.
	LastAccess map[string]time.Time
	// ArchiveVerified says a verified archive of the backup (by ID) exists.
	// A live backup that has one is archived (the coordinator reuses the
	// archive) rather than deleted.
	ArchiveVerified map[string]bool
	// ArchiveBytes is the size of an ARCHIVED backup's archive file, by ID,
	// when known: what deleting it frees.
	ArchiveBytes map[string]int64
	// Disk is the measured disk usage; zero when the plan is not disk-driven.
	// The planner uses it only in plan titles; the level decides.
	Disk DiskFacts
}

// PlannedMove is one state change of one backup. A backup that needs two
// (a CONFIRMED one promoted to CLEANABLE, then archived) has two moves, in
// order.
type PlannedMove struct {
	Backup  *Backup `json:"-"`
	ID      string  `json:"id"`
	From    State   `json:"from"`
	To      State   `json:"to"`
	Action  Action  `json:"action"`
	Trigger Trigger `json:"trigger"`
	// Forced marks a move outside the legal table (IsLegal is false).
	Forced bool   `json:"forced"`
	Reason string `json:"reason"`
	// FreesBytes is an estimate of the bytes the move frees: the backup's
	// size_bytes (bytes changed vs its base, what its snapshot ref alone keeps
	// alive) for a live snapshot archived or deleted; for an ARCHIVED backup
	// deleted, its archive's size from PlanFacts.ArchiveBytes, or 0 when
	// unknown; 0 for a promotion. An archive written by the move takes some
	// space on the archive file system; its size is unknown until written and
	// is not subtracted. The bytes really freed are measured after reclaim.
	FreesBytes int64 `json:"frees_bytes"`
	// Confidence is the confidence the decision compared, with the disk
	// pressure boost at disk levels.
	Confidence float64 `json:"confidence"`
	// Coverage is the measured coverage the decision used; nil when it was
	// not measured (and counted as 0).
	Coverage *float64 `json:"coverage"`
}

// Events returns the event the coordinator appends to the backup's log for
// this move: kind, from, to, trigger, reason, forced and the coverage used.
// Time, clock and clone are filled in when the batch is committed; the
// coordinator adds the archive path to a move to ARCHIVED once the archive is
// verified.
func (m PlannedMove) Events() []gitstate.Event {
	e := gitstate.Event{Kind: gitstate.KindMove, From: string(m.From), To: string(m.To),
		Trigger: string(m.Trigger), Reason: m.Reason, Forced: m.Forced}
	if m.Coverage != nil {
		e.Coverage = ptr(*m.Coverage)
	}
	return []gitstate.Event{e}
}

// SkipWhy classifies why a backup that could have been a candidate was left out.
type SkipWhy string

// The reasons a candidate is skipped.
const (
	SkipPinned    SkipWhy = "pinned"
	SkipMinAge    SkipWhy = "min_age"   // younger than backup.minAge
	SkipThreshold SkipWhy = "threshold" // confidence below the level's threshold
	SkipLimit     SkipWhy = "limit"     // the level's limit or --max was reached
	SkipDamaged   SkipWhy = "damaged"   // its event log is damaged (see fsck)
	SkipState     SkipWhy = "state"     // its state cannot be cleaned this way
	SkipUnknown   SkipWhy = "unknown"   // no such backup (PlanIDs)
	SkipArchive   SkipWhy = "archive"   // its archive cannot hold it faithfully (see the reason)
)

// Skip is a candidate left out of a plan, with the reason.
type Skip struct {
	Backup *Backup `json:"-"`
	ID     string  `json:"id"`
	State  State   `json:"state"`
	Why    SkipWhy `json:"why"`
	Reason string  `json:"reason"`
}

// Plan is the planner's answer: ordered moves, and the candidates it left out.
type Plan struct {
	Level   Level         `json:"level,omitempty"`
	Trigger Trigger       `json:"trigger"`
	Title   string        `json:"title"` // one line, for the audit log's commit message
	Moves   []PlannedMove `json:"moves"`
	Skipped []Skip        `json:"skipped"`
}

// Backups counts the distinct backups the plan moves.
func (p Plan) Backups() int {
	n := 0
	for i, m := range p.Moves {
		if i == 0 || p.Moves[i-1].Backup != m.Backup {
			n++
		}
	}
	return n
}

// FreesBytes is the sum of the moves' estimates.
func (p Plan) FreesBytes() int64 {
	var n int64
	for _, m := range p.Moves {
		n += m.FreesBytes
	}
	return n
}

func (p *Plan) skip(b *Backup, why SkipWhy, reason string) {
	p.Skipped = append(p.Skipped, Skip{Backup: b, ID: b.ID, State: b.State, Why: why, Reason: reason})
}
