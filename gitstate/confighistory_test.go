package gitstate

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestConfigHistory_appendReadRewrite(t *testing.T) {
	r := &Repo{CommonDir: t.TempDir()}
	if es, err := r.ConfigHistory(); err != nil || len(es) != 0 {
		t.Fatalf("empty history = %v, %v", es, err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, cmd := range []string{"set", "template aggressive", "unset"} {
		e := ConfigHistoryEntry{Time: t0.Add(time.Duration(i) * time.Minute), Command: cmd,
			Changes: []ConfigChange{{Scope: "local", Key: "backup.minAge", Old: []string{"1h"}, New: nil}}}
		if err := r.AppendConfigHistory(e); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(r.BackupDir(), "config-history.jsonl")
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v, %v", fi, err)
	}
	// A damaged line is skipped, not fatal.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json\n")
	f.Close()
	es, err := r.ConfigHistory()
	if err != nil || len(es) != 3 || es[1].Command != "template aggressive" || es[2].Changes[0].Old[0] != "1h" {
		t.Fatalf("history = %+v, %v", es, err)
	}
	if err := r.WriteConfigHistory(es[:1]); err != nil {
		t.Fatal(err)
	}
	if es, _ := r.ConfigHistory(); len(es) != 1 || !es[0].Time.Equal(t0) {
		t.Errorf("after rewrite = %+v", es)
	}
}
