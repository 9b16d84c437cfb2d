package transitions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// ErrUncoveredDelete is returned (wrapped, and matching ErrRefused) when a
// plan would delete a live backup whose content is not fully covered and not
// archived, below the nuclear level.
var ErrUncoveredDelete = fmt.Errorf("%w: deleting content that is not fully covered and not archived happens only at the nuclear level", ErrRefused)

// Apply carries out a confirmed plan, keeping the crash-safety invariant at
// every step: each archive is written to a temporary file, synced, verified
// and renamed into place (archive.Write) before one compare-and-swap commit
// records every move of the batch and drops the snapshot refs of the backups
// that leave the git dir. Archive files of backups moved from ARCHIVED to
// DELETED are removed only after that commit.
//
// After a lost race Apply plans again on the fresh view (ApplyOptions.Replan)
// and keeps only the moves the confirmed plan had; confirmed moves that no
// longer apply are dropped and listed. An archive already in place that
// verifies for the same snapshot is reused. When the commit fails, or a move
// to ARCHIVED is no longer in the committed batch, the archives this run
// wrote for backups that are not ARCHIVED are removed: the state is untouched
// and no file is left. A move that would delete a live backup not fully
// covered is refused (ErrUncoveredDelete) unless the plan is nuclear.
func (s *Store) Apply(ctx context.Context, confirmed Plan, o ApplyOptions) (ApplyResult, error) {
	res := ApplyResult{Plan: confirmed, Moves: []PlannedMove{}, Archives: []ArchiveWritten{}, RemovedArchives: []string{}, Dropped: []Skip{}, Warnings: []string{}}
	if len(confirmed.Moves) == 0 {
		return res, nil
	}
	a := &applier{ctx: ctx, s: s, o: o, confirmed: confirmed, dir: o.archiveDir(s), arch: o.Archiver,
		written: map[string]ArchiveWritten{}, ours: map[string]string{}}
	if a.arch == nil {
		a.arch = archive.New()
		defer a.arch.Close()
	}
	level := o.Level
	if level == "" {
		l, err := archive.ParseLevel(s.Policy.CompressionLevel)
		if err != nil {
			return res, fmt.Errorf("apply %s: %w", confirmed.Title, err)
		}
		level = l
	}
	a.level = level
	// One writer of archives at a time: two would write the same file.
	unlock, err := s.Repo.LockHeavy(ctx)
	if err != nil {
		return res, fmt.Errorf("apply %s: %w", confirmed.Title, err)
	}
	defer unlock()
	_, batch, err := s.Update(ctx, a.decide)
	if err != nil {
		a.rollback(context.WithoutCancel(ctx))
		return res, err
	}
	res.Plan, res.Dropped = a.plan, a.dropped
	if res.Dropped == nil {
		res.Dropped = []Skip{}
	}
	if res.Plan.Skipped == nil {
		res.Plan.Skipped = []Skip{}
	}
	if batch == nil || len(batch.Changes) == 0 {
		res.Plan.Moves = []PlannedMove{}
		a.removeUnused(nil)
		return res, nil
	}
	res.Moves = a.plan.Moves
	archived := map[string]bool{}
	for _, m := range res.Moves {
		res.FreesBytes += m.FreesBytes
		if m.To == Archived {
			archived[m.ID] = true
			res.Archives = append(res.Archives, a.written[m.ID])
		}
	}
	a.removeUnused(archived)
	o.report(ApplyProgress{Phase: "commit", Done: int64(len(res.Moves)), Total: int64(len(res.Moves))})
	for _, m := range res.Moves {
		if m.From != Archived || m.To != Deleted || m.Backup == nil || m.Backup.Archive == nil {
			continue
		}
		p := *m.Backup.Archive
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("backup %s is DELETED but its archive %q could not be removed: %v (git backup fsck --repair removes it)", m.ID, p, err))
			continue
		}
		res.RemovedArchives = append(res.RemovedArchives, p)
	}
	return res, nil
}

