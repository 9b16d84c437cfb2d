package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBlobID(t *testing.T) {
	// As git hash-object computes them.
	for content, want := range map[string]string{
		"":        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
		"hello\n": "ce013625030ba8dba906f756967f9e9ca394464a",
	} {
		if got := BlobID([]byte(content)); got != want {
			t.Errorf("BlobID(%q) = %s, want %s", content, got, want)
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"a", "a/b", "a.b/c..d", ".gitignore", "x/.github/y", "git~2", "a b", `back\slash`, "ü"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{"", "/a", "a/", "a//b", ".", "..", "./a", "a/./b", "a/..", "../a", ".git", ".Git/x", "a/.git", ".git.", ".git ", "GIT~1/x", "a\x00b"} {
		if err := CheckPath(p); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("CheckPath(%q) = %v, want ErrUnsafePath", p, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := validManifest(fileOf("a", []byte("a")), linkOf("l", "a"), File{Path: "sub", Blob: testCommit, Mode: ModeGitlink})
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(m *Manifest)
		want string
	}{
		{"no format", func(m *Manifest) { m.Format = 0 }, "no format version"},
		{"newer format", func(m *Manifest) { m.Format = FormatVersion + 1 }, "newer"},
		{"sha256", func(m *Manifest) { m.Hash = "sha256" }, `"sha256"`},
		{"no id", func(m *Manifest) { m.Backup.ID = "" }, "no backup ID"},
		{"bad snapshot", func(m *Manifest) { m.Backup.Snapshot = "HEAD" }, "snapshot"},
		{"bad base", func(m *Manifest) { m.Backup.Base = "abc" }, "base"},
		{"bad mode", func(m *Manifest) { m.Files[0].Mode = "040000" }, `"040000"`},
		{"upper-case blob", func(m *Manifest) { m.Files[0].Blob = strings.ToUpper(m.Files[0].Blob) }, "not an object ID"},
		{"negative size", func(m *Manifest) { m.Files[0].Size = -1 }, "negative"},
		{"target on a file", func(m *Manifest) { m.Files[0].Target = "x" }, "link target"},
		{"no target", func(m *Manifest) { m.Files[1].Target = "" }, "target of 0 bytes"},
		{"target not the blob", func(m *Manifest) { m.Files[1].Target = "b" }, "does not match blob"},
		{"file below a gitlink", func(m *Manifest) { m.Files = append(m.Files, fileOf("sub/x", nil)) }, "below"},
		{"deleted twice", func(m *Manifest) { m.Deleted = []string{"d", "d"} }, "duplicate"},
		{"deleted and added", func(m *Manifest) { m.Deleted = []string{"a"} }, "duplicate"},
		{"deleted unsafe", func(m *Manifest) { m.Deleted = []string{"../d"} }, "unsafe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			m.Files = append([]File(nil), ok.Files...)
			tt.edit(&m)
			if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// A file may replace a deleted directory.
	m := validManifest(fileOf("d/x", nil))
	m.Deleted = []string{"d/old", "e"}
	m.Files = append(m.Files, fileOf("e/x", nil))
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
}

func TestDecodeManifest(t *testing.T) {
	m := validManifest(fileOf("a", []byte("a")))
	good := mustJSON(t, m)
	if got, err := decodeManifest(bytes.NewReader(good)); err != nil || got.Files[0] != m.Files[0] {
		t.Fatalf("decode: %+v, %v", got, err)
	}
	later := bytes.Replace(good, []byte(`{"format"`), []byte(`{"added_later":{"x":[1,2]},"format"`), 1)
	if _, err := decodeManifest(bytes.NewReader(later)); err != nil {
		t.Errorf("unknown field: %v", err)
	}
	for name, data := range map[string]string{
		"trailing":     string(good) + "{}",
		"not object":   "[]",
		"files object": `{"files":{}}`,
		"truncated":    string(good[:len(good)-3]),
		"bad file":     `{"files":[{"path":1}]}`,
	} {
		if _, err := decodeManifest(strings.NewReader(data)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestOpen_limits(t *testing.T) {
	t.Run("too many entries", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString(`{"format":1,"hash":"sha1","backup":{"id":"x","snapshot":"` + testCommit + `"},"files":[],"deleted":[`)
		for i := 0; i <= MaxEntries; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"d%d"`, i)
		}
		b.WriteString("]}")
		_, err := Verify(craft(t, b.Bytes()))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than 1000000 entries") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("manifest too large", func(t *testing.T) {
		// A header that announces a huge manifest is refused before reading it.
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: MaxManifestSize + 1, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "big.tar.zst")
		if err := os.WriteFile(p, compress(t, b.Bytes()), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("manifest not first", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.tar.zst")
		if err := os.WriteFile(p, compress(t, tarOf(t, reg("files/a", []byte("a")))), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "first entry") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not zstd", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.tar.zst")
		if err := os.WriteFile(p, tarOf(t, reg(ManifestName, []byte("{}"))), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("huge window", func(t *testing.T) {
		// A frame header asking for a 2 GiB window: refused, not allocated.
		frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0xa8}
		p := filepath.Join(t.TempDir(), "x.tar.zst")
		if err := os.WriteFile(p, append(frame, make([]byte, 64)...), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "window") {
			t.Errorf("err = %v", err)
		}
	})
}
