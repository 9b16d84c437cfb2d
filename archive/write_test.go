package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestWrite_roundTrip(t *testing.T) {
	files := append(sampleFiles(), tfile{"large/blob.bin", ModeRegular, randomBytes(3, largeSize, true)})
	m, s := backup(files, "gone.txt", "old/dir/x")
	dir := t.TempDir()
	dest := filepath.Join(dir, m.Backup.ID+".tar.zst")
	info, err := Write(t.Context(), dest, m, s.open, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Path != dest || info.Files != len(files)-1 || info.Manifest.Format != FormatVersion {
		t.Errorf("info = %+v", info)
	}
	var total int64
	for _, f := range files {
		total += int64(len(f.content))
	}
	if info.Bytes != total {
		t.Errorf("info.Bytes = %d, want %d", info.Bytes, total)
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != info.Size {
		t.Errorf("archive mode %v size %d, want 0600 and %d", fi.Mode().Perm(), fi.Size(), info.Size)
	}
	if got := listing(t, dir); !reflect.DeepEqual(got, []string{".", filepath.Base(dest)}) {
		t.Errorf("directory holds %q, want only the archive", got)
	}

	got, err := Verify(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, info.Manifest) {
		t.Errorf("Verify manifest = %+v\nwant %+v", got, info.Manifest)
	}
	if got.Backup != m.Backup || !reflect.DeepEqual(got.Deleted, []string{"gone.txt", "old/dir/x"}) {
		t.Errorf("manifest backup %+v deleted %q", got.Backup, got.Deleted)
	}
	for _, f := range got.Files {
		if f.Mode == ModeSymlink && f.Target == "" {
			t.Errorf("symlink %q has no target in the manifest", f.Path)
		}
	}

	out := filepath.Join(t.TempDir(), "out")
	if err := Extract(t.Context(), dest, out, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	checkExtracted(t, out, files)
}

// checkExtracted checks that dir holds files exactly (gitlinks excepted).
func checkExtracted(t *testing.T, dir string, files []tfile) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		fi, err := os.Lstat(p)
		if f.mode == ModeGitlink {
			if err == nil {
				t.Errorf("gitlink %q was written", f.path)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", f.path, err)
			continue
		}
		if f.mode == ModeSymlink {
			target, err := os.Readlink(p)
			if err != nil || target != string(f.content) {
				t.Errorf("link %q -> %q (%v), want %q", f.path, target, err, f.content)
			}
			continue
		}
		if fi.Mode().Perm() != f.mode.Perm() || !fi.Mode().IsRegular() {
			t.Errorf("%q: mode %v, want %v", f.path, fi.Mode(), f.mode.Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, f.content) {
			t.Errorf("%q: %d bytes (%v), want %d", f.path, len(b), err, len(f.content))
		}
	}
}

func TestWrite_levels(t *testing.T) {
	files := []tfile{{"a", ModeRegular, randomBytes(4, 300_000, true)}}
	m, s := backup(files)
	a := New()
	defer a.Close()
	for _, l := range []Level{"", LevelFastest, LevelDefault, LevelBetter, LevelBest, LevelDefault} {
		dest := filepath.Join(t.TempDir(), "x.tar.zst")
		info, err := a.Write(t.Context(), dest, m, s.open, Options{Level: l})
		if err != nil {
			t.Fatalf("level %q: %v", l, err)
		}
		if info.Size >= 300_000 {
			t.Errorf("level %q: %d bytes, not compressed", l, info.Size)
		}
		if _, err := a.Verify(t.Context(), dest); err != nil {
			t.Errorf("level %q: %v", l, err)
		}
	}
	if _, err := a.Write(t.Context(), filepath.Join(t.TempDir(), "x"), m, s.open, Options{Level: "ultra"}); err == nil || !strings.Contains(err.Error(), `"ultra"`) {
		t.Errorf("level ultra: err = %v", err)
	}
	for _, s := range []string{"", "fastest", "default", "better", "best"} {
		if _, err := ParseLevel(s); err != nil {
			t.Errorf("ParseLevel(%q): %v", s, err)
		}
	}
	if _, err := ParseLevel("9"); err == nil {
		t.Error("ParseLevel(9) succeeded")
	}
}

func TestWrite_progress(t *testing.T) {
	files := []tfile{{"a", ModeRegular, randomBytes(5, 3<<20, true)}, {"b", ModeRegular, randomBytes(6, 1<<20, false)}, {"l", ModeSymlink, []byte("a")}}
	m, s := backup(files)
	var calls [][2]int64
	o := Options{Progress: func(done, total int64) { calls = append(calls, [2]int64{done, total}) }}
	if _, err := Write(t.Context(), filepath.Join(t.TempDir(), "x.tar.zst"), m, s.open, o); err != nil {
		t.Fatal(err)
	}
	want := int64(2 * (4<<20 + 1))
	if len(calls) == 0 || calls[len(calls)-1] != [2]int64{want, want} {
		t.Fatalf("progress calls %v, want the last to be {%d %d}", calls, want, want)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Errorf("progress went back: %v", calls)
		}
	}
}

func TestWrite_replacesExisting(t *testing.T) {
	m, s := backup(sampleFiles())
	dest := filepath.Join(t.TempDir(), "x.tar.zst")
	if err := os.WriteFile(dest, []byte("stale partial archive"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(t.Context(), dest, m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dest); err != nil {
		t.Fatal(err)
	}
}

func TestWrite_createsDirectory(t *testing.T) {
	m, s := backup(sampleFiles())
	dir := filepath.Join(t.TempDir(), "backup", "archive")
	if _, err := Write(t.Context(), filepath.Join(dir, "x.tar.zst"), m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("archive directory: %v, %v; want mode 0700", fi, err)
	}
}

// failFile fails every write past limit bytes with err, like a full disk.
type failFile struct {
	*os.File
	limit int
	err   error
}

func (f *failFile) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.File.Write(p[:f.limit])
		f.limit = 0
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: f.err}
	}
	f.limit -= len(p)
	return f.File.Write(p)
}

func TestWrite_diskFull(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		t.Run(errno.Error(), func(t *testing.T) {
			files := []tfile{{"a", ModeRegular, randomBytes(7, 2<<20, false)}}
			m, s := backup(files)
			dir := t.TempDir()
			a := New()
			a.create = func(dir, pattern string) (file, error) {
				f, err := os.CreateTemp(dir, pattern)
				return &failFile{File: f, limit: 100_000, err: errno}, err
			}
			_, err := a.Write(t.Context(), filepath.Join(dir, "x.tar.zst"), m, s.open, Options{})
			var full *FileSystemFullError
			if !errors.Is(err, errno) || !errors.As(err, &full) {
				t.Fatalf("err = %v, want a FileSystemFullError wrapping %v", err, errno)
			}
			if full.Dir != dir || !strings.Contains(err.Error(), "file system full: "+`"`+dir+`"`) {
				t.Errorf("err = %v, want it to name %q", err, dir)
			}
			if got := listing(t, dir); len(got) != 1 {
				t.Errorf("left behind: %q", got)
			}
		})
	}
}

