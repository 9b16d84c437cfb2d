package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// PauseFile is the name of the pause marker in <git common dir>/backup.
const PauseFile = "paused"

// PauseState is what the pause marker says. A zero Until pauses until resumed.
type PauseState struct {
	Paused bool      `json:"paused"`
	Since  time.Time `json:"since,omitzero"`
	Until  time.Time `json:"until,omitzero"`
}

func pausePath(r *gitstate.Repo) string { return filepath.Join(r.BackupDir(), PauseFile) }

// Pause stops every automatic trigger (hooks, monitor cycles, autosave) of
// the repository until Resume, or until until when it is not zero.
func Pause(r *gitstate.Repo, now, until time.Time) error {
	b, err := json.Marshal(PauseState{Paused: true, Since: now.UTC(), Until: until.UTC()})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.BackupDir(), 0o700); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	if err := gitstate.WriteFileAtomic(pausePath(r), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	return nil
}

// Resume removes the pause marker; resuming what is not paused is no error.
func Resume(r *gitstate.Repo) error {
	if err := os.Remove(pausePath(r)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("resume: %w", err)
	}
	return nil
}

// Paused reads the pause marker at now. An expired pause reads as not
// paused (the marker is left for Resume or the next Pause). A marker that
// cannot be parsed pauses until resumed: the user asked for quiet.
func Paused(r *gitstate.Repo, now time.Time) PauseState {
	b, err := os.ReadFile(pausePath(r))
	if err != nil {
		return PauseState{}
	}
	var ps PauseState
	if err := json.Unmarshal(b, &ps); err != nil {
		return PauseState{Paused: true}
	}
	ps.Paused = ps.Until.IsZero() || now.Before(ps.Until)
	return ps
}
