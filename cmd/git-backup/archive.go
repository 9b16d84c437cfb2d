package main

import (
	"context"

	"github.com/git-backup/git-backup/transitions"
)

type archiveCmd struct {
	IDs   []string `arg:"" name:"id" help:"Backups to archive (ID, unique prefix, or latest)."`
	Force bool     `help:"Archive backups that are not CLEANABLE (or are pinned); marked as forced in the log."`
	applyFlags
}

func (c *archiveCmd) Help() string {
	return `Writes each backup's changed files and a manifest to a verified .tar.zst in
backup.archiveDir (default <git common dir>/backup/archive), then marks it
ARCHIVED and drops its snapshot ref in one transaction, and prunes the objects
no longer needed (unless --no-reclaim). A CLEANABLE backup is archived as the
lifecycle allows; any other live backup needs --force. git backup unarchive
brings an archive back.

Exit status: 0 done, 1 failed, 2 usage, 3 declined or refused, 4 gave up after
repeated conflicts.`
}

func (c *archiveCmd) Run(ctx context.Context, a *App) error {
	s, err := a.cleanupStore(ctx, c.applyFlags)
	if err != nil {
		return err
	}
	planner := func(s *transitions.Store) transitions.Planner {
		p := s.Policy
		return func(v *transitions.View, f transitions.PlanFacts) transitions.Plan {
			return transitions.PlanArchive(v, c.IDs, f, p, c.Force)
		}
	}
	return a.runCleanup(ctx, s, cleanupRun{flags: c.applyFlags, planner: planner, explicit: len(c.IDs) > 0})
}
