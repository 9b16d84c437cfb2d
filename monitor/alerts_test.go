package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// receiver is a local HTTP server that keeps the bodies it was sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newReceiver(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, body)
		rc.mu.Unlock()
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...)
}

func testEvent() Event {
	return Event{
		Level: "critical", Previous: "warning",
		Usage:        gitstate.DiskUsage{Path: "/repo/.git", UsedPercent: 86.04, FreeBytes: 1 << 30},
		ArchiveUsage: gitstate.DiskUsage{Path: "/archives", UsedPercent: 40},
		Repo:         "/repo",
		Plan:         PlanSummary{Title: "critical", Moves: 3, Archived: 2, Deleted: 1, ReclaimedBytes: 5 << 20, TargetReached: true},
		Time:         time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("x", 3600)),
	}
}

func TestNotifier_Alert_webhookAndSlack(t *testing.T) {
	hook := newReceiver(t, nil)
	slack := newReceiver(t, nil)
	n := &Notifier{Enabled: true, Webhook: hook.URL, Slack: slack.URL}
	if err := n.Alert(t.Context(), testEvent()); err != nil {
		t.Fatal(err)
	}
	hb := hook.got()
	if len(hb) != 1 {
		t.Fatalf("webhook got %d requests", len(hb))
	}
	var p map[string]any
	if err := json.Unmarshal(hb[0], &p); err != nil {
		t.Fatal(err)
	}
	usage := p["usage"].(map[string]any)
	plan := p["plan"].(map[string]any)
	for k, want := range map[string]any{
		"kind": "alert", "level": "critical", "previous": "warning", "repository": "/repo",
		"time": "2026-03-04T04:06:07Z",
	} {
		if p[k] != want {
			t.Errorf("%s = %v, want %v", k, p[k], want)
		}
	}
	if usage["git_dir_percent"] != 86.0 || usage["archive_percent"] != 40.0 {
		t.Errorf("usage = %v", usage)
	}
	if plan["archived"] != 2.0 || plan["deleted"] != 1.0 || plan["target_reached"] != true {
		t.Errorf("plan = %v", plan)
	}
	sb := slack.got()
	if len(sb) != 1 {
		t.Fatalf("slack got %d requests", len(sb))
	}
	var s map[string]string
	if err := json.Unmarshal(sb[0], &s); err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 || !strings.Contains(s["text"], "disk critical (was warning) on /repo: 86.0% used") ||
		!strings.Contains(s["text"], "2 archived, 1 deleted") {
		t.Errorf("slack payload = %q", sb[0])
	}
}

func TestNotifier_Alert_offSendsNothing(t *testing.T) {
	hook := newReceiver(t, nil)
	dir := t.TempDir()
	n := &Notifier{Enabled: false, Webhook: hook.URL, Slack: hook.URL, Email: "ops@example.com", Sendmail: fakeSendmail(t, dir)}
	if err := n.Alert(t.Context(), testEvent()); err != nil {
		t.Fatal(err)
	}
	if err := n.DailyReport(t.Context(), Report{}); err != nil {
		t.Fatal(err)
	}
	if got := hook.got(); len(got) != 0 {
		t.Errorf("alerts off, yet %d requests", len(got))
	}
	if _, err := os.Stat(filepath.Join(dir, "mail")); err == nil {
		t.Error("alerts off, yet a mail was sent")
	}
}

func TestNotifier_Alert_hangingServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	hook := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	n := &Notifier{Enabled: true, Webhook: hook.URL, Timeout: 50 * time.Millisecond, Backoff: time.Millisecond}
	err := n.Alert(t.Context(), testEvent())
	if err == nil || !strings.Contains(err.Error(), "webhook") {
		t.Fatalf("err = %v, want a webhook timeout", err)
	}
	if strings.Contains(err.Error(), hook.URL) {
		t.Errorf("the error shows the webhook URL: %v", err)
	}
}

func TestNotifier_Alert_failingServerRetriedOnce(t *testing.T) {
	var calls atomic.Int32
	hook := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	n := &Notifier{Enabled: true, Webhook: hook.URL, Backoff: time.Millisecond}
	err := n.Alert(t.Context(), testEvent())
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want the 503", err)
	}
	if c := calls.Load(); c != 2 {
		t.Errorf("%d attempts, want 2 (one retry)", c)
	}
}

func TestNotifier_Alert_refusedNotRetried(t *testing.T) {
	var calls atomic.Int32
	hook := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "gone", http.StatusNotFound)
	})
	n := &Notifier{Enabled: true, Webhook: hook.URL, Backoff: time.Millisecond}
	if err := n.Alert(t.Context(), testEvent()); err == nil {
		t.Fatal("no error for a 404")
	}
	if c := calls.Load(); c != 1 {
		t.Errorf("%d attempts, want 1", c)
	}
}

