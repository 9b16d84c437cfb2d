package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// savedState is what a cleanup or an archive changes in a repository, saved
// once so that every timed run starts from the same state: the refs under
// refs/backups/ (the state ref and the snapshot refs) and git-backup's
// caches. The archive directory is emptied on restore.
type savedState struct {
	dir   string
	refs  map[string]string // ref name → object ID
	cache map[string][]byte // file below .git/backup/cache → content
}

func (s *savedState) cacheDir() string   { return filepath.Join(s.dir, ".git", "backup", "cache") }
func (s *savedState) archiveDir() string { return filepath.Join(s.dir, ".git", "backup", "archive") }

// saveState reads the refs and caches of the repository in dir.
func saveState(ctx context.Context, dir string) (*savedState, error) {
	s := &savedState{dir: dir, refs: map[string]string{}, cache: map[string][]byte{}}
	out, err := gitOut(ctx, dir, nil, "for-each-ref", "--format=%(refname) %(objectname)", "refs/backups/")
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(out, "\n") {
		if name, id, ok := strings.Cut(l, " "); ok {
			s.refs[name] = id
		}
	}
	err = filepath.WalkDir(s.cacheDir(), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s.cache[p] = b
		}
		return nil
	})
	return s, err
}

// restore puts the saved refs back in one transaction (deleting any other
// ref under refs/backups/), writes the saved caches again, and empties the
// archive directory.
func (s *savedState) restore(ctx context.Context) error {
	out, err := gitOut(ctx, s.dir, nil, "for-each-ref", "--format=%(refname)", "refs/backups/")
	if err != nil {
		return err
	}
	var in strings.Builder
	in.WriteString("start\n")
	for _, name := range strings.Split(out, "\n") {
		if name != "" && s.refs[name] == "" {
			fmt.Fprintf(&in, "delete %s\n", name)
		}
	}
	for name, id := range s.refs {
		fmt.Fprintf(&in, "update %s %s\n", name, id)
	}
	in.WriteString("prepare\ncommit\n")
	if _, err := gitOut(ctx, s.dir, strings.NewReader(in.String()), "update-ref", "--stdin"); err != nil {
		return err
	}
	if err := os.RemoveAll(s.cacheDir()); err != nil {
		return err
	}
	for p, b := range s.cache {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(s.archiveDir())
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(s.archiveDir(), e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// timeCmd runs name with args in dir, stdin from the given bytes, and times
// the process (start to exit, and CPU of it and the processes it waited for).
func timeCmd(ctx context.Context, dir string, stdin []byte, name string, args ...string) (sample, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return sample{}, nil, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return sample{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, stdout.Bytes(), nil
}
