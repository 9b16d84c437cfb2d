package gitstate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The files git-backup keeps under <common dir>/backup are read back from
// disk, where anything may have written them: a crash, a full disk, a user,
// another version. These targets feed each reader arbitrary content. None may
// panic, and a damaged hint file must never stop the next write from
// recording what it records.

// fileRepo is a Repo whose backup directory is a fresh temporary directory;
// the readers below touch only files, so no repository is needed.
func fileRepo(t *testing.T) *Repo {
	d := t.TempDir()
	return &Repo{WorkTree: d, GitDir: d, CommonDir: d}
}

func writeBackupFile(t *testing.T, r *Repo, name string, data []byte) {
	t.Helper()
	p := filepath.Join(r.BackupDir(), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func FuzzHintFiles(f *testing.F) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f.Add([]byte(`{"20260301-100000-abcdef1":"2026-03-01T10:00:00Z"}`))
	f.Add([]byte(`{"origin":{"fetched_at":"2026-03-01T10:00:00Z","state":"abc"}}`))
	f.Add([]byte(`{"time":"2026-03-01T10:00:00Z","command":"set","key":"backup.x"}` + "\n{cut"))
	f.Add([]byte("null"))
	f.Add([]byte("[]"))
	f.Add([]byte(`{"a":"not a time","b":1}`))
	f.Add([]byte("0123456789abcdef\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fileRepo(t)
		for _, name := range []string{"access.json", "sync.json", "config-history.jsonl", "clone-id"} {
			writeBackupFile(t, r, name, data)
		}

		// access.json: read, then a use is recorded and read back.
		_ = r.LastAccess()
		r.TouchAccess("id-1", now)
		if got := r.LastAccess()["id-1"]; !got.Equal(now) {
			t.Fatalf("after TouchAccess over %q: last access %v, want %v", data, got, now)
		}

		// sync.json: read, then a fetch is recorded and read back.
		_ = r.SyncRecords()
		if err := r.RecordSync("origin", false, "s1", now); err != nil {
			t.Fatalf("RecordSync over %q: %v", data, err)
		}
		if rec := r.SyncRecords()["origin"]; rec.Fetched == nil || !rec.Fetched.Equal(now) || rec.State != "s1" {
			t.Fatalf("after RecordSync over %q: %+v", data, rec)
		}

		// config-history.jsonl: lines that do not parse are skipped, and a
		// change appended after them is read back last.
		before, err := r.ConfigHistory()
		if err != nil {
			t.Fatalf("ConfigHistory over %q: %v", data, err)
		}
		e := ConfigHistoryEntry{Time: now, Command: "set"}
		if err := r.AppendConfigHistory(e); err != nil {
			t.Fatal(err)
		}
		after, err := r.ConfigHistory()
		if err != nil {
			t.Fatal(err)
		}
		// A last line without its newline swallows the appended one: at most
		// that one is lost, never an earlier entry.
		if len(after) < len(before) || len(after) > len(before)+1 {
			t.Fatalf("history of %d entries became %d after one append", len(before), len(after))
		}
		if len(data) == 0 || data[len(data)-1] == '\n' {
			if len(after) != len(before)+1 || after[len(after)-1].Command != "set" {
				t.Fatalf("appended entry not read back: %+v", after)
			}
		}

		// clone-id: whatever the file holds, the ID is 16 hex digits, and stable.
		id, err := r.CloneID()
		if err != nil {
			t.Fatalf("CloneID over %q: %v", data, err)
		}
		if len(id) != 16 || !isHex(id) {
			t.Fatalf("CloneID over %q = %q, want 16 hex digits", data, id)
		}
		if again, err := r.CloneID(); err != nil || again != id {
			t.Fatalf("CloneID changed from %q to %q (%v)", id, again, err)
		}
	})
}

// FuzzJSONL feeds ReadJSONL arbitrary files: every line it returns is
// non-empty, trimmed and without a line break, no non-blank line is lost, and
// rewriting the lines reads back the same lines.
func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"time":"2026-03-01T10:00:00Z","git_dir_percent":50}` + "\n"))
	f.Add([]byte("a\r\n\n  b  \n{cut"))
	f.Add([]byte("\x00\xff\n\v\f\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fileRepo(t)
		writeBackupFile(t, r, "metrics/x.jsonl", data)
		lines, err := r.ReadJSONL("metrics/x.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		nonBlank := 0
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				nonBlank++
			}
		}
		if len(lines) != nonBlank {
			t.Fatalf("%d lines read, %d non-blank lines in the file", len(lines), nonBlank)
		}
		for _, l := range lines {
			if len(l) == 0 || bytes.ContainsAny(l, "\n") || !bytes.Equal(l, bytes.TrimSpace(l)) {
				t.Fatalf("line %q is blank, untrimmed or holds a newline", l)
			}
		}
		if err := r.RewriteJSONL("metrics/x.jsonl", lines); err != nil {
			t.Fatal(err)
		}
		again, err := r.ReadJSONL("metrics/x.jsonl")
		if err != nil || len(again) != len(lines) {
			t.Fatalf("rewritten file reads %d lines (%v), want %d", len(again), err, len(lines))
		}
		for i := range lines {
			if !bytes.Equal(again[i], lines[i]) {
				t.Fatalf("line %d changed in the rewrite: %q -> %q", i, lines[i], again[i])
			}
		}
	})
}

// FuzzParsePackedRefs feeds the packed-refs reader arbitrary files: it refuses
// a damaged file naming it, and every ref it returns is under the prefix, has a name without spaces or line breaks and
// a lower-case 40-digit object ID, and the refs written back in git's format
// read back the same.
func FuzzParsePackedRefs(f *testing.F) {
	const a, b = "0123456789abcdef0123456789abcdef01234567", "89ABCDEF0123456789ABCDEF0123456789ABCDEF"
	f.Add([]byte("# pack-refs with: peeled fully-peeled sorted \n"+a+" refs/backups/state\n^"+b+"\n"+b+" refs/heads/main\n"), "refs/")
	f.Add([]byte(a+" refs/backups/snapshots/x\r\n"+a[:39]+" refs/short\n"+a+"\trefs/tab\n"+a), "refs/backups/")
	f.Add([]byte(a+" \n"+a+"  refs/two spaces \n"), "")
	f.Fuzz(func(t *testing.T, data []byte, prefix string) {
		p := filepath.Join(t.TempDir(), "packed-refs")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		if err := readPackedRefs(p, prefix, out); err != nil {
			// A cut-off or malformed line is refused, as git refuses it,
			// with the file named.
			if !strings.Contains(err.Error(), p+" is damaged: line ") {
				t.Fatal(err)
			}
			return
		}
		var again bytes.Buffer
		for name, id := range out {
			if !strings.HasPrefix(name, prefix) {
				t.Fatalf("ref %q is not under %q", name, prefix)
			}
			if name == "" || name != strings.TrimSpace(name) || strings.Contains(name, "\n") {
				t.Fatalf("ref name %q is empty or padded", name)
			}
			if len(id) != 40 || !isHex(id) || id != strings.ToLower(id) {
				t.Fatalf("ref %q points to %q, not a lower-case object ID", name, id)
			}
			again.WriteString(id + " " + name + "\n")
		}
		if err := os.WriteFile(p, again.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		back := map[string]string{}
		if err := readPackedRefs(p, prefix, back); err != nil {
			t.Fatal(err)
		}
		if len(back) != len(out) {
			t.Fatalf("written back, %d refs read as %d", len(out), len(back))
		}
		for name, id := range out {
			if back[name] != id {
				t.Fatalf("ref %q: %q written, %q read back", name, id, back[name])
			}
		}
	})
}
