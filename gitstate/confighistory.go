package gitstate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ConfigHistoryEntry is one change made through `git backup config`: for
// every key it touched, the values before and after.
type ConfigHistoryEntry struct {
	Time    time.Time      `json:"time"`
	Command string         `json:"command"` // set, unset, import, template NAME, wizard, rollback
	Changes []ConfigChange `json:"changes"`
}

// ConfigChange is one key in one scope. No values means the key was not set.
type ConfigChange struct {
	Scope string   `json:"scope"`
	Key   string   `json:"key"`
	Old   []string `json:"old"`
	New   []string `json:"new"`
}

// maxConfigHistory is how many entries a rewrite keeps.
const maxConfigHistory = 1000

func (r *Repo) configHistoryFile() string {
	return filepath.Join(r.BackupDir(), "config-history.jsonl")
}

// ConfigHistory returns the recorded config changes, oldest first. A missing
// file is an empty history; lines that do not parse are skipped.
func (r *Repo) ConfigHistory() ([]ConfigHistoryEntry, error) {
	b, err := os.ReadFile(r.configHistoryFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config history: %w", err)
	}
	var es []ConfigHistoryEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e ConfigHistoryEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Command != "" {
			es = append(es, e)
		}
	}
	return es, nil
}

// AppendConfigHistory adds one entry at the end of the history.
func (r *Repo) AppendConfigHistory(e ConfigHistoryEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("record config change: %w", err)
	}
	if _, err := r.ensureBackupDir(""); err != nil {
		return fmt.Errorf("record config change: %w", err)
	}
	f, err := os.OpenFile(r.configHistoryFile(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("record config change: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("record config change: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record config change: %w", err)
	}
	return nil
}

// WriteConfigHistory replaces the history with es (oldest first), keeping
// the newest maxConfigHistory entries.
func (r *Repo) WriteConfigHistory(es []ConfigHistoryEntry) error {
	if len(es) > maxConfigHistory {
		es = es[len(es)-maxConfigHistory:]
	}
	var buf bytes.Buffer
	for _, e := range es {
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("write config history: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if _, err := r.ensureBackupDir(""); err != nil {
		return fmt.Errorf("write config history: %w", err)
	}
	if err := WriteFileAtomic(r.configHistoryFile(), buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write config history: %w", err)
	}
	return nil
}
