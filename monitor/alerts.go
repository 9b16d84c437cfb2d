package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/git-backup/git-backup/transitions"
)

// Notifier is the Alerter of a running monitor: it POSTs each alert as JSON
// to backup.alertWebhook, as a Slack message to backup.slackWebhook, and mails
// it to backup.alertEmail through backup.smtpServer or the local sendmail.
// Channels are tried at the same time; each gets one attempt and, when that
// fails, one retry after Backoff, each attempt bounded by Timeout. Failures are logged and returned;
// the caller carries on either way. A Notifier is not changed by use, so
// Alert may be called from several goroutines.
type Notifier struct {
	Enabled bool   // backup.alerts
	Webhook string // backup.alertWebhook
	Slack   string // backup.slackWebhook
	Email   string // backup.alertEmail
	SMTP    string // backup.smtpServer: host:port; "": the local sendmail

	Client   *http.Client  // nil: a client without its own timeout (Timeout bounds each request)
	Timeout  time.Duration // per attempt; 0: 5 s
	Backoff  time.Duration // before the retry; 0: 1 s
	Sendmail string        // sendmail program; "": looked up when an email is due
	Log      *slog.Logger
}

// NewNotifier is the Notifier that policy p configures.
func NewNotifier(p transitions.Policy, log *slog.Logger) *Notifier {
	return &Notifier{Enabled: p.Alerts, Webhook: p.AlertWebhook, Slack: p.SlackWebhook, Email: p.AlertEmail, SMTP: p.SMTPServer, Log: log}
}

var _ Alerter = (*Notifier)(nil)

func (n *Notifier) timeout() time.Duration {
	if n.Timeout > 0 {
		return n.Timeout
	}
	return 5 * time.Second
}

func (n *Notifier) backoff() time.Duration {
	if n.Backoff > 0 {
		return n.Backoff
	}
	return time.Second
}

func (n *Notifier) client() *http.Client {
	if n.Client != nil {
		return n.Client
	}
	return http.DefaultClient
}

func (n *Notifier) log() *slog.Logger {
	if n.Log != nil {
		return n.Log
	}
	return slog.New(slog.DiscardHandler)
}

// AlertPayload is the JSON body POSTed to backup.alertWebhook for an alert.
type AlertPayload struct {
	Kind       string       `json:"kind"` // "alert"
	Level      string       `json:"level"`
	Previous   string       `json:"previous"`
	Repository string       `json:"repository"`
	Usage      UsagePayload `json:"usage"`
	Plan       PlanSummary  `json:"plan"`
	Time       string       `json:"time"` // RFC 3339, UTC
	Message    string       `json:"message"`
}

// UsagePayload is the disk part of an alert.
type UsagePayload struct {
	GitDirPercent  float64 `json:"git_dir_percent"`
	ArchivePercent float64 `json:"archive_percent"`
	GitDirPath     string  `json:"git_dir_path"`
	ArchivePath    string  `json:"archive_path"`
	FreeBytes      uint64  `json:"free_bytes"`
	HeldBytes      int64   `json:"held_bytes"`
	MaxSize        int64   `json:"max_size"` // 0: no cap
}

// Payload is e as the webhook receives it.
func (e Event) Payload() AlertPayload {
	return AlertPayload{
		Kind: "alert", Level: e.Level, Previous: e.Previous, Repository: e.Repo,
		Usage: UsagePayload{
			GitDirPercent: round1(e.Usage.UsedPercent), ArchivePercent: round1(e.ArchiveUsage.UsedPercent),
			GitDirPath: e.Usage.Path, ArchivePath: e.ArchiveUsage.Path, FreeBytes: e.Usage.FreeBytes,
			HeldBytes: e.HeldBytes, MaxSize: e.MaxSize,
		},
		Plan: e.Plan, Time: e.Time.UTC().Format(time.RFC3339), Message: e.Line(),
	}
}

