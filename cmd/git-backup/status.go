package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/hooks"
	"github.com/git-backup/git-backup/monitor"
	"github.com/git-backup/git-backup/transitions"
)

type statusCmd struct {
	Watch bool `help:"Redraw the dashboard every 2 s on a terminal until Ctrl-C."`
}

func (c *statusCmd) Help() string {
	return `Backups per state, disk usage against the thresholds, the last cleanup, the
remotes, the hooks and the monitor (paused, running, last cycle, level).

--watch redraws it every 2 s until Ctrl-C. It needs a terminal on stdout: with
stdout redirected it refuses (exit 2) instead of filling a file with screens;
run status without --watch to print it once. --watch and --json do not mix.

Exit status: 0 shown (or watched until Ctrl-C), 1 the repository cannot be
read, 2 --watch without a terminal or with --json.`
}

// statusJSON is the dashboard as data.
type statusJSON struct {
	Repository string                         `json:"repository"`
	Summary    transitions.Summary            `json:"backups"`
	Disk       diskJSON                       `json:"disk"`
	Hooks      []hooks.Hook                   `json:"hooks"`
	Monitor    monitorJSON                    `json:"monitor"`
	Remotes    map[string]gitstate.SyncRecord `json:"remotes"`
}

type diskJSON struct {
	gitstate.DiskUsage
	Level      string             `json:"level"`
	Thresholds map[string]float64 `json:"thresholds"`
}

func (c *statusCmd) Run(ctx context.Context, a *App) error {
	if c.Watch {
		return c.watch(ctx, a)
	}
	return c.show(ctx, a)
}

// show prints the dashboard once.
func (c *statusCmd) show(ctx context.Context, a *App) error {
	s, err := a.Store(ctx)
	if err != nil {
		return err
	}
	v, err := s.Load(ctx)
	if err != nil {
		return err
	}
	sum := transitions.Summarize(v)
	du, err := gitstate.Usage(s.Repo.CommonDir)
	if err != nil {
		return err
	}
	p := s.Policy
	disk := diskJSON{DiskUsage: du, Level: transitions.DiskLevel(du.UsedPercent, p), Thresholds: map[string]float64{
		"warning": p.DiskWarningThreshold, "critical": p.DiskCriticalThreshold, "emergency": p.DiskEmergencyThreshold,
	}}
	var hs []hooks.Hook
	if env, err := a.hooksEnv(ctx); err == nil {
		hs = hooks.Status(env)
	}
	if a.JSON {
		return a.printJSON(statusJSON{Repository: s.Repo.WorkTree, Summary: sum, Disk: disk, Hooks: hs, Monitor: monitorPart(s.Repo), Remotes: s.Repo.SyncRecords()})
	}
	w := a.Stdout
	fmt.Fprintf(w, "repository  %s\n\n", s.Repo.WorkTree)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "state\tbackups\tchanged bytes\t")
	for _, st := range transitions.States {
		c := sum.States[st]
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", st, c.Count, transitions.HumanBytes(c.Bytes))
	}
	fmt.Fprintf(tw, "total\t%d\t\t\n", sum.Total)
	tw.Flush()
	if sum.Pinned > 0 {
		fmt.Fprintf(w, "pinned      %d\n", sum.Pinned)
	}
	if sum.Damaged > 0 {
		fmt.Fprintf(w, "damaged     %d (run git backup fsck)\n", sum.Damaged)
	}
	fmt.Fprintf(w, "\ndisk        %.1f%% used, %s free on the file system of %s\n", du.UsedPercent, transitions.HumanBytes(int64(du.FreeBytes)), du.Path)
	fmt.Fprintf(w, "level       %s (warning %.0f%%, critical %.0f%%, emergency %.0f%%)\n", disk.Level, p.DiskWarningThreshold, p.DiskCriticalThreshold, p.DiskEmergencyThreshold)
	last := "never"
	if sum.LastCleanup != nil {
		last = fmt.Sprintf("%s (%s ago)", sum.LastCleanup.Format(time.RFC3339), age(time.Now(), *sum.LastCleanup))
	}
	fmt.Fprintf(w, "cleanup     last %s\n", last)
	printSyncs(w, s.Repo.SyncRecords(), time.Now())
	fmt.Fprintf(w, "hooks       %s\n", hooksLine(hs))
	printMonitorPart(a, monitorPart(s.Repo))
	if len(sum.Transitions) > 0 {
		fmt.Fprintf(w, "moves      ")
		for _, from := range transitions.States {
			for _, to := range transitions.States {
				if n := sum.Transitions[string(from)+"->"+string(to)]; n > 0 {
					fmt.Fprintf(w, " %s→%s %d", from, to, n)
				}
			}
		}
		if sum.Forced > 0 {
			fmt.Fprintf(w, " (%d forced)", sum.Forced)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// hooksLine sums up the hooks for the dashboard: all installed, or which are not.
func hooksLine(hs []hooks.Hook) string {
	var bad []string
	for _, h := range hs {
		if h.State != hooks.StateInstalled && h.State != hooks.StateChained {
			bad = append(bad, h.Name+" "+string(h.State))
		}
	}
	if len(bad) == 0 {
		return fmt.Sprintf("all %d installed", len(hs))
	}
	return strings.Join(bad, ", ") + " (git backup hooks status tells more)"
}

// monitorJSON is the monitor part of status: paused or not, and the monitor.
type monitorJSON struct {
	Paused monitor.PauseState `json:"paused"`
	monitor.Status
}

func monitorPart(r *gitstate.Repo) monitorJSON {
	st, _ := monitor.ReadStatus(r)
	return monitorJSON{Paused: monitor.Paused(r, time.Now()), Status: st}
}

func printMonitorPart(a *App, m monitorJSON) {
	switch {
	case m.Paused.Paused && m.Paused.Until.IsZero():
		a.out("paused      until git backup resume")
	case m.Paused.Paused:
		a.out("paused      until %s", m.Paused.Until.Local().Format(time.RFC3339))
	}
	printMonitorStatus(a, m.Status, time.Now())
}
