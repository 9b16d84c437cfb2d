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

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/hooks"
	"github.com/git-backup/git-backup/transitions"
)

// The hook repository's backups, oldest first: CLEANABLE, CONFIRMED, PENDING,
// then the CREATED ones on the checked-out branch. Each backup changes three
// paths of its own: it modifies one tracked file and adds two.
const (
	hookCleanable = 300
	hookConfirmed = 300
	hookPending   = 300
	hookCreated   = 100
	hookLive      = hookCleanable + hookConfirmed + hookPending + hookCreated
	// Backups one commit on main covers (CONFIRMED and CLEANABLE ones).
	hookPerMainCommit = 10
	// Commits on the branch that cover the PENDING backups, none merged:
	// ten backups a commit, like the ones on main.
	hookPendingCommits = 30
	hookBranch         = "feature"
)

// hookRepo is the repository the hook and commit benchmarks run in.
type hookRepo struct {
	dir    string
	bin    string // the git-backup binary, run directly as the shim runs it
	head   string // the branch's commit: it covers none of the CREATED backups
	cover  string // a child of head that contains every CREATED backup's changes
	state  string // refs/backups/state with the backups as built
	cache  []byte // the fold cache a hook leaves for that state
	counts map[transitions.State]int
}

// hookChange is one path a backup changes.
type hookChange struct {
	path, base string // base: blob in the backup's base commit, "" when added
	data       []byte
}

// hookChanges are backup i's changes: src/fNNNN.txt modified, two files added.
func hookChanges(i int) []hookChange {
	mod := fmt.Sprintf("src/f%04d.txt", i)
	a := fmt.Sprintf("wip/b%04d/a.txt", i)
	b := fmt.Sprintf("wip/b%04d/b.txt", i)
	return []hookChange{ // in git's path order, as diff-tree lists them
		{path: mod, base: blobID(content(mod, 0, 300, uint64(i))), data: content(mod, 1, 300, uint64(i))},
		{path: a, data: content(a, 0, 200, uint64(i))},
		{path: b, data: content(b, 0, 200, uint64(i))},
	}
}

