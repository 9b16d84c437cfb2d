package archive

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