func TestWrite_cancelled(t *testing.T) {
	files := []tfile{
		{"a", ModeRegular, randomBytes(8, 1<<20, true)},
		{"b", ModeRegular, randomBytes(9, 1<<20, true)},
		{"c", ModeRegular, randomBytes(10, 1<<20, true)},
	}
	m, s := backup(files)
	t.Run("while writing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		opened := 0
		open := func(id string) (io.ReadCloser, int64, error) {
			if opened++; opened == 2 {
				cancel()
			}
			return s.open(id)
		}
		dir := t.TempDir()
		if _, err := Write(ctx, filepath.Join(dir, "x.tar.zst"), m, open, Options{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if got := listing(t, dir); len(got) != 1 {
			t.Errorf("left behind: %q", got)
		}
	})
	t.Run("while verifying", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		dir := t.TempDir()
		a := New()
		a.create = func(dir, pattern string) (file, error) {
			f, err := os.CreateTemp(dir, pattern)
			return &cancelOnClose{f, cancel}, err
		}
		if _, err := a.Write(ctx, filepath.Join(dir, "x.tar.zst"), m, s.open, Options{}); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "verify") {
			t.Fatalf("err = %v, want context.Canceled while verifying", err)
		}
		if got := listing(t, dir); len(got) != 1 {
			t.Errorf("left behind: %q", got)
		}
	})
}

