package gitstate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// treePaths lists the files of tree as "mode path" lines.
func treePaths(t *testing.T, dir, tree string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(gitIn(t, dir, "ls-tree", "-r", "-z", "--full-tree", tree), "\x00") {
		if l == "" {
			continue
		}
		meta, path, _ := strings.Cut(l, "\t")
		out[path] = strings.Fields(meta)[0]
	}
	return out
}

func TestWriteWorkTree_leavesHeadIndexAndStashAlone(t *testing.T) {
	dir := newRepo(t)
	writeFile(t, dir, ".gitignore", "*.log\n")
	writeFile(t, dir, "b.txt", "b\n")
	gitIn(t, dir, "add", ".gitignore", "b.txt")
	gitIn(t, dir, "commit", "-q", "-m", "more")
	writeFile(t, dir, "stashed.txt", "s\n")
	gitIn(t, dir, "add", "stashed.txt")
	gitIn(t, dir, "stash", "-q")
	writeFile(t, dir, "a.txt", "one\ntwo staged\n")
	gitIn(t, dir, "add", "a.txt")
	writeFile(t, dir, "a.txt", "one\ntwo staged\nthree unstaged\n")
	writeFile(t, dir, "b.txt", "b changed, unstaged\n")
	writeFile(t, dir, "dir/new.txt", "untracked\n")
	writeFile(t, dir, "debug.log", "ignored\n")
	if err := os.Remove(filepath.Join(dir, ".gitignore")); err != nil { // a tracked file deleted on disk
		t.Fatal(err)
	}
	writeFile(t, dir, ".gitignore", "*.log\n") // and put back: unchanged content, new mtime

	index := filepath.Join(dir, ".git", "index")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(index, old, old); err != nil {
		t.Fatal(err)
	}
	headBefore := gitIn(t, dir, "rev-parse", "HEAD")
	symBefore := gitIn(t, dir, "symbolic-ref", "HEAD")
	stashBefore := gitIn(t, dir, "stash", "list", "--format=%H")
	indexBefore, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	fiBefore, _ := os.Stat(index)
	work := map[string]string{}
	for _, f := range []string{"a.txt", "b.txt", "dir/new.txt", "debug.log"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		work[f] = string(b)
	}

	r := openRepo(t, dir)
	w, err := r.WriteWorkTree(context.Background(), WorkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wi, err := r.WriteWorkTree(context.Background(), WorkOptions{IncludeIgnored: true})
	if err != nil {
		t.Fatal(err)
	}

	indexAfter, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	fiAfter, _ := os.Stat(index)
	if !bytes.Equal(indexBefore, indexAfter) {
		t.Error("the index file's bytes changed")
	}
	if !fiAfter.ModTime().Equal(fiBefore.ModTime()) {
		t.Errorf("the index file's mtime changed: %v → %v", fiBefore.ModTime(), fiAfter.ModTime())
	}
	if got := gitIn(t, dir, "rev-parse", "HEAD"); got != headBefore {
		t.Errorf("HEAD moved: %s → %s", headBefore, got)
	}
	if got := gitIn(t, dir, "symbolic-ref", "HEAD"); got != symBefore {
		t.Errorf("HEAD points to %s, was %s", got, symBefore)
	}
	if got := gitIn(t, dir, "stash", "list", "--format=%H"); got != stashBefore || got == "" {
		t.Errorf("stash list %q, was %q", got, stashBefore)
	}
	for f, want := range work {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != want {
			t.Errorf("work file %s changed to %q", f, b)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, ".git"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "git-backup-index") {
			t.Errorf("private index %s left behind", e.Name())
		}
	}

	if w.Head.Commit != headBefore || w.Head.Branch != "main" {
		t.Errorf("Work.Head = %+v", w.Head)
	}
	files := treePaths(t, dir, w.Tree)
	for _, f := range []string{"a.txt", "b.txt", "dir/new.txt", ".gitignore"} {
		if files[f] == "" {
			t.Errorf("snapshot lacks %s: %v", f, files)
		}
	}
	if files["debug.log"] != "" || files["stashed.txt"] != "" {
		t.Errorf("snapshot holds an ignored or stashed file: %v", files)
	}
	if got := gitIn(t, dir, "cat-file", "blob", w.Tree+":a.txt"); got != "one\ntwo staged\nthree unstaged" {
		t.Errorf("snapshot of a.txt = %q, want the file as on disk", got)
	}
	if treePaths(t, dir, wi.Tree)["debug.log"] == "" {
		t.Error("IncludeIgnored snapshot lacks debug.log")
	}
}

func TestWriteWorkTree_pathspecLimitsTheChange(t *testing.T) {
	dir := newRepo(t)
	writeFile(t, dir, "x.txt", "x\n")
	writeFile(t, dir, "y.txt", "y\n")
	r := openRepo(t, dir)
	w, err := r.WriteWorkTree(context.Background(), WorkOptions{Pathspec: []string{"x.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	files := treePaths(t, dir, w.Tree)
	if files["x.txt"] == "" || files["y.txt"] != "" || files["a.txt"] == "" {
		t.Errorf("pathspec snapshot = %v, want a.txt and x.txt only", files)
	}
}

func TestWriteWorkTree_unbornBranch(t *testing.T) {
	gitEnv(t)
	dir := filepath.Join(t.TempDir(), "repo")
	gitIn(t, "", "-c", "init.defaultBranch=main", "init", "-q", dir)
	writeFile(t, dir, "f", "f\n")
	r := openRepo(t, dir)
	w, err := r.WriteWorkTree(context.Background(), WorkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Head.Commit != "" || treePaths(t, dir, w.Tree)["f"] == "" {
		t.Errorf("unborn snapshot = %+v", w)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "index")); !os.IsNotExist(err) {
		t.Errorf("an index appeared in a repository that had none: %v", err)
	}
}

func TestChangedPaths_addsDeletesModesSymlinksAndGitlinks(t *testing.T) {
	dir := newRepo(t)
	blob := func(content string) string {
		out, err := gitTry(dir, content, "hash-object", "-w", "--stdin")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	mktree := func(entries ...string) string {
		out, err := gitTry(dir, strings.Join(entries, "\x00")+"\x00", "mktree", "-z", "--missing")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	keep, gone, script, edited, edited2 := blob("keep\n"), blob("gone!\n"), blob("#!/bin/sh\n"), blob("v1\n"), blob("version two\n")
	added, target := blob("new file\n"), "a/long/target/path"
	link := blob(target)
	sub := "0123456789012345678901234567890123456789"
	subDir := mktree("100644 blob " + added + "\tspaced name.txt")
	from := mktree(
		"100644 blob "+keep+"\tkeep.txt",
		"100644 blob "+gone+"\tgone.txt",
		"100644 blob "+script+"\tscript.sh",
		"100644 blob "+edited+"\tedited.txt",
		"100644 blob "+edited+"\tbecomes-link",
	)
	vendor := mktree("160000 commit " + sub + "\tsub")
	to := mktree(
		"100644 blob "+keep+"\tkeep.txt",
		"100755 blob "+script+"\tscript.sh",
		"100644 blob "+edited2+"\tedited.txt",
		"120000 blob "+link+"\tbecomes-link",
		"120000 blob "+link+"\tnew-link",
		"040000 tree "+vendor+"\tvendor",
		"040000 tree "+subDir+"\tnew dir",
	)

	r := openRepo(t, dir)
	pcs, err := r.ChangedPaths(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]PathChange{}
	for _, pc := range pcs {
		if _, dup := got[pc.Path]; dup {
			t.Errorf("path %s listed twice", pc.Path)
		}
		got[pc.Path] = pc
	}
	want := map[string]PathChange{
		"gone.txt":                {Path: "gone.txt", BaseBlob: gone, Size: 6},
		"script.sh":               {Path: "script.sh", Blob: script, Mode: "100755", BaseBlob: script, Size: 10},
		"edited.txt":              {Path: "edited.txt", Blob: edited2, Mode: "100644", BaseBlob: edited, Size: 12},
		"becomes-link":            {Path: "becomes-link", Blob: link, Mode: "120000", BaseBlob: edited, Size: int64(len(target))},
		"new-link":                {Path: "new-link", Blob: link, Mode: "120000", Size: int64(len(target))},
		"vendor/sub":              {Path: "vendor/sub", Blob: sub, Mode: "160000", Size: 0},
		"new dir/spaced name.txt": {Path: "new dir/spaced name.txt", Blob: added, Mode: "100644", Size: 9},
	}
	if len(got) != len(want) {
		t.Errorf("got %d changes, want %d: %+v", len(got), len(want), pcs)
	}
	for p, w := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("missing change %s", p)
		} else if g != w {
			t.Errorf("change %s = %+v, want %+v", p, g, w)
		}
	}

	// From the empty tree everything is an addition; a pathspec limits the list.
	all, err := r.ChangedPaths(context.Background(), "", to, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Path != "vendor/sub" || all[0].BaseBlob != "" {
		t.Errorf("ChangedPaths(empty, to, vendor) = %+v", all)
	}
	// A submodule that goes away has no size in this repository either.
	back, err := r.ChangedPaths(context.Background(), to, from)
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range back {
		if pc.Path == "vendor/sub" && (pc.Blob != "" || pc.BaseBlob != sub || pc.Size != 0) {
			t.Errorf("removed gitlink = %+v", pc)
		}
	}
}

func TestChangedPaths_realWorkTreeWithSymlinkAndSubmodule(t *testing.T) {
	dir := newRepo(t)
	subRepo := filepath.Join(filepath.Dir(dir), "subrepo")
	gitIn(t, "", "-c", "init.defaultBranch=main", "init", "-q", subRepo)
	writeFile(t, subRepo, "s", "s\n")
	gitIn(t, subRepo, "add", "s")
	gitIn(t, subRepo, "commit", "-q", "-m", "s")
	gitIn(t, dir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", subRepo, "sub")
	gitIn(t, dir, "commit", "-q", "-m", "add sub")
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "a.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub"), "s", "s2\n")
	gitIn(t, filepath.Join(dir, "sub"), "commit", "-q", "-am", "s2")
	subHead := gitIn(t, filepath.Join(dir, "sub"), "rev-parse", "HEAD")

	r := openRepo(t, dir)
	w, err := r.WriteWorkTree(context.Background(), WorkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pcs, err := r.ChangedPaths(context.Background(), gitIn(t, dir, "rev-parse", "HEAD^{tree}"), w.Tree)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]PathChange{}
	for _, pc := range pcs {
		got[pc.Path] = pc
	}
	if pc := got["link"]; pc.Mode != "120000" || pc.Size != int64(len("a.txt")) {
		t.Errorf("symlink change = %+v", pc)
	}
	if pc := got["a.txt"]; pc.Mode != "100755" || pc.Blob != pc.BaseBlob {
		t.Errorf("mode change = %+v", pc)
	}
	if pc := got["sub"]; pc.Mode != "160000" || pc.Blob != subHead || pc.Size != 0 {
		t.Errorf("submodule change = %+v, want gitlink to %s", pc, subHead)
	}
	if len(got) != 3 {
		t.Errorf("changes = %+v", pcs)
	}
}

func TestNewBackupID_growsUntilUnique(t *testing.T) {
	when := time.Date(2026, 3, 1, 10, 2, 3, 0, time.FixedZone("X", 3600))
	snap := "abcdef0123456789abcdef0123456789abcdef01"
	if got := NewBackupID(when, snap, nil); got != "20260301-090203-abcdef0" {
		t.Errorf("NewBackupID = %q (want UTC and 7 hex digits)", got)
	}
	taken := map[string]bool{"20260301-090203-abcdef0": true, "20260301-090203-abcdef01": true}
	if got := NewBackupID(when, snap, func(id string) bool { return taken[id] }); got != "20260301-090203-abcdef012" {
		t.Errorf("NewBackupID with taken IDs = %q", got)
	}
	all := func(string) bool { return true }
	if got := NewBackupID(when, snap, all); got != "20260301-090203-"+snap {
		t.Errorf("NewBackupID when every prefix is taken = %q", got)
	}
}

func TestCoverage_weightedBySizeAndDeletions(t *testing.T) {
	dir := newRepo(t)
	writeFile(t, dir, "big.txt", strings.Repeat("b", 300))
	writeFile(t, dir, "small.txt", "s")
	gitIn(t, dir, "add", ".")
	gitIn(t, dir, "commit", "-q", "-m", "merged")
	tip := gitIn(t, dir, "rev-parse", "HEAD")
	r := openRepo(t, dir)
	big := gitIn(t, dir, "rev-parse", "HEAD:big.txt")
	cc, err := r.NewCoverageChecker([]string{tip})
	if err != nil {
		t.Fatal(err)
	}
	paths := []PathChange{
		{Path: "big.txt", Blob: big, Size: 300},
		{Path: "small.txt", Blob: "1111111111111111111111111111111111111111", Size: 100}, // different content
		{Path: "deleted.txt", BaseBlob: big, Size: 100},                                  // absent on the tip: covered
	}
	if got := cc.Coverage(paths); got != 0.8 {
		t.Errorf("Coverage = %v, want 0.8", got)
	}
	if got := cc.Coverage(nil); got != 1 {
		t.Errorf("Coverage(no changes) = %v, want 1", got)
	}
	none, _ := r.NewCoverageChecker(nil)
	if got := none.Coverage(paths); got != 0 {
		t.Errorf("Coverage without tips = %v, want 0", got)
	}
	if _, err := r.NewCoverageChecker([]string{"1234567890123456789012345678901234567890"}); err == nil {
		t.Error("NewCoverageChecker with a missing commit succeeded")
	}
}
