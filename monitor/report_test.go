package monitor

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

var reportNow = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)

// ago is a time before reportNow.
func ago(d time.Duration) time.Time { return reportNow.Add(-d) }

// backup builds a backup of size bytes from its creation time and moves
// ("FROM>TO@trigger" at a time), ending in the last move's state.
func backup(id string, size int64, created time.Time, moves ...move) *transitions.Backup {
	b := &transitions.Backup{ID: id, SizeBytes: size, State: transitions.Created,
		Events: []gitstate.Event{{Kind: gitstate.KindCreate, Time: created, ID: id}}}
	for _, m := range moves {
		b.Events = append(b.Events, gitstate.Event{Kind: gitstate.KindMove, Time: m.at, From: m.from, To: m.to, Trigger: m.trigger, Forced: m.forced})
		b.State = transitions.State(m.to)
	}
	return b
}

type move struct {
	from, to, trigger string
	at                time.Time
	forced            bool
}

func mv(from, to, trigger string, at time.Time) move {
	return move{from: from, to: to, trigger: trigger, at: at}
}

func TestBuildReport(t *testing.T) {
	const day = 24 * time.Hour
	pct := func(f float64) *float64 { return &f }
	cases := []struct {
		name    string
		since   time.Duration
		backups []*transitions.Backup
		want    func(t *testing.T, r Report)
	}{
		{
			name:  "empty",
			since: day,
			want: func(t *testing.T, r Report) {
				if r.Created != 0 || len(r.Transitions) != 0 || r.Freed != (Freed{}) || r.Cleanup.Percent != nil || r.Window != "1d" {
					t.Errorf("%+v", r)
				}
			},
		},
		{
			name:  "moves in the window counted by trigger and state, older ones not",
			since: day,
			backups: []*transitions.Backup{
				backup("a", 100, ago(3*day), mv("CREATED", "PENDING", "hook", ago(2*day)), mv("PENDING", "CLEANABLE", "time", ago(2*time.Hour))),
				backup("b", 200, ago(5*time.Hour), mv("CREATED", "PENDING", "hook", ago(4*time.Hour)), mv("PENDING", "CLEANABLE", "time", ago(time.Hour))),
				backup("c", 50, ago(time.Hour)),
			},
			want: func(t *testing.T, r Report) {
				if r.Created != 2 {
					t.Errorf("created %d, want 2", r.Created)
				}
				want := []TransitionCount{{"hook", "CREATED", "PENDING", 1}, {"time", "PENDING", "CLEANABLE", 2}}
				if len(r.Transitions) != 2 || r.Transitions[0] != want[0] || r.Transitions[1] != want[1] {
					t.Errorf("transitions %+v", r.Transitions)
				}
				if r.ByTrigger["time"] != 2 || r.ByTrigger["hook"] != 1 || r.ByState["CLEANABLE"] != 2 || r.ByState["PENDING"] != 1 {
					t.Errorf("by trigger %v by state %v", r.ByTrigger, r.ByState)
				}
				if r.Cleanup.Candidates != 2 || r.Cleanup.Cleaned != 0 || r.Cleanup.StillCleanable != 2 || *r.Cleanup.Percent != 0 {
					t.Errorf("cleanup %+v", r.Cleanup)
				}
			},
		},
		{
			name:  "bytes freed: live to ARCHIVED or DELETED, each backup once",
			since: day,
			backups: []*transitions.Backup{
				backup("a", 1000, ago(9*day), mv("CREATED", "CLEANABLE", "disk", ago(2*day)), mv("CLEANABLE", "ARCHIVED", "disk", ago(3*time.Hour))),
				backup("b", 300, ago(9*day), mv("CREATED", "CLEANABLE", "time", ago(5*time.Hour)), mv("CLEANABLE", "ARCHIVED", "time", ago(3*time.Hour)), mv("ARCHIVED", "DELETED", "user", ago(time.Hour))),
				backup("c", 70, ago(9*day), move{"CREATED", "DELETED", "disk", ago(2 * time.Hour), true}),
				backup("d", 5, ago(40*day), mv("CREATED", "ARCHIVED", "disk", ago(30*day)), mv("ARCHIVED", "DELETED", "time", ago(time.Hour))),
			},
			want: func(t *testing.T, r Report) {
				f := r.Freed
				if f.Archived != 2 || f.ArchivedBytes != 1300 || f.Deleted != 1 || f.DeletedBytes != 70 || f.Bytes != 1370 || f.ArchivesDeleted != 2 {
					t.Errorf("freed %+v", f)
				}
				if r.Forced != 1 {
					t.Errorf("forced %d", r.Forced)
				}
				if r.Cleanup.Candidates != 2 || r.Cleanup.Cleaned != 2 || r.Cleanup.StillCleanable != 0 || *r.Cleanup.Percent != 100 {
					t.Errorf("cleanup %+v", r.Cleanup)
				}
			},
		},
		{
			name:  "a candidate CLEANABLE all through the window, one cleaned: half",
			since: 7 * day,
			backups: []*transitions.Backup{
				backup("a", 1, ago(20*day), mv("CREATED", "CLEANABLE", "user", ago(10*day))),
				backup("b", 1, ago(20*day), mv("CREATED", "CLEANABLE", "user", ago(10*day)), mv("CLEANABLE", "DELETED", "disk", ago(day))),
				backup("c", 1, ago(20*day), mv("CREATED", "PENDING", "hook", ago(10*day))),
			},
			want: func(t *testing.T, r Report) {
				if r.Window != "7d" || len(r.Transitions) != 1 {
					t.Errorf("window %q transitions %+v", r.Window, r.Transitions)
				}
				if r.Cleanup.Candidates != 2 || r.Cleanup.Cleaned != 1 || r.Cleanup.StillCleanable != 1 || *r.Cleanup.Percent != *pct(50) {
					t.Errorf("cleanup %+v", r.Cleanup)
				}
			},
		},
		{
			name:  "events after now are left out",
			since: day,
			backups: []*transitions.Backup{
				backup("a", 1, ago(-time.Hour), mv("CREATED", "PENDING", "hook", ago(-2*time.Hour))),
			},
			want: func(t *testing.T, r Report) {
				if r.Created != 0 || len(r.Transitions) != 0 {
					t.Errorf("%+v", r)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.want(t, BuildReport(ReportInput{Repository: "/r", Backups: c.backups, Now: reportNow, Since: c.since}))
		})
	}
}

func TestBuildReport_diskPointsInWindow(t *testing.T) {
	disk := []DiskPoint{{Time: ago(30 * time.Hour), GitDir: 1}, {Time: ago(2 * time.Hour), GitDir: 2}, {Time: ago(time.Hour), GitDir: 3}}
	r := BuildReport(ReportInput{Disk: disk, Now: reportNow, Since: 24 * time.Hour})
	if len(r.Disk) != 2 || r.Disk[0].GitDir != 2 {
		t.Errorf("disk %+v", r.Disk)
	}
	data, err := json.Marshal(BuildReport(ReportInput{Now: reportNow, Since: time.Hour}))
	if err != nil || !strings.Contains(string(data), `"disk":[]`) || !strings.Contains(string(data), `"transitions":[]`) {
		t.Errorf("empty report JSON %s, %v", data, err)
	}
}

func TestSparkline(t *testing.T) {
	for _, c := range []struct {
		vals  []float64
		width int
		want  string
	}{
		{nil, 10, ""},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8}, 10, "▁▂▃▄▅▆▇█"},
		{[]float64{50, 50, 50}, 10, "▅▅▅"},
		{[]float64{10, 90}, 10, "▁█"},
		{[]float64{0, 0, 100, 100}, 2, "▁█"}, // averaged in pairs
		{[]float64{1, 2, 3}, 0, ""},
	} {
		if got := Sparkline(c.vals, c.width); got != c.want {
			t.Errorf("Sparkline(%v, %d) = %q, want %q", c.vals, c.width, got, c.want)
		}
	}
}

