package gitstate

import (
	"os"
	"path/filepath"
)

// ReadCache returns the content of cache file name under <common dir>/backup/cache,
// or nil when there is none. Caches are derived data: any problem reads as "no cache".
func (r *Repo) ReadCache(name string) []byte {
	b, err := os.ReadFile(filepath.Join(r.BackupDir(), "cache", name))
	if err != nil {
		return nil
	}
	return b
}

// WriteCache replaces cache file name atomically. Failing to write a cache
// (a read-only repository) is not an error worth stopping for, so it is
// reported only to callers that care.
func (r *Repo) WriteCache(name string, data []byte) error {
	d, err := r.ensureBackupDir("cache")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(d, name), data, 0o600)
}
