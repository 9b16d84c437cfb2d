package monitor

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// The monitor reads back files it wrote under <common dir>/backup, where a
// crash, a full disk or a user may have left anything. These targets feed
// each reader arbitrary content: none may panic, and the next write must
// work and read back.

func fileRepo(t *testing.T) *gitstate.Repo {
	d := t.TempDir()
	return &gitstate.Repo{WorkTree: d, GitDir: d, CommonDir: d}
}

func writeBackupFile(t *testing.T, r *gitstate.Repo, name string, data []byte) {
	t.Helper()
	p := filepath.Join(r.BackupDir(), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

var fuzzNow = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// FuzzPauseFile: a marker that does not parse pauses until resumed (the user
// asked for quiet); one that parses pauses until its Until; and Pause over
// any marker reads back as written.
func FuzzPauseFile(f *testing.F) {
	f.Add([]byte(`{"paused":true,"since":"2026-03-01T09:00:00Z","until":"2026-03-01T11:00:00Z"}`))
	f.Add([]byte(`{"paused":false,"until":"2026-03-01T09:00:00Z"}`))
	f.Add([]byte("null"))
	f.Add([]byte(`{"until":"not a time"}`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fileRepo(t)
		writeBackupFile(t, r, PauseFile, data)
		ps := Paused(r, fuzzNow)
		var parsed PauseState
		if err := json.Unmarshal(data, &parsed); err != nil {
			if !ps.Paused {
				t.Fatalf("marker %q does not parse, yet reads as not paused", data)
			}
		} else if want := parsed.Until.IsZero() || fuzzNow.Before(parsed.Until); ps.Paused != want {
			t.Fatalf("marker %q: paused %v, want %v", data, ps.Paused, want)
		}
		until := fuzzNow.Add(time.Hour)
		if err := Pause(r, fuzzNow, until); err != nil {
			t.Fatal(err)
		}
		if ps := Paused(r, fuzzNow); !ps.Paused || !ps.Until.Equal(until) {
			t.Fatalf("after Pause over %q: %+v", data, ps)
		}
		if err := Resume(r); err != nil {
			t.Fatal(err)
		}
		if Paused(r, fuzzNow).Paused {
			t.Fatal("paused after Resume")
		}
	})
}

// FuzzMonitorState: monitor.json as read is written back and reads the same.
func FuzzMonitorState(f *testing.F) {
	f.Add([]byte(`{"pid":42,"started":"2026-03-01T09:00:00Z","last_cycle":"2026-03-01T09:59:00+02:00","outcome":"ok","level":"normal"}`))
	f.Add([]byte(`{"pid":-1,"started":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte("null"))
	f.Add([]byte("{\"pid\":1e99}"))
	f.Add([]byte("{\"outcome\":\"\\u0000\\ud800\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fileRepo(t)
		writeBackupFile(t, r, "monitor.json", data)
		st, err := readState(r)
		if _, serr := ReadStatus(r); serr != nil {
			t.Fatalf("ReadStatus over %q: %v", data, serr)
		}
		if err != nil {
			return
		}
		if err := writeState(r, st); err != nil {
			t.Fatalf("state read from %q cannot be written: %v", data, err)
		}
		again, err := readState(r)
		if err != nil {
			t.Fatalf("state written from %q does not read: %v", data, err)
		}
		// Compared as JSON: a time.Time decoded from an odd spelling (year 0)
		// keeps an internal form reflect.DeepEqual tells apart from the same
		// instant decoded again.
		first, _ := json.Marshal(st)
		second, _ := json.Marshal(again)
		if !bytes.Equal(first, second) {
			t.Fatalf("state changed in a round trip:\n first %s\nsecond %s", first, second)
		}
	})
}

// FuzzDiskHistory: whatever the history holds, Read returns only points of
// the last Keep, Trim keeps exactly those, and a point appended after the
// damage is read back.
func FuzzDiskHistory(f *testing.F) {
	f.Add([]byte(`{"time":"2026-03-01T09:30:00Z","git_dir_percent":50,"archive_percent":40,"root_percent":30}` + "\n"))
	f.Add([]byte(`{"time":"2026-02-01T09:30:00Z","git_dir_percent":50}` + "\n{cut"))
	f.Add([]byte("null\n[]\n{\"time\":\"2026-03-01T09:30:00Z\",\"root_percent\":null}\n"))
	f.Add([]byte("\x00\xff\r\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := fileRepo(t)
		writeBackupFile(t, r, HistoryFile, data)
		h := &History{Repo: r, Now: func() time.Time { return fuzzNow }}
		ps, err := h.Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Time.Before(fuzzNow.Add(-HistoryKeep)) {
				t.Fatalf("point older than the history keeps: %+v", p)
			}
		}
		if err := h.Trim(); err != nil {
			t.Fatal(err)
		}
		after, err := h.Read()
		if err != nil || len(after) != len(ps) {
			t.Fatalf("Trim changed %d points into %d (%v)", len(ps), len(after), err)
		}
		lines, err := r.ReadJSONL(HistoryFile)
		if err != nil || len(lines) != len(ps) {
			t.Fatalf("after Trim the file holds %d lines for %d points (%v)", len(lines), len(ps), err)
		}
		p := DiskPoint{Time: fuzzNow, GitDir: 12.5, Archive: 7}
		if err := h.Append(p); err != nil {
			t.Fatal(err)
		}
		last, err := h.Read()
		if err != nil || len(last) != len(ps)+1 || !last[len(last)-1].Time.Equal(fuzzNow) || last[len(last)-1].GitDir != 12.5 {
			t.Fatalf("appended point not read back: %+v (%v)", last, err)
		}
	})
}

// FuzzMetricsAddr: --metrics-addr either is refused naming itself, or gives
// a host:port to listen on, loopback unless a host was written out.
func FuzzMetricsAddr(f *testing.F) {
	for _, s := range []string{"9464", ":9464", "0.0.0.0:9464", "[::1]:80", "localhost:http", "65536", "-1", "host:", "[::1", "a:b:c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := MetricsAddr(s)
		if err != nil {
			if !strings.Contains(err.Error(), "metrics address") {
				t.Fatalf("MetricsAddr(%q): %v does not say what it refused", s, err)
			}
			return
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatalf("MetricsAddr(%q) = %q, not host:port: %v", s, a, err)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			t.Fatalf("MetricsAddr(%q) = %q, port not a number", s, a)
		}
		if h, _, err := net.SplitHostPort(s); (err != nil || h == "") && host != "127.0.0.1" {
			t.Fatalf("MetricsAddr(%q) = %q: no host was given, yet it is not loopback", s, a)
		}
	})
}
