package monitor

import (
	"context"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// Clock tells the time and waits; the real one is the wall clock, tests use
// a fake that moves only when told.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// DiskProvider measures the file system that holds a path; the real one is
// gitstate.Usage.
type DiskProvider interface {
	Usage(path string) (gitstate.DiskUsage, error)
}

// DiskFunc adapts a function to DiskProvider.
type DiskFunc func(path string) (gitstate.DiskUsage, error)

// Usage calls f.
func (f DiskFunc) Usage(path string) (gitstate.DiskUsage, error) { return f(path) }

// Alerter sends an alert; a nil Alerter sends none. Alert must return within
// its own timeout: the loop waits for it but never retries.
type Alerter interface {
	Alert(ctx context.Context, e Event) error
}

// Metrics records what the loop measured and did; a nil Metrics records
// nothing. Calls come from the loop goroutine, one cycle at a time.
type Metrics interface {
	// Record adds one cycle's disk sample to the history.
	Record(s Sample)
	// Transitions counts the moves a cycle applied.
	Transitions(ts []Transition)
}

// Reporter sends the daily report of a repository (Report.Repository);
// a nil Reporter sends none. Like Alert, it must return within its own
// timeout and never retries on its own.
type Reporter interface {
	DailyReport(ctx context.Context, r Report) error
}

// BackupCounter is what a Metrics may also be: told each cycle how many
// backups each state holds and the bytes they changed.
type BackupCounter interface {
	SetBackups(repo string, states map[transitions.State]transitions.StateCount)
}

// Event is an alert: a disk level change, or a cycle still in emergency.
type Event struct {
	// Level is the disk level now (ok, warning, critical, emergency, or
	// archive when only the archive file system is at critical or above);
	// Previous is the level before this cycle.
	Level    string `json:"level"`
	Previous string `json:"previous"`
	// Usage is the measure of the git dir's file system; ArchiveUsage the
	// archive dir's (the same file system when they share one).
	Usage        gitstate.DiskUsage `json:"usage"`
	ArchiveUsage gitstate.DiskUsage `json:"archive_usage"`
	// HeldBytes is what backups hold, compared with MaxSize (0 = no cap).
	HeldBytes int64 `json:"held_bytes"`
	MaxSize   int64 `json:"max_size"`
	// Repo is the repository's work tree (or git dir when bare).
	Repo string `json:"repo"`
	// Plan summarises what the cycle did about it.
	Plan PlanSummary `json:"plan"`
	Time time.Time   `json:"time"`
}

// PlanSummary is what a cycle's disk cleanup did, in a few numbers.
type PlanSummary struct {
	Title      string `json:"title"`
	Moves      int    `json:"moves"`
	Archived   int    `json:"archived"`
	Deleted    int    `json:"deleted"`
	Promoted   int    `json:"promoted"`
	FreesBytes int64  `json:"frees_bytes"` // the planner's estimate
	// ReclaimedBytes is what reclaim measured as freed on disk.
	ReclaimedBytes int64 `json:"reclaimed_bytes"`
	// TargetReached reports whether the level's target held at the end.
	TargetReached bool `json:"target_reached"`
}

// Sample is one cycle's disk measure, for the 24-hour history.
type Sample struct {
	Time        time.Time `json:"time"`
	Repo        string    `json:"repo"`
	GitDirUsed  float64   `json:"git_dir_used"` // percent
	ArchiveUsed float64   `json:"archive_used"` // percent
	RootUsed    float64   `json:"root_used"`    // percent of "/", -1 when unknown
	HeldBytes   int64     `json:"held_bytes"`
	Level       string    `json:"level"`
	// Backups counts backups by state.
	Backups map[string]int `json:"backups,omitempty"`
}

// Transition is one move a cycle applied.
type Transition struct {
	Time    time.Time `json:"time"`
	Repo    string    `json:"repo"`
	ID      string    `json:"id"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Trigger string    `json:"trigger"` // time, disk, autosave, git
	// FreesBytes is the planner's estimate for the move.
	FreesBytes int64 `json:"frees_bytes"`
}
