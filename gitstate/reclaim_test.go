package gitstate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReclaim_prunesUnreachablePastTheGraceOnly(t *testing.T) {
	tests := []struct {
		name      string
		pack      bool
		grace     time.Duration
		wantGone  bool
		wantFreed bool
	}{
		{name: "loose, no grace", grace: -1, wantGone: true, wantFreed: true},
		{name: "packed, no grace", pack: true, grace: -1, wantGone: true, wantFreed: true},
		{name: "loose, default grace keeps a new object", grace: 0},
		{name: "packed, default grace keeps a new object", pack: true, grace: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gitEnv(t)
			dir := t.TempDir()
			gitIn(t, dir, "init", "-q")
			content := strings.Repeat("unreachable payload\n", 5000)
			blob, err := gitTry(dir, content, "hash-object", "-w", "--stdin")
			if err != nil {
				t.Fatal(err)
			}
			gitIn(t, dir, "update-ref", "refs/backups/snapshots/x", mustTree(t, dir, blob))
			if tt.pack {
				gitIn(t, dir, "repack", "-a", "-d", "-q")
				gitIn(t, dir, "prune-packed")
			}
			gitIn(t, dir, "update-ref", "-d", "refs/backups/snapshots/x")
			r, err := Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Reclaim(context.Background(), ReclaimOptions{Grace: tt.grace})
			if err != nil {
				t.Fatalf("Reclaim: %v", err)
			}
			_, err = gitTry(dir, "", "cat-file", "-e", blob)
			if gone := err != nil; gone != tt.wantGone {
				t.Errorf("blob gone = %v, want %v", gone, tt.wantGone)
			}
			if tt.wantFreed && res.BytesFreed <= 0 {
				t.Errorf("freed %d bytes (%+v)", res.BytesFreed, res)
			}
			if res.Repacked != tt.pack {
				t.Errorf("repacked = %v", res.Repacked)
			}
		})
	}
}

func TestReclaim_skipsWhenPruneExpireIsNever(t *testing.T) {
	gitEnv(t)
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q")
	gitIn(t, dir, "config", "gc.pruneExpire", "never")
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Reclaim(context.Background(), ReclaimOptions{Grace: -1})
	if err != nil || res.Skipped == "" {
		t.Fatalf("Reclaim = %+v, %v; want skipped", res, err)
	}
}

// mustTree writes a commit whose tree holds blob as f.txt and returns it.
func mustTree(t *testing.T, dir, blob string) string {
	t.Helper()
	tree, err := gitTry(dir, "100644 blob "+blob+"\tf.txt\n", "mktree")
	if err != nil {
		t.Fatal(err)
	}
	c, err := gitTry(dir, "", "commit-tree", "-m", "x", tree)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A commit graph written while a snapshot was reachable lists its commit;
// once reclaim prunes it, git fsck must still find the repository whole.
func TestReclaim_rewritesTheCommitGraph(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("split=%v", split), func(t *testing.T) {
			gitEnv(t)
			dir := t.TempDir()
			gitIn(t, dir, "init", "-q")
			writeFile(t, dir, "a.txt", "a\n")
			gitIn(t, dir, "add", "a.txt")
			gitIn(t, dir, "commit", "-q", "-m", "a")
			blob, err := gitTry(dir, "snapshot content\n", "hash-object", "-w", "--stdin")
			if err != nil {
				t.Fatal(err)
			}
			gitIn(t, dir, "update-ref", "refs/backups/snapshots/x", mustTree(t, dir, blob))
			args := []string{"commit-graph", "write", "--reachable"}
			if split {
				args = append(args, "--split")
			}
			gitIn(t, dir, args...)
			gitIn(t, dir, "update-ref", "-d", "refs/backups/snapshots/x")
			r, err := Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Reclaim(context.Background(), ReclaimOptions{Grace: -1}); err != nil {
				t.Fatalf("Reclaim: %v", err)
			}
			if out, err := gitTry(dir, "", "fsck", "--no-dangling"); err != nil {
				t.Fatalf("git fsck after reclaim: %v\n%s", err, out)
			}
		})
	}
}
