package gitstate

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultPruneGrace is how old an unreachable object must be before Reclaim
// removes it. A concurrent git backup create (or git commit) writes its
// objects before the ref that makes them reachable; they must survive the
// moment in between.
const DefaultPruneGrace = time.Hour

// ReclaimOptions tune Reclaim. The zero value means defaults.
type ReclaimOptions struct {
	// Grace is the minimum age of the unreachable objects removed;
	// 0 means DefaultPruneGrace. Negative means none at all: every
	// unreachable object goes, which is only safe when no other git process
	// runs (tests, experts).
	Grace time.Duration
}

// ReclaimResult says what Reclaim did.
type ReclaimResult struct {
	Skipped     string `json:"skipped,omitempty"` // why nothing was done
	Repacked    bool   `json:"repacked"`
	BytesBefore int64  `json:"bytes_before"` // of the objects directory
	BytesAfter  int64  `json:"bytes_after"`
	BytesFreed  int64  `json:"bytes_freed"` // before - after, measured; may be negative
}

// Reclaim frees the space of objects that no ref reaches any more (the
// snapshots whose refs a cleanup dropped), and measures the objects
// directory before and after.
//
// It runs what git gc would, minus everything unrelated (reflog expiry,
// rerere, worktrees, the commit graph): when there are packs,
// `git repack -A -d -q --unpack-unreachable=<grace>`, which rewrites the
// packs without the unreachable objects older than the grace period and
// leaves the younger ones loose (-A, not -a: -a would drop unreachable packed
// objects of any age, such as those of a fetch whose refs are not written
// yet); then `git prune --expire=<grace>`, which
// removes loose unreachable objects older than that. Both are git's own
// tools and take git's own care beside a running git (packs are replaced
// atomically, prune keeps what any ref, reflog, the index or a recent
// object needs). The grace period protects objects written by a concurrent
// command before its ref exists. Nothing is done when gc.pruneExpire is
// "never": the user asked git never to prune.
func (r *Repo) Reclaim(ctx context.Context, o ReclaimOptions) (ReclaimResult, error) {
	var res ReclaimResult
	out, err := r.git(ctx, runOpts{}, "config", "--get", "gc.pruneExpire")
	if err == nil && strings.EqualFold(strings.TrimSpace(string(out)), "never") {
		res.Skipped = "gc.pruneExpire is never"
		return res, nil
	}
	unlock, err := r.LockHeavy(ctx)
	if err != nil {
		return res, fmt.Errorf("reclaim: %w", err)
	}
	defer unlock()
	expire := pruneExpire(o.Grace)
	objects := filepath.Join(r.CommonDir, "objects")
	before, packs, err := dirBytes(objects)
	if err != nil {
		return res, fmt.Errorf("reclaim: measure %q: %w", objects, err)
	}
	res.BytesBefore = before
	if packs > 0 {
		if _, err := r.git(ctx, runOpts{}, "repack", "-A", "-d", "-q", "--unpack-unreachable="+expire); err != nil {
			return res, fmt.Errorf("reclaim: %w", err)
		}
		res.Repacked = true
	}
	if _, err := r.git(ctx, runOpts{}, "prune", "--expire="+expire); err != nil {
		return res, fmt.Errorf("reclaim: %w", err)
	}
	// A commit graph (written by git gc or maintenance) may list snapshot
	// commits just pruned, which git fsck reports as a broken repository:
	// write it again from what is reachable, as git gc does after pruning.
	if args := commitGraphRewrite(objects); args != nil {
		if _, err := r.git(ctx, runOpts{}, args...); err != nil {
			return res, fmt.Errorf("reclaim: %w", err)
		}
	}
	after, _, err := dirBytes(objects)
	if err != nil {
		return res, fmt.Errorf("reclaim: measure %q: %w", objects, err)
	}
	res.BytesAfter, res.BytesFreed = after, before-after
	return res, nil
}

// commitGraphRewrite is the git command that writes the commit graph in
// objects again, keeping its form (one file or a split chain), or nil when
// there is none.
func commitGraphRewrite(objects string) []string {
	if _, err := os.Stat(filepath.Join(objects, "info", "commit-graphs", "commit-graph-chain")); err == nil {
		return []string{"commit-graph", "write", "--reachable", "--split=replace"}
	}
	if _, err := os.Stat(filepath.Join(objects, "info", "commit-graph")); err == nil {
		return []string{"commit-graph", "write", "--reachable"}
	}
	return nil
}

// pruneExpire spells a grace period as git's approxidate.
func pruneExpire(grace time.Duration) string {
	switch {
	case grace < 0:
		return "now"
	case grace == 0:
		grace = DefaultPruneGrace
	}
	return strconv.FormatInt(int64(grace.Round(time.Second)/time.Second), 10) + ".seconds.ago"
}

// dirBytes sums the sizes of the files below dir, and counts pack files.
// Files that vanish while it walks (a concurrent repack) are skipped.
func dirBytes(dir string) (total int64, packs int, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		total += fi.Size()
		if strings.HasSuffix(p, ".pack") {
			packs++
		}
		return nil
	})
	return total, packs, err
}
