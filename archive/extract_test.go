package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// extractJailed extracts p into parent/target, and checks that nothing
// changed in parent except inside target. It returns Extract's error.
func extractJailed(t *testing.T, p string, o ExtractOptions) (string, error) {
	t.Helper()
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "x"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(parent, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(parent, "deep", "target")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	err := Extract(t.Context(), p, target, o)
	got := listing(t, parent)
	var outside []string
	for _, n := range got {
		if !strings.HasPrefix(n, filepath.Join("deep", "target")+string(filepath.Separator)) {
			outside = append(outside, n)
		}
	}
	if want := []string{".", "deep", filepath.Join("deep", "target"), "etc", "x"}; !reflect.DeepEqual(outside, want) {
		t.Errorf("outside the target: %q, want %q", outside, want)
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "x")); string(b) != "outside" {
		t.Errorf("the file outside the target was changed to %q", b)
	}
	return target, err
}

func TestExtract_refusesUnsafeManifest(t *testing.T) {
	x := []byte("pwned\n")
	tests := []struct {
		name  string
		files []File
	}{
		{"dot-dot", []File{fileOf("../x", x)}},
		{"dot-dot deeper", []File{fileOf("../../x", x)}},
		{"absolute", []File{fileOf("/abs", x)}},
		{"climbs after a name", []File{fileOf("a/../../x", x)}},
		{"dot", []File{fileOf("./x", x)}},
		{"empty element", []File{fileOf("a//x", x)}},
		{"trailing slash", []File{fileOf("a/", x)}},
		{".git", []File{fileOf(".git/hooks/post-checkout", x)}},
		{".GIT", []File{fileOf("sub/.GIT/config", x)}},
		{"ntfs .git", []File{fileOf(".git. /config", x)}},
		{"file below a symlink", []File{linkOf("l", "."), fileOf("l/x", x)}},
		{"file below a file", []File{fileOf("f", x), fileOf("f/x", x)}},
		{"duplicate", []File{fileOf("a", x), fileOf("a", x)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var entries []entry
			for _, f := range tt.files {
				if strings.HasSuffix(f.Path, "/") {
					continue // tar cannot hold it; the manifest is refused first anyway
				}
				if f.Mode == ModeSymlink {
					entries = append(entries, symlink(FilesPrefix+f.Path, f.Target))
				} else {
					entries = append(entries, reg(FilesPrefix+f.Path, x))
				}
			}
			p := craft(t, validManifest(tt.files...), entries...)
			target, err := extractJailed(t, p, ExtractOptions{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if got := listing(t, target); len(got) != 1 {
				t.Errorf("wrote %q", got)
			}
		})
	}
}

func TestExtract_refusesUnsafeLinks(t *testing.T) {
	tests := []struct {
		link, target string
	}{
		{"l", "/etc"},
		{"l", "/etc/passwd"},
		{"l", ".."},
		{"l", "../x"},
		{"l", "../../x"},
		{"d/l", "../../x"},
		{"d/e/l", "../../../etc"},
		{"l", "a/../../x"},
		{"l", "a/../x"}, // resolved through whatever a is on disk
		{"l", "./../x"},
	}
	for _, tt := range tests {
		t.Run(tt.link+" -> "+tt.target, func(t *testing.T) {
			a := fileOf("a.txt", []byte("a"))
			p := craft(t, validManifest(a, linkOf(tt.link, tt.target)), reg("files/a.txt", []byte("a")), symlink(FilesPrefix+tt.link, tt.target))
			if _, err := Verify(p); err != nil {
				t.Fatalf("Verify: %v (the archive itself is well formed)", err)
			}
			target, err := extractJailed(t, p, ExtractOptions{})
			if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), tt.link) {
				t.Fatalf("err = %v, want ErrUnsafePath naming %q", err, tt.link)
			}
			if got := listing(t, target); len(got) != 1 {
				t.Errorf("wrote %q before refusing", got)
			}
			// The rest can still be extracted.
			if _, err := extractJailed(t, p, ExtractOptions{Paths: []string{"a.txt"}}); err != nil {
				t.Errorf("extract a.txt alone: %v", err)
			}
		})
	}
}

