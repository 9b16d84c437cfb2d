package gitstate

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LogPath is the path of log name under <common dir>/backup/logs.
func (r *Repo) LogPath(name string) string {
	return filepath.Join(r.BackupDir(), "logs", name+".log")
}

// AppendLog appends one timestamped line to log name. Hooks and the monitor
// write their failures here, since nobody may be watching their stderr.
func (r *Repo) AppendLog(name, line string) error {
	if _, err := r.ensureBackupDir("logs"); err != nil {
		return err
	}
	f, err := os.OpenFile(r.LogPath(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("append to %s log: %w", name, err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339), line); err != nil {
		return fmt.Errorf("append to %s log: %w", name, err)
	}
	return nil
}

// MarkerExists reports whether the marker file name exists in <common dir>/backup.
func (r *Repo) MarkerExists(name string) bool {
	_, err := os.Stat(filepath.Join(r.BackupDir(), name))
	return err == nil
}

// SetMarker creates the marker file name in <common dir>/backup.
func (r *Repo) SetMarker(name, content string) error {
	d, err := r.ensureBackupDir("")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(d, name), []byte(content), 0o600)
}
