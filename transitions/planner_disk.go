package transitions

// DiskFacts are the disk measures behind a disk level.
type DiskFacts struct {
	GitDirUsed  float64 // percent used of the file system holding the git dir
	ArchiveUsed float64 // percent used of the file system holding backup.archiveDir
	// HeldBytes is what backups hold: snapshot sizes and archive files,
	// compared with backup.maxSize.
	HeldBytes int64
}

// UsedPercent is the usage that decides the git dir's level: its file
// system's, or the share of backup.maxSize held (when maxSize is set),
// whichever is higher. So the thresholds apply to maxSize too: holding 85% of
// it is critical, 95% an emergency.
func (d DiskFacts) UsedPercent(p Policy) float64 {
	u := d.GitDirUsed
	if p.MaxSize > 0 {
		u = max(u, float64(d.HeldBytes)*100/float64(p.MaxSize))
	}
	return u
}

// Level is the git dir's disk level: ok, warning, critical or emergency.
func (d DiskFacts) Level(p Policy) Level { return Level(DiskLevel(d.UsedPercent(p), p)) }

// ArchiveLevel is the archive file system's level.
func (d DiskFacts) ArchiveLevel(p Policy) Level { return Level(DiskLevel(d.ArchiveUsed, p)) }

// Levels lists the rows of SPEC §7's table that apply now, for PlanCleanup:
// the git dir's level unless ok, then LevelArchive when the archive file
// system is at critical or above.
func (d DiskFacts) Levels(p Policy) []Level {
	var ls []Level
	if l := d.Level(p); l != LevelOK {
		ls = append(ls, l)
	}
	if l := d.ArchiveLevel(p); l == LevelCritical || l == LevelEmergency {
		ls = append(ls, LevelArchive)
	}
	return ls
}

// TargetReached reports whether a disk-driven cleanup at lvl may stop, as the
// monitor re-measures after each backup: warning stops below the warning
// threshold, critical below critical, emergency once below the emergency
// threshold with minFreeSpaceTarget percent free, archive when the archive
// file system is below critical. User levels have no target: their plan runs
// to the end.
func (d DiskFacts) TargetReached(lvl Level, p Policy) bool {
	used := d.UsedPercent(p)
	switch lvl {
	case LevelWarning:
		return used < p.DiskWarningThreshold
	case LevelCritical:
		return used < p.DiskCriticalThreshold
	case LevelEmergency:
		return used < p.DiskEmergencyThreshold && 100-used >= p.MinFreeSpaceTarget
	case LevelArchive:
		return d.ArchiveUsed < p.DiskCriticalThreshold
	}
	return false
}
