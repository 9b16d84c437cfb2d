package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzOpen feeds Open, Verify and Extract damaged and crafted archives. When
// tarStream is true, data is a tar stream that is compressed first, so the
// fuzzer can reach the manifest and the entries rather than only the zstd
// layer. Nothing may panic, nothing may be written outside the target, a
// link written must point inside it, and what Verify refuses Extract refuses.
func FuzzOpen(f *testing.F) {
	files := []tfile{
		{"a.txt", ModeRegular, []byte("hello\n")},
		{"bin/x", ModeExecutable, []byte("#!/bin/sh\n")},
		{"d/l", ModeSymlink, []byte("../a.txt")},
		{"sub", ModeGitlink, nil},
	}
	m, s := backup(files, "gone")
	dest := filepath.Join(f.TempDir(), "seed.tar.zst")
	if _, err := Write(f.Context(), dest, m, s.open, Options{Level: LevelFastest}); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(dest)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, false)
	f.Add(seed[:len(seed)/2], false)
	f.Add([]byte{}, false)
	f.Add([]byte("\x28\xb5\x2f\xfd"), false)
	a := fileOf("a", []byte("a"))
	f.Add(tarOf(f, reg(ManifestName, mustJSON(f, validManifest(a))), reg("files/a", []byte("a"))), true)
	f.Add(tarOf(f, reg(ManifestName, mustJSON(f, validManifest(linkOf("l", "../../x")))), symlink("files/l", "../../x")), true)

	f.Fuzz(func(t *testing.T, data []byte, tarStream bool) {
		if tarStream {
			data = compress(t, data)
		}
		p := filepath.Join(t.TempDir(), "fuzz.tar.zst")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, verr := Verify(p)
		if verr != nil && !errors.Is(verr, ErrCorrupt) {
			t.Fatalf("Verify: %v, want nil or ErrCorrupt", verr)
		}
		if r, err := Open(p); err == nil {
			for {
				if _, err := r.Next(); err != nil {
					break
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					break
				}
			}
			r.Close()
		}

		parent := t.TempDir()
		target := filepath.Join(parent, "a", "target")
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		xerr := Extract(t.Context(), p, target, ExtractOptions{})
		if verr != nil && xerr == nil {
			t.Fatalf("Verify refused (%v) but Extract succeeded", verr)
		}
		err := filepath.WalkDir(parent, func(q string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(target, q)
			if q != parent && q != filepath.Dir(target) && !filepath.IsLocal(rel) && rel != "." {
				t.Errorf("wrote %q outside the target", q)
			}
			if d.Type()&os.ModeSymlink != 0 {
				link, err := os.Readlink(q)
				if err != nil {
					return err
				}
				to, _ := filepath.Rel(target, filepath.Join(filepath.Dir(q), link))
				if filepath.IsAbs(link) || !filepath.IsLocal(to) && to != "." || strings.Contains(filepath.ToSlash(link), "/../") {
					t.Errorf("link %q -> %q leads outside the target", q, link)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeManifest feeds the manifest decoder arbitrary JSON. It never
// holds more than MaxEntries entries; a manifest that validates has only
// paths that stay inside a directory and links whose target is their blob;
// and it encodes to JSON that decodes and validates to the same manifest.
func FuzzDecodeManifest(f *testing.F) {
	m := validManifest(fileOf("a", []byte("a")), linkOf("d/l", "../a"), File{Path: "sub", Blob: testCommit, Mode: ModeGitlink})
	m.Deleted = []string{"gone"}
	good := mustJSON(f, m)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"files":null,"deleted":null,"later":{"x":[1,{"y":2}]},"format":1}`))
	f.Add([]byte(`{"format":1,"hash":"sha1","backup":{"id":"x","snapshot":"` + testCommit + `"},"files":[{"path":"../x","blob":"` + testCommit + `","mode":"100644"}]}`))
	f.Add([]byte(`{"format":1,"hash":"sha1","backup":{"id":"x","snapshot":"` + testCommit + `"},"deleted":["a\u0000b","/abs","a\\b","\ud800"]}`))
	f.Add([]byte(`{"format":1e400}`))
	f.Add([]byte(`{"files":[[[[[[[[]]]]]]]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(bytes.NewReader(data))
		if err != nil {
			return
		}
		if n := len(m.Files) + len(m.Deleted); n > MaxEntries {
			t.Fatalf("decoded %d entries", n)
		}
		if m.Validate() != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range append(pathsOf(m.Files), m.Deleted...) {
			if seen[p] {
				t.Fatalf("path %q twice", p)
			}
			seen[p] = true
			if !fs.ValidPath(p) || !filepath.IsLocal(filepath.FromSlash(p)) || !utf8.ValidString(p) {
				t.Fatalf("path %q validated", p)
			}
		}
		for _, fl := range m.Files {
			if fl.Mode == ModeSymlink && BlobID([]byte(fl.Target)) != fl.Blob {
				t.Fatalf("link %q: target %q is not its blob", fl.Path, fl.Target)
			}
		}
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("valid manifest does not encode: %v", err)
		}
		m2, err := decodeManifest(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("re-encoded manifest does not decode: %v\n%s", err, enc)
		}
		if err := m2.Validate(); err != nil {
			t.Fatalf("re-encoded manifest does not validate: %v\n%s", err, enc)
		}
		if enc2, _ := json.Marshal(m2); !bytes.Equal(enc, enc2) {
			t.Fatalf("manifest changed in a round trip:\n first %s\nsecond %s", enc, enc2)
		}
	})
}

func pathsOf(files []File) []string {
	ps := make([]string, len(files))
	for i, f := range files {
		ps[i] = f.Path
	}
	return ps
}

// FuzzCheckPath checks what CheckPath lets through: relative, clean paths
// that stay in the directory they are written to and never name a .git.
func FuzzCheckPath(f *testing.F) {
	for _, p := range []string{"a", "a/b", "../a", "a/../../b", "/abs", `a\..\b`, "a//b", "a/", ".git/config", "sub/.GIT./x", "GIT~1", "a\x00b", "a\nb", "\xff", strings.Repeat("d/", 100) + "f"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := CheckPath(p)
		if err != nil {
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("CheckPath(%q) = %v, not ErrUnsafePath", p, err)
			}
			return
		}
		if p == "." || path.Clean(p) != p || path.IsAbs(p) || strings.HasPrefix(p, "../") || strings.IndexByte(p, 0) >= 0 || !filepath.IsLocal(filepath.FromSlash(p)) {
			t.Fatalf("CheckPath accepted %q, which is not a clean local path", p)
		}
		for _, e := range strings.Split(p, "/") {
			if isDotGit(e) {
				t.Fatalf("CheckPath accepted %q, which names a .git", p)
			}
		}
	})
}

// FuzzCheckLinkTarget checks the symbolic links Extract may write: whatever
// the links it accepted point to, read as paths from the link's directory
// with every element a directory, stays inside the target directory, even
// when a named element is itself a link to the top.
func FuzzCheckLinkTarget(f *testing.F) {
	for _, tc := range [][2]string{{"l", "a"}, {"d/l", "../a"}, {"d/l", "../../x"}, {"l", "/etc"}, {"l", "a/../../x"}, {"d/e/l", "../.././x"}, {"l", ""}, {"d/l", "..//."}, {"l", "a\x00"}} {
		f.Add(tc[0], tc[1])
	}
	f.Fuzz(func(t *testing.T, link, target string) {
		if CheckPath(link) != nil {
			return
		}
		if err := checkLinkTarget(link, target); err != nil {
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("checkLinkTarget(%q, %q) = %v, not ErrUnsafePath", link, target, err)
			}
			return
		}
		// Walk the target from the link's directory; depth is how far below
		// the top. A named element may be a link to anywhere inside, so it is
		// taken at its worst: the top itself.
		depth := strings.Count(link, "/")
		if strings.HasPrefix(target, "/") {
			t.Fatalf("absolute target %q accepted", target)
		}
		for _, e := range strings.Split(target, "/") {
			switch e {
			case "", ".":
			case "..":
				if depth--; depth < 0 {
					t.Fatalf("link %q -> %q leads above the target", link, target)
				}
			default:
				depth = 0
			}
		}
	})
}
