package gitstate

import (
	"strings"
	"testing"
)

// Names with newlines are echoed back by cat-file when missing; the reader
// must stay in step through them and answer the next request right.
func TestObjectInfos_namesWithNewlines(t *testing.T) {
	dir := newRepo(t)
	writeFile(t, dir, "a\nb", "odd name\n")
	writeFile(t, dir, "plain", "plain\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "c")
	head := strings.TrimSpace(gitIn(t, dir, "rev-parse", "HEAD"))
	r := openRepo(t, dir)
	names := []string{
		head + ":a\nb",          // exists
		head + ":no\nsuch",      // missing, newline in the echo
		head + ":plain",         // exists, after the echo
		head + ":missing",       // missing, plain
		strings.Repeat("0", 40), // missing object ID
		head,
	}
	infos, err := r.objectInfos(names)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		missing bool
		typ     string
	}{{false, "blob"}, {true, ""}, {false, "blob"}, {true, ""}, {true, ""}, {false, "commit"}}
	for i, w := range want {
		if infos[i].Missing != w.missing || infos[i].Type != w.typ {
			t.Errorf("%q: got %+v, want missing=%v type=%q", names[i], infos[i], w.missing, w.typ)
		}
	}
	data, err := r.ReadBlob(infos[2].ID)
	if err != nil || string(data) != "plain\n" {
		t.Fatalf("ReadBlob after the batch: %q, %v", data, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !r.HasObject(head) {
		t.Fatal("HasObject after Close: the cat-file process must restart")
	}
}
