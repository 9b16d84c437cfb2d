package gitstate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCommitState_treeIsInNotesFormatWithLayout(t *testing.T) {
	dir := newRepo(t)
	r := openRepo(t, dir)
	ctx := context.Background()
	s1, s2 := snapshotOf(t, dir, "one"), snapshotOf(t, dir, "two")
	notes := map[string][]byte{
		s1: EncodeNote(sampleEvents()[:1]),
		s2: EncodeNote(sampleEvents()[:2]),
	}
	base, err := r.ReadState("")
	if err != nil {
		t.Fatal(err)
	}
	if base.Commit != "" || base.Layout != LayoutVersion || len(base.Notes) != 0 {
		t.Fatalf("empty state = %+v", base)
	}
	when := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	c1, err := r.CommitState(ctx, StateChange{Base: base, Notes: notes, Message: "user: create two\n\nbody\n", Time: when})
	if err != nil {
		t.Fatal(err)
	}
	if got := gitIn(t, dir, "rev-parse", StateRef); got != c1 {
		t.Fatalf("%s = %s, CommitState returned %s", StateRef, got, c1)
	}

	paths := strings.Split(gitIn(t, dir, "ls-tree", "-r", "--name-only", StateRef), "\n")
	want := []string{LayoutFile, s1[:2] + "/" + s1[2:], s2[:2] + "/" + s2[2:]}
	slices.Sort(paths)
	slices.Sort(want)
	if !slices.Equal(paths, want) {
		t.Fatalf("state tree paths %q, want %q", paths, want)
	}
	if got := gitIn(t, dir, "cat-file", "-p", StateRef+":"+LayoutFile); got != LayoutVersion {
		t.Errorf("layout file %q, want %q", got, LayoutVersion)
	}

	// git's own notes machinery reads the tree: list and show. git keeps its
	// notes commands to refs/notes/, so look at a copy there.
	gitIn(t, dir, "update-ref", "refs/notes/check", StateRef)
	listed := map[string]string{}
	for _, l := range strings.Split(gitIn(t, dir, "notes", "--ref=check", "list"), "\n") {
		blob, obj, _ := strings.Cut(l, " ")
		listed[obj] = blob
	}
	if len(listed) != 2 || listed[s1] == "" || listed[s2] == "" {
		t.Fatalf("git notes list = %v, want notes for %s and %s", listed, s1, s2)
	}
	for snap, note := range notes {
		if got := gitIn(t, dir, "notes", "--ref=check", "show", snap); got+"\n" != string(note) {
			t.Errorf("git notes show %s = %q, want %q", snap, got, note)
		}
	}
	if got := gitIn(t, dir, "log", "-1", "--format=%s|%an|%ct", StateRef); got != "user: create two|git-backup|"+strconv.FormatInt(when.Unix(), 10) {
		t.Errorf("state commit = %q", got)
	}

	// Read back in-process.
	v, err := r.ReadState("")
	if err != nil {
		t.Fatal(err)
	}
	if v.Commit != c1 || v.Layout != LayoutVersion || len(v.Notes) != 2 || v.Notes[s1] != listed[s1] || v.Notes[s2] != listed[s2] {
		t.Fatalf("ReadState = %+v, git notes list = %v", v, listed)
	}

	// A second change edits one note and keeps the other; the log is a chain.
	note2 := EncodeNote(sampleEvents()[:3])
	c2, err := r.CommitState(ctx, StateChange{Base: v, Notes: map[string][]byte{s1: note2}, Message: "hook: move"})
	if err != nil {
		t.Fatal(err)
	}
	if got := gitIn(t, dir, "rev-parse", c2+"^"); got != c1 {
		t.Errorf("parent of %s is %s, want %s", c2, got, c1)
	}
	gitIn(t, dir, "update-ref", "refs/notes/check", StateRef)
	if got := gitIn(t, dir, "notes", "--ref=check", "show", s1); got+"\n" != string(note2) {
		t.Errorf("edited note = %q", got)
	}
	if got := gitIn(t, dir, "notes", "--ref=check", "show", s2); got+"\n" != string(notes[s2]) {
		t.Errorf("untouched note changed: %q", got)
	}
	log, err := r.StateLog(0)
	if err != nil || len(log) != 2 || log[0].ID != c2 || log[1].ID != c1 {
		t.Fatalf("StateLog = %+v, %v", log, err)
	}

	// Deciding on the old state loses the race.
	_, err = r.CommitState(ctx, StateChange{Base: v, Notes: map[string][]byte{s2: note2}, Message: "stale"})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("commit on a stale base: %v, want ErrConflict", err)
	}
	if got := gitIn(t, dir, "rev-parse", StateRef); got != c2 {
		t.Errorf("a lost race moved %s to %s", StateRef, got)
	}
}

