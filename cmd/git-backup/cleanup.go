package main

import (
	"context"

	"github.com/git-backup/git-backup/transitions"
)

type cleanupCmd struct {
	IDs   []string `arg:"" optional:"" name:"id" help:"Backups to clean (ID, unique prefix, or latest); without them, candidates are picked by policy."`
	Level string   `help:"Pick candidates at this level: gentle, moderate, aggressive or nuclear." placeholder:"LEVEL"`
	Max   int      `help:"Clean at most N backups." placeholder:"N"`
	Force bool     `help:"With IDs: clean pinned and CREATED backups too; marked as forced in the log."`
	applyFlags
}

func (c *cleanupCmd) Help() string {
	return `Without IDs or --level, applies the time policies (the timeouts of git backup
config list). With --level, picks candidates as the monitor does at that level
(SPEC §7: gentle is the warning row, moderate critical, aggressive and nuclear the
emergency strategies). With IDs, cleans exactly those backups.

Content that is not fully covered by the integration branch is archived, never
deleted, below the nuclear level. --dry-run prints the plan, with a reason and
the bytes each move frees, and changes nothing. Otherwise the plan is listed and
confirmed (twice when a backup's confidence is below backup.autoCleanupConfidence),
carried out, and the objects of the dropped snapshots are pruned (unless
--no-reclaim); the bytes freed are measured on disk.

Exit status: 0 done (or nothing to do), 1 failed, 2 usage, 3 declined or refused
(no terminal and no --yes), 4 gave up after repeated conflicts.`
}

func (c *cleanupCmd) Run(ctx context.Context, a *App) error {
	var lvl transitions.Level
	if c.Level != "" {
		l, err := transitions.ParseLevel(c.Level)
		if err != nil {
			return usagef("%v", err)
		}
		lvl = l
	}
	if len(c.IDs) > 0 && lvl != "" {
		return usagef("give backup IDs or --level, not both")
	}
	if c.Max < 0 {
		return usagef("--max must not be negative")
	}
	s, err := a.cleanupStore(ctx, c.applyFlags)
	if err != nil {
		return err
	}
	planner := func(s *transitions.Store) transitions.Planner {
		p := s.Policy
		switch {
		case len(c.IDs) > 0:
			return func(v *transitions.View, f transitions.PlanFacts) transitions.Plan {
				return capPlan(transitions.PlanIDs(v, c.IDs, f, p, c.Force), c.Max)
			}
		case lvl != "":
			return func(v *transitions.View, f transitions.PlanFacts) transitions.Plan {
				return transitions.PlanCleanup(v, f, p, lvl, c.Max)
			}
		}
		return func(v *transitions.View, f transitions.PlanFacts) transitions.Plan {
			return capPlan(transitions.PlanTime(v, f, p), c.Max)
		}
	}
	return a.runCleanup(ctx, s, cleanupRun{flags: c.applyFlags, planner: planner, explicit: len(c.IDs) > 0})
}

// capPlan keeps the moves of the first max backups (0: all); the others are
// skipped with the limit as reason.
func capPlan(p transitions.Plan, max int) transitions.Plan {
	if max <= 0 || p.Backups() <= max {
		return p
	}
	var kept []transitions.PlannedMove
	seen := map[string]bool{}
	for _, m := range p.Moves {
		if !seen[m.ID] && len(seen) >= max {
			if !seen["skip:"+m.ID] {
				seen["skip:"+m.ID] = true
				p.Skipped = append(p.Skipped, transitions.Skip{Backup: m.Backup, ID: m.ID, State: m.From, Why: transitions.SkipLimit, Reason: "--max reached"})
			}
			continue
		}
		seen[m.ID] = true
		kept = append(kept, m)
	}
	p.Moves = kept
	return p
}
