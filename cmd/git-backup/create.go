package main

import (
	"context"
	"os"

	"github.com/git-backup/git-backup/transitions"
)

type createCmd struct {
	Message        string   `short:"m" help:"Say what the backup holds."`
	Trigger        string   `default:"user" placeholder:"NAME" help:"What asked for the backup (user, autosave, …)."`
	IncludeIgnored bool     `help:"Also back up ignored files."`
	Pathspec       []string `arg:"" optional:"" name:"pathspec" help:"Limit the backup to these paths (after --)."`
}

func (c *createCmd) Help() string {
	return `Takes a snapshot of the whole working tree: tracked files as they are on disk
(staged or not) and untracked files that are not ignored. HEAD, the index, the
working tree and the stash are not touched. Prints the backup's ID on stdout.

When nothing changed since the newest backup of the branch, no new backup is made:
that backup's ID is printed. When the work tree matches HEAD, nothing is printed.`
}

func (c *createCmd) Run(ctx context.Context, a *App) error {
	s, err := a.Store(ctx)
	if err != nil {
		return err
	}
	wd, _ := os.Getwd()
	if a.Dir != "" {
		wd = a.Dir
	}
	res, err := s.Create(ctx, transitions.CreateOptions{
		Message: c.Message, Trigger: c.Trigger, IncludeIgnored: c.IncludeIgnored,
		Pathspec: c.Pathspec, Dir: wd, Author: a.Author(ctx),
	})
	if err != nil {
		return err
	}
	if a.JSON {
		out := map[string]any{"created": res.Created, "backup": nil, "reason": nilIfEmpty(res.Reason)}
		if res.Backup != nil {
			if _, err := s.Assess(res.View, []*transitions.Backup{res.Backup}); err != nil {
				return err
			}
			out["backup"] = res.Backup
		}
		return a.printJSON(out)
	}
	if res.Backup == nil {
		a.note("%s", res.Reason)
		return nil
	}
	a.out("%s", res.Backup.ID)
	if !res.Created {
		a.note("%s", res.Reason)
	} else {
		a.note("backed up %d changed file(s), %s", res.Backup.Files, transitions.HumanBytes(res.Backup.SizeBytes))
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