// applier is one run of Apply: what it decided last and the archives it wrote.
type applier struct {
	ctx       context.Context // Apply's, for the decider (which gets none)
	s         *Store
	o         ApplyOptions
	confirmed Plan
	dir       string
	arch      *archive.Archiver
	level     archive.Level

	attempt int
	plan    Plan                      // the plan of the last decision
	dropped []Skip                    // confirmed moves left out of it
	written map[string]ArchiveWritten // by backup ID: archives in place for this run
	ours    map[string]string         // by backup ID: archive files this run wrote
}

// decide is Apply's Decider: plan on the fresh view, check every move again,
// put the archives in place, and return the batch.
func (a *applier) decide(v *View) (*Batch, error) {
	a.attempt++
	ctx := a.ctx
	plan, dropped, err := a.replan(ctx, v)
	if err != nil {
		return nil, err
	}
	kept, more, err := a.check(v, plan.Moves)
	if err != nil {
		return nil, err
	}
	a.dropped = append(dropped, more...)
	plan.Moves = nil
	for _, m := range kept {
		if m.To == Archived {
			if err := a.ensureArchive(ctx, m.Backup); err != nil {
				var na *NotArchivableError
				if !errors.As(err, &na) {
					return nil, err
				}
				// This backup only: the others go on.
				a.dropped = append(a.dropped, Skip{ID: m.ID, State: m.From, Why: SkipArchive, Reason: err.Error()})
				continue
			}
		}
		plan.Moves = append(plan.Moves, m)
	}
	a.plan = plan
	if len(plan.Moves) == 0 {
		return nil, nil
	}
	return a.batch(plan)
}

// replan returns the moves to make on v: the confirmed plan planned again
// (when there is a planner) and restricted to the confirmed moves, or the
// confirmed moves bound to v's backups.
func (a *applier) replan(ctx context.Context, v *View) (Plan, []Skip, error) {
	plan := a.confirmed
	plan.Moves = nil
	var dropped []Skip
	if a.o.Replan == nil {
		for _, m := range a.confirmed.Moves {
			b := v.ByID(m.ID)
			if b == nil {
				dropped = append(dropped, Skip{ID: m.ID, State: m.From, Why: SkipUnknown, Reason: "no longer in the state"})
				continue
			}
			m.Backup = b
			plan.Moves = append(plan.Moves, m)
		}
		return plan, dropped, nil
	}
	f, err := a.s.Facts(ctx, v, a.dir)
	if err != nil {
		return plan, nil, err
	}
	fresh := a.o.Replan(v, f)
	type key struct {
		id string
		to State
	}
	want := map[key]PlannedMove{}
	for _, m := range a.confirmed.Moves {
		want[key{m.ID, m.To}] = m
	}
	got := map[key]bool{}
	for _, m := range fresh.Moves {
		c, ok := want[key{m.ID, m.To}]
		if !ok || (m.Forced && !c.Forced) || (m.Action != c.Action) {
			continue
		}
		got[key{m.ID, m.To}] = true
		plan.Moves = append(plan.Moves, m)
	}
	for _, m := range a.confirmed.Moves {
		if got[key{m.ID, m.To}] {
			continue
		}
		why := fmt.Sprintf("planned again on the current state, %s → %s is no longer part of the plan", m.From, m.To)
		if b := v.ByID(m.ID); b != nil && b.State != m.From {
			why = fmt.Sprintf("it is %s now, not %s", b.State, m.From)
		}
		dropped = append(dropped, Skip{ID: m.ID, State: m.From, Why: SkipState, Reason: why})
	}
	return plan, dropped, nil
}

