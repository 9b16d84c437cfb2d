package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// The cleanup benchmark's backups: all CLEANABLE, their changes committed on
// main, cleanupPerCommit backups a commit.
const (
	cleanupBackups   = 1000
	cleanupPerCommit = 10
)

// cleanupRepo is the repository the cleanup benchmark runs in.
type cleanupRepo struct {
	dir   string
	ids   []string
	refs  []string // the snapshot refs
	saved *savedState
}

// cleanupChanges are backup i's changes: one tracked file modified, one added.
func cleanupChanges(i int) []hookChange {
	mod := fmt.Sprintf("src/f%04d.txt", i)
	add := fmt.Sprintf("wip/b%04d.txt", i)
	return []hookChange{
		{path: mod, base: blobID(content(mod, 0, 300, uint64(i))), data: content(mod, 1, 300, uint64(i))},
		{path: add, data: content(add, 0, 200, uint64(i))},
	}
}

// newCleanupRepo builds a repository with cleanupBackups CLEANABLE backups,
// each fully covered by a commit on main, written through the real store:
// WriteSnapshotCommit for each snapshot, one Store.Update batch of create
// events and refs, then one batch per move (CREATED → PENDING with
// covered_by and coverage 1, PENDING → CONFIRMED, CONFIRMED → CLEANABLE).
func newCleanupRepo(ctx context.Context, dir string) (*cleanupRepo, error) {
	n := cleanupBackups
	progress("writing %d CLEANABLE backups for cleanup", n)
	start := time.Now()
	r := &cleanupRepo{dir: dir}
	if _, err := gitOut(ctx, "", nil, "init", "-q", dir); err != nil {
		return nil, err
	}
	// Deleted, not archived: CLEANABLE backups with IDs are archived first
	// while backup.compressBeforeDelete is on (the default).
	if _, err := gitOut(ctx, dir, nil, "config", "backup.compressBeforeDelete", "false"); err != nil {
		return nil, err
	}
	old := time.Now().Add(-60 * 24 * time.Hour).UTC().Truncate(time.Second)
	step := 20 * 24 * time.Hour / time.Duration(n)
	created := func(i int) time.Time { return old.Add(24*time.Hour + time.Duration(i)*step) }
	var stream bytes.Buffer
	mark := 0
	commit := func(ref, from string, when time.Time, msg string, changes []hookChange) int {
		mark++
		fmt.Fprintf(&stream, "commit %s\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s\n", ref, mark, when.Unix(), len(msg), msg)
		if from != "" {
			fmt.Fprintf(&stream, "from %s\n", from)
		}
		for _, c := range changes {
			inline(&stream, c.path, c.data)
		}
		return mark
	}
	var files []hookChange
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("src/f%04d.txt", i)
		files = append(files, hookChange{path: p, data: content(p, 0, 300, uint64(i))})
	}
	files = append(files, hookChange{path: "README", data: []byte("bench\n")})
	parent := commit("refs/heads/main", "", old, "initial", files)
	coverMark := make([]int, n)
	baseMark := make([]int, n)
	for g := 0; g < n/cleanupPerCommit; g++ {
		var ch []hookChange
		lo := g * cleanupPerCommit
		for i := lo; i < lo+cleanupPerCommit; i++ {
			ch = append(ch, cleanupChanges(i)...)
		}
		m := commit("refs/heads/main", "", created(lo+cleanupPerCommit).Add(time.Hour), fmt.Sprintf("main work %d", g), ch)
		for i := lo; i < lo+cleanupPerCommit; i++ {
			coverMark[i], baseMark[i] = m, parent
		}
		parent = m
	}
	snapMark := make([]int, n)
	for i := range snapMark {
		snapMark[i] = commit("refs/bench/trees", fmt.Sprintf(":%d", baseMark[i]), created(i), "", cleanupChanges(i))
	}
	stream.WriteString("done\n")
	marks := filepath.Join(dir, ".git", "bench-marks")
	if _, err := gitOut(ctx, dir, &stream, "fast-import", "--quiet", "--done", "--export-marks="+marks); err != nil {
		return nil, err
	}
	commits, err := readMarks(marks)
	if err != nil {
		return nil, err
	}
	os.Remove(marks)
	var in strings.Builder
	for _, m := range snapMark {
		in.WriteString(commits[m] + "\n")
	}
	out, err := gitOut(ctx, dir, strings.NewReader(in.String()), "log", "--no-walk=unsorted", "--stdin", "--format=%H %T")
	if err != nil {
		return nil, err
	}
	trees := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if c, t, ok := strings.Cut(l, " "); ok {
			trees[c] = t
		}
	}
	if _, err := gitOut(ctx, dir, nil, "update-ref", "-d", "refs/bench/trees"); err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "reset", "-q", "--hard"); err != nil {
		return nil, err
	}

	repo, err := gitstate.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	clone, err := repo.CloneID()
	if err != nil {
		return nil, err
	}
	s := &transitions.Store{Repo: repo, Policy: transitions.DefaultPolicy(), Clone: clone}
	var changes []transitions.Change
	snaps := make([]string, n)
	taken := map[string]bool{}
	for i := 0; i < n; i++ {
		tree := trees[commits[snapMark[i]]]
		if tree == "" {
			return nil, fmt.Errorf("no tree for snapshot %d", i)
		}
		base, when := commits[baseMark[i]], created(i)
		snap, err := repo.WriteSnapshotCommit(tree, base, "git-backup snapshot of main\n", gitstate.Author{Name: "Bench", Email: "bench@example.com"}, when)
		if err != nil {
			return nil, err
		}
		snaps[i] = snap
		id := gitstate.NewBackupID(when, snap, func(id string) bool { return taken[id] })
		taken[id] = true
		r.ids = append(r.ids, id)
		r.refs = append(r.refs, gitstate.SnapshotRef(id))
		var paths []gitstate.PathChange
		var size int64
		for _, c := range cleanupChanges(i) {
			paths = append(paths, gitstate.PathChange{Path: c.path, Blob: blobID(c.data), Mode: "100644", BaseBlob: c.base, Size: int64(len(c.data))})
			size += int64(len(c.data))
		}
		ev := gitstate.Event{
			Kind: gitstate.KindCreate, Time: when, To: string(transitions.Created), Trigger: "autosave",
			ID: id, Snapshot: snap, Tree: tree, Base: base, Branch: "main",
			Files: len(paths), SizeBytes: size, Paths: paths,
		}
		changes = append(changes, transitions.Change{
			Snapshot: snap,
			Events:   []gitstate.Event{ev},
			Refs:     []gitstate.RefUpdate{{Name: gitstate.SnapshotRef(id), New: snap}},
			Summary:  id + " -> CREATED",
		})
	}
	if _, _, err := s.Update(ctx, func(v *transitions.View) (*transitions.Batch, error) {
		if len(v.Backups) > 0 {
			return nil, fmt.Errorf("generator: repository already has %d backups", len(v.Backups))
		}
		return &transitions.Batch{Trigger: "autosave", Title: fmt.Sprintf("create %d backups", n), Changes: changes}, nil
	}); err != nil {
		return nil, err
	}
	type move struct {
		from, to transitions.State
		trigger  transitions.Trigger
		after    time.Duration
	}
	for _, mv := range []move{
		{transitions.Created, transitions.Pending, transitions.TriggerHook, time.Hour},
		{transitions.Pending, transitions.Confirmed, transitions.TriggerHook, 2 * time.Hour},
		{transitions.Confirmed, transitions.Cleanable, transitions.TriggerTime, 8 * 24 * time.Hour},
	} {
		if _, _, err := s.Update(ctx, func(v *transitions.View) (*transitions.Batch, error) {
			b := &transitions.Batch{Trigger: string(mv.trigger), Title: fmt.Sprintf("move %d backups to %s", n, mv.to)}
			for i := 0; i < n; i++ {
				bk := v.BySnapshot(snaps[i])
				if bk == nil || bk.State != mv.from {
					return nil, fmt.Errorf("generator: backup %d is not %s", i, mv.from)
				}
				ev := gitstate.Event{Kind: gitstate.KindMove, Time: created(i).Add(mv.after), From: string(mv.from), To: string(mv.to), Trigger: string(mv.trigger)}
				switch mv.to {
				case transitions.Pending:
					one := 1.0
					ev.CoveredBy, ev.Coverage = commits[coverMark[i]], &one
					ev.Reason = "commit " + ev.CoveredBy[:12] + " contains its changes"
				case transitions.Confirmed:
					ev.Reason = "its changes are on the integration branch"
				case transitions.Cleanable:
					ev.Reason = "confirmed for 7 days"
				}
				b.Changes = append(b.Changes, transitions.Change{Backup: bk, Events: []gitstate.Event{ev},
					Summary: fmt.Sprintf("%s %s -> %s", bk.ID, mv.from, mv.to)})
			}
			return b, nil
		}); err != nil {
			return nil, err
		}
	}
	// The plan must delete exactly these backups; a dry run also leaves the
	// caches every later run finds.
	_, plan, err := timeGit(ctx, dir, append([]string{"backup", "cleanup", "--dry-run", "--json"}, r.ids...)...)
	if err != nil {
		return nil, err
	}
	var p struct {
		Plan transitions.Plan `json:"plan"`
	}
	if err := json.Unmarshal(plan, &p); err != nil {
		return nil, fmt.Errorf("cleanup --dry-run --json: %w", err)
	}
	deletes := 0
	for _, m := range p.Plan.Moves {
		if m.From == transitions.Cleanable && m.To == transitions.Deleted {
			deletes++
		}
	}
	if deletes != n || len(p.Plan.Moves) != n {
		first := ""
		if len(p.Plan.Moves) > 0 {
			first = fmt.Sprintf(" (first: %s -> %s, %s)", p.Plan.Moves[0].From, p.Plan.Moves[0].To, p.Plan.Moves[0].Reason)
		}
		return nil, fmt.Errorf("cleanup --dry-run plans %d moves, %d of them CLEANABLE -> DELETED, want %d deletions (skipped %d)%s", len(p.Plan.Moves), deletes, n, len(p.Plan.Skipped), first)
	}
	if r.saved, err = saveState(ctx, dir); err != nil {
		return nil, err
	}
	progress("wrote %d CLEANABLE backups in %s", n, time.Since(start).Round(time.Millisecond))
	return r, nil
}

