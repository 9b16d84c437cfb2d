package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type configHistoryCmd struct {
	Limit       int  `short:"n" help:"Print at most N entries (0: all)."`
	ShowSecrets bool `help:"Show webhook URLs instead of masking them."`
}

func (c *configHistoryCmd) Help() string {
	return `Lists the changes made through git backup config (set, unset, import, template,
wizard, rollback), newest first: when, which command, and for each key the
scope and the values before and after. Changes made with git config directly
are not in it. --json prints an array of {time, command, changes: [{scope, key,
old, new}]}.`
}

func (c *configHistoryCmd) Run(ctx context.Context, a *App) error {
	if c.Limit < 0 {
		return usagef("--limit %d: must be 0 (all) or more", c.Limit)
	}
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	hist, err := r.ConfigHistory()
	if err != nil {
		return err
	}
	slices.Reverse(hist)
	if c.Limit > 0 && len(hist) > c.Limit {
		hist = hist[:c.Limit]
	}
	if a.JSON {
		if hist == nil {
			hist = []gitstate.ConfigHistoryEntry{}
		}
		if !c.ShowSecrets {
			hist = maskHistory(hist)
		}
		return a.printJSON(hist)
	}
	if len(hist) == 0 {
		a.note("no config changes recorded yet")
		return nil
	}
	for _, h := range hist {
		a.out("%s  %s", h.Time.UTC().Format(time.RFC3339), h.Command)
		a.printChanges("    ", h.Changes, c.ShowSecrets)
	}
	return nil
}

// maskHistory returns hist with secret values replaced.
func maskHistory(hist []gitstate.ConfigHistoryEntry) []gitstate.ConfigHistoryEntry {
	out := make([]gitstate.ConfigHistoryEntry, len(hist))
	for i, h := range hist {
		h.Changes = slices.Clone(h.Changes)
		for j, c := range h.Changes {
			if k, ok := transitions.LookupKey(c.Key); ok && k.Secret {
				h.Changes[j].Old, h.Changes[j].New = maskAll(c.Old), maskAll(c.New)
			}
		}
		out[i] = h
	}
	return out
}

func maskAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v
		if v != "" {
			out[i] = hiddenValue
		}
	}
	return out
}

type configRollbackCmd struct {
	Yes bool `short:"y" help:"Accepted for uniformity; rollback asks nothing."`
}

func (c *configRollbackCmd) Help() string {
	return `Puts back the values that the newest change in git backup config history
replaced, in the scopes it changed, and removes that change from the history.
The rollback itself is listed in the history but is not undone by the next
rollback: each rollback goes one change further back.

Exit status: 0 rolled back; 1 there is nothing to roll back, or git failed.`
}

func (c *configRollbackCmd) Run(ctx context.Context, a *App) error {
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	res, err := transitions.RollbackConfig(ctx, r, time.Now())
	if errors.Is(err, transitions.ErrNoHistory) {
		return fmt.Errorf("roll back config: %w", err)
	}
	if err != nil {
		return err
	}
	for _, k := range res.Drifted {
		a.note("warning: %s was changed since by other means; its earlier value is back anyway", k)
	}
	if a.JSON {
		return a.printJSON(map[string]any{"undone": maskHistory([]gitstate.ConfigHistoryEntry{res.Undone})[0], "changes": maskHistory([]gitstate.ConfigHistoryEntry{res.Done})[0].Changes})
	}
	a.note("rolled back %s from %s", res.Undone.Command, res.Undone.Time.UTC().Format(time.RFC3339))
	a.printChanges("", res.Done.Changes, false)
	return nil
}