// check walks the moves against the fresh backups: each must start where the
// backup is (after the moves before it) and be allowed; the others are
// dropped. A live backup deleted without full coverage below the nuclear
// level refuses the whole apply.
func (a *applier) check(v *View, ms []PlannedMove) ([]PlannedMove, []Skip, error) {
	cur := map[*Backup]State{}
	var kept []PlannedMove
	var dropped []Skip
	for _, m := range ms {
		b := m.Backup
		if b == nil || b.ID == "" {
			dropped = append(dropped, Skip{ID: m.ID, State: m.From, Why: SkipUnknown, Reason: "no longer in the state"})
			continue
		}
		st, ok := cur[b]
		if !ok {
			st = b.State
		}
		if st != m.From {
			if st != m.To {
				dropped = append(dropped, Skip{Backup: b, ID: b.ID, State: st, Why: SkipState, Reason: fmt.Sprintf("it is %s now, not %s", st, m.From)})
			}
			continue
		}
		if err := CheckMove(st, m.To, m.Forced, b.Pinned, m.Trigger); err != nil {
			dropped = append(dropped, Skip{Backup: b, ID: b.ID, State: st, Why: SkipState, Reason: err.Error()})
			continue
		}
		// Nothing younger than minAge is cleaned; the user may archive it
		// (its content stays, in a verified archive).
		young := m.To == Deleted || m.To == Archived && m.Trigger != TriggerUser
		if age := a.s.now().Sub(b.CreatedAt); young && age < a.s.Policy.MinAge {
			dropped = append(dropped, Skip{Backup: b, ID: b.ID, State: st, Why: SkipMinAge, Reason: fmt.Sprintf("%s old, younger than minAge %s", roundDuration(age), FormatDuration(a.s.Policy.MinAge))})
			continue
		}
		if m.To == Deleted && st.Live() {
			if err := a.checkCovered(v, b); err != nil {
				return nil, nil, err
			}
		}
		cur[b] = m.To
		kept = append(kept, m)
	}
	return kept, dropped, nil
}

// nuclear reports whether the confirmed plan may delete content that is not
// fully covered.
func (a *applier) nuclear() bool {
	l := a.confirmed.Level
	return l == LevelNuclear || l == LevelEmergency && a.s.Policy.EmergencyStrategy == EmergencyNuclear
}

// checkCovered measures b's coverage now and refuses its deletion when it is
// not full, below the nuclear level.
func (a *applier) checkCovered(v *View, b *Backup) error {
	if a.nuclear() {
		return nil
	}
	as, err := a.s.Assess(v, []*Backup{b})
	if err != nil {
		return err
	}
	if c := as[b].Coverage; c < 1 {
		return fmt.Errorf("delete backup %s (covered %s): %w", b.ID, floorPercent(max(c, 0)), ErrUncoveredDelete)
	}
	return nil
}

// batch turns the checked moves into one batch: a change per backup with
// its events in order, the archive path on a move to ARCHIVED, and the
// snapshot ref dropped when the backup leaves the git dir.
func (a *applier) batch(plan Plan) (*Batch, error) {
	bt := &Batch{Trigger: string(plan.Trigger), Title: plan.Title}
	index := map[*Backup]int{}
	for _, m := range plan.Moves {
		b := m.Backup
		i, ok := index[b]
		if !ok {
			i = len(bt.Changes)
			index[b] = i
			bt.Changes = append(bt.Changes, Change{Backup: b})
		}
		ch := &bt.Changes[i]
		evs := m.Events()
		if m.To == Archived {
			evs[0].Archive = a.written[b.ID].Path
		}
		ch.Events = append(ch.Events, evs...)
		line := fmt.Sprintf("%s %s -> %s", b.ID, m.From, m.To)
		if m.Forced {
			line += " (forced)"
		}
		if ch.Summary != "" {
			ch.Summary += "\n"
		}
		ch.Summary += line
		if (m.To == Archived || m.To == Deleted) && m.From.Live() {
			ref := gitstate.SnapshotRef(b.ID)
			cur, err := a.s.Repo.ReadRef(ref)
			if err != nil {
				return nil, err
			}
			if cur != "" {
				ch.Refs = append(ch.Refs, gitstate.RefUpdate{Name: ref, Old: cur})
			}
		}
	}
	return bt, nil
}
