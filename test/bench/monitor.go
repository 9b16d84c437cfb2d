package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// Absolute targets of the monitor row (DESIGN.md): one idle cycle.
const (
	monitorCPUTargetMS = 100
	monitorRSSTargetMB = 50
)

// benchMonitor builds a repository with n backups that an idle monitor cycle
// leaves alone and times `git-backup monitor --once` on it: CPU time of the
// process tree and peak RSS, against DESIGN.md's absolute targets. Every run
// must leave the state ref where it was.
func benchMonitor(ctx context.Context, m *measurer, dir, bin string, n int) (Row, error) {
	progress("writing %d backups for the monitor", n)
	start := time.Now()
	if err := makeBackups(ctx, dir, n); err != nil {
		return Row{}, err
	}
	confirmed, pending, err := settleBackups(ctx, dir)
	if err != nil {
		return Row{}, err
	}
	progress("wrote %d backups in %s", n, time.Since(start).Round(time.Millisecond))
	raised, used, err := keepDiskLevelOK(ctx, dir)
	if err != nil {
		return Row{}, err
	}
	state, err := gitOut(ctx, dir, nil, "rev-parse", gitstate.StateRef)
	if err != nil {
		return Row{}, err
	}
	once := func() (sample, int64, error) {
		s, rss, err := timeMonitor(ctx, dir, bin)
		if err != nil {
			return s, rss, err
		}
		now, err := gitOut(ctx, dir, nil, "rev-parse", gitstate.StateRef)
		if err != nil {
			return s, rss, err
		}
		if now != state {
			return s, rss, fmt.Errorf("monitor --once changed %s (%s -> %s): the cycle was not idle", gitstate.StateRef, state, now)
		}
		return s, rss, nil
	}
	// Warms the fold cache and the page cache; must be idle already.
	if _, _, err := once(); err != nil {
		return Row{}, err
	}
	progress("measuring monitor --once")
	var ss []sample
	var rss []float64
	for i := 0; i < m.warmup+m.runs; i++ {
		s, r, err := once()
		if err != nil {
			return Row{}, err
		}
		if i >= m.warmup {
			ss = append(ss, s)
			rss = append(rss, float64(r)/1024)
		}
	}
	r := Row{
		What: fmt.Sprintf("monitor, %dk backups, nothing to do", n/1000), Command: "git-backup monitor --once", Baseline: "—",
		Backup: summarise(ss), Absolute: true, PeakRSSMB: slices.Max(rss), RSSMedianMB: median(rss),
		TargetText: fmt.Sprintf("≤ %d ms CPU, ≤ %d MB RSS", monitorCPUTargetMS, monitorRSSTargetMB),
	}
	r.Met = r.Backup.CPUMedianMS <= monitorCPUTargetMS && r.PeakRSSMB <= monitorRSSTargetMB
	disk := fmt.Sprintf("the file system was %.0f%% used, below the default warning threshold, so the policy is the default one", used)
	if raised {
		disk = fmt.Sprintf("the file system was %.0f%% used, so the repository's config raises backup.diskWarningThreshold, diskCriticalThreshold and diskEmergencyThreshold to 97, 98 and 99 to keep the disk level OK", used)
	}
	r.Footnote = fmt.Sprintf("The list benchmark's repository layout with %d backups: %d CONFIRMED and %d PENDING for 2 hours (younger than confirmedTimeout and pendingTimeout, "+
		"PENDING ones not on main), the rest CREATED and not contained in HEAD; the work tree is clean, so autosave finds nothing to save; %s. "+
		"The binary runs directly (no git dispatcher), one process per cycle, so each figure includes process start-up and reading the configuration; "+
		"one untimed run first warms the fold cache, then %d warm-up and %d timed runs, each checked to leave %s unchanged. "+
		"CPU = user + system of git-backup and the git processes it ran (median; minimum %.1f ms); wall-clock median %.1f ms. "+
		"RSS = peak resident set of the largest single process of the tree (git-backup itself or one of its git children, whichever is larger; not a sum), highest of the timed runs (median %.1f MB).",
		n, confirmed, pending, disk, m.warmup, m.runs, gitstate.StateRef, slices.Min(cpuMS(ss)), r.Backup.MedianMS, r.RSSMedianMB)
	return r, nil
}

