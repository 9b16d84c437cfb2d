package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type emergencyCmd struct {
	applyFlags
}

func (c *emergencyCmd) Help() string {
	return `Guided emergency cleanup: measures the file systems of the git dir and of
the archive directory, shows their levels against backup.diskWarningThreshold,
Critical and Emergency, plans a cleanup at the emergency level with
backup.emergencyStrategy (conservative, aggressive or nuclear; SPEC §7), asks,
carries it out, reclaims the space and measures again.`
}

// emergencyDisk is the disk as measured for emergency.
type emergencyDisk struct {
	GitDir       gitstate.DiskUsage `json:"git_dir"`
	GitDirLevel  string             `json:"git_dir_level"`
	Archive      gitstate.DiskUsage `json:"archive_dir"`
	ArchiveLevel string             `json:"archive_dir_level"`
	Thresholds   map[string]float64 `json:"thresholds"`
}

func (c *emergencyCmd) Run(ctx context.Context, a *App) error {
	s, err := a.cleanupStore(ctx, c.applyFlags)
	if err != nil {
		return err
	}
	measure := func() (*emergencyDisk, bool) {
		d, err := measureDisk(s)
		if err != nil {
			a.note("%v", err)
			return nil, false
		}
		return d, true
	}
	d, err := measureDisk(s)
	if err != nil {
		return err
	}
	if !a.JSON {
		a.printDisk("disk", *d)
		a.out("emergency strategy: %s", s.Policy.EmergencyStrategy)
		if d.GitDirLevel != "emergency" {
			a.out("the git dir is not at the emergency level; this is what the monitor would do if it were")
		}
	}
	planner := func(s *transitions.Store) transitions.Planner {
		p := s.Policy
		facts := transitions.DiskFacts{GitDirUsed: d.GitDir.UsedPercent, ArchiveUsed: d.Archive.UsedPercent}
		return func(v *transitions.View, f transitions.PlanFacts) transitions.Plan {
			f.Disk = facts
			return transitions.PlanCleanup(v, f, p, transitions.LevelEmergency, 0)
		}
	}
	return a.runCleanup(ctx, s, cleanupRun{flags: c.applyFlags, planner: planner, disk: d, after: measure})
}

// measureDisk measures the git dir's file system and the archive
// directory's (its nearest existing parent when it does not exist yet).
func measureDisk(s *transitions.Store) (*emergencyDisk, error) {
	p := s.Policy
	g, err := gitstate.Usage(s.Repo.CommonDir)
	if err != nil {
		return nil, err
	}
	dir := s.ArchiveDir()
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			break
		}
		dir = filepath.Dir(dir)
	}
	ar, err := gitstate.Usage(dir)
	if err != nil {
		return nil, err
	}
	ar.Path = s.ArchiveDir()
	return &emergencyDisk{GitDir: g, GitDirLevel: transitions.DiskLevel(g.UsedPercent, p),
		Archive: ar, ArchiveLevel: transitions.DiskLevel(ar.UsedPercent, p),
		Thresholds: map[string]float64{"warning": p.DiskWarningThreshold, "critical": p.DiskCriticalThreshold, "emergency": p.DiskEmergencyThreshold}}, nil
}

// printDisk prints both file systems with their levels and the thresholds.
func (a *App) printDisk(label string, d emergencyDisk) {
	t := d.Thresholds
	a.out("%s: git dir %.1f%% used, %s free: %s (warning %.0f%%, critical %.0f%%, emergency %.0f%%)", label, d.GitDir.UsedPercent,
		transitions.HumanBytes(int64(d.GitDir.FreeBytes)), d.GitDirLevel, t["warning"], t["critical"], t["emergency"])
	a.out("%s: archive dir %.1f%% used, %s free: %s", label, d.Archive.UsedPercent, transitions.HumanBytes(int64(d.Archive.FreeBytes)), d.ArchiveLevel)
}
