package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// cycleResult gathers what one cycle did, for alerts and metrics.
type cycleResult struct {
	moves   []transitions.PlannedMove // committed by time and disk policies
	summary PlanSummary
	dropped bool // a snapshot ref left the git dir: reclaim
	// pending is what the dropped refs are estimated to free until reclaim.
	pending int64
}

func (c *cycleResult) add(res transitions.ApplyResult) {
	for _, m := range res.Moves {
		c.moves = append(c.moves, m)
		c.summary.Moves++
		c.summary.FreesBytes += m.FreesBytes
		switch {
		case m.Action == transitions.ActionPromote:
			c.summary.Promoted++
		case m.To == transitions.Archived:
			c.summary.Archived++
		case m.To == transitions.Deleted:
			c.summary.Deleted++
		}
		if m.From.Live() && (m.To == transitions.Archived || m.To == transitions.Deleted) {
			c.dropped = true
		}
	}
}

// cycle is one pass of SPEC §7: autosave, git facts, time policies, disk
// policies, reclaim, alerts, metrics and the daily report. stop ends it between moves; work
// is what the moves themselves run under.
func (r *repoLoop) cycle(stop, work context.Context, now time.Time) error {
	s, p := r.s, r.s.Policy
	if s.Now == nil {
		s.Now = r.o.Clock.Now
	}
	var cr cycleResult
	var transitionsDone []Transition
	if err := r.autosave(work, now, &transitionsDone); err != nil {
		r.log.Warn("autosave", "err", err)
	}
	if stop.Err() != nil {
		return nil
	}
	if b, err := s.Advance(work, transitions.AdvanceRequest{}); err != nil {
		r.log.Warn("git facts", "err", err)
	} else if b != nil && len(b.Changes) > 0 {
		r.log.Info("git facts", "changes", len(b.Changes), "title", b.Title)
		for _, ch := range b.Changes {
			transitionsDone = append(transitionsDone, Transition{Time: now.UTC(), Repo: repoName(s), ID: changeID(ch), Trigger: "git"})
		}
	}
	cleanupDue := r.lastCleanup.IsZero() || now.Sub(r.lastCleanup) >= p.CleanupInterval ||
		r.level == string(transitions.LevelEmergency)
	var firstErr error
	if cleanupDue && stop.Err() == nil {
		r.lastCleanup = now
		if err := r.timePolicies(stop, work, &cr); err != nil {
			r.log.Error("time policies", "err", err)
			firstErr = err
		}
	}
	m, err := r.measure(work, cr.pending)
	if err != nil {
		return err
	}
	if cleanupDue && stop.Err() == nil {
		m, err = r.diskPolicies(stop, work, m, &cr)
		if err != nil {
			r.log.Error("disk policies", "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if cr.dropped && stop.Err() == nil {
		rr, err := s.Repo.Reclaim(work, gitstate.ReclaimOptions{Grace: r.o.ReclaimGrace})
		if err != nil {
			r.log.Warn("reclaim", "err", err)
		} else {
			cr.summary.ReclaimedBytes = rr.BytesFreed
			r.log.Info("reclaim", "freed", rr.BytesFreed, "skipped", rr.Skipped)
			if m2, err := r.measure(work, 0); err == nil {
				m = m2
			}
		}
	}
	level := m.level(p)
	cr.summary.TargetReached = level == string(transitions.LevelOK) || m.facts.TargetReached(transitions.Level(level), p)
	prev := r.level
	r.level = level
	if r.o.Alerter != nil && (level != prev || level == string(transitions.LevelEmergency)) {
		e := Event{Level: level, Previous: prev, Usage: m.git, ArchiveUsage: m.arch, HeldBytes: m.facts.HeldBytes,
			MaxSize: p.MaxSize, Repo: repoName(s), Plan: cr.summary, Time: r.o.Clock.Now().UTC()}
		if err := r.o.Alerter.Alert(work, e); err != nil {
			r.log.Warn("alert", "err", err)
		}
	} else if level != prev {
		r.log.Info("disk level changed", "from", prev, "to", level)
	}
	if r.o.Metrics != nil {
		for _, mv := range cr.moves {
			transitionsDone = append(transitionsDone, Transition{Time: now.UTC(), Repo: repoName(s), ID: mv.ID,
				From: string(mv.From), To: string(mv.To), Trigger: string(mv.Trigger), FreesBytes: mv.FreesBytes})
		}
		if len(transitionsDone) > 0 {
			r.o.Metrics.Transitions(transitionsDone)
		}
		root := -1.0
		if u, err := r.o.Disk.Usage("/"); err == nil {
			root = u.UsedPercent
		}
		r.o.Metrics.Record(Sample{Time: now.UTC(), Repo: repoName(s), GitDirUsed: m.facts.GitDirUsed,
			ArchiveUsed: m.facts.ArchiveUsed, RootUsed: root, HeldBytes: m.facts.HeldBytes, Level: level,
			Backups: r.countBackups(work)})
	}
	r.dailyReport(work, now)
	return firstErr
}

func changeID(ch transitions.Change) string {
	if ch.Backup != nil {
		return ch.Backup.ID
	}
	return ""
}

// autosave takes a backup when autosaveInterval has passed since the last
// autosave and the work changed since the last backup (Create decides that).
func (r *repoLoop) autosave(ctx context.Context, now time.Time, ts *[]Transition) error {
	s, iv := r.s, r.s.Policy.AutosaveInterval
	if iv <= 0 || s.Repo.WorkTree == "" {
		return nil
	}
	if !r.autosaveRead {
		r.autosaveRead = true
		v, err := s.LoadLight(ctx)
		if err != nil {
			return err
		}
		for _, b := range v.Backups {
			if b.Trigger == "autosave" && b.CreatedAt.After(r.lastAutosave) {
				r.lastAutosave = b.CreatedAt
			}
		}
	}
	if !r.lastAutosave.IsZero() && now.Sub(r.lastAutosave) < iv {
		return nil
	}
	res, err := s.Create(ctx, transitions.CreateOptions{Trigger: "autosave", Message: "autosave"})
	if err != nil {
		return fmt.Errorf("autosave: %w", err)
	}
	r.lastAutosave = now
	if res.Created && res.Backup != nil {
		r.log.Info("autosave", "backup", res.Backup.ID)
		*ts = append(*ts, Transition{Time: now.UTC(), Repo: repoName(s), ID: res.Backup.ID, To: string(transitions.Created), Trigger: "autosave"})
	}
	return nil
}

// timePolicies applies SPEC §6's timeouts.
func (r *repoLoop) timePolicies(stop, work context.Context, cr *cycleResult) error {
	p := r.s.Policy
	planner := func(v *transitions.View, f transitions.PlanFacts) transitions.Plan {
		return transitions.PlanTime(v, f, p)
	}
	_, err := r.stepwise(stop, work, planner, cr, nil, measured{})
	return err
}
