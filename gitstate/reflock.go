package gitstate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// RefLock is a lock file git keeps beside a ref (<ref>.lock) or beside
// packed-refs while it changes them. A git process killed in that moment
// leaves it behind, and every later change of that ref fails until it is
// removed.
type RefLock struct {
	Path    string
	Ref     string // the ref it locks, or "packed-refs"
	ModTime time.Time
	Size    int64
}

// RefLocks lists the lock files of the refs under refs/backups/ and of
// packed-refs in the common git dir. A change in progress has one too:
// callers decide by age which are stale.
func (r *Repo) RefLocks() ([]RefLock, error) {
	var out []RefLock
	root := filepath.Join(r.CommonDir, "refs", "backups")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone meanwhile, or no refs/backups yet
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".lock") {
			rel, err := filepath.Rel(r.CommonDir, p)
			if err != nil {
				return err
			}
			out = r.addRefLock(out, p, filepath.ToSlash(strings.TrimSuffix(rel, ".lock")))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list ref lock files: %w", err)
	}
	out = r.addRefLock(out, filepath.Join(r.CommonDir, "packed-refs.lock"), "packed-refs")
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (r *Repo) addRefLock(out []RefLock, p, ref string) []RefLock {
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return out
	}
	return append(out, RefLock{Path: p, Ref: ref, ModTime: fi.ModTime(), Size: fi.Size()})
}

// RemoveRefLock deletes a lock file that RefLocks listed. It refuses any
// other file, and one that changed since it was listed (a git process holds
// it).
func (r *Repo) RemoveRefLock(l RefLock) error {
	locks, err := r.RefLocks()
	if err != nil {
		return err
	}
	for _, cur := range locks {
		if cur.Path != l.Path {
			continue
		}
		if !cur.ModTime.Equal(l.ModTime) || cur.Size != l.Size {
			return fmt.Errorf("remove lock file %q: it changed since it was listed (a git process holds it)", l.Path)
		}
		if err := os.Remove(l.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove lock file: %w", err)
		}
		return nil
	}
	return nil // gone already
}
