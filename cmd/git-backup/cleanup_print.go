package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/git-backup/git-backup/transitions"
)

// printPlan prints a plan: one line per move, the skipped backups with the
// reason, and the totals.
func (a *App) printPlan(p transitions.Plan) {
	a.out("plan: %s", p.Title)
	if len(p.Moves) > 0 {
		tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
		for _, m := range p.Moves {
			fmt.Fprintf(tw, "  %s\t%s → %s\t%s\t%s\t%s\n", m.ID, m.From, m.To, m.Action, freed(m.FreesBytes), m.Reason)
		}
		tw.Flush()
	}
	if len(p.Skipped) > 0 {
		a.out("skipped:")
		tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
		for _, s := range p.Skipped {
			state := string(s.State)
			if state == "" {
				state = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.ID, state, s.Why, s.Reason)
		}
		tw.Flush()
	}
	a.out("total: %d move(s) of %d backup(s), %d skipped, frees about %s", len(p.Moves), p.Backups(), len(p.Skipped), transitions.HumanBytes(p.FreesBytes()))
}

func freed(n int64) string {
	if n == 0 {
		return "frees 0 B"
	}
	return "frees " + transitions.HumanBytes(n)
}

// printResult prints what was done, the archives written and the bytes freed.
func (a *App) printResult(o cleanupJSON) {
	res := o.Result
	for _, m := range res.Moves {
		line := fmt.Sprintf("%s %s -> %s", m.ID, m.From, m.To)
		if m.Forced {
			line += " (forced)"
		}
		a.out("done: %s", line)
	}
	for _, w := range res.Archives {
		how := "written"
		if w.Reused {
			how = "reused"
		}
		a.out("archive %s: %s (%d file(s), %s, %s)", how, w.Path, w.Files, transitions.HumanBytes(w.Bytes), transitions.HumanBytes(w.Size)+" on disk")
	}
	for _, d := range res.Dropped {
		a.out("not done: %s: %s", d.ID, d.Reason)
	}
	for _, w := range res.Warnings {
		a.note("warning: %s", w)
	}
	switch {
	case o.Reclaim != nil && o.Reclaim.Skipped != "":
		a.out("reclaim skipped: %s", o.Reclaim.Skipped)
	case o.Reclaim != nil:
		a.out("reclaim: objects %s → %s", transitions.HumanBytes(o.Reclaim.BytesBefore), transitions.HumanBytes(o.Reclaim.BytesAfter))
	}
	a.out("freed %s on disk (%d move(s))", transitions.HumanBytes(o.BytesFreed), len(res.Moves))
	if o.DiskAfter != nil {
		a.printDisk("now", *o.DiskAfter)
	}
}
