package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"os/exec"
	"strings"
	"time"
)

// sendmailPaths are where sendmail lives when it is not on PATH.
var sendmailPaths = []string{"/usr/sbin/sendmail", "/usr/lib/sendmail"}

// errNoSendmail means there is no local sendmail to hand the mail to.
var errNoSendmail = errors.New("no sendmail program found (install one, or unset backup.alertEmail)")

// sendmail finds the program that delivers mail.
func (n *Notifier) sendmail() (string, error) {
	if n.Sendmail != "" {
		return n.Sendmail, nil
	}
	if p, err := exec.LookPath("sendmail"); err == nil {
		return p, nil
	}
	for _, p := range sendmailPaths {
		if lp, err := exec.LookPath(p); err == nil {
			return lp, nil
		}
	}
	return "", errPermanent{errNoSendmail}
}

// mail hands a plain-text message to `sendmail -t`, which reads the
// recipients from the headers.
func (n *Notifier) mail(ctx context.Context, subject, body string) error {
	prog, err := n.sendmail()
	if err != nil {
		return err
	}
	msg, err := mailMessage(n.Email, subject, body, time.Now())
	if err != nil {
		return errPermanent{err}
	}
	cmd := exec.CommandContext(ctx, prog, "-t", "-i")
	cmd.Stdin = bytes.NewReader(msg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("sendmail: %w: %s", err, msg)
		}
		return fmt.Errorf("sendmail: %w", err)
	}
	return nil
}

// mailMessage is an RFC 5322 message to to; header values may not hold
// line breaks (no header injection through a repository path).
func mailMessage(to, subject, body string, now time.Time) ([]byte, error) {
	if strings.ContainsAny(to, "\r\n") {
		return nil, fmt.Errorf("alert email address %q holds a line break", to)
	}
	subject = strings.NewReplacer("\r", " ", "\n", " ").Replace(subject)
	var b bytes.Buffer
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.TrimRight(body, "\n"), "\n", "\r\n"))
	b.WriteString("\r\n")
	return b.Bytes(), nil
}
