package main

import (
	"context"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type configSetCmd struct {
	scopeFlags
	Key   string `arg:"" help:"backup.pendingTimeout, pendingTimeout or PENDING_TO_CLEANUP_TIMEOUT."`
	Value string `arg:"" help:"The new value."`
	Yes   bool   `short:"y" help:"Accepted for uniformity; set asks nothing."`
}

func (c *configSetCmd) Help() string {
	return `Checks the value against the key's range and against the other keys (the disk
thresholds must rise from warning to critical to emergency; largeThreshold
must be below hugeThreshold), then writes it in canonical form (36h is written
1d12h, yes is written true) to the local config, or the scope given.

Exit status: 0 written (or already set); 2 the key is unknown or the value is
out of range, and nothing was written; 1 git could not write the config.`
}

func (c *configSetCmd) Run(ctx context.Context, a *App) error {
	k, err := lookupKey(c.Key)
	if err != nil {
		return err
	}
	w := transitions.ConfigWrite{Scope: c.writeScope(), Key: k, Values: []string{c.Value}}
	return a.applyConfig(ctx, "set", []transitions.ConfigWrite{w})
}

type configUnsetCmd struct {
	scopeFlags
	Key string `arg:"" help:"backup.pendingTimeout, pendingTimeout or PENDING_TO_CLEANUP_TIMEOUT."`
	Yes bool   `short:"y" help:"Accepted for uniformity; unset asks nothing."`
}

func (c *configUnsetCmd) Help() string {
	return `Removes every value of the key from the local config, or the scope given; the
key then falls back to another scope or its default. Refused (exit 2) when the
fallback would contradict another key.`
}

func (c *configUnsetCmd) Run(ctx context.Context, a *App) error {
	k, err := lookupKey(c.Key)
	if err != nil {
		return err
	}
	w := transitions.ConfigWrite{Scope: c.writeScope(), Key: k}
	return a.applyConfig(ctx, "unset", []transitions.ConfigWrite{w})
}

// applyConfig writes through transitions.ApplyConfig (which records the
// history) and reports what changed.
func (a *App) applyConfig(ctx context.Context, command string, ws []transitions.ConfigWrite) error {
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	h, err := transitions.ApplyConfig(ctx, r, command, time.Now(), ws)
	if err != nil {
		return configErr(err)
	}
	if a.JSON {
		if h.Changes == nil {
			h.Changes = []gitstate.ConfigChange{}
		}
		return a.printJSON(h)
	}
	if len(h.Changes) == 0 {
		a.note("nothing changed")
		return nil
	}
	a.printChanges("", h.Changes, false)
	return nil
}
