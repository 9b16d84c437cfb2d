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
