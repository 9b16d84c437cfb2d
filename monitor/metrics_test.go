package monitor

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// fakeNow is a clock that moves only when told.
type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time      { return f.t }
func (f *fakeNow) add(d time.Duration) { f.t = f.t.Add(d) }
func (f *fakeNow) point(pct float64) DiskPoint {
	return DiskPoint{Time: f.t, GitDir: pct, Archive: pct / 2}
}

func historyLines(t *testing.T, r *gitstate.Repo) int {
	t.Helper()
	lines, err := r.ReadJSONL(HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	return len(lines)
}

func TestHistory_keeps24Hours(t *testing.T) {
	repo := &gitstate.Repo{CommonDir: t.TempDir()}
	clock := &fakeNow{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := &History{Repo: repo, Now: clock.now}
	// A sample every 10 minutes for 30 hours.
	for i := range 30 * 6 {
		if err := h.Append(clock.point(float64(i % 100))); err != nil {
			t.Fatal(err)
		}
		clock.add(10 * time.Minute)
	}
	clock.add(-10 * time.Minute) // back to the last sample's time
	ps, err := h.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 24*6+1 {
		t.Errorf("read %d points, want %d (24 hours, both ends)", len(ps), 24*6+1)
	}
	if first := ps[0].Time; first.Before(clock.t.Add(-24 * time.Hour)) {
		t.Errorf("oldest point %s is older than 24 hours", first)
	}
	// The file was trimmed along the way: at most an hour's slack past 24 h.
	if n := historyLines(t, repo); n > 25*6+1 {
		t.Errorf("file holds %d lines, more than 25 hours' worth", n)
	}
	if err := h.Trim(); err != nil {
		t.Fatal(err)
	}
	if n := historyLines(t, repo); n != 24*6+1 {
		t.Errorf("after Trim the file holds %d lines, want %d", n, 24*6+1)
	}
	// A day later, with nothing appended, nothing is left to read.
	clock.add(25 * time.Hour)
	if ps, _ := h.Read(); len(ps) != 0 {
		t.Errorf("read %d points a day later", len(ps))
	}
}

func TestHistory_skipsBrokenLine(t *testing.T) {
	repo := &gitstate.Repo{CommonDir: t.TempDir()}
	clock := &fakeNow{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := &History{Repo: repo, Now: clock.now}
	if err := h.Append(clock.point(10)); err != nil {
		t.Fatal(err)
	}
	if err := repo.AppendJSONL(HistoryFile, []byte(`{"time":"2026-01-01T00:0`)); err != nil {
		t.Fatal(err)
	}
	clock.add(time.Minute)
	if err := h.Append(clock.point(11)); err != nil {
		t.Fatal(err)
	}
	ps, err := h.Read()
	if err != nil || len(ps) != 2 || ps[1].GitDir != 11 {
		t.Fatalf("read %v, %v", ps, err)
	}
	if ps[0].Root != nil {
		t.Errorf("unknown root usage read as %v", *ps[0].Root)
	}
}

func TestRecorder_recordsHistoryAndCounts(t *testing.T) {
	repo := &gitstate.Repo{CommonDir: t.TempDir()}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	rec := &Recorder{History: func(string) *History { return &History{Repo: repo, Now: func() time.Time { return now }} }}
	rec.Record(Sample{Time: now, Repo: "/r", GitDirUsed: 81.5, ArchiveUsed: 40, RootUsed: -1, Level: "warning",
		Backups: map[string]int{"CREATED": 2}})
	rec.Transitions([]Transition{
		{Repo: "/r", Trigger: "disk", From: "CLEANABLE", To: "ARCHIVED"},
		{Repo: "/r", Trigger: "disk", From: "CLEANABLE", To: "ARCHIVED"},
		{Repo: "/r", Trigger: "time", From: "PENDING", To: "CLEANABLE"},
	})
	snap := rec.Snapshot()
	if len(snap) != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
	s := snap[0]
	if s.DiskPercent["git_dir"] != 81.5 || s.DiskPercent["archive"] != 40 {
		t.Errorf("disk %v", s.DiskPercent)
	}
	if _, ok := s.DiskPercent["root"]; ok {
		t.Error("unknown root usage exported")
	}
	if s.Transitions[TransitionKey{"disk", "CLEANABLE", "ARCHIVED"}] != 2 || s.Transitions[TransitionKey{"time", "PENDING", "CLEANABLE"}] != 1 {
		t.Errorf("transitions %v", s.Transitions)
	}
	if s.Backups["CREATED"] != 2 || s.Bytes != nil {
		t.Errorf("backups %v bytes %v", s.Backups, s.Bytes)
	}
	rec.SetBackups("/r", map[transitions.State]transitions.StateCount{"CREATED": {Count: 3, Bytes: 300}})
	if s := rec.Snapshot()[0]; s.Backups["CREATED"] != 3 || s.Bytes["CREATED"] != 300 {
		t.Errorf("after SetBackups: %v %v", s.Backups, s.Bytes)
	}
	if ps, err := (&History{Repo: repo, Now: func() time.Time { return now }}).Read(); err != nil || len(ps) != 1 || ps[0].GitDir != 81.5 {
		t.Errorf("history %v, %v", ps, err)
	}
}

func TestRecorder_historyFailureOnlyLogged(t *testing.T) {
	dir := t.TempDir()
	// The backup dir is a file: nothing can be written under it.
	if err := os.WriteFile(filepath.Join(dir, "backup"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{History: func(string) *History { return &History{Repo: &gitstate.Repo{CommonDir: dir}} }}
	rec.Record(Sample{Time: time.Now(), Repo: "/r", RootUsed: 50})
	if s := rec.Snapshot(); len(s) != 1 || s[0].DiskPercent["root"] != 50 {
		t.Errorf("snapshot %+v", s)
	}
}

func testRecorder() *Recorder {
	rec := &Recorder{}
	rec.Record(Sample{Time: time.Unix(1767225600, 0), Repo: "/r", GitDirUsed: 91, ArchiveUsed: 50, RootUsed: 70, HeldBytes: 4096, Level: "critical"})
	rec.SetBackups("/r", map[transitions.State]transitions.StateCount{"CLEANABLE": {Count: 4, Bytes: 1024}})
	rec.Transitions([]Transition{{Repo: "/r", Trigger: "disk", From: "CLEANABLE", To: "ARCHIVED"}})
	return rec
}

var wantMetrics = []string{
	`git_backup_disk_used_percent{filesystem="git_dir",repo="/r"} 91`,
	`git_backup_disk_used_percent{filesystem="archive",repo="/r"} 50`,
	`git_backup_disk_used_percent{filesystem="root",repo="/r"} 70`,
	`git_backup_backups{repo="/r",state="CLEANABLE"} 4`,
	`git_backup_backup_bytes{repo="/r",state="CLEANABLE"} 1024`,
	`git_backup_held_bytes{repo="/r"} 4096`,
	`git_backup_transitions_total{from="CLEANABLE",repo="/r",to="ARCHIVED",trigger="disk"} 1`,
	`git_backup_last_cycle_timestamp_seconds{repo="/r"} 1.7672256e+09`,
	`git_backup_disk_level{level="critical",repo="/r"} 1`,
	`# TYPE git_backup_transitions_total counter`,
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v", resp.Status, err)
	}
	return string(body)
}

func checkMetrics(t *testing.T, body string) {
	t.Helper()
	have := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		have[sc.Text()] = true
	}
	for _, w := range wantMetrics {
		if !have[w] {
			t.Errorf("missing %s in:\n%s", w, body)
		}
	}
}

func TestMetricsHandler_scrape(t *testing.T) {
	srv := httptest.NewServer(MetricsHandler(testRecorder()))
	defer srv.Close()
	checkMetrics(t, scrape(t, srv.URL))
}

func TestServeMetrics_loopbackListener(t *testing.T) {
	ln, err := ListenMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ServeMetricsOn(ctx, ln, testRecorder()) }()
	checkMetrics(t, scrape(t, "http://"+ln.Addr().String()+"/metrics"))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestMetricsAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"9464", "127.0.0.1:9464"},
		{":9464", "127.0.0.1:9464"},
		{"localhost:9464", "localhost:9464"},
		{"[::1]:9464", "[::1]:9464"},
		{"0.0.0.0:9464", "0.0.0.0:9464"}, // written out: deliberate
		{"", ""},
		{"host", ""},
		{"a:b", ""},
		{"99999", ""},
	} {
		got, err := MetricsAddr(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("MetricsAddr(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("MetricsAddr(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
