package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// The archive benchmark's snapshot: archiveFiles files of archiveFileSize
// bytes each, every one added on top of the base commit.
const (
	archiveFiles    = 200
	archiveFileSize = 1 << 20
)

// archiveRepo is the repository the archive benchmark runs in.
type archiveRepo struct {
	dir      string
	id       string // the backup
	snapshot string // its snapshot commit
	paths    []string
	saved    *savedState
	bytes    int64 // the changed files' bytes
}

// textFile is size bytes of source-like text: lines of words from a
// vocabulary drawn by a generator seeded with seed, with identifiers and
// numbers mixed in, so that zstd compresses it a few times (about as much as
// real source code), not to nothing.
func textFile(path string, size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	vocab := make([]string, 2048)
	vr := rand.New(rand.NewPCG(1, 2)) // the same vocabulary in every file
	for i := range vocab {
		n := 2 + vr.IntN(9)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + vr.IntN(26))
		}
		vocab[i] = string(b)
	}
	out := make([]byte, 0, size+128)
	out = fmt.Appendf(out, "// %s\n", path)
	for len(out) < size {
		out = append(out, "\t\t"[:1+rng.IntN(2)]...)
		for i, k := 0, 3+rng.IntN(9); i < k; i++ {
			switch r := rng.IntN(16); {
			case r == 0:
				out = strconv.AppendUint(out, rng.Uint64N(1<<20), 10)
			case r == 1:
				out = strconv.AppendUint(out, rng.Uint64(), 16)
			case r < 4:
				out = append(out, vocab[rng.IntN(len(vocab))]...)
				out = append(out, '_')
				out = append(out, vocab[rng.IntN(len(vocab))]...)
			default:
				out = append(out, vocab[rng.IntN(64)*rng.IntN(32)]...)
			}
			out = append(out, " ( ) = , ; . "[2*rng.IntN(7):][:1]...)
		}
		out = append(out, '\n')
	}
	return out[:size]
}

// newArchiveRepo builds a repository whose one backup adds archiveFiles files
// of archiveFileSize bytes to its base (written by git fast-import, so
// packed), with the backup written through the real store: its snapshot
// commit by WriteSnapshotCommit, its create event and ref by Store.Update.
func newArchiveRepo(ctx context.Context, dir string) (*archiveRepo, error) {
	progress("writing a %d MB snapshot for archive", archiveFiles*archiveFileSize>>20)
	start := time.Now()
	r := &archiveRepo{dir: dir}
	if _, err := gitOut(ctx, "", nil, "init", "-q", dir); err != nil {
		return nil, err
	}
	old := time.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Second)
	var paths []gitstate.PathChange
	pr, pw := io.Pipe()
	go func() {
		w := func(format string, args ...any) { fmt.Fprintf(pw, format, args...) }
		w("commit refs/heads/main\nmark :1\ncommitter Bench <bench@example.com> %d +0000\ndata 7\ninitial\n", old.Unix())
		w("M 100644 inline README\ndata 6\nbench\n\n")
		w("commit refs/bench/snap\nmark :2\ncommitter Bench <bench@example.com> %d +0000\ndata 0\nfrom :1\n", old.Add(24*time.Hour).Unix())
		for i := 0; i < archiveFiles; i++ {
			p := fmt.Sprintf("data/part%03d.txt", i)
			data := textFile(p, archiveFileSize, uint64(i))
			paths = append(paths, gitstate.PathChange{Path: p, Blob: blobID(data), Mode: "100644", Size: int64(len(data))})
			w("M 100644 inline %s\ndata %d\n", p, len(data))
			pw.Write(data)
			w("\n")
		}
		w("done\n")
		pw.Close()
	}()
	marks := filepath.Join(dir, ".git", "bench-marks")
	if _, err := gitOut(ctx, dir, pr, "fast-import", "--quiet", "--done", "--export-marks="+marks); err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	commits, err := readMarks(marks)
	if err != nil {
		return nil, err
	}
	os.Remove(marks)
	if _, err := gitOut(ctx, dir, nil, "reset", "-q", "--hard"); err != nil {
		return nil, err
	}
	base := commits[1]
	tree, err := gitOut(ctx, dir, nil, "rev-parse", commits[2]+"^{tree}")
	if err != nil {
		return nil, err
	}
	if _, err := gitOut(ctx, dir, nil, "update-ref", "-d", "refs/bench/snap"); err != nil {
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
	when := old.Add(24 * time.Hour)
	snap, err := repo.WriteSnapshotCommit(tree, base, "git-backup snapshot of main\n", gitstate.Author{Name: "Bench", Email: "bench@example.com"}, when)
	if err != nil {
		return nil, err
	}
	r.id = gitstate.NewBackupID(when, snap, func(string) bool { return false })
	r.snapshot = snap
	for _, p := range paths {
		r.paths = append(r.paths, p.Path)
		r.bytes += p.Size
	}
	ev := gitstate.Event{
		Kind: gitstate.KindCreate, Time: when, To: string(transitions.Created), Trigger: "user",
		ID: r.id, Snapshot: snap, Tree: tree, Base: base, Branch: "main", Message: "large work in progress",
		Files: len(paths), SizeBytes: r.bytes, Paths: paths,
	}
	s := &transitions.Store{Repo: repo, Policy: transitions.DefaultPolicy(), Clone: clone}
	if _, _, err := s.Update(ctx, func(v *transitions.View) (*transitions.Batch, error) {
		return &transitions.Batch{Trigger: "user", Title: "create 1 backup", Changes: []transitions.Change{{
			Snapshot: snap, Events: []gitstate.Event{ev},
			Refs:    []gitstate.RefUpdate{{Name: gitstate.SnapshotRef(r.id), New: snap}},
			Summary: r.id + " -> CREATED",
		}}}, nil
	}); err != nil {
		return nil, err
	}
	// One read of the state leaves the caches every later run finds.
	if _, err := gitOut(ctx, dir, nil, "backup", "list", "--json"); err != nil {
		return nil, err
	}
	if r.saved, err = saveState(ctx, dir); err != nil {
		return nil, err
	}
	progress("wrote the snapshot in %s", time.Since(start).Round(time.Millisecond))
	return r, nil
}

