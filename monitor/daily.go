package monitor

import (
	"context"
	"time"

	"github.com/git-backup/git-backup/transitions"
)

// ReportInterval is how often the monitor posts a repository's report, and
// the window that report covers.
const ReportInterval = 24 * time.Hour

// dailyReport posts the report of the last ReportInterval once a day, when
// the repository's policy has alerts on and a webhook to post to. The time
// is kept in monitor.json, so a restart neither repeats nor skips a day; the
// first day starts at the first cycle that could send one. A report that
// fails is logged and not retried before the next day: it never holds up
// the cleanup.
func (r *repoLoop) dailyReport(ctx context.Context, now time.Time) {
	p := r.s.Policy
	if r.o.Reporter == nil || !p.Alerts || (p.AlertWebhook == "" && p.SlackWebhook == "") {
		return
	}
	last := r.state.LastReport
	if last.IsZero() || last.After(now) {
		r.state.LastReport = now.UTC()
		return
	}
	if now.Sub(last) < ReportInterval {
		return
	}
	r.state.LastReport = now.UTC()
	rep, err := LoadReport(ctx, r.s, ReportInterval, now)
	if err != nil {
		r.log.Warn("daily report", "err", err)
		return
	}
	if err := r.o.Reporter.DailyReport(ctx, rep); err != nil {
		r.log.Warn("daily report", "err", err)
		return
	}
	r.log.Info("daily report sent")
}

// countBackups tells a BackupCounter how many backups each state holds,
// and returns the counts for the cycle's sample.
func (r *repoLoop) countBackups(ctx context.Context) map[string]int {
	v, err := r.s.LoadLight(ctx)
	if err != nil {
		r.log.Warn("count backups", "err", err)
		return nil
	}
	sum := transitions.Summarize(v)
	if bc, ok := r.o.Metrics.(BackupCounter); ok {
		bc.SetBackups(repoName(r.s), sum.States)
	}
	counts := make(map[string]int, len(sum.States))
	for st, c := range sum.States {
		counts[string(st)] = c.Count
	}
	return counts
}
