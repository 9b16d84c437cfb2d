package gitstate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Push is one ref update a pre-push hook reported.
type Push struct {
	Time       time.Time `json:"time"`
	Remote     string    `json:"remote_oid"`
	RemoteRef  string    `json:"remote_ref"`
	Local      string    `json:"local_oid"`
	LocalRef   string    `json:"local_ref"`
	RemoteName string    `json:"remote"`
}

// RecordPushes appends what is being pushed to <common dir>/backup/pushes.jsonl.
func (r *Repo) RecordPushes(remote string, ps []Push, now time.Time) error {
	if len(ps) == 0 {
		return nil
	}
	d, err := r.ensureBackupDir("")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(d, "pushes.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("record pushes: %w", err)
	}
	defer f.Close()
	var buf []byte
	for _, p := range ps {
		p.Time, p.RemoteName = now.UTC(), remote
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("record pushes: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("record pushes: %w", err)
	}
	return nil
}
