package monitor

import (
	"context"
	"os"
	"path/filepath"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// measured is one measure of the disks a repository's backups live on.
type measured struct {
	facts transitions.DiskFacts
	git   gitstate.DiskUsage
	arch  gitstate.DiskUsage
}

// level is the level this cycle reports: the git dir's unless ok, else
// archive when the archive file system is at critical or above.
func (m measured) level(p transitions.Policy) string {
	ls := m.facts.Levels(p)
	if len(ls) == 0 {
		return string(transitions.LevelOK)
	}
	return string(ls[0])
}

// measure measures the file systems of the git dir and the archive dir, and
// the bytes backups hold when backup.maxSize is set. pending is what moves
// since the last reclaim are estimated to free in the git dir: dropped refs
// free nothing on disk until reclaim, so it is counted as free already,
// which lets a cleanup stop at its target without pruning after each backup.
func (r *repoLoop) measure(ctx context.Context, pending int64) (measured, error) {
	var m measured
	var err error
	if m.git, err = r.o.Disk.Usage(r.s.Repo.CommonDir); err != nil {
		return m, err
	}
	dir := r.s.ArchiveDir()
	for d := dir; ; {
		if _, serr := os.Stat(d); serr == nil {
			dir = d
			break
		}
		parent := parentDir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if m.arch, err = r.o.Disk.Usage(dir); err != nil {
		return m, err
	}
	m.facts.GitDirUsed = lessPending(m.git, pending)
	m.facts.ArchiveUsed = m.arch.UsedPercent
	if r.s.Policy.MaxSize > 0 {
		v, err := r.s.LoadLight(ctx)
		if err != nil {
			return m, err
		}
		m.facts.HeldBytes = heldBytes(v)
	}
	return m, nil
}

// lessPending is u's used percent with pending bytes counted as free.
func lessPending(u gitstate.DiskUsage, pending int64) float64 {
	if pending <= 0 || u.UsedPercent >= 100 {
		return u.UsedPercent
	}
	size := float64(u.FreeBytes) / (1 - u.UsedPercent/100) // used + available
	if size <= 0 {
		return u.UsedPercent
	}
	return max(0, u.UsedPercent-float64(pending)*100/size)
}

// heldBytes is what backups hold: the changed bytes of live snapshots and
// the archive files of ARCHIVED backups.
func heldBytes(v *transitions.View) int64 {
	var n int64
	for _, b := range v.Backups {
		switch {
		case b.Live():
			n += b.SizeBytes
		case b.State == transitions.Archived && b.Archive != nil:
			if fi, err := os.Stat(*b.Archive); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// diskPolicies acts on the highest level reached, per SPEC §7's table: the
// level's cleanup backup by backup, re-measuring after each and stopping as
// soon as its target holds; then, if still at the level, its escalation;
// then the archive-disk row. It returns the last measure.
func (r *repoLoop) diskPolicies(stop, work context.Context, m measured, cr *cycleResult) (measured, error) {
	p := r.s.Policy
	for _, lvl := range m.facts.Levels(p) {
		if m.facts.TargetReached(lvl, p) {
			continue
		}
		r.log.Info("disk level reached", "level", lvl, "git_dir_used", m.facts.GitDirUsed, "archive_used", m.facts.ArchiveUsed)
		for _, plan := range []func(*transitions.View, transitions.PlanFacts, transitions.Policy, transitions.Level, int) transitions.Plan{
			transitions.PlanCleanup, transitions.PlanEscalation,
		} {
			if stop.Err() != nil || m.facts.TargetReached(lvl, p) {
				break
			}
			facts := m.facts
			planner := func(v *transitions.View, f transitions.PlanFacts) transitions.Plan {
				f.Disk = facts
				return plan(v, f, p, lvl, 0)
			}
			var err error
			m, err = r.stepwise(stop, work, planner, cr, func(m measured) bool { return m.facts.TargetReached(lvl, p) }, m)
			if err != nil {
				return m, err
			}
		}
	}
	return m, nil
}

// stepwise plans with planner and applies the plan one backup at a time,
// checking stop between backups and, when done is set, re-measuring after
// each and stopping as soon as done holds.
func (r *repoLoop) stepwise(stop, work context.Context, planner transitions.Planner, cr *cycleResult,
	done func(measured) bool, m measured) (measured, error) {
	plan, _, _, err := r.s.Plan(work, planner, "")
	if err != nil || len(plan.Moves) == 0 {
		return m, err
	}
	r.log.Info("plan", "title", plan.Title, "moves", len(plan.Moves), "backups", plan.Backups())
	if cr.summary.Title == "" {
		cr.summary.Title = plan.Title
	}
	for _, group := range byBackup(plan.Moves) {
		if stop.Err() != nil {
			return m, nil
		}
		step := plan
		step.Moves, step.Skipped = group, nil
		res, err := r.s.Apply(work, step, transitions.ApplyOptions{Replan: planner})
		cr.add(res)
		for _, mv := range res.Moves {
			if mv.From.Live() && (mv.To == transitions.Archived || mv.To == transitions.Deleted) {
				cr.pending += mv.FreesBytes
			}
			r.log.Info("move", "backup", mv.ID, "from", mv.From, "to", mv.To, "trigger", mv.Trigger, "frees", mv.FreesBytes)
		}
		if err != nil {
			return m, err
		}
		if done != nil {
			if m, err = r.measure(work, cr.pending); err != nil {
				return m, err
			}
			if done(m) {
				r.log.Info("target reached", "git_dir_used", m.facts.GitDirUsed, "archive_used", m.facts.ArchiveUsed)
				return m, nil
			}
		}
	}
	return m, nil
}

// byBackup splits moves into consecutive runs of the same backup.
func byBackup(ms []transitions.PlannedMove) [][]transitions.PlannedMove {
	var out [][]transitions.PlannedMove
	for i, m := range ms {
		if i == 0 || ms[i-1].ID != m.ID {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], m)
	}
	return out
}

func parentDir(d string) string { return filepath.Dir(d) }
