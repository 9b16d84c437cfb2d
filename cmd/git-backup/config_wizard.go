package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type configWizardCmd struct {
	scopeFlags
	Yes bool `short:"y" help:"Accepted for uniformity; the wizard writes what you answered without asking again."`
}

func (c *configWizardCmd) Help() string {
	return `Asks for the main policies one by one on the terminal, showing each current
value in brackets: press Enter to keep it, type a new value to change it, ? to
see what is valid, or - to clear a branch, URL or email. A bad answer is asked
again. The answers are written to the local config (or the scope given) as one
change: git backup config rollback undoes it.

Exit status: 0 written (or nothing changed); 3 stdin is not a terminal, or the
input ended before the last question (nothing written).`
}

// wizardGroups are the questions, grouped so that keys checked against each
// other are answered together (and asked again together).
var wizardGroups = [][]string{
	{"backup.integrationBranch"},
	{"backup.pendingTimeout", "backup.confirmedTimeout", "backup.cleanableTimeout", "backup.archiveRetention", "backup.minAge"},
	{"backup.autoCleanupConfidence"},
	{"backup.diskWarningThreshold", "backup.diskCriticalThreshold", "backup.diskEmergencyThreshold", "backup.minFreeSpaceTarget"},
	{"backup.maxSize", "backup.autosaveInterval", "backup.compressBeforeDelete"},
	{"backup.alerts", "backup.alertWebhook", "backup.slackWebhook", "backup.alertEmail"},
}

// errNoAnswer is the input ending in the middle of the wizard.
var errNoAnswer = errors.New("no answer")

func (c *configWizardCmd) Run(ctx context.Context, a *App) error {
	if !a.stdinIsTerminal() {
		return fmt.Errorf("%w: config wizard asks questions and stdin is not a terminal (use git backup config set, template or import instead)", transitions.ErrRefused)
	}
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	es, err := r.ReadConfig(ctx)
	if err != nil {
		return err
	}
	if a.in == nil {
		a.in = bufio.NewReader(a.Stdin)
	}
	fmt.Fprintf(a.Stderr, "Policies for %s. Enter keeps the value in brackets; ? explains.\n", transitions.ScopeName(c.writeScope()))
	ws, err := askWizard(ctx, a.in, a.Stderr, es, c.writeScope())
	if errors.Is(err, errNoAnswer) {
		return fmt.Errorf("%w: config wizard: input ended before the last question; nothing written", transitions.ErrRefused)
	}
	if err != nil {
		return err
	}
	return a.applyConfig(ctx, "wizard", ws)
}

// askWizard asks wizardGroups' questions on out, reads the answers from in,
// and returns a write for every answer that changes a value. A group whose
// answers contradict each other (or the rest of the config) is asked again,
// with the rejected answers as the values Enter keeps.
func askWizard(ctx context.Context, in *bufio.Reader, out io.Writer, entries []gitstate.ConfigEntry, scope string) ([]transitions.ConfigWrite, error) {
	var ws []transitions.ConfigWrite
	for _, group := range wizardGroups {
		var rejected []transitions.ConfigWrite
		for {
			before := transitions.ProposeConfig(entries, ws)
			gws := slices.Clone(ws)
			for _, name := range group {
				k, _ := transitions.LookupKey(name)
				shown := transitions.ProposeConfig(entries, append(slices.Clone(gws), rejected...))
				v, err := askKey(ctx, in, out, k, effectiveValue(shown, k))
				if err != nil {
					return nil, err
				}
				if v != effectiveValue(before, k) {
					gws = append(gws, transitions.ConfigWrite{Scope: scope, Key: k, Values: []string{v}})
				}
			}
			if _, err := transitions.CheckWrites(entries, gws); err != nil {
				fmt.Fprintf(out, "  %v\n  Please answer these again.\n", err)
				rejected = gws[len(ws):]
				continue
			}
			ws = gws
			break
		}
	}
	return ws, nil
}

// effectiveValue is k's value in entries, or its default.
func effectiveValue(entries []gitstate.ConfigEntry, k *transitions.Key) string {
	for _, s := range transitions.Effective(entries) {
		if s.Key == k {
			return s.Value
		}
	}
	return k.Default()
}

// askKey asks for one key until the answer is valid, and returns it in
// canonical form; Enter returns cur.
func askKey(ctx context.Context, in *bufio.Reader, out io.Writer, k *transitions.Key, cur string) (string, error) {
	shown := cur
	if k.Secret && cur != "" {
		shown = hiddenValue
	}
	text := k.Kind() == "branch" || k.Kind() == "url" || k.Kind() == "email" || k.Kind() == "path"
	for {
		fmt.Fprintf(out, "%s (%s) [%s]: ", k.Short(), k.Help, shown)
		line, err := readLine(ctx, in)
		if err != nil {
			return "", err
		}
		ans := strings.TrimSpace(line)
		switch {
		case ans == "":
			return cur, nil
		case ans == "?":
			fmt.Fprintf(out, "  %s must be %s\n", k.Name, k.Range())
			continue
		case ans == "-" && text:
			ans = ""
		}
		v, err := k.Normalize(ans)
		if err != nil {
			fmt.Fprintf(out, "  %q: must be %s\n", ans, k.Range())
			continue
		}
		return v, nil
	}
}

// readLine reads one line, giving up when ctx is cancelled (Ctrl-C) or the
// input ends without one.
func readLine(ctx context.Context, in *bufio.Reader) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := in.ReadString('\n')
		ch <- result{line, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.err != nil && r.line == "" {
			if errors.Is(r.err, io.EOF) {
				return "", errNoAnswer
			}
			return "", fmt.Errorf("read answer: %w", r.err)
		}
		return r.line, nil
	}
}
