package main

import (
	"bufio"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/git-backup/git-backup/gitstate"
)

// wizardAnswers builds the input for askWizard: one line per question, in
// wizardGroups order, keyed by short name; questions not named get Enter.
func wizardAnswers(answers map[string][]string) string {
	var b strings.Builder
	for _, g := range wizardGroups {
		for _, name := range g {
			short := strings.TrimPrefix(name, "backup.")
			for _, a := range answers[short] {
				b.WriteString(a + "\n")
			}
			if len(answers[short]) == 0 {
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

func TestAskWizard_keepsDefaultsOnEnter(t *testing.T) {
	var out strings.Builder
	ws, err := askWizard(context.Background(), bufio.NewReader(strings.NewReader(wizardAnswers(nil))), &out, nil, "local")
	if err != nil || len(ws) != 0 {
		t.Fatalf("askWizard = %+v, %v", ws, err)
	}
	if !strings.Contains(out.String(), "pendingTimeout (PENDING → CLEANABLE when never merged) [7d]: ") {
		t.Errorf("prompt does not show the default:\n%s", out.String())
	}
}

func TestAskWizard_reasksBadValuesAndGroups(t *testing.T) {
	in := strings.Join([]string{
		"",                 // integrationBranch
		"?", "soon", "36h", // pendingTimeout: help, bad, good
		"", "", "", "", // confirmedTimeout … minAge
		"",                      // autoCleanupConfidence
		"120", "90", "", "", "", // thresholds: bad, then 90 above the critical 85
		"", "95", "98", "", // asked again: Enter keeps 90
		"", "", "", // maxSize, autosaveInterval, compressBeforeDelete
		"", "", "", "ops@example.com", // alerts …
	}, "\n") + "\n"
	var out strings.Builder
	es := []gitstate.ConfigEntry{{Scope: "global", Key: "backup.alertwebhook", Value: "https://hooks.example.com/secret"}}
	ws, err := askWizard(context.Background(), bufio.NewReader(strings.NewReader(in)), &out, es, "global")
	if err != nil {
		t.Fatalf("askWizard: %v\n%s", err, out.String())
	}
	got := map[string]string{}
	for _, w := range ws {
		if w.Scope != "global" {
			t.Errorf("%s written to %s", w.Key.Name, w.Scope)
		}
		got[w.Key.Short()] = strings.Join(w.Values, ",")
	}
	want := map[string]string{"pendingTimeout": "1d12h", "diskWarningThreshold": "90", "diskCriticalThreshold": "95", "diskEmergencyThreshold": "98", "alertEmail": "ops@example.com"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("writes = %v", got)
	}
	text := out.String()
	for _, s := range []string{
		"backup.pendingTimeout must be a duration",
		`"soon": must be a duration`,
		`"120": must be a percentage from 1 to 99`,
		"must be below backup.diskCriticalThreshold",
		"Please answer these again.\ndiskWarningThreshold (% of the disk used: warning level) [90]: ",
		"alertWebhook (URL that alerts are POSTed to as JSON) [<hidden>]: ",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("output does not say %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "hooks.example.com/secret") {
		t.Error("the wizard showed a secret")
	}
}

func TestAskWizard_endOfInput(t *testing.T) {
	var out strings.Builder
	_, err := askWizard(context.Background(), bufio.NewReader(strings.NewReader("\n\n")), &out, nil, "local")
	if !errors.Is(err, errNoAnswer) {
		t.Errorf("err = %v, want errNoAnswer", err)
	}
}
