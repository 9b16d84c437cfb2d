package archive

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Archives come from disk, where anything may have written them: these tests
// feed the reader and Extract archives crafted to escape the target, to make
// them allocate without bound, or to trip them with odd names. Each must be
// refused with an error that says what is wrong, or handled, and nothing may
// be written outside the target.

// fullRun reports whether the full reliability run was asked for.
func fullRun() bool { return os.Getenv("GIT_BACKUP_RELIABILITY") == "full" }

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestWrite_oddNames(t *testing.T) {
	long := strings.Repeat("n", 255) // the longest name most file systems take
	deep := strings.Repeat("d/", 4095) + "f"
	tests := []struct {
		name string
		path string
	}{
		{"newline", "a\nb"},
		{"carriage return", "a\rb"},
		{"tab and escape", "a\tb\x1b[31mred"},
		{"control bytes", "\x01\x02\x7f"},
		{"backslash", `a\..\..\x`},
		{"leading dash", "-rf"},
		{"spaces and dots", " . .. ... "},
		{"long name", long},
		{"long name deep", long + "/" + long + "/" + long},
		{"4096 deep", deep},
		{"unicode", "ünï/cödé/名前"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := []tfile{{tt.path, ModeRegular, []byte("content of " + tt.name)}}
			m, s := backup(files)
			dest := filepath.Join(t.TempDir(), "x.tar.zst")
			if _, err := Write(t.Context(), dest, m, s.open, Options{Level: LevelFastest}); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := Verify(dest)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Files[0].Path != tt.path {
				t.Fatalf("manifest path %q, want %q", got.Files[0].Path, tt.path)
			}
			var target string
			if len(tt.path) < 1024 {
				target, err = extractJailed(t, dest, ExtractOptions{})
			} else {
				// Deeper than a path the kernel takes whole: the listing cannot
				// walk it, so only the top of the parent is compared.
				parent := t.TempDir()
				target = filepath.Join(parent, "target")
				err = Extract(t.Context(), dest, target, ExtractOptions{})
				if ents, _ := os.ReadDir(parent); len(ents) != 1 {
					t.Errorf("wrote beside the target: %v", ents)
				}
			}
			if err != nil {
				// A name the file system cannot hold is an error naming the file.
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.path)) {
					t.Fatalf("Extract: %v (does not name the file)", err)
				}
				return
			}
			root, err := os.OpenRoot(target)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			b, err := root.ReadFile(filepath.FromSlash(tt.path))
			if err != nil || string(b) != "content of "+tt.name {
				t.Fatalf("extracted %q: %q, %v", tt.path, b, err)
			}
		})
	}
}

// TestWrite_invalidUTF8 checks names that JSON cannot carry: the manifest
// would record U+FFFD instead of the name, and the archive would not match
// its own manifest. They are refused before anything is written, naming the
// file.
func TestWrite_invalidUTF8(t *testing.T) {
	for _, files := range [][]tfile{
		{{"bad\xffname", ModeRegular, []byte("x")}},
		{{"dir\xc3/x", ModeRegular, []byte("x")}},
		{{"link", ModeSymlink, []byte("t\xfe")}},
	} {
		m, s := backup(files)
		dest := filepath.Join(t.TempDir(), "x.tar.zst")
		_, err := Write(t.Context(), dest, m, s.open, Options{Level: LevelFastest})
		if err == nil || !strings.Contains(err.Error(), "UTF-8") || !strings.Contains(err.Error(), fmt.Sprintf("%q", files[0].path)) {
			t.Errorf("Write(%q) = %v, want an error naming the file and UTF-8", files[0].path, err)
		}
		if _, serr := os.Stat(dest); serr == nil {
			t.Errorf("Write(%q) left an archive", files[0].path)
		}
	}
	// A crafted manifest with such a name (escaped in JSON as it cannot be
	// raw) is refused by the reader.
	mj := []byte(`{"format":1,"hash":"sha1","backup":{"id":"x","snapshot":"` + testCommit + `"},"files":[{"path":"a\ud800b","blob":"` + BlobID([]byte("x")) + `","mode":"100644","size":1}],"deleted":[]}`)
	if _, err := Verify(craft(t, mj, reg("files/a\xed\xa0\x80b", []byte("x")))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Verify of a lone surrogate: %v, want ErrCorrupt", err)
	}
}