// liveRefs counts the snapshot refs left.
func (r *cleanupRepo) liveRefs(ctx context.Context) (int, error) {
	out, err := gitOut(ctx, r.dir, nil, "for-each-ref", "--format=%(refname)", "refs/backups/snapshots/")
	if err != nil {
		return 0, err
	}
	return countLines([]byte(out)), nil
}

// benchCleanup: git backup cleanup of the 1,000 CLEANABLE backups by ID
// (every one deleted), against git update-ref --stdin deleting their 1,000
// snapshot refs in one transaction. Both start from the same refs, restored
// before every run outside the timed region.
func benchCleanup(ctx context.Context, m *measurer, r *cleanupRepo) (Row, error) {
	var del strings.Builder
	del.WriteString("start\n")
	for _, ref := range r.refs {
		fmt.Fprintf(&del, "delete %s %s\n", ref, r.saved.refs[ref])
	}
	del.WriteString("prepare\ncommit\n")
	stdin := []byte(del.String())
	gone := func([]byte) error {
		if n, err := r.liveRefs(ctx); err != nil {
			return err
		} else if n != 0 {
			return fmt.Errorf("%d snapshot refs left, want 0", n)
		}
		return nil
	}
	args := append([]string{"backup", "cleanup", "--yes", "--no-reclaim"}, r.ids...)
	cleanup := trial{
		prepare: func() error { return r.saved.restore(ctx) },
		run:     func() (sample, []byte, error) { return timeGit(ctx, r.dir, args...) },
		check:   gone,
	}
	refs := trial{
		prepare: func() error { return r.saved.restore(ctx) },
		run:     func() (sample, []byte, error) { return timeCmd(ctx, r.dir, stdin, "git", "update-ref", "--stdin") },
		check:   gone,
	}
	progress("measuring cleanup")
	a, b, err := m.pair(cleanup, refs)
	if err != nil {
		return Row{}, err
	}
	if err := r.saved.restore(ctx); err != nil {
		return Row{}, err
	}
	row := newRow(fmt.Sprintf("cleanup, %s CLEANABLE backups", thousands(cleanupBackups)), "git backup cleanup --yes --no-reclaim ID…",
		"git update-ref --stdin deleting the refs", 2, a, b)
	row.Footnote = fmt.Sprintf("%d CLEANABLE backups (each modifies one tracked file and adds one; coverage 1.0 by commits on main, %d backups a commit), written through the real store; "+
		"`backup.compressBeforeDelete` is false, so they are deleted rather than archived; their %d IDs are given on the command line, and `--dry-run --json` plans exactly %d CLEANABLE -> DELETED moves. "+
		"The baseline deletes the same %d snapshot refs in one transaction (start, delete…, prepare, commit). "+
		"The refs (loose), the state ref and the caches are restored before every run, outside the timed region. "+
		"--no-reclaim: the prune after it is git gc's work.",
		cleanupBackups, cleanupPerCommit, cleanupBackups, cleanupBackups, cleanupBackups)
	return row, nil
}
