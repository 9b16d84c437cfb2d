package transitions

import (
	"fmt"
	"slices"
	"testing"
)

func TestDiskFacts_levels(t *testing.T) {
	p := DefaultPolicy() // 75 / 85 / 95, 20% free
	capped := p
	capped.MaxSize = 1000
	cases := []struct {
		d       DiskFacts
		p       Policy
		level   Level
		archive Level
		levels  []Level
	}{
		{DiskFacts{GitDirUsed: 10, ArchiveUsed: 10}, p, LevelOK, LevelOK, nil},
		{DiskFacts{GitDirUsed: 75, ArchiveUsed: 80}, p, LevelWarning, LevelWarning, []Level{LevelWarning}},
		{DiskFacts{GitDirUsed: 85, ArchiveUsed: 10}, p, LevelCritical, LevelOK, []Level{LevelCritical}},
		{DiskFacts{GitDirUsed: 99, ArchiveUsed: 99}, p, LevelEmergency, LevelEmergency, []Level{LevelEmergency, LevelArchive}},
		{DiskFacts{GitDirUsed: 10, ArchiveUsed: 85}, p, LevelOK, LevelCritical, []Level{LevelArchive}},
		// maxSize: the share held counts like a file system's usage
		{DiskFacts{GitDirUsed: 10, HeldBytes: 860}, capped, LevelCritical, LevelOK, []Level{LevelCritical}},
		{DiskFacts{GitDirUsed: 10, HeldBytes: 2000}, capped, LevelEmergency, LevelOK, []Level{LevelEmergency}},
		{DiskFacts{GitDirUsed: 80, HeldBytes: 100}, capped, LevelWarning, LevelOK, []Level{LevelWarning}},
		{DiskFacts{GitDirUsed: 10, HeldBytes: 1 << 40}, p, LevelOK, LevelOK, nil}, // no cap
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%+v maxSize %d", tc.d, tc.p.MaxSize)
		if got := tc.d.Level(tc.p); got != tc.level {
			t.Errorf("%s: Level %q, want %q", name, got, tc.level)
		}
		if got := tc.d.ArchiveLevel(tc.p); got != tc.archive {
			t.Errorf("%s: ArchiveLevel %q, want %q", name, got, tc.archive)
		}
		if got := tc.d.Levels(tc.p); !slices.Equal(got, tc.levels) {
			t.Errorf("%s: Levels %q, want %q", name, got, tc.levels)
		}
		for _, l := range tc.d.Levels(tc.p) {
			if _, ok := rowFor(l, tc.p); !ok || !l.Disk() {
				t.Errorf("%s: level %q has no row of the table", name, l)
			}
		}
	}
}

func TestDiskFacts_TargetReached(t *testing.T) {
	p := DefaultPolicy()
	odd := p
	odd.MinFreeSpaceTarget = 3 // below the emergency threshold's 5% free
	capped := p
	capped.MaxSize = 100
	cases := []struct {
		lvl  Level
		d    DiskFacts
		p    Policy
		want bool
	}{
		{LevelWarning, DiskFacts{GitDirUsed: 74.9}, p, true},
		{LevelWarning, DiskFacts{GitDirUsed: 75}, p, false},
		{LevelCritical, DiskFacts{GitDirUsed: 84}, p, true},
		{LevelCritical, DiskFacts{GitDirUsed: 85}, p, false},
		{LevelEmergency, DiskFacts{GitDirUsed: 90}, p, false}, // below emergency, but 10% free < 20%
		{LevelEmergency, DiskFacts{GitDirUsed: 80}, p, true},
		{LevelEmergency, DiskFacts{GitDirUsed: 96}, odd, false}, // 4% free ≥ 3%, still at emergency
		{LevelEmergency, DiskFacts{GitDirUsed: 94}, odd, true},
		{LevelEmergency, DiskFacts{GitDirUsed: 50, HeldBytes: 90}, capped, false},
		{LevelArchive, DiskFacts{GitDirUsed: 99, ArchiveUsed: 84}, p, true},
		{LevelArchive, DiskFacts{ArchiveUsed: 85}, p, false},
		{LevelNuclear, DiskFacts{}, p, false}, // user levels run to the end
		{LevelGentle, DiskFacts{}, p, false},
	}
	for _, tc := range cases {
		if got := tc.d.TargetReached(tc.lvl, tc.p); got != tc.want {
			t.Errorf("%s %+v: TargetReached %v, want %v", tc.lvl, tc.d, got, tc.want)
		}
	}
}
