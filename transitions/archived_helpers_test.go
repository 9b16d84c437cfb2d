package transitions

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// uaManifest describes backup b (full) for its archive, as the archiving
// coordinator does: fields, raw snapshot commit, changed and deleted paths.
func uaManifest(t testing.TB, s *Store, b *Backup) archive.Manifest {
	t.Helper()
	typ, raw, err := s.Repo.RawObject(b.Snapshot)
	if err != nil || typ != "commit" {
		t.Fatalf("raw snapshot %s: %s %v", b.Snapshot, typ, err)
	}
	m := archive.Manifest{
		Backup: archive.Backup{ID: b.ID, Snapshot: b.Snapshot, Base: deref(b.Base), Tree: b.Tree, Branch: deref(b.Branch),
			CreatedAt: b.CreatedAt, Message: b.Message, Trigger: b.Trigger},
		Files: []archive.File{}, Deleted: []string{}, Commit: base64.StdEncoding.EncodeToString(raw),
	}
	for _, p := range b.Paths {
		if p.Blob == "" {
			m.Deleted = append(m.Deleted, p.Path)
			continue
		}
		m.Files = append(m.Files, archive.File{Path: p.Path, Blob: p.Blob, Mode: archive.Mode(p.Mode), Size: p.Size})
	}
	return m
}

// uaArchive archives backup id the way the archiving coordinator does: the
// verified archive in the archive directory, then one move to ARCHIVED that
// records its path and drops the snapshot ref. It returns the archive's path.
func uaArchive(t testing.TB, s *Store, id string) string {
	t.Helper()
	ctx := context.Background()
	v, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := v.ByID(id)
	dest := filepath.Join(s.Repo.CommonDir, "backup", "archive", id+".tar.zst")
	if _, err := archive.Write(ctx, dest, uaManifest(t, s, b), s.Repo.OpenBlob, archive.Options{}); err != nil {
		t.Fatal(err)
	}
	uaMoveArchived(t, s, id, dest)
	return dest
}

// uaMoveArchived commits backup id's move to ARCHIVED at path, dropping its ref.
func uaMoveArchived(t testing.TB, s *Store, id, path string) {
	t.Helper()
	_, _, err := s.Update(context.Background(), func(v *View) (*Batch, error) {
		b := v.ByID(id)
		ref := gitstate.SnapshotRef(id)
		cur, err := s.Repo.ReadRef(ref)
		if err != nil {
			return nil, err
		}
		ch := Change{Backup: b, Summary: id + " -> ARCHIVED", Events: []gitstate.Event{{Kind: gitstate.KindMove,
			From: string(b.State), To: string(Archived), Trigger: string(TriggerUser), Forced: !IsLegal(b.State, Archived), Archive: path}}}
		if cur != "" {
			ch.Refs = []gitstate.RefUpdate{{Name: ref, Old: cur}}
		}
		return &Batch{Trigger: "user", Title: "archive " + id, Changes: []Change{ch}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// uaPrune makes every unreachable object go, as a reclaim past its grace
// period does.
func uaPrune(t testing.TB, dir string) {
	t.Helper()
	storeGit(t, dir, "reflog", "expire", "--expire=now", "--all")
	storeGit(t, dir, "gc", "-q", "--prune=now")
}

// uaBackup is a backup of a work tree with one change of every kind: a
// modified file, a new file in a new directory, an executable, a symbolic
// link and a deleted file.
func uaBackup(t *testing.T) (string, *Store, *Backup) {
	t.Helper()
	dir, s := storeRepo(t)
	uaWrite(t, dir, "gone.txt", "to be deleted\n")
	uaWrite(t, dir, "same.txt", "unchanged\n")
	storeGit(t, dir, "add", ".")
	storeGit(t, dir, "commit", "-q", "-m", "more")
	uaWrite(t, dir, "a.txt", "changed in the backup\n")
	uaWrite(t, dir, "dir/new.txt", "new in the backup\n")
	uaWrite(t, dir, "run.sh", "#!/bin/sh\necho hi\n")
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	res, err := s.Create(context.Background(), CreateOptions{Message: "wip"})
	if err != nil || !res.Created {
		t.Fatalf("create: %v %s", err, res.Reason)
	}
	return dir, s, res.Backup
}

// uaClean puts the work tree back to HEAD.
func uaClean(t testing.TB, dir string) {
	t.Helper()
	storeGit(t, dir, "reset", "-q", "--hard")
	storeGit(t, dir, "clean", "-q", "-fdx")
}

func uaWrite(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// uaLoad returns backup id as the state has it now.
func uaLoad(t testing.TB, s *Store, id string) *Backup {
	t.Helper()
	v, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := v.ByID(id)
	if b == nil {
		t.Fatalf("no backup %s", id)
	}
	return b
}

// uaListing lists the files under dir (not .git) with their content, links
// as "-> target".
func uaListing(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == ".git" {
			return filepath.SkipDir
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[filepath.ToSlash(rel)] = "-> " + target
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// uaCraft writes an archive with exactly this manifest and these entries
// (nothing validated) at path.
func uaCraft(t testing.TB, path string, m archive.Manifest, entries map[string]string) {
	t.Helper()
	m.Format, m.Hash = archive.FormatVersion, archive.HashSHA1
	mj, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name, content string) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(content)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	add(archive.ManifestName, string(mj))
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		add(archive.FilesPrefix+n, entries[n])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, enc.EncodeAll(buf.Bytes(), nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// uaFlip flips one bit in the middle of the file at path.
func uaFlip(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x10
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func uaMust(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
