package monitor

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// HistoryFile is the disk-usage history under <git common dir>/backup.
const HistoryFile = "metrics/disk.jsonl"

// HistoryKeep is how long disk samples are kept.
const HistoryKeep = 24 * time.Hour

// DiskPoint is one line of the disk-usage history: the percentages used of
// the file systems holding the git dir, the archive dir and "/" (nil when
// unknown).
type DiskPoint struct {
	Time    time.Time `json:"time"`
	GitDir  float64   `json:"git_dir_percent"`
	Archive float64   `json:"archive_percent"`
	Root    *float64  `json:"root_percent"`
}

// PointOf is the history line of a cycle's sample.
func PointOf(s Sample) DiskPoint {
	p := DiskPoint{Time: s.Time.UTC(), GitDir: s.GitDirUsed, Archive: s.ArchiveUsed}
	if s.RootUsed >= 0 {
		r := s.RootUsed
		p.Root = &r
	}
	return p
}

// History is one repository's disk-usage history, kept for Keep (24 hours
// by default). Only one process appends to it: the monitor that holds the
// repository's lock.
type History struct {
	Repo *gitstate.Repo
	Now  func() time.Time // nil: the wall clock
	Keep time.Duration    // 0: HistoryKeep
}

func (h *History) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *History) keep() time.Duration {
	if h.Keep > 0 {
		return h.Keep
	}
	return HistoryKeep
}

// Append adds p to the history. When the oldest line has aged past Keep by
// more than a twenty-fourth of it, the file is rewritten without the lines
// older than Keep, so the rewrite happens about once an hour, not every cycle.
func (h *History) Append(p DiskPoint) error {
	line, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode disk sample: %w", err)
	}
	if err := h.Repo.AppendJSONL(HistoryFile, line); err != nil {
		return err
	}
	lines, err := h.Repo.ReadJSONL(HistoryFile)
	if err != nil || len(lines) == 0 {
		return err
	}
	now := h.now()
	var first DiskPoint
	if json.Unmarshal(lines[0], &first) == nil && !first.Time.Before(now.Add(-h.keep()-h.keep()/24)) {
		return nil
	}
	return h.trim(lines, now)
}

// Trim drops the lines older than Keep (and lines that do not parse).
func (h *History) Trim() error {
	lines, err := h.Repo.ReadJSONL(HistoryFile)
	if err != nil || len(lines) == 0 {
		return err
	}
	return h.trim(lines, h.now())
}

func (h *History) trim(lines [][]byte, now time.Time) error {
	cut := now.Add(-h.keep())
	kept := lines[:0:0]
	for _, l := range lines {
		var p DiskPoint
		if json.Unmarshal(l, &p) == nil && !p.Time.Before(cut) {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(lines) {
		return nil
	}
	return h.Repo.RewriteJSONL(HistoryFile, kept)
}

// Read returns the points of the last Keep, oldest first. Lines that do not
// parse (one cut short by a crash) are skipped.
func (h *History) Read() ([]DiskPoint, error) {
	lines, err := h.Repo.ReadJSONL(HistoryFile)
	if err != nil {
		return nil, err
	}
	cut := h.now().Add(-h.keep())
	var ps []DiskPoint
	for _, l := range lines {
		var p DiskPoint
		if json.Unmarshal(l, &p) == nil && !p.Time.Before(cut) {
			ps = append(ps, p)
		}
	}
	return ps, nil
}