func cpuMS(ss []sample) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = float64(s.cpu.Microseconds()) / 1000
	}
	return out
}

// timeMonitor runs one `git-backup monitor --once` in dir and returns its
// times and the peak RSS in KiB that wait4 reports for it (the largest of the
// process and its waited-for descendants).
func timeMonitor(ctx context.Context, dir, bin string) (sample, int64, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "monitor", "--once")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return sample{}, 0, fmt.Errorf("git-backup monitor --once: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss)
	}
	return sample{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, rss, nil
}

// settleBackups moves every third backup of makeBackups to CONFIRMED and
// every third to PENDING, two hours ago, through the real store, so that the
// monitor has PENDING backups to check against the integration branch and
// CONFIRMED ones under their timeout.
func settleBackups(ctx context.Context, dir string) (confirmed, pending int, err error) {
	repo, err := gitstate.Open(ctx, dir)
	if err != nil {
		return 0, 0, err
	}
	clone, err := repo.CloneID()
	if err != nil {
		return 0, 0, err
	}
	when := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	s := &transitions.Store{Repo: repo, Policy: transitions.DefaultPolicy(), Clone: clone}
	_, _, err = s.Update(ctx, func(v *transitions.View) (*transitions.Batch, error) {
		confirmed, pending = 0, 0
		b := &transitions.Batch{Trigger: "hook", Title: "settle backups"}
		for i, bk := range v.Backups {
			if bk.State != transitions.Created {
				continue
			}
			one := 1.0
			toPending := gitstate.Event{Kind: gitstate.KindMove, Time: when, From: string(transitions.Created), To: string(transitions.Pending),
				Trigger: "hook", Reason: "commit " + bk.Snapshot[:7] + " contains its changes", CoveredBy: bk.Snapshot, Coverage: &one}
			switch i % 3 {
			case 0:
				toConfirmed := gitstate.Event{Kind: gitstate.KindMove, Time: when, From: string(transitions.Pending), To: string(transitions.Confirmed),
					Trigger: "hook", Reason: "its changes are on the integration branch", CoveredBy: bk.Snapshot}
				b.Changes = append(b.Changes, transitions.Change{Backup: bk, Events: []gitstate.Event{toPending, toConfirmed}, Summary: bk.ID + " CREATED -> PENDING -> CONFIRMED"})
				confirmed++
			case 1:
				b.Changes = append(b.Changes, transitions.Change{Backup: bk, Events: []gitstate.Event{toPending}, Summary: bk.ID + " CREATED -> PENDING"})
				pending++
			}
		}
		return b, nil
	})
	return confirmed, pending, err
}

// keepDiskLevelOK raises the disk thresholds in the repository's config when
// the file system holding it is fuller than the default warning threshold
// leaves room for, so that the cycle has no disk policy to apply.
func keepDiskLevelOK(ctx context.Context, dir string) (raised bool, used float64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Join(dir, ".git"), &st); err != nil {
		return false, 0, err
	}
	total := float64(st.Blocks) * float64(st.Bsize)
	free := float64(st.Bavail) * float64(st.Bsize)
	if total <= 0 {
		return false, 0, fmt.Errorf("statfs: no blocks")
	}
	used = 100 * (total - free) / total
	if used < 70 {
		return false, used, nil
	}
	if used >= 96 {
		return false, used, fmt.Errorf("the file system is %.0f%% used: the monitor would be at its emergency level; free some space to run this benchmark", used)
	}
	for k, v := range map[string]string{"backup.diskWarningThreshold": "97", "backup.diskCriticalThreshold": "98", "backup.diskEmergencyThreshold": "99"} {
		if _, err := gitOut(ctx, dir, nil, "config", k, v); err != nil {
			return false, used, err
		}
	}
	return true, used, nil
}
