package gitstate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// accessFile records when each backup was last shown, diffed or restored. It
// is local to the clone (not shared state) and only feeds confidence.
func (r *Repo) accessFile() string { return filepath.Join(r.BackupDir(), "access.json") }

// LastAccess returns backup ID → last access time. A missing or damaged file
// reads as empty: it is a hint, never a reason to fail.
func (r *Repo) LastAccess() map[string]time.Time {
	var m map[string]time.Time
	b, err := os.ReadFile(r.accessFile())
	if err != nil || json.Unmarshal(b, &m) != nil || m == nil { // "null" decodes to a nil map
		return map[string]time.Time{}
	}
	return m
}

// TouchAccess records that backup id was used now. Failures are ignored for
// the same reason.
func (r *Repo) TouchAccess(id string, now time.Time) {
	if _, err := r.ensureBackupDir(""); err != nil {
		return
	}
	m := r.LastAccess()
	m[id] = now.UTC()
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	_ = WriteFileAtomic(r.accessFile(), b, 0o600)
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it into place, so readers see the old or the new content, never a part.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
