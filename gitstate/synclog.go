package gitstate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SyncRecord is when this clone last exchanged state with one remote.
type SyncRecord struct {
	Fetched *time.Time `json:"fetched_at,omitempty"`
	Pushed  *time.Time `json:"pushed_at,omitempty"`
	State   string     `json:"state,omitempty"` // the state commit last fetched or pushed
}

// syncFile is <common dir>/backup/sync.json: remote name → SyncRecord.
func (r *Repo) syncFile() string { return filepath.Join(r.BackupDir(), "sync.json") }

// SyncRecords reads when each remote was last fetched and pushed. A missing,
// unreadable or damaged file reads as no syncs yet.
func (r *Repo) SyncRecords() map[string]SyncRecord {
	var out map[string]SyncRecord
	b, err := os.ReadFile(r.syncFile())
	if err != nil || json.Unmarshal(b, &out) != nil || out == nil { // "null" decodes to a nil map
		return map[string]SyncRecord{}
	}
	return out
}

// RecordSync notes a fetch (pushed false) or a push (pushed true) of state to
// remote at now. Concurrent recorders may lose each other's update; the file
// is only informational.
func (r *Repo) RecordSync(remote string, pushed bool, state string, now time.Time) error {
	if _, err := r.ensureBackupDir(""); err != nil {
		return err
	}
	m := r.SyncRecords()
	rec := m[remote]
	t := now.UTC().Truncate(time.Second)
	if pushed {
		rec.Pushed = &t
	} else {
		rec.Fetched = &t
	}
	if state != "" {
		rec.State = state
	}
	m[remote] = rec
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("record sync: %w", err)
	}
	if err := WriteFileAtomic(r.syncFile(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("record sync: %w", err)
	}
	return nil
}
