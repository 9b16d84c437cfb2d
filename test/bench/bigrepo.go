package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// bigRepo is the large work tree that create is measured on.
type bigRepo struct {
	dir     string
	paths   []string // every tracked file, relative
	changed []string // the files that get new content before each create
	size    int
	round   int
	ids     map[string]bool // backup IDs seen so far
}

// newBigRepo builds a repository of dirs × perDir files in two directory
// levels, committed and packed by git fast-import, with an index whose stat
// data is fresh (nothing racily clean), as after a checkout long ago.
func newBigRepo(ctx context.Context, dir string, dirs, perDir, changed, size int) (*bigRepo, error) {
	progress("building a %d-file repository", dirs*perDir)
	b := &bigRepo{dir: dir, size: size, ids: map[string]bool{}}
	for d := 0; d < dirs; d++ {
		for f := 0; f < perDir; f++ {
			b.paths = append(b.paths, fmt.Sprintf("src/p%02d/m%02d/file%03d.txt", d/20, d%20, f))
		}
	}
	// Spread the changed files over as many directories as there are.
	for k := 0; k < changed; k++ {
		d := k * dirs / changed
		if changed > dirs {
			d = k % dirs
		}
		f := (k * 7) % perDir
		if changed > dirs {
			f = (k / dirs * 7) % perDir
		}
		b.changed = append(b.changed, fmt.Sprintf("src/p%02d/m%02d/file%03d.txt", d/20, d%20, f))
	}
	if _, err := gitOut(ctx, "", nil, "init", "-q", dir); err != nil {
		return nil, err
	}
	old := time.Now().Add(-time.Hour)
	var stream bytes.Buffer
	fmt.Fprintf(&stream, "commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\ndata 7\ninitial\n", old.Unix())
	writeFile := func(rel string, data []byte) error {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		// Older than the index that is written next: not racily clean.
		if err := os.Chtimes(p, old, old); err != nil {
			return err
		}
		fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n", rel, len(data))
		stream.Write(data)
		stream.WriteByte('\n')
		return nil
	}
	if err := writeFile(".gitignore", []byte("*.o\n/build/\n.cache/\n")); err != nil {
		return nil, err
	}
	for i, p := range b.paths {
		if err := writeFile(p, content(p, 0, size, uint64(i))); err != nil {
			return nil, err
		}
	}
	stream.WriteString("done\n")
	if _, err := gitOut(ctx, dir, &stream, "fast-import", "--quiet", "--done"); err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "read-tree", "HEAD"); err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "update-index", "-q", "--refresh"); err != nil {
		return nil, err
	}
	if st, err := gitOut(ctx, dir, nil, "status", "--porcelain"); err != nil {
		return nil, err
	} else if st != "" {
		return nil, fmt.Errorf("large repository not clean after setup: %.200s", st)
	}
	return b, nil
}

// content is a file of about size bytes of source-like text; round changes it.
func content(path string, round, size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(round)))
	n := size/2 + rng.IntN(size+1)
	var b bytes.Buffer
	fmt.Fprintf(&b, "// %s, revision %d\n", path, round)
	words := []string{"alpha", "beta", "gamma", "delta", "value", "index", "return", "if", "for", "range", "err", "nil", "func", "buffer", "state"}
	for b.Len() < n {
		for i, k := 0, 3+rng.IntN(8); i < k; i++ {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// modify gives every changed file new content (and a current mtime).
func (b *bigRepo) modify() error {
	b.round++
	for i, p := range b.changed {
		if err := os.WriteFile(filepath.Join(b.dir, p), content(p, b.round, b.size, uint64(i)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// backupCreate checks that create printed a backup ID.
func backupID(out []byte) (string, error) {
	id := strings.TrimSpace(string(out))
	if id == "" || strings.ContainsAny(id, " \n") {
		return "", fmt.Errorf("git backup create printed %q, want one backup ID", out)
	}
	return id, nil
}

// benchCreate: create with changed files, a new backup every run, against
// git stash create on the same kind of state.
func benchCreate(ctx context.Context, m *measurer, b *bigRepo) (Row, error) {
	progress("measuring create with %d changed files", len(b.changed))
	create := trial{
		prepare: b.modify,
		run:     func() (sample, []byte, error) { return timeGit(ctx, b.dir, "backup", "create", "-q") },
		check: func(out []byte) error {
			id, err := backupID(out)
			if err != nil {
				return err
			}
			if b.ids[id] {
				return fmt.Errorf("git backup create made no new backup (printed %s again)", id)
			}
			b.ids[id] = true
			return nil
		},
	}
	stash := trial{
		prepare: b.modify,
		run:     func() (sample, []byte, error) { return timeGit(ctx, b.dir, "stash", "create") },
		check: func(out []byte) error {
			if len(bytes.TrimSpace(out)) != 40 {
				return fmt.Errorf("git stash create printed %q, want a commit ID", out)
			}
			return nil
		},
	}
	a, s, err := m.pair(create, stash)
	if err != nil {
		return Row{}, err
	}
	r := newRow(fmt.Sprintf("create, %dk files, %d changed", len(b.paths)/1000, len(b.changed)), "git backup create", "git stash create", 1.2, a, s)
	r.Footnote = "Every timed create really takes a new backup (checked: a new ID each run); the changed files get new content before each run of either command."
	return r, nil
}

// benchUnchanged: create when the newest backup already holds the work,
// against git status --porcelain on the same state.
func benchUnchanged(ctx context.Context, m *measurer, b *bigRepo) (Row, error) {
	progress("measuring create when nothing changed")
	if err := b.modify(); err != nil {
		return Row{}, err
	}
	_, out, err := timeGit(ctx, b.dir, "backup", "create", "-q")
	if err != nil {
		return Row{}, err
	}
	want, err := backupID(out)
	if err != nil {
		return Row{}, err
	}
	create := trial{
		run: func() (sample, []byte, error) { return timeGit(ctx, b.dir, "backup", "create", "-q") },
		check: func(out []byte) error {
			if id := strings.TrimSpace(string(out)); id != want {
				return fmt.Errorf("git backup create with nothing changed printed %q, want the existing backup %s", id, want)
			}
			return nil
		},
	}
	status := trial{
		run: func() (sample, []byte, error) { return timeGit(ctx, b.dir, "status", "--porcelain") },
		check: func(out []byte) error {
			if n := countLines(out); n != len(b.changed) {
				return fmt.Errorf("git status --porcelain listed %d paths, want %d", n, len(b.changed))
			}
			return nil
		},
	}
	a, s, err := m.pair(create, status)
	if err != nil {
		return Row{}, err
	}
	n, err := countBackups(ctx, b.dir)
	if err != nil {
		return Row{}, err
	}
	r := newRow(fmt.Sprintf("create, nothing changed, %dk files", len(b.paths)/1000), "git backup create", "git status --porcelain", 1.2, a, s)
	r.Footnote = fmt.Sprintf("The work tree has the %d changed files of the newest backup (of %d in the repository); create makes no backup and prints that backup's ID (checked).", len(b.changed), n)
	return r, nil
}

func countLines(b []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}

// countBackups counts the snapshot refs.
func countBackups(ctx context.Context, dir string) (int, error) {
	cmd := exec.CommandContext(ctx, "git", "for-each-ref", "--format=x", "refs/backups/snapshots")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("count backups: %w", err)
	}
	return countLines(out), nil
}
