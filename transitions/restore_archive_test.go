package transitions

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// uaSnapshotFiles is the work tree uaBackup took.
var uaSnapshotFiles = map[string]string{
	"a.txt":       "changed in the backup\n",
	"dir/new.txt": "new in the backup\n",
	"run.sh":      "#!/bin/sh\necho hi\n",
	"link":        "-> a.txt",
	"same.txt":    "unchanged\n",
}

func TestRestoreArchived_workTreeMatchesTheSnapshot(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	if s.Repo.HasObject(b.Snapshot) {
		t.Fatal("the snapshot commit survived the prune")
	}
	uaClean(t, dir)
	uaWrite(t, dir, "same.txt", "edited, not in the backup\n") // committed file the backup did not touch
	storeGit(t, dir, "commit", "-q", "-am", "edit same")       // so the work is clean

	b = uaLoad(t, s, b.ID)
	res, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID})
	uaMust(t, err, "restore")
	if res.BaseMissing || res.Archive == "" {
		t.Fatalf("result: %+v", res)
	}
	if got := uaListing(t, dir); !maps.Equal(got, uaSnapshotFiles) {
		t.Fatalf("work tree after restore:\n%q\nwant\n%q", got, uaSnapshotFiles)
	}
	if !slices.Equal(res.Removed, []string{"gone.txt"}) {
		t.Errorf("removed %q", res.Removed)
	}
	fi, err := os.Stat(filepath.Join(dir, "run.sh"))
	if err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh is not executable: %v %v", fi.Mode(), err)
	}
	work, err := s.Repo.WriteWorkTree(ctx, gitstate.WorkOptions{})
	uaMust(t, err, "snapshot after restore")
	if work.Tree != b.Tree {
		t.Errorf("work tree is %s after the restore, the snapshot's tree is %s", work.Tree, b.Tree)
	}
}

func TestRestoreArchived_refusesToOverwriteWorkUnlessForced(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	uaArchive(t, s, b.ID)
	uaClean(t, dir)
	uaWrite(t, dir, "a.txt", "my uncommitted work\n")
	b = uaLoad(t, s, b.ID)

	_, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID})
	if !errors.Is(err, ErrWouldOverwrite) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "a.txt") {
		t.Fatalf("restore over uncommitted work: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(got) != "my uncommitted work\n" {
		t.Fatalf("a.txt was overwritten: %q", got)
	}
	res, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, Force: true})
	uaMust(t, err, "forced restore")
	if res.SavedAs == nil {
		t.Fatal("no backup of the work before the forced restore")
	}
	if got := uaListing(t, dir); !maps.Equal(got, uaSnapshotFiles) {
		t.Fatalf("work tree after restore: %q", got)
	}
	// The saved work can be restored back: the restore is undoable.
	if _, err := s.Restore(ctx, res.SavedAs, RestoreOptions{ID: res.SavedAs.ID, Force: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(got) != "my uncommitted work\n" {
		t.Fatalf("undo: a.txt is %q", got)
	}
}

func TestRestoreArchived_toDirectory(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	b = uaLoad(t, s, b.ID)
	to := filepath.Join(t.TempDir(), "out")
	res, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, To: to})
	uaMust(t, err, "restore --to")
	if got := uaListing(t, to); !maps.Equal(got, uaSnapshotFiles) {
		t.Fatalf("--to: %q\nwant %q", got, uaSnapshotFiles)
	}
	if res.To != to || len(res.Written) != len(uaSnapshotFiles) {
		t.Errorf("result: %+v", res)
	}
	// Some paths only.
	to2 := filepath.Join(t.TempDir(), "out2")
	if _, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, To: to2, Paths: []string{"dir", "same.txt"}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"dir/new.txt": "new in the backup\n", "same.txt": "unchanged\n"}
	if got := uaListing(t, to2); !maps.Equal(got, want) {
		t.Fatalf("--to with paths: %q", got)
	}
	// A directory that is not empty is refused.
	if _, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, To: to}); !errors.Is(err, ErrRefused) {
		t.Fatalf("restore into a non-empty directory: %v", err)
	}
}

// uaBaseGone makes a backup on a commit that is then dropped and pruned.
func uaBaseGone(t *testing.T) (string, *Store, *Backup) {
	t.Helper()
	dir, s := storeRepo(t)
	uaWrite(t, dir, "base.txt", "only in the lost commit\n")
	storeGit(t, dir, "add", ".")
	storeGit(t, dir, "commit", "-q", "-m", "to be lost")
	uaWrite(t, dir, "a.txt", "changed in the backup\n")
	uaWrite(t, dir, "new.txt", "new\n")
	res, err := s.Create(context.Background(), CreateOptions{Message: "wip"})
	if err != nil || !res.Created {
		t.Fatalf("create: %v", err)
	}
	uaArchive(t, s, res.Backup.ID)
	storeGit(t, dir, "reset", "-q", "--hard", "HEAD~1")
	uaClean(t, dir)
	uaPrune(t, dir)
	if s.Repo.HasObject(deref(res.Backup.Base)) {
		t.Fatal("the base survived the prune")
	}
	return dir, s, uaLoad(t, s, res.Backup.ID)
}

