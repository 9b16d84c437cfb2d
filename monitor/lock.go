package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/git-backup/git-backup/gitstate"
)

// ErrRunning is returned when another monitor holds a repository's lock.
var ErrRunning = errors.New("a monitor is already running")

// State is what monitor.json says about the monitor of a repository,
// rewritten after each cycle.
type State struct {
	PID       int       `json:"pid"`
	Started   time.Time `json:"started"`
	LastCycle time.Time `json:"last_cycle,omitzero"`
	// Outcome is "ok", "paused" or the error of the last cycle.
	Outcome   string    `json:"outcome,omitempty"`
	Level     string    `json:"level,omitempty"`
	NextCycle time.Time `json:"next_cycle,omitzero"`
	// LastReport is when the daily report was last sent (or, before the
	// first one, when its first day began); it outlives restarts.
	LastReport time.Time `json:"last_report,omitzero"`
}

// Status is a repository's monitor as seen from outside: Running comes from
// testing the lock, the rest from monitor.json.
type Status struct {
	Running bool `json:"running"`
	State
}

func lockPath(r *gitstate.Repo) string  { return filepath.Join(r.BackupDir(), "monitor.lock") }
func statePath(r *gitstate.Repo) string { return filepath.Join(r.BackupDir(), "monitor.json") }

// lock takes the repository's monitor lock without waiting. The kernel drops
// it when the process dies, so a crashed monitor leaves nothing stale.
func lock(r *gitstate.Repo) (*flock.Flock, error) {
	if err := os.MkdirAll(r.BackupDir(), 0o700); err != nil {
		return nil, fmt.Errorf("lock monitor: %w", err)
	}
	l := flock.New(lockPath(r))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock monitor: %w", err)
	}
	if !ok {
		st, _ := readState(r)
		if st.PID > 0 {
			return nil, fmt.Errorf("%w in %q (pid %d, since %s)", ErrRunning, r.CommonDir, st.PID, st.Started.Local().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("%w in %q", ErrRunning, r.CommonDir)
	}
	return l, nil
}

func readState(r *gitstate.Repo) (State, error) {
	var st State
	b, err := os.ReadFile(statePath(r))
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(b, &st)
	return st, err
}

func writeState(r *gitstate.Repo, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return gitstate.WriteFileAtomic(statePath(r), append(b, '\n'), 0o600)
}

// ReadStatus tells whether a monitor runs for the repository, by testing its
// lock (a pid file alone may be stale), and what it last wrote.
func ReadStatus(r *gitstate.Repo) (Status, error) {
	st, _ := readState(r)
	if _, err := os.Stat(lockPath(r)); err != nil {
		return Status{State: st}, nil
	}
	l := flock.New(lockPath(r))
	ok, err := l.TryRLock()
	if err != nil {
		return Status{State: st}, fmt.Errorf("test monitor lock: %w", err)
	}
	if ok {
		_ = l.Unlock()
		return Status{State: st}, nil
	}
	return Status{Running: true, State: st}, nil
}