func TestNotifier_DailyReport(t *testing.T) {
	hook := newReceiver(t, nil)
	slack := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	n := &Notifier{Enabled: true, Webhook: hook.URL, Slack: slack.URL, Email: "ops@example.com", Sendmail: "/nonexistent/sendmail"}
	r := BuildReport(ReportInput{Repository: "/r", Now: reportNow, Since: 24 * time.Hour,
		Backups:  []*transitions.Backup{backup("a", 2048, ago(2*time.Hour), mv("CREATED", "ARCHIVED", "disk", ago(time.Hour)))},
		Archives: ArchiveTotals{Count: 1, Bytes: 512}})
	if err := n.DailyReport(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if b := hook.got(); len(b) != 1 || json.Unmarshal(b[0], &got) != nil {
		t.Fatalf("webhook got %q", b)
	}
	if got["kind"] != "daily_report" || got["repository"] != "/r" || got["freed"].(map[string]any)["bytes"] != 2048.0 {
		t.Errorf("payload %v", got)
	}
	var s map[string]string
	if b := slack.got(); len(b) != 1 || json.Unmarshal(b[0], &s) != nil || !strings.Contains(s["text"], "1d on /r") || !strings.Contains(s["text"], "1 archived") {
		t.Errorf("slack got %q", b)
	}
	// Without a webhook nothing is posted, and email is never used for it.
	if err := (&Notifier{Enabled: true, Email: "ops@example.com", Sendmail: "/nonexistent/sendmail"}).DailyReport(t.Context(), r); err != nil {
		t.Error(err)
	}
}
