package monitor

import (
	"context"
	"fmt"

	"github.com/git-backup/git-backup/transitions"
)

// reportPayload is the daily report as the webhook receives it.
type reportPayload struct {
	Kind string `json:"kind"` // "daily_report"
	Report
}

// DailyReport POSTs r to backup.alertWebhook as JSON and its summary line to
// backup.slackWebhook, with the same timeouts and single retry as alerts.
// Nothing is sent with alerts off or no webhook configured.
func (n *Notifier) DailyReport(ctx context.Context, r Report) error {
	if !n.Enabled || (n.Webhook == "" && n.Slack == "") {
		return nil
	}
	webhooks := *n
	webhooks.Email = ""
	return webhooks.send(ctx, "daily report", reportPayload{"daily_report", r}, r.Line(), "", "")
}

// Line is the report in one readable line.
func (r Report) Line() string {
	moves := 0
	for _, t := range r.Transitions {
		moves += t.Count
	}
	s := fmt.Sprintf("git-backup: %s on %s: %d backups taken, %d moves, %s freed (%d archived, %d deleted), %d archives holding %s",
		r.Window, r.Repository, r.Created, moves, transitions.HumanBytes(r.Freed.Bytes), r.Freed.Archived, r.Freed.Deleted,
		r.Archives.Count, transitions.HumanBytes(r.Archives.Bytes))
	if r.Cleanup.Percent != nil {
		s += fmt.Sprintf(", %d of %d cleanup candidates done", r.Cleanup.Cleaned, r.Cleanup.Candidates)
	}
	if n := len(r.Disk); n > 0 {
		s += fmt.Sprintf(", disk %.1f%% used", r.Disk[n-1].GitDir)
	}
	return s
}
