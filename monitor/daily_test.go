package monitor

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/transitions"
)

// runFor runs the loop until it has waited n times.
func (e *env) runFor(t *testing.T, o Options, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.clock.mu.Lock()
	base := len(e.clock.waits)
	e.clock.mu.Unlock()
	e.clock.onWait = func(i int) {
		if i-base >= n {
			cancel()
		}
	}
	o.Once = false
	if err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	e.clock.onWait = nil
}

func TestRun_dailyReportOnceADay(t *testing.T) {
	e := newEnv(t)
	hook := newReceiver(t, nil)
	e.s.Policy.Alerts = true
	e.s.Policy.AlertWebhook = hook.URL
	e.s.Policy.CheckInterval = 6 * time.Hour
	e.s.Policy.CleanupInterval = 6 * time.Hour
	e.cleanable(t, "b.txt")
	o := e.options()
	o.Reporter = &Notifier{Enabled: true, Webhook: hook.URL}

	// Cycles at 0, 6, 12, 18 h: the first day is not over.
	e.runFor(t, o, 4)
	if got := hook.got(); len(got) != 0 {
		t.Fatalf("report before a day passed: %q", got)
	}
	st, err := ReadStatus(e.s.Repo)
	if err != nil || st.LastReport.IsZero() {
		t.Fatalf("last report not kept: %+v %v", st, err)
	}
	// A restart remembers when the day began: the cycle at 24 h reports.
	e.runFor(t, o, 1)
	got := hook.got()
	if len(got) != 1 {
		t.Fatalf("want one report after 24 h, got %d", len(got))
	}
	var r map[string]any
	if err := json.Unmarshal(got[0], &r); err != nil {
		t.Fatal(err)
	}
	if r["kind"] != "daily_report" || r["repository"] != e.dir || r["window"] != "1d" {
		t.Errorf("payload %v", r)
	}
	// The next 18 hours send nothing; the next day's cycle sends one more.
	e.runFor(t, o, 3)
	if n := len(hook.got()); n != 1 {
		t.Fatalf("%d reports within the second day", n)
	}
	e.runFor(t, o, 1)
	if n := len(hook.got()); n != 2 {
		t.Fatalf("want a second report after 48 h, got %d", n)
	}
}

func TestRun_dailyReportNeedsWebhook(t *testing.T) {
	for name, p := range map[string]func(*transitions.Policy, string){
		"no webhook": func(p *transitions.Policy, url string) { p.Alerts = true },
		"alerts off": func(p *transitions.Policy, url string) { p.Alerts = false; p.AlertWebhook = url },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			hook := newReceiver(t, nil)
			p(&e.s.Policy, hook.URL)
			e.s.Policy.CheckInterval = 12 * time.Hour
			o := e.options()
			o.Reporter = &Notifier{Enabled: true, Webhook: hook.URL}
			e.runFor(t, o, 5)
			if n := len(hook.got()); n != 0 {
				t.Errorf("%d reports sent", n)
			}
			if st, _ := ReadStatus(e.s.Repo); !st.LastReport.IsZero() {
				t.Errorf("last report %v", st.LastReport)
			}
		})
	}
}

func TestRun_backupCountsOnMetricsEndpoint(t *testing.T) {
	e := newEnv(t)
	e.cleanable(t, "b.txt")
	e.cleanable(t, "c.txt")
	rec := &Recorder{}
	o := e.options()
	o.Metrics = rec
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(MetricsHandler(rec))
	defer srv.Close()
	body := scrape(t, srv.URL)
	for _, want := range []string{
		`git_backup_backups{repo="` + e.dir + `",state="CLEANABLE"} 2`,
		`git_backup_backups{repo="` + e.dir + `",state="CREATED"} 0`,
		`git_backup_backup_bytes{repo="` + e.dir + `",state="CLEANABLE"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s in:\n%s", want, body)
		}
	}
}