// cancelOnClose cancels a context when the file is closed, that is when
// Write starts verifying.
type cancelOnClose struct {
	*os.File
	cancel func()
}

func (c *cancelOnClose) Close() error {
	c.cancel()
	return c.File.Close()
}

func TestWrite_badBlobs(t *testing.T) {
	files := []tfile{{"a", ModeRegular, []byte("right")}, {"l", ModeSymlink, []byte("a")}}
	tests := []struct {
		name string
		open func(s store) BlobOpener
		want string
	}{
		{"wrong content", func(s store) BlobOpener {
			return func(id string) (io.ReadCloser, int64, error) {
				if bytes.Equal(s[id], []byte("right")) {
					return io.NopCloser(strings.NewReader("wrong")), 5, nil
				}
				return s.open(id)
			}
		}, `damaged at file "a": content has blob ID`},
		{"wrong size", func(s store) BlobOpener {
			return func(id string) (io.ReadCloser, int64, error) {
				rc, n, err := s.open(id)
				return rc, n + 1, err
			}
		}, "the manifest says"},
		{"short read", func(s store) BlobOpener {
			return func(id string) (io.ReadCloser, int64, error) {
				if bytes.Equal(s[id], []byte("right")) {
					return io.NopCloser(strings.NewReader("rig")), 5, nil
				}
				return s.open(id)
			}
		}, "blob ends 2 bytes short"},
		{"missing", func(s store) BlobOpener {
			return func(string) (io.ReadCloser, int64, error) { return nil, 0, errors.New("object missing") }
		}, "object missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, s := backup(files)
			dir := t.TempDir()
			_, err := Write(t.Context(), filepath.Join(dir, "x.tar.zst"), m, tt.open(s), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if got := listing(t, dir); len(got) != 1 {
				t.Errorf("left behind: %q", got)
			}
		})
	}
}

func TestWrite_invalidManifest(t *testing.T) {
	for _, f := range []File{
		fileOf("../x", []byte("x")),
		fileOf(".git/config", []byte("x")),
		{Path: "a", Blob: "xyz", Mode: ModeRegular},
		{Path: "a", Blob: testCommit, Mode: "100664"},
	} {
		m, s := backup(nil)
		m.Files = []File{f}
		dir := t.TempDir()
		if _, err := Write(t.Context(), filepath.Join(dir, "x.tar.zst"), m, s.open, Options{}); err == nil || !strings.Contains(err.Error(), "invalid manifest") {
			t.Errorf("file %+v: err = %v", f, err)
		}
		if got := listing(t, dir); len(got) != 1 {
			t.Errorf("left behind: %q", got)
		}
	}
}

func TestIsTemp(t *testing.T) {
	m, s := backup(sampleFiles())
	dir := t.TempDir()
	a := New()
	var name string
	a.create = func(dir, pattern string) (file, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err == nil {
			name = filepath.Base(f.Name())
		}
		return f, err
	}
	if _, err := a.Write(t.Context(), filepath.Join(dir, "x.tar.zst"), m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	if !IsTemp(name) || IsTemp("x.tar.zst") {
		t.Errorf("IsTemp(%q) = %v, IsTemp(x.tar.zst) = %v", name, IsTemp(name), IsTemp("x.tar.zst"))
	}
}