// archiveFile is the one archive file in the repository's archive directory.
func (r *archiveRepo) archiveFile() (string, int64, error) {
	ents, err := os.ReadDir(r.saved.archiveDir())
	if err != nil {
		return "", 0, err
	}
	var found []string
	var size int64
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tar.zst") {
			fi, err := e.Info()
			if err != nil {
				return "", 0, err
			}
			found = append(found, e.Name())
			size = fi.Size()
		}
	}
	if len(found) != 1 {
		return "", 0, fmt.Errorf("archive directory holds %d archives (%v), want 1", len(found), found)
	}
	return filepath.Join(r.saved.archiveDir(), found[0]), size, nil
}

// benchArchive: git backup archive of the 200 MB backup (for real each run:
// the state, the snapshot ref and the archive directory are restored before
// every run), against git archive of the same paths piped into zstd -3.
func benchArchive(ctx context.Context, m *measurer, r *archiveRepo, tmp string) (Row, error) {
	out := filepath.Join(tmp, "baseline.tar.zst")
	var ourSize, baseSize int64
	archive := trial{
		prepare: func() error { return r.saved.restore(ctx) },
		run: func() (sample, []byte, error) {
			return timeGit(ctx, r.dir, "backup", "archive", r.id, "--force", "--yes", "--no-reclaim")
		},
		check: func([]byte) error {
			if _, err := gitOut(ctx, r.dir, nil, "rev-parse", "--verify", "-q", gitstate.SnapshotRef(r.id)); err == nil {
				return fmt.Errorf("after git backup archive, %s still has its snapshot ref", r.id)
			}
			_, size, err := r.archiveFile()
			ourSize = size
			return err
		},
	}
	script := `git archive "$0" -- "$@" | zstd -q -3 -f -o "$OUT"`
	baseline := trial{
		prepare: func() error { return os.RemoveAll(out) },
		run: func() (sample, []byte, error) {
			cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", script, r.snapshot}, r.paths...)...)
			cmd.Dir = r.dir
			cmd.Env = append(os.Environ(), "OUT="+out)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if err != nil || stderr.Len() > 0 {
				return sample{}, nil, fmt.Errorf("git archive | zstd -3: %v: %s", err, strings.TrimSpace(stderr.String()))
			}
			return sample{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil, nil
		},
		check: func([]byte) error {
			fi, err := os.Stat(out)
			if err != nil {
				return err
			}
			baseSize = fi.Size()
			return nil
		},
	}
	progress("measuring archive")
	a, b, err := m.pair(archive, baseline)
	if err != nil {
		return Row{}, err
	}
	// Leave the backup live, as built.
	if err := r.saved.restore(ctx); err != nil {
		return Row{}, err
	}
	mb := float64(r.bytes) / (1 << 20)
	row := newRow(fmt.Sprintf("archive, %.0f MB snapshot", mb), "git backup archive ID --force --yes --no-reclaim",
		"git archive COMMIT -- PATHS | zstd -3", 1/0.8, a, b)
	row.SizeRatio = float64(ourSize) / float64(baseSize)
	row.Met = row.Met && row.SizeRatio >= 0.95 && row.SizeRatio <= 1.05
	row.TargetText = "throughput ≥ 0.8× (ratio ≤ 1.25×), size ±5 %"
	tput := func(d Durations) float64 { return mb / (d.MedianMS / 1000) }
	row.Footnote = fmt.Sprintf("One CREATED backup that adds %d files of %d KiB (pseudo-random source-like text from a seeded generator; %.1f MB in all) to its base; objects packed. "+
		"Throughput: git-backup %.0f MB/s, baseline %.0f MB/s: throughput ratio %.2f× (baseline time / ours). "+
		"Size: archive %.1f MB (zstd ratio %.2f×), baseline %.1f MB (%.2f×): size ratio %.3f (ours / baseline; the archive also holds the manifest). "+
		"Each run archives for real: the state ref, the snapshot ref, the caches and the archive directory are restored before it, outside the timed region. "+
		"Archiving writes a temp file, fsyncs it, reads it back and verifies every blob ID, renames it and commits the state; the baseline only writes. "+
		"--no-reclaim: the prune and repack after it are git gc's work, not the archive's.",
		archiveFiles, archiveFileSize>>10, mb, tput(row.Backup), tput(row.Base), row.Base.MedianMS/row.Backup.MedianMS,
		float64(ourSize)/1e6, float64(r.bytes)/float64(ourSize), float64(baseSize)/1e6, float64(r.bytes)/float64(baseSize), row.SizeRatio)
	return row, nil
}
