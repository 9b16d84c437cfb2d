package archive

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestOpen_iterates(t *testing.T) {
	dest, files, _ := writeSample(t)
	r, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if m := r.Manifest(); len(m.Files) != len(files) || m.Deleted[0] != "gone.txt" {
		t.Fatalf("manifest %+v", m)
	}
	want := map[string][]byte{}
	for _, f := range files {
		if f.mode != ModeGitlink {
			want[f.path] = f.content
		}
	}
	prev := ""
	for i := 0; ; i++ {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Path <= prev {
			t.Errorf("%q after %q: not in order", f.Path, prev)
		}
		prev = f.Path
		if i%2 == 1 {
			continue // skipped files are still read and checked by Next
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if !bytes.Equal(b, want[f.Path]) {
			t.Errorf("%s: %d bytes, want %d", f.Path, len(b), len(want[f.Path]))
		}
		delete(want, f.Path)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after the end: %v", err)
	}
}

// flipSample is a small archive with an incompressible file, whose bytes are
// stored as they are, so a flip in them is sure to change content.
func flipSample(t *testing.T) (string, []tfile, []byte) {
	files := []tfile{
		{"a.txt", ModeRegular, []byte("hello\n")},
		{"l", ModeSymlink, []byte("a.txt")},
		{"noise.bin", ModeRegular, randomBytes(11, 3000, false)},
		{"src/main.go", ModeRegular, randomBytes(12, 3000, true)},
		{"z.txt", ModeRegular, []byte("last\n")},
	}
	m, s := backup(files, "gone")
	dest := filepath.Join(t.TempDir(), "flip.tar.zst")
	if _, err := Write(t.Context(), dest, m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	return dest, files, data
}

func TestVerify_bitFlipNamesFile(t *testing.T) {
	_, files, data := flipSample(t)
	i := bytes.Index(data, files[2].content[1000:1064])
	if i < 0 {
		t.Fatal("noise.bin is not stored verbatim")
	}
	p := filepath.Join(t.TempDir(), "bad.tar.zst")
	d := bytes.Clone(data)
	d[i+10] ^= 0x04
	if err := os.WriteFile(p, d, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(p)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != "noise.bin" || ce.Archive != p {
		t.Fatalf("err = %v, want a CorruptError at noise.bin", err)
	}
	if !strings.Contains(err.Error(), `"noise.bin"`) || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %q, want it to name the archive and the file", err)
	}

	// Extract stops there, and leaves no file with wrong content.
	out := t.TempDir()
	if err := Extract(t.Context(), p, out, ExtractOptions{}); !errors.As(err, &ce) || ce.File != "noise.bin" {
		t.Fatalf("Extract: err = %v, want a CorruptError at noise.bin", err)
	}
	if got := listing(t, out); strings.Join(got, " ") != ". a.txt l@" {
		t.Errorf("Extract left %q, want the files before noise.bin only", got)
	}
}

func TestVerify_bitFlips(t *testing.T) {
	_, files, data := flipSample(t)
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	orig, err := dec.DecodeAll(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.tar.zst")
	detected, harmless := 0, 0
	for off := 0; off < len(data); off += 5 {
		d := bytes.Clone(data)
		d[off] ^= 1 << (off % 8)
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(p)
		if err == nil {
			// Only a bit that changes nothing may pass: an unused header bit,
			// padding of an entropy-coded stream.
			got, derr := dec.DecodeAll(d, nil)
			if derr != nil || !bytes.Equal(got, orig) {
				t.Fatalf("flip at %d of %d: not detected, and the content changed", off, len(data))
			}
			harmless++
			continue
		}
		detected++
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), p) {
			t.Fatalf("flip at %d: err = %v, want ErrCorrupt naming the archive", off, err)
		}
		if off%25 == 0 { // Extract never writes wrong content
			out := filepath.Join(t.TempDir(), "out")
			if err := Extract(t.Context(), p, out, ExtractOptions{}); err == nil {
				t.Fatalf("flip at %d: Extract succeeded", off)
			}
			for _, f := range files {
				if b, err := os.ReadFile(filepath.Join(out, f.path)); err == nil && f.mode == ModeRegular && !bytes.Equal(b, f.content) {
					t.Fatalf("flip at %d: Extract wrote %q with wrong content", off, f.path)
				}
			}
		}
	}
	if detected < 10*harmless {
		t.Errorf("%d flips detected, %d harmless: too many pass", detected, harmless)
	}
}

func TestVerify_truncated(t *testing.T) {
	_, _, data := flipSample(t)
	p := filepath.Join(t.TempDir(), "short.tar.zst")
	lengths := []int{0, 1, 3, 4, 5, 12, 100, 511, 512, 1024, len(data) / 2, len(data) - 5, len(data) - 4, len(data) - 1}
	for n := 0; n < len(data); n += 97 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		if err := os.WriteFile(p, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(p)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), p) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrCorrupt naming the archive", n, len(data), err)
		}
	}
}

func TestVerify_trailingData(t *testing.T) {
	_, _, data := flipSample(t)
	p := filepath.Join(t.TempDir(), "long.tar.zst")
	for name, extra := range map[string][]byte{
		"garbage":       []byte("garbage after the frame"),
		"another frame": compress(t, []byte("more")),
		"tar entry":     compress(t, tarOf(t, reg("files/extra", []byte("x")))),
	} {
		if err := os.WriteFile(p, append(bytes.Clone(data), extra...), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
	// Zero padding after the tar stream, as other tar writers leave, is fine.
	a := fileOf("a", []byte("a"))
	p = craft(t, validManifest(a), reg("files/a", []byte("a")))
	tb := append(tarOf(t, reg(ManifestName, mustJSON(t, validManifest(a))), reg("files/a", []byte("a"))), make([]byte, 8192)...)
	if err := os.WriteFile(p, compress(t, tb), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(p); err != nil {
		t.Errorf("zero padding: %v", err)
	}
}

func TestOpen_missingFile(t *testing.T) {
	_, err := Verify("/nonexistent/x.tar.zst")
	if !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrCorrupt) {
		t.Errorf("err = %v, want not-exist and not ErrCorrupt", err)
	}
}
