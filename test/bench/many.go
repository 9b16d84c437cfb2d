package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// baseFiles is how many files the small repository of the list benchmark has.
const baseFiles = 20

// benchList builds a repository with n backups and measures list --json
// against git for-each-ref, with loose refs, packed refs, and after git gc.
func benchList(ctx context.Context, m *measurer, dir string, n int) ([]Row, error) {
	progress("writing %d backups", n)
	start := time.Now()
	if err := makeBackups(ctx, dir, n); err != nil {
		return nil, err
	}
	progress("wrote %d backups in %s", n, time.Since(start).Round(time.Millisecond))
	if _, out, err := timeGit(ctx, dir, "backup", "list", "--json"); err != nil {
		return nil, err
	} else if got := countJSONBackups(out); got != n {
		return nil, fmt.Errorf("git backup list --json printed %d backups, want %d", got, n)
	}
	list := trial{
		run: func() (sample, []byte, error) { return timeGit(ctx, dir, "backup", "list", "--json") },
		check: func(out []byte) error {
			if got := countJSONBackups(out); got != n {
				return fmt.Errorf("git backup list --json printed %d backups, want %d", got, n)
			}
			return nil
		},
	}
	refs := trial{
		run: func() (sample, []byte, error) {
			return timeGit(ctx, dir, "for-each-ref", "refs/backups/snapshots")
		},
		check: func(out []byte) error {
			if got := countLines(out); got != n {
				return fmt.Errorf("git for-each-ref listed %d snapshot refs, want %d", got, n)
			}
			return nil
		},
	}
	k := fmt.Sprintf("%dk", n/1000)
	if n < 1000 {
		k = fmt.Sprint(n)
	}
	var rows []Row
	measure := func(layout, foot string) error {
		progress("measuring list, %s", layout)
		a, b, err := m.pair(list, refs)
		if err != nil {
			return err
		}
		r := newRow(fmt.Sprintf("list, %s backups, %s", k, layout), "git backup list --json", "git for-each-ref refs/backups/snapshots", 3, a, b)
		r.Footnote = foot
		rows = append(rows, r)
		return nil
	}
	loose, err := countLooseRefs(dir)
	if err != nil {
		return nil, err
	}
	if err := measure("loose refs", fmt.Sprintf("As written by one state commit of %d creations: %d loose snapshot refs, the notes and snapshot commits as loose objects (git's gc.auto is off in the benchmark).", n, loose)); err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "pack-refs", "--all"); err != nil {
		return nil, err
	}
	if err := measure("packed refs", "The same after `git pack-refs --all`: every ref in packed-refs, objects still loose."); err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "gc", "--quiet", "--prune=now"); err != nil {
		return nil, err
	}
	if err := measure("after git gc", "The same after `git gc --prune=now`: refs and objects packed, as `git gc --auto` leaves a repository that has taken this many backups."); err != nil {
		return nil, err
	}
	return rows, nil
}

// countJSONBackups counts the backup objects in list --json output.
func countJSONBackups(out []byte) int {
	if !bytes.HasPrefix(bytes.TrimSpace(out), []byte("[")) {
		return -1
	}
	return bytes.Count(out, []byte(`"snapshot":`))
}

func countLooseRefs(dir string) (int, error) {
	ents, err := os.ReadDir(filepath.Join(dir, ".git", "refs", "backups", "snapshots"))
	if err != nil {
		return 0, err
	}
	return len(ents), nil
}

