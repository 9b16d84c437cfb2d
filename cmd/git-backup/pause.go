package main

import (
	"context"
	"time"

	"github.com/git-backup/git-backup/monitor"
	"github.com/git-backup/git-backup/transitions"
)

type pauseCmd struct {
	For string `name:"for" placeholder:"DURATION" help:"Resume by itself after this long (90s, 2h, 1d); until resumed when not given."`
}

func (c *pauseCmd) Help() string {
	return `Stops every automatic trigger in this repository: the hooks, the monitor's
cycles and autosave do nothing until git backup resume, or until --for runs
out. Running monitors see it at their next cycle. Commands you type still work.`
}

func (c *pauseCmd) Run(ctx context.Context, a *App) error {
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	var until time.Time
	if c.For != "" {
		d, err := transitions.ParseDuration(c.For)
		if err != nil || d <= 0 {
			return usagef("--for: want a positive duration such as 2h or 1d, got %q", c.For)
		}
		until = now.Add(d)
	}
	if err := monitor.Pause(r, now, until); err != nil {
		return err
	}
	if until.IsZero() {
		a.out("paused until git backup resume")
	} else {
		a.out("paused until %s", until.Local().Format(time.RFC3339))
	}
	return nil
}

type resumeCmd struct{}

func (c *resumeCmd) Run(ctx context.Context, a *App) error {
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	was := monitor.Paused(r, time.Now()).Paused
	if err := monitor.Resume(r); err != nil {
		return err
	}
	if was {
		a.out("resumed")
	} else {
		a.out("not paused")
	}
	return nil
}