// Line is the alert in one readable line (Slack, email subject and body).
func (e Event) Line() string {
	s := fmt.Sprintf("git-backup: disk %s (was %s) on %s: %.1f%% used", e.Level, e.Previous, e.Repo, e.Usage.UsedPercent)
	if e.ArchiveUsage.Path != "" && e.ArchiveUsage.Path != e.Usage.Path {
		s += fmt.Sprintf(", archive disk %.1f%%", e.ArchiveUsage.UsedPercent)
	}
	if e.MaxSize > 0 {
		s += fmt.Sprintf(", backups hold %s of %s", transitions.HumanBytes(e.HeldBytes), transitions.HumanBytes(e.MaxSize))
	}
	p := e.Plan
	if p.Moves > 0 || p.Promoted > 0 {
		s += fmt.Sprintf("; %d archived, %d deleted, %d promoted", p.Archived, p.Deleted, p.Promoted)
		if p.ReclaimedBytes > 0 {
			s += fmt.Sprintf(", %s freed", transitions.HumanBytes(p.ReclaimedBytes))
		}
		if !p.TargetReached {
			s += " (target not reached)"
		}
	}
	return s
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// Alert sends e on every configured channel and returns the failures joined;
// with alerts off it sends nothing.
func (n *Notifier) Alert(ctx context.Context, e Event) error {
	if !n.Enabled {
		return nil
	}
	p := e.Payload()
	return n.send(ctx, "alert", p, p.Message, "git-backup: disk "+e.Level+" on "+e.Repo, e.Line())
}

// send delivers one message on every configured channel at once.
func (n *Notifier) send(ctx context.Context, what string, payload any, line, subject, body string) error {
	type job struct {
		channel string
		do      func(context.Context) error
	}
	var jobs []job
	if n.Webhook != "" {
		data, err := json.Marshal(payload)
		if err != nil {
			return fmt.Errorf("encode %s: %w", what, err)
		}
		jobs = append(jobs, job{"webhook", func(ctx context.Context) error { return n.post(ctx, n.Webhook, data) }})
	}
	if n.Slack != "" {
		data, err := json.Marshal(map[string]string{"text": line})
		if err != nil {
			return fmt.Errorf("encode %s: %w", what, err)
		}
		jobs = append(jobs, job{"slack", func(ctx context.Context) error { return n.post(ctx, n.Slack, data) }})
	}
	if n.Email != "" {
		jobs = append(jobs, job{"email", func(ctx context.Context) error { return n.mail(ctx, subject, body) }})
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			if err := n.retry(ctx, j.do); err != nil {
				errs[i] = fmt.Errorf("send %s to %s: %w", what, j.channel, err)
				n.log().Warn("alert not delivered", "what", what, "channel", j.channel, "err", err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// errPermanent marks a failure that a retry cannot fix (the receiver
// refused the request).
type errPermanent struct{ error }

func (e errPermanent) Unwrap() error { return e.error }

// retry runs do, and once more after the backoff when it failed for a reason
// that may pass. Each attempt has its own timeout.
func (n *Notifier) retry(ctx context.Context, do func(context.Context) error) error {
	attempt := func() error {
		actx, cancel := context.WithTimeout(ctx, n.timeout())
		defer cancel()
		return do(actx)
	}
	err := attempt()
	var perm errPermanent
	if err == nil || errors.As(err, &perm) {
		return err
	}
	t := time.NewTimer(n.backoff())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return err
	case <-t.C:
	}
	if err2 := attempt(); err2 != nil {
		return fmt.Errorf("%w (after a retry; first attempt: %v)", err2, err)
	}
	return nil
}

// post sends data as JSON to url; any 2xx answer is success.
func (n *Notifier) post(ctx context.Context, url string, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return errPermanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "git-backup")
	resp, err := n.client().Do(req)
	if err != nil {
		return redactURL(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("status %q", resp.Status)
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
		return errPermanent{err}
	}
	return err
}

// redactURL drops the URL from a client error: webhook URLs are secrets
// (SPEC §6), and errors end up in logs.
func redactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if ue.Timeout() {
		return fmt.Errorf("%s: timed out: %w", ue.Op, ue.Err)
	}
	return fmt.Errorf("%s: %w", ue.Op, ue.Err)
}
