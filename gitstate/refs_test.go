package gitstate

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRefsWithPrefix_looseAndPackedRefs(t *testing.T) {
	dir := newRepo(t)
	head := gitIn(t, dir, "rev-parse", "HEAD")
	other := snapshotOf(t, dir, "other")
	gitIn(t, dir, "update-ref", SnapshotRef("20260101-000000-aaaaaaa"), head)
	gitIn(t, dir, "update-ref", SnapshotRef("20260101-000000-bbbbbbb"), head)
	gitIn(t, dir, "update-ref", "refs/remotes/origin/main", head)
	gitIn(t, dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
	gitIn(t, dir, "pack-refs", "--all")
	gitIn(t, dir, "update-ref", SnapshotRef("20260101-000000-bbbbbbb"), other) // loose, over the packed value
	gitIn(t, dir, "update-ref", SnapshotRef("20260102-000000-ccccccc"), other) // loose only
	gitIn(t, dir, "update-ref", "refs/remotes/upstream/main", other)
	r := openRepo(t, dir)

	snaps, err := r.SnapshotRefs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"20260101-000000-aaaaaaa": head, "20260101-000000-bbbbbbb": other, "20260102-000000-ccccccc": other}
	if !maps.Equal(snaps, want) {
		t.Errorf("SnapshotRefs = %v, want %v", snaps, want)
	}
	remotes, err := r.RefsWithPrefix("refs/remotes/")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"refs/remotes/origin/main": head, "refs/remotes/upstream/main": other}; !maps.Equal(remotes, want) {
		t.Errorf("RefsWithPrefix(refs/remotes/) = %v, want %v (symbolic refs left out)", remotes, want)
	}
	part, err := r.RefsWithPrefix(SnapshotsPrefix + "20260101")
	if err != nil {
		t.Fatal(err)
	}
	if len(part) != 2 {
		t.Errorf("RefsWithPrefix(…/20260101) = %v, want the two refs of that day", part)
	}
	none, err := r.RefsWithPrefix("refs/nothing/here/")
	if err != nil || len(none) != 0 {
		t.Errorf("RefsWithPrefix of an empty namespace = %v, %v", none, err)
	}
}

// git creates <ref>.lock, writes the new value into it and renames it over
// the ref. A reader at that moment must neither fail on the empty lock file
// nor take a full one for a ref.
func TestRefsWithPrefix_ignoresLockFilesOfConcurrentWriters(t *testing.T) {
	dir := newRepo(t)
	head := gitIn(t, dir, "rev-parse", "HEAD")
	gitIn(t, dir, "update-ref", SnapshotRef("20260101-000000-aaaaaaa"), head)
	gitIn(t, dir, "update-ref", "refs/remotes/origin/main", head)
	writeFile(t, dir, ".git/"+SnapshotRef("20260101-000000-bbbbbbb")+".lock", "")
	writeFile(t, dir, ".git/"+SnapshotRef("20260101-000000-ccccccc")+".lock", head+"\n")
	writeFile(t, dir, ".git/refs/remotes/origin/feature.lock", "")
	writeFile(t, dir, ".git/refs/heads/topic.lock", "")
	r := openRepo(t, dir)

	snaps, err := r.SnapshotRefs()
	if err != nil {
		t.Fatalf("SnapshotRefs while another process writes a ref: %v", err)
	}
	if want := map[string]string{"20260101-000000-aaaaaaa": head}; !maps.Equal(snaps, want) {
		t.Errorf("SnapshotRefs = %v, want %v", snaps, want)
	}
	remotes, err := r.RefsWithPrefix("refs/remotes/")
	if err != nil {
		t.Fatalf("RefsWithPrefix while another process writes a ref: %v", err)
	}
	if want := map[string]string{"refs/remotes/origin/main": head}; !maps.Equal(remotes, want) {
		t.Errorf("RefsWithPrefix = %v, want %v", remotes, want)
	}
	tips, err := r.IntegrationTips("main")
	if err != nil || len(tips) != 2 {
		t.Errorf("IntegrationTips = %v, %v; want refs/heads/main and refs/remotes/origin/main", tips, err)
	}
}

// A packed-refs file cut off mid-line (a crash, a full disk) is an error that
// names the file and the line, as git's own is: skipping the line would make
// the refs in it vanish, and a snapshot ref that vanishes reads as a backup
// whose content is gone.
func TestRefsWithPrefix_cutOffPackedRefsIsAnError(t *testing.T) {
	dir := newRepo(t)
	head := gitIn(t, dir, "rev-parse", "HEAD")
	gitIn(t, dir, "update-ref", SnapshotRef("20260101-000000-aaaaaaa"), head)
	gitIn(t, dir, "update-ref", SnapshotRef("20260101-000000-bbbbbbb"), head)
	gitIn(t, dir, "pack-refs", "--all")
	p := filepath.Join(dir, ".git", "packed-refs")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("20260101-000000-bbbbbbb"))
	for name, cut := range map[string][]byte{"mid-line": b[:i+4], "half": b[:len(b)/2], "garbage line": append(b, "not a ref\n"...)} {
		if err := os.WriteFile(p, cut, 0o644); err != nil {
			t.Fatal(err)
		}
		r := openRepo(t, dir)
		_, err := r.SnapshotRefs()
		if err == nil || !strings.Contains(err.Error(), "packed-refs is damaged") || !strings.Contains(err.Error(), "fsck --repair") {
			t.Errorf("%s: SnapshotRefs error %v, want one naming packed-refs and the way out", name, err)
		}
		if _, err := r.ReadRef("refs/heads/none"); err == nil {
			t.Errorf("%s: ReadRef read through a damaged packed-refs", name)
		}
	}
}
