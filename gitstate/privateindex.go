package gitstate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// privateIndexPrefix starts the name of every private index a snapshot uses
// (see WriteWorkTree). A process killed mid-snapshot leaves one behind.
const privateIndexPrefix = "git-backup-index."

// PrivateIndex is a private index file found in a git dir.
type PrivateIndex struct {
	Path    string
	ModTime time.Time
	Size    int64
}

// PrivateIndexFiles lists the private index files in this worktree's git dir,
// the common git dir and the git dirs of linked worktrees, oldest first. A
// snapshot in progress has one too: callers decide by age which are stray.
func (r *Repo) PrivateIndexFiles() ([]PrivateIndex, error) {
	var out []PrivateIndex
	seen := map[string]bool{}
	for _, dir := range r.privateIndexDirs() {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list private index files in %q: %w", dir, err)
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			if !strings.HasPrefix(e.Name(), privateIndexPrefix) || !e.Type().IsRegular() || seen[p] {
				continue
			}
			seen[p] = true
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // finished meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("list private index files: %w", err)
			}
			out = append(out, PrivateIndex{Path: p, ModTime: fi.ModTime(), Size: fi.Size()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ModTime.Equal(out[j].ModTime) {
			return out[i].ModTime.Before(out[j].ModTime)
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// privateIndexDirs are the directories a snapshot may put its private index in.
func (r *Repo) privateIndexDirs() []string {
	dirs := []string{filepath.Clean(r.GitDir)}
	if c := filepath.Clean(r.CommonDir); c != dirs[0] {
		dirs = append(dirs, c)
	}
	wts, _ := filepath.Glob(filepath.Join(r.CommonDir, "worktrees", "*"))
	for _, d := range wts {
		if d = filepath.Clean(d); d != dirs[0] {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// RemovePrivateIndex deletes a private index file that PrivateIndexFiles
// listed. It refuses any other file, and one that changed since it was listed
// (a snapshot is using it).
func (r *Repo) RemovePrivateIndex(f PrivateIndex) error {
	dir, name := filepath.Split(f.Path)
	if !strings.HasPrefix(name, privateIndexPrefix) || !slices.Contains(r.privateIndexDirs(), filepath.Clean(dir)) {
		return fmt.Errorf("remove private index %q: not a private index of this repository", f.Path)
	}
	fi, err := os.Lstat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove private index: %w", err)
	}
	if !fi.Mode().IsRegular() || !fi.ModTime().Equal(f.ModTime) || fi.Size() != f.Size {
		return fmt.Errorf("remove private index %q: it changed since it was listed (a snapshot may be using it)", f.Path)
	}
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove private index: %w", err)
	}
	return nil
}