func TestExtract_allowsLinksInside(t *testing.T) {
	files := []tfile{
		{"a.txt", ModeRegular, []byte("a")},
		{"l1", ModeSymlink, []byte("a.txt")},
		{"d/l2", ModeSymlink, []byte("../a.txt")},
		{"d/e/l3", ModeSymlink, []byte("../../d/./l2")},
		{"d/l4", ModeSymlink, []byte("e")},
		{"l5", ModeSymlink, []byte("missing/but/inside")},
	}
	m, s := backup(files)
	dest := filepath.Join(t.TempDir(), "x.tar.zst")
	if _, err := Write(t.Context(), dest, m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	target, err := extractJailed(t, dest, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkExtracted(t, target, files)
}

func TestExtract_tarNotMatchingManifest(t *testing.T) {
	a, b := fileOf("a", []byte("a")), fileOf("b", []byte("b"))
	tests := []struct {
		name    string
		files   []File
		entries []entry
		want    string
	}{
		{"extra entry outside", []File{a}, []entry{reg("files/a", []byte("a")), reg("files/../x", []byte("pwned"))}, "not in the manifest"},
		{"extra absolute entry", []File{a}, []entry{reg("files/a", []byte("a")), reg("/x", []byte("pwned"))}, "not in the manifest"},
		{"entry instead of a file", []File{a}, []entry{reg("../x", []byte("pwned"))}, "not in the manifest"},
		{"duplicate entry", []File{a, b}, []entry{reg("files/a", []byte("a")), reg("files/a", []byte("a")), reg("files/b", []byte("b"))}, "there twice"},
		{"duplicate at the end", []File{a}, []entry{reg("files/a", []byte("a")), reg("files/a", []byte("a"))}, "there twice"},
		{"out of order", []File{a, b}, []entry{reg("files/b", []byte("b")), reg("files/a", []byte("a"))}, "against the manifest's order"},
		{"missing", []File{a, b}, []entry{reg("files/a", []byte("a"))}, `"b": missing`},
		{"wrong size", []File{a}, []entry{reg("files/a", []byte("aa"))}, "2 bytes in the tar"},
		{"wrong content", []File{a}, []entry{reg("files/a", []byte("b"))}, "content has blob ID"},
		{"symlink for a file", []File{a}, []entry{symlink("files/a", "a")}, "not a regular file"},
		{"file for a symlink", []File{linkOf("a", "b")}, []entry{reg("files/a", []byte("b"))}, "not a symbolic link"},
		{"other link target", []File{linkOf("a", "b")}, []entry{symlink("files/a", "/etc")}, `link target "/etc"`},
		{"directory entry", []File{a}, []entry{{hdr: dirHeader("files/a/")}}, "not in the manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := craft(t, validManifest(tt.files...), tt.entries...)
			_, err := Verify(p)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: err = %v, want ErrCorrupt with %q", err, tt.want)
			}
			if _, err := extractJailed(t, p, ExtractOptions{}); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Extract: err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestExtract_neverFollowsLinksOnDisk(t *testing.T) {
	files := []tfile{{"d/x", ModeRegular, []byte("new")}, {"f", ModeRegular, []byte("new")}}
	m, s := backup(files)
	dest := filepath.Join(t.TempDir(), "x.tar.zst")
	if _, err := Write(t.Context(), dest, m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A file in the way that is a link is replaced, not written through.
	target := t.TempDir()
	if err := os.Symlink(victim, filepath.Join(target, "f")); err != nil {
		t.Fatal(err)
	}
	if err := Extract(t.Context(), dest, target, ExtractOptions{Paths: []string{"f"}}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(target, "f")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("f: %v, %v; want a regular file", fi, err)
	}

	// A directory that is a link is refused.
	target = t.TempDir()
	if err := os.Symlink(outside, filepath.Join(target, "d")); err != nil {
		t.Fatal(err)
	}
	err := Extract(t.Context(), dest, target, ExtractOptions{})
	if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), `"d"`) {
		t.Errorf("err = %v, want ErrUnsafePath naming d", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("victim changed to %q", b)
	}
	if got := listing(t, outside); len(got) != 2 {
		t.Errorf("outside holds %q", got)
	}
}

func TestExtract_paths(t *testing.T) {
	files := []tfile{
		{"a/1", ModeRegular, []byte("1")},
		{"a/2", ModeExecutable, []byte("2")},
		{"ab", ModeRegular, []byte("ab")},
		{"b", ModeRegular, []byte("b")},
	}
	m, s := backup(files, "gone")
	dest := filepath.Join(t.TempDir(), "x.tar.zst")
	if _, err := Write(t.Context(), dest, m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := Extract(t.Context(), dest, out, ExtractOptions{Paths: []string{"a/", "b", "gone"}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listing(t, out), " "); got != ". a a/1 a/2 b" {
		t.Errorf("extracted %q", got)
	}
	for _, paths := range [][]string{{"a", "nope"}, {"a/1/x"}} {
		out := t.TempDir()
		if err := Extract(t.Context(), dest, out, ExtractOptions{Paths: paths}); !errors.Is(err, ErrNotInArchive) {
			t.Errorf("paths %q: err = %v, want ErrNotInArchive", paths, err)
		}
		if got := listing(t, out); len(got) != 1 {
			t.Errorf("paths %q: wrote %q", paths, got)
		}
	}
	if err := Extract(t.Context(), dest, t.TempDir(), ExtractOptions{Paths: []string{"../a"}}); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("path ../a: err = %v, want ErrUnsafePath", err)
	}
}

func TestExtract_replacesAndCreates(t *testing.T) {
	files := []tfile{{"a", ModeExecutable, []byte("new")}, {"n/e/w", ModeRegular, []byte("w")}}
	m, s := backup(files)
	dest := filepath.Join(t.TempDir(), "x.tar.zst")
	if _, err := Write(t.Context(), dest, m, s.open, Options{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "new", "dir")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "a"), []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Extract(t.Context(), dest, out, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	checkExtracted(t, out, files)
	if got := strings.Join(listing(t, out), " "); got != ". a n n/e n/e/w" {
		t.Errorf("left %q (temporary files?)", got)
	}

	// A directory in the way of a file is an error, not a loss.
	out = t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "a", "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Extract(t.Context(), dest, out, ExtractOptions{}); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("err = %v, want an error naming a", err)
	}
	if got := strings.Join(listing(t, out), " "); got != ". a a/keep" {
		t.Errorf("left %q", got)
	}
}

func TestExtract_cancelled(t *testing.T) {
	dest, _, _ := writeSample(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	out := t.TempDir()
	if err := Extract(ctx, dest, out, ExtractOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if got := listing(t, out); len(got) != 1 {
		t.Errorf("wrote %q", got)
	}
}
