package gitstate

import (
	"os"
	"path/filepath"
	"testing"
)

func TestJSONL_appendReadRewrite(t *testing.T) {
	r := &Repo{CommonDir: t.TempDir()}
	const name = "metrics/disk.jsonl"
	if lines, err := r.ReadJSONL(name); err != nil || lines != nil {
		t.Fatalf("missing file: %q, %v", lines, err)
	}
	for _, l := range []string{`{"a":1}`, `{"a":2}`, `{"a":3}`} {
		if err := r.AppendJSONL(name, []byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	lines, err := r.ReadJSONL(name)
	if err != nil || len(lines) != 3 || string(lines[2]) != `{"a":3}` {
		t.Fatalf("read: %q, %v", lines, err)
	}
	if err := r.RewriteJSONL(name, lines[1:]); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(r.CommonDir, "backup", name))
	if err != nil || string(data) != "{\"a\":2}\n{\"a\":3}\n" {
		t.Fatalf("rewritten: %q, %v", data, err)
	}
	if err := r.AppendJSONL(name, []byte("a\nb")); err == nil {
		t.Error("a line with a newline was appended")
	}
	if err := r.AppendJSONL("../outside.jsonl", []byte("{}")); err == nil {
		t.Error("a file outside the backup directory was written")
	}
}

// A last line cut short by a crash has no newline; the next append must not
// glue its line to it.
func TestJSONL_appendAfterCutLine(t *testing.T) {
	r := &Repo{CommonDir: t.TempDir()}
	const name = "metrics/disk.jsonl"
	if err := r.AppendJSONL(name, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(r.CommonDir, "backup", name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"a":`) // the crash
	f.Close()
	if err := r.AppendJSONL(name, []byte(`{"a":3}`)); err != nil {
		t.Fatal(err)
	}
	lines, err := r.ReadJSONL(name)
	if err != nil || len(lines) != 3 || string(lines[0]) != `{"a":1}` || string(lines[1]) != `{"a":` || string(lines[2]) != `{"a":3}` {
		t.Fatalf("read: %q, %v", lines, err)
	}
}