func TestRestoreArchived_baseGoneWritesTheChangedFilesAlone(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBaseGone(t)
	res, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID})
	uaMust(t, err, "restore")
	if !res.BaseMissing {
		t.Error("BaseMissing not set")
	}
	want := map[string]string{"a.txt": "changed in the backup\n", "new.txt": "new\n"}
	if got := uaListing(t, dir); !maps.Equal(got, want) {
		t.Fatalf("work tree: %q", got)
	}
	to := filepath.Join(t.TempDir(), "out")
	res, err = s.Restore(ctx, b, RestoreOptions{ID: b.ID, To: to})
	uaMust(t, err, "restore --to")
	if got := uaListing(t, to); !maps.Equal(got, want) || !res.BaseMissing {
		t.Fatalf("--to: %q %+v", got, res)
	}
}

func TestRestoreArchived_damagedArchiveWritesNothing(t *testing.T) {
	for _, damage := range []string{"bit flipped", "truncated"} {
		t.Run(damage, func(t *testing.T) {
			ctx := context.Background()
			dir, s, b := uaBackup(t)
			path := uaArchive(t, s, b.ID)
			uaClean(t, dir)
			if damage == "truncated" {
				fi, _ := os.Stat(path)
				uaMust(t, os.Truncate(path, fi.Size()*2/3), "truncate")
			} else {
				uaFlip(t, path)
			}
			before := uaListing(t, dir)
			b = uaLoad(t, s, b.ID)
			_, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID})
			if !errors.Is(err, archive.ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("restore from a damaged archive: %v", err)
			}
			if got := uaListing(t, dir); !maps.Equal(got, before) {
				t.Fatalf("the work tree changed: %q", got)
			}
			to := filepath.Join(t.TempDir(), "out")
			if _, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, To: to}); !errors.Is(err, archive.ErrCorrupt) {
				t.Fatalf("restore --to from a damaged archive: %v", err)
			}
			if _, err := os.Lstat(to); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("--to made its directory from a damaged archive: %v", err)
			}
			var out bytes.Buffer
			if _, err := s.DiffArchived(ctx, b, ArchiveDiffOptions{Out: &out}); !errors.Is(err, archive.ErrCorrupt) || out.Len() > 0 {
				t.Fatalf("diff of a damaged archive: %v, %q", err, out.String())
			}
		})
	}
}

func TestRestoreArchived_hostileManifestWritesNothingOutside(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	path := uaArchive(t, s, b.ID)
	uaClean(t, dir)
	b = uaLoad(t, s, b.ID)
	m := uaManifest(t, s, b)
	outside := filepath.Join(filepath.Dir(dir), "x")

	t.Run("dotdot path", func(t *testing.T) {
		m := m
		m.Files = []archive.File{{Path: "../x", Blob: archive.BlobID([]byte("evil\n")), Mode: archive.ModeRegular, Size: 5}}
		uaCraft(t, path, m, map[string]string{"../x": "evil\n"})
		if _, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, Force: true}); err == nil {
			t.Fatal("restore of ../x succeeded")
		}
		if _, err := os.Lstat(outside); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s was written: %v", outside, err)
		}
	})
	t.Run("symlink outside", func(t *testing.T) {
		m := m
		target := "../../etc"
		m.Files = []archive.File{{Path: "evil", Blob: archive.BlobID([]byte(target)), Mode: archive.ModeSymlink, Size: int64(len(target))}}
		blobs := map[string][]byte{archive.BlobID([]byte(target)): []byte(target)}
		_, err := archive.Write(ctx, path, m, func(id string) (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(blobs[id])), int64(len(blobs[id])), nil
		}, archive.Options{})
		uaMust(t, err, "write the hostile archive")
		_, err = s.Restore(ctx, b, RestoreOptions{ID: b.ID, Force: true})
		if !errors.Is(err, archive.ErrUnsafePath) {
			t.Fatalf("restore of a link outside: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "evil")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the link was written: %v", err)
		}
		to := filepath.Join(t.TempDir(), "out")
		if _, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, To: to}); !errors.Is(err, archive.ErrUnsafePath) {
			t.Fatalf("restore --to of a link outside: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(to, "evil")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the link was written in --to: %v", err)
		}
	})
	t.Run("another backup's archive", func(t *testing.T) {
		m := m
		m.Backup.ID = "20200101-000000-0000000"
		m.Files = nil
		m.Commit = ""
		uaCraft(t, path, m, nil)
		if _, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID}); !errors.Is(err, ErrArchiveMismatch) {
			t.Fatalf("restore from another backup's archive: %v", err)
		}
	})
}