// newHookRepo builds a repository of hookLive tracked files on main, with
// commits on main that cover the CONFIRMED and CLEANABLE backups, a branch
// checked out whose commits cover the PENDING ones, and the backups written
// through the real store: WriteSnapshotCommit for each snapshot, one
// Store.Update batch of create events, then one batch per move (CREATED →
// PENDING with covered_by, PENDING → CONFIRMED, CONFIRMED → CLEANABLE), as
// Store.Move writes them.
func newHookRepo(ctx context.Context, dir, bin string) (*hookRepo, error) {
	progress("writing %d live backups for the hook", hookLive)
	start := time.Now()
	h := &hookRepo{dir: dir, bin: bin}
	if _, err := gitOut(ctx, "", nil, "init", "-q", dir); err != nil {
		return nil, err
	}
	old := time.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Second)
	step := 20 * 24 * time.Hour / hookLive
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
	for i := 0; i < hookLive; i++ {
		p := fmt.Sprintf("src/f%04d.txt", i)
		files = append(files, hookChange{path: p, data: content(p, 0, 300, uint64(i))})
	}
	files = append(files, hookChange{path: "README", data: []byte("bench\n")})
	root := commit("refs/heads/main", "", old, "initial", files)

	// Each backup's covering commit and its base (the covering commit's parent).
	coverMark := make([]int, hookLive)
	baseMark := make([]int, hookLive)
	onMain := hookCleanable + hookConfirmed
	parent := root
	for g := 0; g < onMain/hookPerMainCommit; g++ {
		var ch []hookChange
		lo := g * hookPerMainCommit
		for i := lo; i < lo+hookPerMainCommit; i++ {
			ch = append(ch, hookChanges(i)...)
		}
		m := commit("refs/heads/main", "", created(lo+hookPerMainCommit).Add(time.Hour), fmt.Sprintf("main work %d", g), ch)
		for i := lo; i < lo+hookPerMainCommit; i++ {
			coverMark[i], baseMark[i] = m, parent
		}
		parent = m
	}
	per := hookPending / hookPendingCommits
	for g := 0; g < hookPendingCommits; g++ {
		var ch []hookChange
		lo := onMain + g*per
		for i := lo; i < lo+per; i++ {
			ch = append(ch, hookChanges(i)...)
		}
		from := ""
		if g == 0 {
			from = fmt.Sprintf(":%d", parent)
		}
		m := commit("refs/heads/"+hookBranch, from, created(lo+per).Add(time.Hour), fmt.Sprintf("branch work %d", g), ch)
		for i := lo; i < lo+per; i++ {
			coverMark[i], baseMark[i] = m, parent
		}
		parent = m
	}
	headMark := commit("refs/heads/"+hookBranch, "", created(hookLive-hookCreated), "unrelated work", []hookChange{{path: "README", data: []byte("bench, on a branch\n")}})
	for i := hookLive - hookCreated; i < hookLive; i++ {
		baseMark[i] = headMark
	}
	var all []hookChange
	for i := hookLive - hookCreated; i < hookLive; i++ {
		all = append(all, hookChanges(i)...)
	}
	coverAll := commit("refs/bench/cover", fmt.Sprintf(":%d", headMark), time.Now(), "commit the backed-up work", all)
	snapMark := make([]int, hookLive)
	for i := range snapMark {
		snapMark[i] = commit("refs/bench/trees", fmt.Sprintf(":%d", baseMark[i]), created(i), "", hookChanges(i))
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
	h.head, h.cover = commits[headMark], commits[coverAll]
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
	for _, ref := range []string{"refs/bench/trees", "refs/bench/cover"} {
		if _, err := gitOut(ctx, dir, nil, "update-ref", "-d", ref); err != nil {
			return nil, err
		}
	}
	// Check out the branch, with an index whose stat data is fresh.
	if _, err := gitOut(ctx, dir, nil, "symbolic-ref", "HEAD", "refs/heads/"+hookBranch); err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "reset", "-q", "--hard"); err != nil {
		return nil, err
	}
	if err := ageFiles(dir, time.Now().Add(-time.Hour)); err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "update-index", "-q", "--refresh"); err != nil {
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
	snaps := make([]string, hookLive)
	taken := map[string]bool{}
	for i := 0; i < hookLive; i++ {
		tree := trees[commits[snapMark[i]]]
		if tree == "" {
			return nil, fmt.Errorf("no tree for snapshot %d", i)
		}
		base, branch := commits[baseMark[i]], hookBranch
		if i < onMain {
			branch = "main"
		}
		when := created(i)
		snap, err := repo.WriteSnapshotCommit(tree, base, "git-backup snapshot of "+branch+"\n", gitstate.Author{Name: "Bench", Email: "bench@example.com"}, when)
		if err != nil {
			return nil, err
		}
		snaps[i] = snap
		id := gitstate.NewBackupID(when, snap, func(id string) bool { return taken[id] })
		taken[id] = true
		var paths []gitstate.PathChange
		var size int64
		for _, c := range hookChanges(i) {
			paths = append(paths, gitstate.PathChange{Path: c.path, Blob: blobID(c.data), Mode: "100644", BaseBlob: c.base, Size: int64(len(c.data))})
			size += int64(len(c.data))
		}
		ev := gitstate.Event{
			Kind: gitstate.KindCreate, Time: when, To: string(transitions.Created), Trigger: "autosave",
			ID: id, Snapshot: snap, Tree: tree, Base: base, Branch: branch,
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
		return &transitions.Batch{Trigger: "autosave", Title: fmt.Sprintf("create %d backups", hookLive), Changes: changes}, nil
	}); err != nil {
		return nil, err
	}
	// The moves, one batch each, with the events Store.Move would write.
	type move struct {
		upto     int // backups [0, upto) make this move
		from, to transitions.State
		trigger  transitions.Trigger
		after    time.Duration // after the backup was created
	}
	for _, mv := range []move{
		{hookLive - hookCreated, transitions.Created, transitions.Pending, transitions.TriggerHook, time.Hour},
		{onMain, transitions.Pending, transitions.Confirmed, transitions.TriggerHook, 2 * time.Hour},
		{hookCleanable, transitions.Confirmed, transitions.Cleanable, transitions.TriggerTime, 8 * 24 * time.Hour},
	} {
		if _, _, err := s.UpdateLight(ctx, func(v *transitions.View) (*transitions.Batch, error) {
			b := &transitions.Batch{Trigger: string(mv.trigger), Title: fmt.Sprintf("move %d backups to %s", mv.upto, mv.to)}
			for i := 0; i < mv.upto; i++ {
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
	v, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	h.counts = map[transitions.State]int{}
	for _, b := range v.Backups {
		if len(b.Damaged) > 0 {
			return nil, fmt.Errorf("generator: backup %s is damaged: %v", b.ID, b.Damaged)
		}
		h.counts[b.State]++
	}
	want := map[transitions.State]int{transitions.Created: hookCreated, transitions.Pending: hookPending,
		transitions.Confirmed: hookConfirmed, transitions.Cleanable: hookCleanable}
	for st, n := range want {
		if h.counts[st] != n {
			return nil, fmt.Errorf("generator: %d backups %s, want %d (%v)", h.counts[st], st, n, h.counts)
		}
	}
	// One hook run leaves the fold cache that every later run finds.
	if _, _, err := h.runHook(ctx); err != nil {
		return nil, err
	}
	if h.state, err = gitOut(ctx, dir, nil, "rev-parse", gitstate.StateRef); err != nil {
		return nil, err
	}
	if h.cache, err = os.ReadFile(h.cachePath()); err != nil {
		return nil, fmt.Errorf("the hook left no fold cache: %w", err)
	}
	progress("wrote %d live backups in %s", hookLive, time.Since(start).Round(time.Millisecond))
	return h, nil
}

// ageFiles sets every work-tree file's times to t, so that an index written
// afterwards is not racily clean.
func ageFiles(dir string, t time.Time) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			return os.Chtimes(p, t, t)
		}
		return nil
	})
}