// makeBackups makes a small repository with n backups, each a snapshot
// commit on HEAD whose tree changes one tracked file and adds one, written
// through the real store: WriteSnapshotCommit for each snapshot, then one
// Store.Update batch of n create events and their snapshot refs, so the state
// layout is exactly what git-backup writes. The trees are written by git
// fast-import beforehand.
func makeBackups(ctx context.Context, dir string, n int) error {
	if _, err := gitOut(ctx, "", nil, "init", "-q", dir); err != nil {
		return err
	}
	old := time.Now().Add(-30 * 24 * time.Hour).UTC()
	var stream bytes.Buffer
	fmt.Fprintf(&stream, "commit refs/heads/main\nmark :1\ncommitter Bench <bench@example.com> %d +0000\ndata 7\ninitial\n", old.Unix())
	baseBlob := map[string]string{}
	for i := 0; i < baseFiles; i++ {
		p := fmt.Sprintf("src/file%02d.txt", i)
		data := content(p, 0, 300, uint64(i))
		baseBlob[p] = blobID(data)
		inline(&stream, p, data)
	}
	inline(&stream, "README", []byte("bench\n"))
	type gen struct {
		mod, add         string
		modData, addData []byte
	}
	gens := make([]gen, n)
	for i := range gens {
		g := gen{mod: fmt.Sprintf("src/file%02d.txt", i%baseFiles), add: fmt.Sprintf("notes/n%05d.txt", i)}
		g.modData = content(g.mod, i+1, 300, uint64(i%baseFiles))
		g.addData = content(g.add, 0, 200, uint64(i))
		gens[i] = g
		fmt.Fprintf(&stream, "commit refs/bench/trees\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\ndata 0\nfrom :1\n", i+2, old.Unix())
		inline(&stream, g.mod, g.modData)
		inline(&stream, g.add, g.addData)
	}
	stream.WriteString("done\n")
	marks := filepath.Join(dir, ".git", "bench-marks")
	if _, err := gitOut(ctx, dir, &stream, "fast-import", "--quiet", "--done", "--export-marks="+marks); err != nil {
		return err
	}
	if _, err := gitOut(ctx, dir, nil, "reset", "-q", "--hard"); err != nil {
		return err
	}
	commits, err := readMarks(marks)
	if err != nil {
		return err
	}
	os.Remove(marks)
	base := commits[1]
	var in strings.Builder
	for i := range n {
		in.WriteString(commits[i+2] + "\n")
	}
	out, err := gitOut(ctx, dir, strings.NewReader(in.String()), "log", "--no-walk=unsorted", "--stdin", "--format=%H %T")
	if err != nil {
		return err
	}
	trees := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if c, t, ok := strings.Cut(l, " "); ok {
			trees[c] = t
		}
	}
	if _, err := gitOut(ctx, dir, nil, "update-ref", "-d", "refs/bench/trees"); err != nil {
		return err
	}

	repo, err := gitstate.Open(ctx, dir)
	if err != nil {
		return err
	}
	clone, err := repo.CloneID()
	if err != nil {
		return err
	}
	step := 20 * 24 * time.Hour / time.Duration(n)
	var changes []transitions.Change
	taken := map[string]bool{}
	for i, g := range gens {
		tree := trees[commits[i+2]]
		if tree == "" {
			return fmt.Errorf("no tree for generated commit %d", i)
		}
		when := old.Add(24*time.Hour + time.Duration(i)*step).Truncate(time.Second)
		trigger, msg := "autosave", ""
		if i%4 == 0 {
			trigger, msg = "user", fmt.Sprintf("work in progress %d", i)
		}
		commitMsg := "git-backup snapshot of main\n"
		if msg != "" {
			commitMsg = msg + "\n"
		}
		snap, err := repo.WriteSnapshotCommit(tree, base, commitMsg, gitstate.Author{Name: "Bench", Email: "bench@example.com"}, when)
		if err != nil {
			return err
		}
		id := gitstate.NewBackupID(when, snap, func(id string) bool { return taken[id] })
		taken[id] = true
		paths := []gitstate.PathChange{ // in git's path order, as diff-tree lists them
			{Path: g.add, Blob: blobID(g.addData), Mode: "100644", Size: int64(len(g.addData))},
			{Path: g.mod, Blob: blobID(g.modData), Mode: "100644", BaseBlob: baseBlob[g.mod], Size: int64(len(g.modData))},
		}
		ev := gitstate.Event{
			Kind: gitstate.KindCreate, Time: when, To: string(transitions.Created), Trigger: trigger,
			ID: id, Snapshot: snap, Tree: tree, Base: base, Branch: "main", Message: msg,
			Files: len(paths), SizeBytes: paths[0].Size + paths[1].Size, Paths: paths,
		}
		changes = append(changes, transitions.Change{
			Snapshot: snap,
			Events:   []gitstate.Event{ev},
			Refs:     []gitstate.RefUpdate{{Name: gitstate.SnapshotRef(id), New: snap}},
			Summary:  id + " -> CREATED",
		})
	}
	s := &transitions.Store{Repo: repo, Policy: transitions.DefaultPolicy(), Clone: clone}
	_, _, err = s.Update(ctx, func(v *transitions.View) (*transitions.Batch, error) {
		if len(v.Backups) > 0 {
			return nil, fmt.Errorf("generator: repository already has %d backups", len(v.Backups))
		}
		return &transitions.Batch{Trigger: "user", Title: fmt.Sprintf("create %d backups", n), Changes: changes}, nil
	})
	return err
}

func inline(w *bytes.Buffer, path string, data []byte) {
	fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n", path, len(data))
	w.Write(data)
	w.WriteByte('\n')
}

// blobID is git's object ID of data as a blob.
func blobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// readMarks reads a fast-import marks file: mark number → object ID.
func readMarks(path string) (map[int]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[int]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var mark int
		var id string
		if _, err := fmt.Sscanf(sc.Text(), ":%d %s", &mark, &id); err != nil {
			return nil, fmt.Errorf("marks file: %q: %w", sc.Text(), err)
		}
		out[mark] = id
	}
	return out, sc.Err()
}