func TestDiffArchived(t *testing.T) {
	ctx := context.Background()
	dir, s, b := uaBackup(t)
	uaArchive(t, s, b.ID)
	uaPrune(t, dir)
	b = uaLoad(t, s, b.ID)
	objects := storeGit(t, dir, "count-objects", "-v")

	d, err := s.ArchivedChanges(ctx, b, ArchiveDiffOptions{})
	uaMust(t, err, "changes")
	var got []string
	for _, c := range d.Changes {
		st := "M"
		switch {
		case c.BaseBlob == "":
			st = "A"
		case c.Blob == "":
			st = "D"
		}
		got = append(got, st+" "+c.Path)
	}
	want := []string{"M a.txt", "A dir/new.txt", "D gone.txt", "A link", "A run.sh"}
	if !slices.Equal(got, want) {
		t.Fatalf("changes %q, want %q", got, want)
	}

	var out bytes.Buffer
	_, err = s.DiffArchived(ctx, b, ArchiveDiffOptions{Out: &out})
	uaMust(t, err, "diff")
	for _, want := range []string{"diff --git a/a.txt b/a.txt", "-a\n", "+changed in the backup", "+new in the backup",
		"deleted file mode", "-to be deleted", "new file mode 100755", "new file mode 120000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("diff has no %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	_, err = s.DiffArchived(ctx, b, ArchiveDiffOptions{Out: &out, Stat: true, Paths: []string{"a.txt"}})
	uaMust(t, err, "diff --stat")
	if !strings.Contains(out.String(), " a.txt | 2 +-") || strings.Contains(out.String(), "new.txt") {
		t.Errorf("stat:\n%s", out.String())
	}
	if after := storeGit(t, dir, "count-objects", "-v"); after != objects {
		t.Errorf("diff wrote objects:\n%s\nthen\n%s", objects, after)
	}
	if ents, _ := os.ReadDir(s.Repo.BackupDir()); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), ".diff-") }) {
		t.Error("diff left its temporary directory")
	}
}

func TestRestore_refusesToOverwriteAnIgnoredFileUnlessForced(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	b := backupOf(t, s, dir, "notes.txt", "old notes\n")
	// The file becomes ignored and gets new work that no backup holds.
	uaWrite(t, dir, ".gitignore", "notes.txt\n")
	storeGit(t, dir, "add", ".gitignore")
	storeGit(t, dir, "commit", "-q", "-m", "ignore notes")
	uaWrite(t, dir, "notes.txt", "precious\n")
	_, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID})
	if !errors.Is(err, ErrWouldOverwrite) {
		t.Fatalf("Restore = %v, want ErrWouldOverwrite", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(got) != "precious\n" {
		t.Fatalf("notes.txt = %q, overwritten without --force", got)
	}
	res, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(got) != "old notes\n" {
		t.Fatalf("notes.txt = %q after a forced restore", got)
	}
	if res.SavedAs == nil {
		t.Fatal("a forced restore over an ignored file took no backup of it")
	}
	v, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	saved := v.ByID(res.SavedAs.ID)
	found := false
	for _, p := range saved.Paths {
		found = found || p.Path == "notes.txt"
	}
	if !found {
		t.Errorf("the backup taken before the forced restore does not hold notes.txt: %+v", saved.Paths)
	}
}

// A directory of ignored files where the backup has a file would be removed
// whole by the checkout: restore refuses without --force.
func TestRestore_refusesToReplaceADirectoryOfIgnoredFiles(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	b := backupOf(t, s, dir, "out", "a file once\n")
	if err := os.Remove(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	uaWrite(t, dir, ".gitignore", "out/\n")
	storeGit(t, dir, "add", ".gitignore")
	storeGit(t, dir, "commit", "-q", "-m", "ignore out")
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	uaWrite(t, dir, "out/build.log", "precious\n")
	_, err := s.Restore(ctx, b, RestoreOptions{ID: b.ID})
	if !errors.Is(err, ErrWouldOverwrite) {
		t.Fatalf("Restore = %v, want ErrWouldOverwrite", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "out", "build.log")); string(got) != "precious\n" {
		t.Fatalf("out/build.log = %q, removed without --force", got)
	}
}
