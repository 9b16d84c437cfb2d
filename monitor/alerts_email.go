package monitor

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"os/exec"
	"strings"
	"time"
)

// sendmailPaths are where sendmail lives when it is not on PATH.
var sendmailPaths = []string{"/usr/sbin/sendmail", "/usr/lib/sendmail"}

// errNoSendmail means there is no local sendmail to hand the mail to.
var errNoSendmail = errors.New("no sendmail program found (install one, set backup.smtpServer, or unset backup.alertEmail)")

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

// mail sends a plain-text message to backup.alertEmail: through the SMTP
// server when one is configured, else through `sendmail -t`, which reads the
// recipients from the headers.
func (n *Notifier) mail(ctx context.Context, subject, body string) error {
	if n.SMTP != "" {
		return n.smtpMail(ctx, subject, body)
	}
	prog, err := n.sendmail()
	if err != nil {
		return err
	}
	msg, err := mailMessage("", n.Email, subject, body, time.Now())
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

// smtpMail hands the message to the SMTP server without authentication (a
// relay on the local network), upgrading to TLS when the server offers it.
// The context's deadline bounds the whole conversation.
func (n *Notifier) smtpMail(ctx context.Context, subject, body string) error {
	to, err := mail.ParseAddress(n.Email)
	if err != nil {
		return errPermanent{fmt.Errorf("alert email %q: %w", n.Email, err)}
	}
	host, _, err := net.SplitHostPort(n.SMTP)
	if err != nil {
		return errPermanent{fmt.Errorf("smtp server %q: %w", n.SMTP, err)}
	}
	hostname, err := os.Hostname()
	if err != nil || hostname == "" {
		hostname = "localhost"
	}
	from := "git-backup@" + hostname
	msg, err := mailMessage(from, n.Email, subject, body, time.Now())
	if err != nil {
		return errPermanent{err}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.SMTP)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	steps := []func() error{
		func() error { return c.Hello(hostname) },
		func() error {
			if ok, _ := c.Extension("STARTTLS"); ok {
				return c.StartTLS(&tls.Config{ServerName: host})
			}
			return nil
		},
		func() error { return c.Mail(from) },
		func() error { return c.Rcpt(to.Address) },
		func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := w.Write(msg); err != nil {
				w.Close()
				return err
			}
			return w.Close()
		},
		c.Quit,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
	}
	return nil
}

// mailMessage is an RFC 5322 message to to (from may be empty: sendmail
// fills it in). Header values may not hold line breaks: no header injection
// through a repository path.
func mailMessage(from, to, subject, body string, now time.Time) ([]byte, error) {
	if strings.ContainsAny(to+from, "\r\n") {
		return nil, fmt.Errorf("alert email address %q holds a line break", to)
	}
	subject = strings.NewReplacer("\r", " ", "\n", " ").Replace(subject)
	var b bytes.Buffer
	if from != "" {
		fmt.Fprintf(&b, "From: %s\r\n", from)
	}
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
