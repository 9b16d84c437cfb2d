package main

import (
	"context"
	"fmt"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// applyFlags are the flags of every command that carries out a cleanup plan.
type applyFlags struct {
	DryRun    bool `name:"dry-run" help:"Print the plan (a reason and the bytes freed per backup) and stop."`
	Yes       bool `short:"y" help:"Do not ask for confirmation."`
	NoReclaim bool `name:"no-reclaim" help:"Do not prune the objects of dropped snapshots afterwards (git gc will, some day)."`
	// For tests and experts: prune without waiting for the grace period, or
	// plan as if later than now.
	PruneGrace string `name:"prune-grace" hidden:"" help:"Grace period of reclaim (default 1h; 0: none, only safe when no other git runs). For tests and experts."`
	TimeOffset string `name:"time-offset" hidden:"" help:"Plan and record as if this much later than now. For tests."`
}

// cleanupJSON is what cleanup, archive and emergency print with --json.
type cleanupJSON struct {
	DryRun  bool                     `json:"dry_run"`
	Disk    *emergencyDisk           `json:"disk,omitempty"`
	Plan    transitions.Plan         `json:"plan"`
	Result  *transitions.ApplyResult `json:"result"`
	Reclaim *gitstate.ReclaimResult  `json:"reclaim"`
	// BytesFreed is measured: the objects directory before and after
	// reclaim, plus the archive files removed.
	BytesFreed int64          `json:"bytes_freed"`
	DiskAfter  *emergencyDisk `json:"disk_after,omitempty"`
}

// cleanupRun is one run of the shared flow: plan, print, confirm, apply,
// reclaim, report.
type cleanupRun struct {
	flags   applyFlags
	planner func(s *transitions.Store) transitions.Planner
	disk    *emergencyDisk                // measured before, for emergency
	after   func() (*emergencyDisk, bool) // re-measure after, for emergency
	// explicit: the user named the backups; when none of them can be moved
	// the command is refused (exit 3) with the reasons.
	explicit bool
}

// store opens the store with the hidden test clock applied.
func (a *App) cleanupStore(ctx context.Context, f applyFlags) (*transitions.Store, error) {
	s, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	if f.TimeOffset != "" {
		d, err := transitions.ParseDuration(f.TimeOffset)
		if err != nil {
			return nil, usagef("--time-offset: %v", err)
		}
		s.Now = func() time.Time { return time.Now().Add(d) }
	}
	return s, nil
}

func (a *App) runCleanup(ctx context.Context, s *transitions.Store, r cleanupRun) error {
	grace, err := pruneGrace(r.flags.PruneGrace)
	if err != nil {
		return err
	}
	planner := r.planner(s)
	plan, _, facts, err := s.Plan(ctx, planner, "")
	if err != nil {
		return err
	}
	out := cleanupJSON{DryRun: r.flags.DryRun, Disk: r.disk, Plan: plan}
	if out.Plan.Moves == nil {
		out.Plan.Moves = []transitions.PlannedMove{}
	}
	if out.Plan.Skipped == nil {
		out.Plan.Skipped = []transitions.Skip{}
	}
	if !a.JSON {
		a.printPlan(plan)
	}
	if len(plan.Moves) == 0 && len(plan.Skipped) > 0 && r.explicit && !r.flags.DryRun {
		if a.JSON {
			_ = a.printJSON(out)
		}
		return fmt.Errorf("%w: none of the backups named can be moved (%s: %s)", transitions.ErrRefused, plan.Skipped[0].ID, plan.Skipped[0].Reason)
	}
	if r.flags.DryRun || len(plan.Moves) == 0 {
		if a.JSON {
			return a.printJSON(out)
		}
		if len(plan.Moves) == 0 {
			a.out("nothing to do")
		}
		return nil
	}
	q := fmt.Sprintf("apply this plan: %d move(s) of %d backup(s), about %s freed?", len(plan.Moves), plan.Backups(), transitions.HumanBytes(plan.FreesBytes()))
	if err := a.confirm(r.flags.Yes, q); err != nil {
		return err
	}
	if low := lowConfidence(plan, s.Policy.AutoCleanupConfidence); low > 0 {
		q2 := fmt.Sprintf("%d backup(s) have confidence below the threshold %.2f (git backup show ID explains); really clean them?", low, s.Policy.AutoCleanupConfidence)
		if err := a.confirm(r.flags.Yes, q2); err != nil {
			return err
		}
	}
	bar := a.newProgressBar()
	n := 0
	lastID := ""
	res, err := s.Apply(ctx, plan, transitions.ApplyOptions{Replan: planner, Progress: func(p transitions.ApplyProgress) {
		if p.Phase != "archive" {
			return
		}
		if p.ID != lastID {
			lastID, n = p.ID, n+1
		}
		bar.update(fmt.Sprintf("archive %s (%d)", p.ID, n), p.Done, p.Total)
	}})
	bar.done()
	if err != nil {
		return err
	}
	out.Result = &res
	for _, m := range res.Moves {
		if m.From == transitions.Archived && m.To == transitions.Deleted {
			out.BytesFreed += facts.ArchiveBytes[m.ID]
		}
	}
	if !r.flags.NoReclaim && droppedRefs(res) {
		rr, err := s.Repo.Reclaim(ctx, gitstate.ReclaimOptions{Grace: grace})
		switch {
		case err != nil && gitstate.IsDamage(err):
			a.note("%v", err) // says what to run; git gc would fail the same way
		case err != nil:
			a.note("%v (the space is freed by the next git gc)", err)
		default:
			out.Reclaim = &rr
			out.BytesFreed += max(rr.BytesFreed, 0)
		}
	}
	if r.after != nil {
		out.DiskAfter, _ = r.after()
	}
	if a.JSON {
		err = a.printJSON(out)
	} else {
		a.printResult(out)
	}
	if err == nil {
		err = notArchived(res)
	}
	return err
}

// notArchived fails the run (exit 1, already printed) when a backup could not
// be archived: it is kept, but what was asked was not done.
func notArchived(res transitions.ApplyResult) error {
	for _, d := range res.Dropped {
		if d.Why == transitions.SkipArchive {
			return silentError{fmt.Errorf("backup %s was not archived: %s", d.ID, d.Reason)}
		}
	}
	return nil
}

// lowConfidence counts the backups the plan archives or deletes whose
// confidence is below the threshold.
func lowConfidence(p transitions.Plan, threshold float64) int {
	seen := map[string]bool{}
	for _, m := range p.Moves {
		if m.Action != transitions.ActionPromote && m.Confidence < threshold {
			seen[m.ID] = true
		}
	}
	return len(seen)
}

// droppedRefs reports whether a committed move took a live snapshot out.
func droppedRefs(res transitions.ApplyResult) bool {
	for _, m := range res.Moves {
		if m.From.Live() && (m.To == transitions.Archived || m.To == transitions.Deleted) {
			return true
		}
	}
	return false
}

// pruneGrace reads --prune-grace: "" is the default, 0 none at all.
func pruneGrace(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := transitions.ParseDuration(s)
	if err != nil {
		return 0, usagef("--prune-grace: %v", err)
	}
	if d <= 0 {
		return -1, nil
	}
	return d, nil
}
