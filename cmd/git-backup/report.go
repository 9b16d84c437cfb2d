package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/git-backup/git-backup/monitor"
	"github.com/git-backup/git-backup/transitions"
)

type reportCmd struct {
	Since string `default:"1d" placeholder:"D" help:"Window to report on, up to now (1d, 7d, or any duration)."`
}

func (c *reportCmd) Help() string {
	return `Transitions by trigger and state in the window, the bytes cleanups freed,
the archives on disk, how many cleanup candidates were archived or deleted,
and the disk trend from the monitor's 24-hour history (a sparkline here, the
points with --json).`
}

func (c *reportCmd) Run(ctx context.Context, a *App) error {
	since, err := transitions.ParseDuration(c.Since)
	if err != nil || since <= 0 {
		return usagef("--since %q: a positive duration like 1d or 7d", c.Since)
	}
	s, err := a.Store(ctx)
	if err != nil {
		return err
	}
	r, err := monitor.LoadReport(ctx, s, since, time.Now())
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(r)
	}
	printReport(a, r)
	return nil
}

// printReport writes r for people.
func printReport(a *App, r monitor.Report) {
	a.out("report      %s, last %s (%s to %s)", r.Repository, r.Window, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	a.out("created     %d backup(s)", r.Created)
	if len(r.Transitions) == 0 {
		a.out("moves       none")
	} else {
		a.out("moves")
		for _, t := range r.Transitions {
			a.out("  %-7s %9s → %-9s %d", t.Trigger, t.From, t.To, t.Count)
		}
		a.out("by trigger  %s", joinCounts(r.ByTrigger, triggerOrder()))
		a.out("by state    %s", joinCounts(r.ByState, stateOrder()))
		if r.Forced > 0 {
			a.out("forced      %d", r.Forced)
		}
	}
	f := r.Freed
	a.out("freed       %s (%d archived, %s; %d deleted, %s; %d archive(s) removed)", transitions.HumanBytes(f.Bytes),
		f.Archived, transitions.HumanBytes(f.ArchivedBytes), f.Deleted, transitions.HumanBytes(f.DeletedBytes), f.ArchivesDeleted)
	line := fmt.Sprintf("archives    %d file(s), %s", r.Archives.Count, transitions.HumanBytes(r.Archives.Bytes))
	if r.Archives.Missing > 0 {
		line += fmt.Sprintf(" (%d missing: run git backup fsck)", r.Archives.Missing)
	}
	a.out("%s", line)
	if e := r.Cleanup; e.Percent != nil {
		a.out("cleanup     %d of %d candidate(s) archived or deleted (%.0f%%), %d still CLEANABLE", e.Cleaned, e.Candidates, *e.Percent, e.StillCleanable)
	} else {
		a.out("cleanup     no candidates")
	}
	if len(r.Disk) == 0 {
		a.out("disk        no history (the monitor records it)")
		return
	}
	vals := make([]float64, len(r.Disk))
	lo, hi := r.Disk[0].GitDir, r.Disk[0].GitDir
	for i, p := range r.Disk {
		vals[i] = p.GitDir
		lo, hi = min(lo, p.GitDir), max(hi, p.GitDir)
	}
	last := r.Disk[len(r.Disk)-1]
	a.out("disk        %s  %.1f%% used now (min %.1f%%, max %.1f%%, %d sample(s) since %s)",
		monitor.Sparkline(vals, 48), last.GitDir, lo, hi, len(r.Disk), r.Disk[0].Time.Format(time.RFC3339))
}

func triggerOrder() []string {
	var o []string
	for _, t := range transitions.Triggers {
		o = append(o, string(t))
	}
	return o
}

func stateOrder() []string {
	var o []string
	for _, s := range transitions.States {
		o = append(o, string(s))
	}
	return o
}

// joinCounts prints counts in order, then any key order does not name.
func joinCounts(m map[string]int, order []string) string {
	var parts []string
	seen := map[string]bool{}
	for _, k := range order {
		seen[k] = true
		if n := m[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if n := m[k]; !seen[k] && n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, ", ")
}