func TestCommitState_refusesNonSnapshotPaths(t *testing.T) {
	dir := newRepo(t)
	r := openRepo(t, dir)
	base, _ := r.ReadState("")
	for _, bad := range []string{"", "layout", "../x", strings.Repeat("g", 40), strings.Repeat("a", 39)} {
		if _, err := r.CommitState(context.Background(), StateChange{Base: base, Notes: map[string][]byte{bad: []byte("x\n")}}); err == nil {
			t.Errorf("CommitState accepted note path %q", bad)
		}
	}
	if _, err := r.CommitState(context.Background(), StateChange{Notes: map[string][]byte{}}); err == nil {
		t.Error("CommitState without a base state succeeded")
	}
}

func TestCommitState_movesNotesWrittenByGitNotesIntoFanOut(t *testing.T) {
	dir := newRepo(t)
	snap := snapshotOf(t, dir, "one")
	other := snapshotOf(t, dir, "two")
	// git notes writes small note trees without fan-out and without our layout file.
	gitIn(t, dir, "notes", "--ref=old", "add", "-m", "old note", snap)
	gitIn(t, dir, "notes", "--ref=old", "add", "-m", "other note", other)
	gitIn(t, dir, "update-ref", StateRef, "refs/notes/old")
	r := openRepo(t, dir)
	v, err := r.ReadState("")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Notes) != 2 || v.Layout != "" {
		t.Fatalf("ReadState of a git notes tree = %+v", v)
	}
	if _, err := r.CommitState(context.Background(), StateChange{Base: v, Notes: map[string][]byte{snap: []byte("new note\n")}, Message: "edit"}); err != nil {
		t.Fatal(err)
	}
	paths := strings.Split(gitIn(t, dir, "ls-tree", "-r", "--name-only", StateRef), "\n")
	want := []string{LayoutFile, other, snap[:2] + "/" + snap[2:]}
	slices.Sort(paths)
	slices.Sort(want)
	if !slices.Equal(paths, want) {
		t.Fatalf("paths %q, want %q (the old unfanned path must go)", paths, want)
	}
	gitIn(t, dir, "update-ref", "refs/notes/check", StateRef)
	if got := gitIn(t, dir, "notes", "--ref=check", "show", snap); got != "new note" {
		t.Errorf("note = %q", got)
	}
	if got := gitIn(t, dir, "notes", "--ref=check", "show", other); got != "other note" {
		t.Errorf("other note = %q", got)
	}
	gitIn(t, dir, "fsck", "--strict", "--no-dangling")
}

func TestReadState_missingObjectIsAnError(t *testing.T) {
	dir := newRepo(t)
	r := openRepo(t, dir)
	if _, err := r.ReadState("1234567890123456789012345678901234567890"); !errors.Is(err, ErrObjectMissing) {
		t.Fatalf("ReadState of a missing commit: %v, want ErrObjectMissing", err)
	}
}

// A state read without its commit (from a cache) must not be committed on
// when that commit is gone: the new commit would have a missing parent, and
// the audit log and git gc would break for good.
func TestCommitState_refusesABaseCommitThatCannotBeRead(t *testing.T) {
	dir := newRepo(t)
	r := openRepo(t, dir)
	ctx := context.Background()
	s1 := snapshotOf(t, dir, "one")
	base, err := r.ReadState("")
	if err != nil {
		t.Fatal(err)
	}
	c1, err := r.CommitState(ctx, StateChange{Base: base, Notes: map[string][]byte{s1: EncodeNote(sampleEvents()[:1])}, Message: "one"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.ReadState("")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".git", "objects", c1[:2], c1[2:])); err != nil {
		t.Fatal(err)
	}
	r = openRepo(t, dir)
	_, err = r.CommitState(ctx, StateChange{Base: v, Notes: map[string][]byte{s1: EncodeNote(sampleEvents()[:2])}, Message: "two"})
	if !errors.Is(err, ErrObjectMissing) || !strings.Contains(err.Error(), c1) {
		t.Fatalf("CommitState on a missing base: %v, want an error naming %s", err, c1)
	}
	if got := gitIn(t, dir, "rev-parse", StateRef); got != c1 {
		t.Fatalf("%s moved to %s", StateRef, got)
	}
}