func TestNotifier_Alert_retrySucceeds(t *testing.T) {
	var calls atomic.Int32
	hook := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusBadGateway)
		}
	})
	n := &Notifier{Enabled: true, Webhook: hook.URL, Backoff: time.Millisecond}
	if err := n.Alert(t.Context(), testEvent()); err != nil {
		t.Fatal(err)
	}
	if c := calls.Load(); c != 2 {
		t.Errorf("%d attempts, want 2", c)
	}
}

func TestNotifier_Alert_concurrentCalls(t *testing.T) {
	hook := newReceiver(t, nil)
	n := &Notifier{Enabled: true, Webhook: hook.URL, Slack: hook.URL}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := n.Alert(context.Background(), testEvent()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(hook.got()); got != 16 {
		t.Errorf("%d requests, want 16", got)
	}
}

// fakeSendmail writes a sendmail that saves its arguments and stdin in dir.
func fakeSendmail(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "sendmail")
	script := "#!/bin/sh\necho \"$@\" > '" + dir + "/args'\ncat > '" + dir + "/mail'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNotifier_Alert_emailThroughSendmailOnPath(t *testing.T) {
	dir := t.TempDir()
	fakeSendmail(t, dir)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	n := &Notifier{Enabled: true, Email: "ops@example.com"}
	if err := n.Alert(t.Context(), testEvent()); err != nil {
		t.Fatal(err)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil || !strings.Contains(string(args), "-t") {
		t.Errorf("sendmail args %q, %v", args, err)
	}
	mail, err := os.ReadFile(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	m := string(mail)
	for _, want := range []string{"To: ops@example.com\r\n", "Subject: git-backup: disk critical on /repo\r\n", "\r\n\r\ngit-backup: disk critical (was warning)"} {
		if !strings.Contains(m, want) {
			t.Errorf("mail lacks %q:\n%s", want, m)
		}
	}
}

func TestNotifier_Alert_sendmailFailing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sendmail")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho 'no route' >&2\nexit 75\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	n := &Notifier{Enabled: true, Email: "ops@example.com", Sendmail: p, Backoff: time.Millisecond}
	err := n.Alert(t.Context(), testEvent())
	if err == nil || !strings.Contains(err.Error(), "no route") {
		t.Fatalf("err = %v", err)
	}
}

func TestMailMessage_refusesHeaderInjection(t *testing.T) {
	if _, err := mailMessage("", "a@example.com\r\nBcc: b@example.com", "s", "b", time.Now()); err == nil {
		t.Error("an address with a line break was accepted")
	}
	m, err := mailMessage("", "a@example.com", "line\r\nBcc: x", "b", time.Now())
	if err != nil || strings.Contains(string(m), "\r\nBcc:") {
		t.Errorf("subject line break kept: %q, %v", m, err)
	}
}

// fakeSMTP is a loopback SMTP server that accepts one message and returns
// its envelope and data on the channel.
func fakeSMTP(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		var log strings.Builder
		fmt.Fprint(conn, "220 test ESMTP\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				ch <- log.String()
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				fmt.Fprint(conn, "250 test\r\n")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
				log.WriteString(strings.TrimSpace(line) + "\n")
				fmt.Fprint(conn, "250 ok\r\n")
			case cmd == "DATA":
				fmt.Fprint(conn, "354 go on\r\n")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					log.WriteString(l)
				}
				fmt.Fprint(conn, "250 queued\r\n")
			case cmd == "QUIT":
				fmt.Fprint(conn, "221 bye\r\n")
				ch <- log.String()
				return
			default:
				fmt.Fprint(conn, "502 no\r\n")
			}
		}
	}()
	return ln.Addr().String(), ch
}

func TestNotifier_Alert_emailThroughSMTP(t *testing.T) {
	addr, got := fakeSMTP(t)
	n := &Notifier{Enabled: true, Email: "Ops <ops@example.com>", SMTP: addr, Sendmail: "/nonexistent/sendmail"}
	if err := n.Alert(t.Context(), testEvent()); err != nil {
		t.Fatal(err)
	}
	m := <-got
	for _, want := range []string{"RCPT TO:<ops@example.com>", "MAIL FROM:<git-backup@", "To: Ops <ops@example.com>\r\n",
		"Subject: git-backup: disk critical on /repo\r\n", "git-backup: disk critical (was warning) on /repo"} {
		if !strings.Contains(m, want) {
			t.Errorf("SMTP session lacks %q:\n%s", want, m)
		}
	}
}
