package gitstate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenBlob_looseAndPacked(t *testing.T) {
	dir := newRepo(t)
	big := make([]byte, streamThreshold+123_457)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.IntN(16)) // compressible, but not trivially
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "small.txt", "small\n")
	writeFile(t, dir, "empty", "")
	gitIn(t, dir, "add", ".")
	gitIn(t, dir, "commit", "-q", "-m", "files")
	want := map[string][]byte{
		gitIn(t, dir, "rev-parse", "HEAD:big.bin"):   big,
		gitIn(t, dir, "rev-parse", "HEAD:small.txt"): []byte("small\n"),
		gitIn(t, dir, "rev-parse", "HEAD:empty"):     {},
	}
	check := func(t *testing.T) {
		r, err := Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		for id, content := range want {
			rc, size, err := r.OpenBlob(id)
			if err != nil {
				t.Fatalf("OpenBlob(%s): %v", id, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("read blob %s: %v", id, err)
			}
			if size != int64(len(content)) || !bytes.Equal(got, content) {
				t.Errorf("blob %s: size %d, %d bytes read; want %d", id, size, len(got), len(content))
			}
		}
	}
	t.Run("loose", check)
	gitIn(t, dir, "gc", "-q", "--prune=now")
	t.Run("packed", check)
}

func TestOpenBlob_errors(t *testing.T) {
	dir := newRepo(t)
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.OpenBlob("1111111111111111111111111111111111111111"); !errors.Is(err, ErrObjectMissing) {
		t.Errorf("missing blob: err = %v, want ErrObjectMissing", err)
	}
	tree := gitIn(t, dir, "rev-parse", "HEAD^{tree}")
	if _, _, err := r.OpenBlob(tree); err == nil {
		t.Errorf("OpenBlob(tree %s) succeeded", tree)
	}
	if _, _, err := r.OpenBlob("HEAD"); err == nil {
		t.Error("OpenBlob(\"HEAD\") succeeded")
	}
}
