package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// tfile is a file of a test backup.
type tfile struct {
	path    string
	mode    Mode
	content []byte
}

// store is an in-memory object store: blob ID → content.
type store map[string][]byte

// open is the store's BlobOpener.
func (s store) open(id string) (io.ReadCloser, int64, error) {
	b, ok := s[id]
	if !ok {
		return nil, 0, errors.New("no such blob")
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

// testCommit is an object ID standing for commits (snapshot, base, gitlinks).
const testCommit = "0123456789abcdef0123456789abcdef01234567"

// backup returns the manifest of a backup holding files and deleted, and a
// store with their blobs.
func backup(files []tfile, deleted ...string) (Manifest, store) {
	s := store{}
	m := Manifest{
		Backup: Backup{
			ID: "20240102-030405-0123456", Snapshot: testCommit, Base: testCommit, Tree: testCommit,
			Branch: "main", CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Message: "wip", Trigger: "user",
		},
		Deleted: deleted,
	}
	for _, f := range files {
		if f.mode == ModeGitlink {
			m.Files = append(m.Files, File{Path: f.path, Blob: testCommit, Mode: f.mode})
			continue
		}
		id := BlobID(f.content)
		s[id] = f.content
		m.Files = append(m.Files, File{Path: f.path, Blob: id, Mode: f.mode, Size: int64(len(f.content))})
	}
	return m, s
}

// randomBytes returns n bytes: incompressible when text is false, otherwise
// compressible text-like bytes.
func randomBytes(seed uint64, n int, text bool) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	if !text {
		for i := 0; i+8 <= n; i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8; j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		for i := n &^ 7; i < n; i++ {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	words := []string{"func ", "return ", "err ", "if ", "nil", "{\n", "}\n", "\t", "x", "y := ", "ctx, ", "archive", "// ", "0", "1"}
	for i := 0; i < n; {
		w := words[rng.IntN(len(words))]
		i += copy(b[i:], w)
	}
	return b
}

// sampleFiles is a backup with one of each kind of file.
func sampleFiles() []tfile {
	return []tfile{
		{"a.txt", ModeRegular, []byte("hello\n")},
		{"bin/run.sh", ModeExecutable, []byte("#!/bin/sh\necho run\n")},
		{"link", ModeSymlink, []byte("a.txt")},
		{"dir/up", ModeSymlink, []byte("../a.txt")},
		{"dir/deeper/file.go", ModeRegular, randomBytes(1, 20_000, true)},
		{"empty", ModeRegular, nil},
		{"noise.bin", ModeRegular, randomBytes(2, 70_000, false)},
		{"sub", ModeGitlink, nil},
		{"ünïcode name with spaces.txt", ModeRegular, []byte("ok\n")},
	}
}

// writeSample writes the sample backup's archive into a new directory and
// returns its path, the files and the archive's bytes.
func writeSample(t testing.TB) (string, []tfile, []byte) {
	t.Helper()
	files := sampleFiles()
	m, s := backup(files, "gone.txt")
	dest := filepath.Join(t.TempDir(), "sample.tar.zst")
	if _, err := Write(t.Context(), dest, m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	return dest, files, data
}

// entry is one raw tar entry of a crafted archive.
type entry struct {
	hdr     tar.Header
	content []byte
}

// reg is a regular-file entry.
func reg(name string, content []byte) entry {
	return entry{tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(content)), Mode: 0o644}, content}
}

// symlink is a symbolic-link entry.
func symlink(name, target string) entry {
	return entry{tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, nil}
}

// craft writes an archive with exactly the given manifest and entries (no
// validation) and returns its path.
func craft(t testing.TB, m any, entries ...entry) string {
	t.Helper()
	mj, ok := m.([]byte)
	if !ok {
		var err error
		if mj, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "crafted.tar.zst")
	if err := os.WriteFile(p, compress(t, tarOf(t, append([]entry{reg(ManifestName, mj)}, entries...)...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tarOf returns a tar stream of the entries.
func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testEncoder compresses crafted archives; EncodeAll is safe for concurrent use.
var testEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic(err)
	}
	return enc
})

// compress returns data as one zstd frame with a checksum.
func compress(t testing.TB, data []byte) []byte {
	return testEncoder().EncodeAll(data, nil)
}

// listing returns the names under dir, recursively, with a marker for links.
func listing(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&os.ModeSymlink != 0 {
			rel += "@"
		}
		names = append(names, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// validManifest returns a manifest in the current format for files.
func validManifest(files ...File) Manifest {
	m, _ := backup(nil)
	m.Format, m.Hash, m.Files, m.Deleted = FormatVersion, HashSHA1, files, []string{}
	return m
}

// fileOf returns the manifest entry for a regular file with content.
func fileOf(path string, content []byte) File {
	return File{Path: path, Blob: BlobID(content), Mode: ModeRegular, Size: int64(len(content))}
}

// linkOf returns the manifest entry for a symbolic link.
func linkOf(path, target string) File {
	return File{Path: path, Blob: BlobID([]byte(target)), Mode: ModeSymlink, Size: int64(len(target)), Target: target}
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirHeader is a directory entry's header.
func dirHeader(name string) tar.Header {
	return tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}
}
