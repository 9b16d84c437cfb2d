package gitstate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// realPath resolves symlinks (temporary directories are often behind one).
func realPath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOpen_bareRepositoryIsErrBare(t *testing.T) {
	gitEnv(t)
	dir := filepath.Join(t.TempDir(), "bare.git")
	gitIn(t, "", "init", "-q", "--bare", dir)
	_, err := Open(context.Background(), dir)
	if !errors.Is(err, ErrBare) {
		t.Fatalf("Open(bare) = %v, want ErrBare", err)
	}
}

func TestOpen_outsideRepositoryIsErrNotRepository(t *testing.T) {
	gitEnv(t)
	dir := t.TempDir()
	_, err := Open(context.Background(), dir)
	if !errors.Is(err, ErrNotRepository) {
		t.Fatalf("Open(outside) = %v, want ErrNotRepository", err)
	}
}

func TestOpen_insideGitDirIsErrNotRepository(t *testing.T) {
	dir := newRepo(t)
	_, err := Open(context.Background(), filepath.Join(dir, ".git"))
	if !errors.Is(err, ErrNotRepository) {
		t.Fatalf("Open(.git) = %v, want ErrNotRepository", err)
	}
}

func TestOpen_missingDirectoryIsAnError(t *testing.T) {
	gitEnv(t)
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("Open of a missing directory succeeded")
	}
}

func TestOpen_subdirectoryFindsTheTop(t *testing.T) {
	dir := newRepo(t)
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	r := openRepo(t, sub)
	if realPath(t, r.WorkTree) != realPath(t, dir) {
		t.Errorf("WorkTree = %q, want %q", r.WorkTree, dir)
	}
	gd := realPath(t, filepath.Join(dir, ".git"))
	if realPath(t, r.GitDir) != gd || realPath(t, r.CommonDir) != gd {
		t.Errorf("GitDir = %q, CommonDir = %q, want both %q", r.GitDir, r.CommonDir, gd)
	}
}

func TestOpen_linkedWorktreeHasItsOwnGitDir(t *testing.T) {
	dir := newRepo(t)
	wt := filepath.Join(filepath.Dir(dir), "wt")
	gitIn(t, dir, "worktree", "add", "-q", "-b", "feature", wt)
	r := openRepo(t, wt)
	main := openRepo(t, dir)
	if realPath(t, r.WorkTree) != realPath(t, wt) {
		t.Errorf("WorkTree = %q, want %q", r.WorkTree, wt)
	}
	if realPath(t, r.GitDir) == realPath(t, r.CommonDir) {
		t.Errorf("in a linked worktree GitDir and CommonDir are both %q", r.GitDir)
	}
	if realPath(t, r.CommonDir) != realPath(t, main.CommonDir) {
		t.Errorf("CommonDir = %q, want the main repository's %q", r.CommonDir, main.CommonDir)
	}
	if !filepath.IsAbs(r.CommonDir) || !filepath.IsAbs(r.GitDir) {
		t.Errorf("paths must be absolute: GitDir %q CommonDir %q", r.GitDir, r.CommonDir)
	}
	// Refs and objects are shared; HEAD is the worktree's own.
	h, err := r.Head()
	if err != nil || h.Branch != "feature" || h.Commit != gitIn(t, dir, "rev-parse", "HEAD") {
		t.Errorf("Head in the worktree = %+v, %v", h, err)
	}
	if r.WriterLock() != main.WriterLock() {
		t.Error("a worktree and its main repository have different writer locks")
	}
}

func TestHead_unbornAndDetached(t *testing.T) {
	gitEnv(t)
	dir := filepath.Join(t.TempDir(), "repo")
	gitIn(t, "", "-c", "init.defaultBranch=main", "init", "-q", dir)
	r := openRepo(t, dir)
	h, err := r.Head()
	if err != nil || h.Commit != "" || h.Branch != "main" {
		t.Fatalf("unborn Head = %+v, %v", h, err)
	}
	writeFile(t, dir, "a", "a\n")
	gitIn(t, dir, "add", "a")
	gitIn(t, dir, "commit", "-q", "-m", "a")
	gitIn(t, dir, "checkout", "-q", "--detach")
	h, err = r.Head()
	if err != nil || h.Branch != "" || h.Commit != gitIn(t, dir, "rev-parse", "HEAD") {
		t.Fatalf("detached Head = %+v, %v", h, err)
	}
}