func TestOpen_refusesOtherEntryTypes(t *testing.T) {
	a := fileOf("a", []byte("a"))
	tests := []struct {
		name string
		hdr  tar.Header
		want string
	}{
		{"hard link to outside", tar.Header{Typeflag: tar.TypeLink, Name: "files/a", Linkname: "/etc/passwd"}, "not a regular file"},
		{"hard link inside", tar.Header{Typeflag: tar.TypeLink, Name: "files/a", Linkname: ManifestName}, "not a regular file"},
		{"character device", tar.Header{Typeflag: tar.TypeChar, Name: "files/a", Devmajor: 1, Devminor: 3}, "not a regular file"},
		{"block device", tar.Header{Typeflag: tar.TypeBlock, Name: "files/a", Devmajor: 8}, "not a regular file"},
		{"fifo", tar.Header{Typeflag: tar.TypeFifo, Name: "files/a"}, "not a regular file"},
		{"directory", dirHeader("files/a"), "not a regular file"},
		{"symlink for a file", tar.Header{Typeflag: tar.TypeSymlink, Name: "files/a", Linkname: "/etc/passwd"}, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.hdr
			h.Mode = 0o644
			p := craft(t, validManifest(a), entry{hdr: h})
			_, err := Verify(p)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"a"`) {
				t.Fatalf("Verify: %v, want ErrCorrupt naming \"a\" and %q", err, tt.want)
			}
			target, err := extractJailed(t, p, ExtractOptions{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Extract: %v, want ErrCorrupt", err)
			}
			if got := listing(t, target); len(got) != 1 {
				t.Errorf("wrote %q", got)
			}
		})
	}
	t.Run("extra entry types after the files", func(t *testing.T) {
		for _, h := range []tar.Header{
			{Typeflag: tar.TypeChar, Name: "files/dev", Devmajor: 1, Devminor: 3, Mode: 0o666},
			{Typeflag: tar.TypeLink, Name: "files/h", Linkname: "files/a", Mode: 0o644},
			{Typeflag: tar.TypeSymlink, Name: "../escape", Linkname: "/", Mode: 0o777},
		} {
			p := craft(t, validManifest(a), reg("files/a", []byte("a")), entry{hdr: h})
			if _, err := Verify(p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), h.Name) {
				t.Errorf("%s: Verify: %v, want ErrCorrupt naming it", h.Name, err)
			}
			if _, err := extractJailed(t, p, ExtractOptions{}); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: Extract: %v, want ErrCorrupt", h.Name, err)
			}
		}
	})
}

func TestOpen_sizesThatLie(t *testing.T) {
	content := []byte("twelve bytes")
	f := fileOf("a", content)
	// lying writes the manifest m, then a header for "files/a" of size, then
	// content, and ends the stream there: no padding, no end blocks.
	lying := func(t *testing.T, m Manifest, size int64) string {
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		mj := mustJSON(t, m)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: int64(len(mj)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		tw.Write(mj)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "files/a", Size: size, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		tw.Write(content)
		tw.Flush()
		p := filepath.Join(t.TempDir(), "x.tar.zst")
		if err := os.WriteFile(p, compress(t, tb.Bytes()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("tar header larger than the manifest", func(t *testing.T) {
		p := lying(t, validManifest(f), 1<<40)
		if _, err := Verify(p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "the manifest says 12") {
			t.Errorf("Verify: %v", err)
		}
	})
	t.Run("manifest and header agree on a size the data lacks", func(t *testing.T) {
		big := f
		big.Size = 1 << 40
		p := lying(t, validManifest(big), 1<<40)
		var err error
		n := allocated(func() { _, err = Verify(p) })
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), `"a"`) {
			t.Errorf("Verify: %v, want truncated at \"a\"", err)
		}
		if n > 64<<20 {
			t.Errorf("Verify allocated %d bytes for a size claim of 1 TiB", n)
		}
		target, err := extractJailed(t, p, ExtractOptions{})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Extract: %v", err)
		}
		if got := listing(t, target); len(got) != 1 {
			t.Errorf("left %q", got)
		}
	})
	t.Run("tar header smaller than the manifest", func(t *testing.T) {
		p := craft(t, validManifest(f), reg("files/a", content[:5]))
		if _, err := Verify(p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "5 bytes in the tar") {
			t.Errorf("Verify: %v", err)
		}
	})
}

// TestOpen_zstdBombs checks that what the zstd layer claims is not believed:
// a frame that declares a huge size is refused before its window is
// allocated, and a small stream that inflates to a large file is read in
// bounded memory.
func TestOpen_zstdBombs(t *testing.T) {
	t.Run("declared frame size", func(t *testing.T) {
		for _, fcs := range []uint64{1 << 40, 1<<64 - 1} {
			// Single segment (the window is the content size), 8-byte content size.
			frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0}
			frame = binary.LittleEndian.AppendUint64(frame, fcs)
			frame = append(frame, 0x01, 0x00, 0x00) // a last raw block of 0 bytes
			p := filepath.Join(t.TempDir(), "x.tar.zst")
			if err := os.WriteFile(p, frame, 0o600); err != nil {
				t.Fatal(err)
			}
			var err error
			n := allocated(func() { _, err = Verify(p) })
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("content size %d: Verify: %v, want ErrCorrupt", fcs, err)
			}
			if n > 64<<20 {
				t.Errorf("content size %d: Verify allocated %d bytes", fcs, n)
			}
		}
	})
	t.Run("inflates to 64 MiB", func(t *testing.T) {
		const size = 64 << 20
		f := File{Path: "zeros", Blob: BlobID(nil), Mode: ModeRegular, Size: size} // the wrong blob: found only at the end
		mj := mustJSON(t, validManifest(f))
		var z bytes.Buffer
		enc, err := zstd.NewWriter(&z, zstd.WithEncoderCRC(true), zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			t.Fatal(err)
		}
		tw := tar.NewWriter(enc)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: int64(len(mj)), Mode: 0o644})
		tw.Write(mj)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "files/zeros", Size: size, Mode: 0o644})
		if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if z.Len() > 1<<20 {
			t.Fatalf("the bomb is %d bytes", z.Len())
		}
		p := filepath.Join(t.TempDir(), "bomb.tar.zst")
		if err := os.WriteFile(p, z.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		var verr error
		n := allocated(func() { _, verr = Verify(p) })
		if !errors.Is(verr, ErrCorrupt) || !strings.Contains(verr.Error(), "blob ID") {
			t.Errorf("Verify: %v, want a blob ID mismatch", verr)
		}
		if n > 64<<20 {
			t.Errorf("Verify of %d compressed bytes allocated %d bytes", z.Len(), n)
		}
		target, err := extractJailed(t, p, ExtractOptions{})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Extract: %v", err)
		}
		if got := listing(t, target); len(got) != 1 {
			t.Errorf("left %q", got)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestOpen_hugeManifests checks the bounds on what a manifest may make the
// reader hold.
func TestOpen_hugeManifests(t *testing.T) {
	t.Run("the most entries", func(t *testing.T) {
		// The most a manifest may hold (a tenth of it unless the full run
		// was asked for): read, checked, and held in memory proportional to
		// its size.
		n := MaxEntries / 10
		if fullRun() {
			n = MaxEntries
		}
		var b bytes.Buffer
		b.WriteString(`{"format":1,"hash":"sha1","backup":{"id":"x","snapshot":"` + testCommit + `"},"files":[],"deleted":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"d/%d"`, i)
		}
		b.WriteString("]}")
		p := craft(t, b.Bytes())
		var m Manifest
		var err error
		alloc := allocated(func() { m, err = Verify(p) })
		if err != nil || len(m.Deleted) != n {
			t.Fatalf("Verify: %d deleted paths, %v", len(m.Deleted), err)
		}
		if limit := uint64(40 * b.Len()); alloc > limit {
			t.Errorf("Verify of a %d-byte manifest allocated %d bytes, more than %d", b.Len(), alloc, limit)
		}
	})
	t.Run("a million files claimed, none stored", func(t *testing.T) {
		if !fullRun() {
			t.Skip("GIT_BACKUP_RELIABILITY=full builds this 80 MB manifest; the header limit alone is tested by TestOpen_limits")
		}
		var b bytes.Buffer
		b.WriteString(`{"format":1,"hash":"sha1","backup":{"id":"x","snapshot":"` + testCommit + `"},"deleted":[],"files":[`)
		blob := BlobID(nil)
		for i := 0; i <= MaxEntries; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"path":"f%d","blob":"%s","mode":"100644","size":0}`, i, blob)
		}
		b.WriteString("]}")
		// Larger than MaxManifestSize: refused from the tar header alone.
		if b.Len() <= MaxManifestSize {
			t.Fatalf("manifest of %d bytes fits", b.Len())
		}
		p := craft(t, b.Bytes())
		var err error
		n := allocated(func() { _, err = Verify(p) })
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than") {
			t.Errorf("Verify: %v", err)
		}
		if n > 64<<20 {
			t.Errorf("Verify allocated %d bytes refusing it", n)
		}
	})
	t.Run("deeply nested JSON", func(t *testing.T) {
		deep := strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20)
		for _, mj := range []string{
			`{"later":` + deep + `,"format":1}`,
			`{"backup":` + deep + `}`,
			`{"files":[` + deep + `]}`,
		} {
			if _, err := Verify(craft(t, []byte(mj))); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Verify: %v, want ErrCorrupt", err)
			}
		}
	})
	t.Run("a 4096-deep path", func(t *testing.T) {
		deep := strings.Repeat("d/", 4096) + "f"
		m := validManifest(fileOf(deep, []byte("x")))
		m.Deleted = []string{strings.Repeat("e/", 4096) + "g"}
		p := craft(t, m, reg(FilesPrefix+deep, []byte("x")))
		if _, err := Verify(p); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// TestExtract_symlinkChains checks links that are each harmless but could
// lead outside when followed one after another, or when files are written
// through them.
func TestExtract_symlinkChains(t *testing.T) {
	x := []byte("x")
	tests := []struct {
		name   string
		files  []File
		unsafe bool // refused as ErrUnsafePath rather than as a corrupt manifest
	}{
		{"chain climbing one level each", []File{linkOf("a/b/l1", "../l2"), linkOf("a/l2", "../l3"), linkOf("l3", "..")}, true},
		{"link to a link to the top", []File{linkOf("d/up", ".."), linkOf("l", "d/up/..")}, true},
		{"file written through a link to a link", []File{linkOf("l1", "l2"), linkOf("l2", "."), fileOf("l1/x", x)}, false},
		{"file written through a link inside a directory", []File{linkOf("d/l", "../.."), fileOf("d/l/x", x)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var entries []entry
			for _, f := range tt.files {
				if f.Mode == ModeSymlink {
					entries = append(entries, symlink(FilesPrefix+f.Path, f.Target))
				} else {
					entries = append(entries, reg(FilesPrefix+f.Path, x))
				}
			}
			p := craft(t, validManifest(tt.files...), entries...)
			target, err := extractJailed(t, p, ExtractOptions{})
			want := ErrCorrupt
			if tt.unsafe {
				want = ErrUnsafePath
			}
			if !errors.Is(err, want) {
				t.Fatalf("Extract: %v, want %v", err, want)
			}
			if got := listing(t, target); len(got) != 1 {
				t.Errorf("wrote %q", got)
			}
		})
	}
	// Links that stay inside, chained: extracted, and followed they stay inside.
	files := []tfile{
		{"a/b/l1", ModeSymlink, []byte("../l2")},
		{"a/l2", ModeSymlink, []byte("c")},
		{"a/c", ModeRegular, []byte("end")},
		{"top", ModeSymlink, []byte("a/b/l1")},
	}
	m, s := backup(files)
	dest := filepath.Join(t.TempDir(), "x.tar.zst")
	if _, err := Write(t.Context(), dest, m, s.open, Options{Level: LevelFastest}); err != nil {
		t.Fatal(err)
	}
	target, err := extractJailed(t, dest, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(target, "top")); err != nil || string(b) != "end" {
		t.Errorf("top: %q, %v", b, err)
	}
}
