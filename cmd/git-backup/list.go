package main

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type listCmd struct {
	State []string `short:"s" placeholder:"STATE" help:"Only backups in this state (repeatable, any case)."`
	Sort  string   `default:"age" placeholder:"ORDER" enum:"age,size,confidence" help:"Order: age (newest first), size (largest first), confidence (highest first)."`
	Limit int      `short:"n" help:"Print at most N backups (0: all)."`
}

func (c *listCmd) Run(ctx context.Context, a *App) error {
	var want []transitions.State
	for _, s := range c.State {
		st, err := transitions.ParseState(s)
		if err != nil {
			return usagef("--state: %v", err)
		}
		want = append(want, st)
	}
	if c.Limit < 0 {
		return usagef("--limit %d: must be 0 (all) or more", c.Limit)
	}
	s, err := a.Store(ctx)
	if err != nil {
		return err
	}
	v, err := s.LoadLight(ctx)
	if err != nil {
		return err
	}
	var bs []*transitions.Backup
	var unnamed []string
	for _, b := range v.Backups {
		if b.ID == "" {
			unnamed = append(unnamed, b.Snapshot) // damaged beyond naming
			continue
		}
		if len(want) == 0 || contains(want, b.State) {
			bs = append(bs, b)
		}
	}
	if len(unnamed) > 0 {
		// Not listed, since no ID can be read, but never silently: the
		// snapshot (and any archive) may still hold work.
		more := ""
		if len(unnamed) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(unnamed)-1)
		}
		fmt.Fprintf(a.Stderr, "warning: the note of snapshot %s%s in %s cannot be read, so its backup is not listed: run git backup fsck\n",
			unnamed[0], more, gitstate.StateRef)
	}
	if err := s.Score(v, bs); err != nil {
		return err
	}
	switch c.Sort {
	case "size":
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].SizeBytes > bs[j].SizeBytes })
	case "confidence":
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].Confidence > bs[j].Confidence })
	}
	if c.Limit > 0 && len(bs) > c.Limit {
		bs = bs[:c.Limit]
	}
	if a.JSON {
		_, err := a.Stdout.Write(transitions.AppendBackupsJSON(nil, bs))
		return err
	}
	if len(bs) == 0 {
		if !a.Quiet {
			a.note("no backups%s (take one with git backup create)", stateFilterText(c.State))
		}
		return nil
	}
	tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tAGE\tSIZE\tCONF\tBRANCH\tMESSAGE")
	now := time.Now()
	for _, b := range bs {
		flag := ""
		if b.Pinned {
			flag = " (pinned)"
		}
		if len(b.Damaged) > 0 {
			flag += " (damaged)"
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\t%.2f\t%s\t%s\n", b.ID, b.State, flag, age(now, b.CreatedAt),
			transitions.HumanBytes(b.SizeBytes), b.Confidence, deref(b.Branch, "(detached)"), oneLine(b.Message, 50))
	}
	return tw.Flush()
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func stateFilterText(states []string) string {
	if len(states) == 0 {
		return ""
	}
	return fmt.Sprintf(" in state %v", states)
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// age prints how long ago t was, compactly: 45s, 12m, 5h, 3d.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(max(d.Seconds(), 0)))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func oneLine(s string, n int) string {
	for i, r := range s {
		if r == '\n' {
			s = s[:i]
			break
		}
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