func (h *hookRepo) cachePath() string { return filepath.Join(h.dir, ".git", "backup", "cache", "fold") }

// runHook runs the post-commit hook as our shim does: the binary itself,
// GIT_BACKUP_SHIM=1, in the work tree, stdin /dev/null. It returns stdout and
// stderr together.
func (h *hookRepo) runHook(ctx context.Context) (sample, []byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, h.bin, "hook", "post-commit")
	cmd.Dir = h.dir
	cmd.Env = append(os.Environ(), hooks.ShimEnv+"=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return sample{}, nil, fmt.Errorf("git-backup hook post-commit: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return sample{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, out.Bytes(), nil
}

// restore puts back the backups as built and their fold cache, and points
// the branch at commit.
func (h *hookRepo) restore(ctx context.Context, commit string) error {
	if _, err := gitOut(ctx, h.dir, nil, "update-ref", "refs/heads/"+hookBranch, commit); err != nil {
		return err
	}
	if _, err := gitOut(ctx, h.dir, nil, "update-ref", gitstate.StateRef, h.state); err != nil {
		return err
	}
	return os.WriteFile(h.cachePath(), h.cache, 0o600)
}

func (h *hookRepo) stateRef(ctx context.Context) (string, error) {
	return gitOut(ctx, h.dir, nil, "rev-parse", gitstate.StateRef)
}

func (h *hookRepo) mix() string {
	return fmt.Sprintf("%d CREATED on the checked-out branch, %d PENDING, %d CONFIRMED, %d CLEANABLE",
		h.counts[transitions.Created], h.counts[transitions.Pending], h.counts[transitions.Confirmed], h.counts[transitions.Cleanable])
}

// benchHook: the post-commit hook after a commit that covers none of the
// CREATED backups (it checks them all and moves nothing), against one
// git rev-parse HEAD.
func benchHook(ctx context.Context, m *measurer, h *hookRepo) (Row, error) {
	progress("measuring the post-commit hook, nothing covered")
	if err := h.restore(ctx, h.head); err != nil {
		return Row{}, err
	}
	hook := trial{
		run: func() (sample, []byte, error) { return h.runHook(ctx) },
		check: func(out []byte) error {
			if len(out) > 0 {
				return fmt.Errorf("the hook printed %q, want nothing", out)
			}
			if st, err := h.stateRef(ctx); err != nil {
				return err
			} else if st != h.state {
				return fmt.Errorf("the hook wrote the state (%s), want no change", st)
			}
			return nil
		},
	}
	a, b, err := m.pair(hook, revParse(ctx, h.dir, h.head))
	if err != nil {
		return Row{}, err
	}
	r := newRow(fmt.Sprintf("post-commit hook, %s live backups (%d CREATED on the branch)", thousands(hookLive), h.counts[transitions.Created]),
		"git-backup hook post-commit", "git rev-parse HEAD", 4, a, b)
	r.Footnote = fmt.Sprintf("The hook as the shim runs it: the git-backup binary itself (not through git), %s=1, in the work tree, stdin /dev/null. "+
		"Backups: %s; each changed one tracked file and added two. HEAD is a commit on the branch that contains none of the CREATED backups' changes, "+
		"so every run checks all %d CREATED backups against HEAD and the PENDING ones against main, and moves nothing (checked: no output, the state unchanged). "+
		"The PENDING backups are covered by %d different commits of the branch, none merged. "+
		"History written by `git fast-import` (packed); the backups' notes and snapshot commits loose, as the store writes them.",
		hooks.ShimEnv, h.mix(), h.counts[transitions.Created], hookPendingCommits)
	return r, nil
}

// benchHookCovering: the post-commit hook after a commit that contains every
// CREATED backup's changes: all of them become PENDING. The backups and the
// fold cache are put back before each run, outside the timed region.
func benchHookCovering(ctx context.Context, m *measurer, h *hookRepo) (Row, error) {
	progress("measuring the post-commit hook, every CREATED backup covered")
	hook := trial{
		prepare: func() error { return h.restore(ctx, h.cover) },
		run:     func() (sample, []byte, error) { return h.runHook(ctx) },
		check: func(out []byte) error {
			if n := strings.Count(string(out), "CREATED -> PENDING"); n != hookCreated {
				return fmt.Errorf("the hook reported %d moves to PENDING, want %d: %.300q", n, hookCreated, out)
			}
			if st, err := h.stateRef(ctx); err != nil {
				return err
			} else if st == h.state {
				return fmt.Errorf("the hook moved nothing")
			}
			return nil
		},
	}
	a, b, err := m.pair(hook, revParse(ctx, h.dir, h.cover))
	if err != nil {
		return Row{}, err
	}
	if err := h.restore(ctx, h.head); err != nil {
		return Row{}, err
	}
	r := newRow(fmt.Sprintf("post-commit hook, %s live backups, the commit covers the %d CREATED", thousands(hookLive), hookCreated),
		"git-backup hook post-commit", "git rev-parse HEAD", 4, a, b)
	r.Footnote = fmt.Sprintf("The same repository with HEAD at a commit that contains all %d CREATED backups' changes: "+
		"every run moves them to PENDING in one state commit (checked: %d moves reported). Before each run, outside the timed region, "+
		"the state ref and the fold cache are put back as they were.", hookCreated, hookCreated)
	return r, nil
}

// revParse is the baseline trial of the hook rows.
func revParse(ctx context.Context, dir, want string) trial {
	return trial{
		run: func() (sample, []byte, error) { return timeGit(ctx, dir, "rev-parse", "HEAD") },
		check: func(out []byte) error {
			if got := strings.TrimSpace(string(out)); got != want {
				return fmt.Errorf("git rev-parse HEAD printed %q, want %s", got, want)
			}
			return nil
		},
	}
}

// benchCommit: git commit with our hooks installed against the same
// repository with them uninstalled (each installed or removed before the run,
// outside the timed region).
func benchCommit(ctx context.Context, m *measurer, h *hookRepo) (Row, error) {
	progress("measuring git commit with and without the hooks")
	if err := h.restore(ctx, h.head); err != nil {
		return Row{}, err
	}
	hookFile := filepath.Join(h.dir, ".git", "hooks", "post-commit")
	commit := func(installed bool) trial {
		action := "uninstall"
		if installed {
			action = "install"
		}
		return trial{
			prepare: func() error {
				if _, err := gitOut(ctx, h.dir, nil, "backup", "hooks", action); err != nil {
					return err
				}
				data, err := os.ReadFile(hookFile)
				if installed && (err != nil || hooks.ShimVersion(data) == 0) {
					return fmt.Errorf("git backup hooks install wrote no post-commit hook (%v)", err)
				}
				if !installed && err == nil {
					return fmt.Errorf("git backup hooks uninstall left %s", hookFile)
				}
				return nil
			},
			run: func() (sample, []byte, error) {
				var out bytes.Buffer
				cmd := exec.CommandContext(ctx, "git", "commit", "-q", "--allow-empty", "-m", "x")
				cmd.Dir = h.dir
				cmd.Stdout, cmd.Stderr = &out, &out
				start := time.Now()
				err := cmd.Run()
				d := time.Since(start)
				if err != nil {
					return sample{}, nil, fmt.Errorf("git commit: %v: %s", err, strings.TrimSpace(out.String()))
				}
				return sample{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, out.Bytes(), nil
			},
			check: func(out []byte) error {
				if len(out) > 0 {
					return fmt.Errorf("git commit printed %q, want nothing", out)
				}
				if st, err := h.stateRef(ctx); err != nil {
					return err
				} else if st != h.state {
					return fmt.Errorf("the commit changed the backups' state, want no change")
				}
				return nil
			},
		}
	}
	a, b, err := m.pair(commit(true), commit(false))
	if err != nil {
		return Row{}, err
	}
	if _, err := gitOut(ctx, h.dir, nil, "backup", "hooks", "uninstall"); err != nil {
		return Row{}, err
	}
	r := newRow(fmt.Sprintf("git commit, %s live backups, hooks installed vs uninstalled", thousands(hookLive)),
		"git commit -q --allow-empty -m x", "git commit -q --allow-empty -m x", 0, a, b)
	r.Footnote = "The repository of the hook rows, HEAD covering none of the CREATED backups. Before each run, outside the timed region, " +
		"`git backup hooks install` or `git backup hooks uninstall` (checked: the post-commit hook is there, or not). " +
		"With the hooks, git runs the post-commit shim, which runs the hook of the first row; it moves nothing (checked: the state unchanged). No target: the ratio is reported."
	return r, nil
}

// thousands writes 1000 as 1k, like the other rows.
func thousands(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
