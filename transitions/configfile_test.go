package transitions

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseConfigFile(t *testing.T) {
	lines, err := ParseConfigFile([]byte(`# exported
backup.pendingTimeout = 36h

  backup.alertEmail = Ops <ops@example.com>
export MIN_BACKUP_AGE=7200
DISK_WARNING_THRESHOLD="70"
archiveDir = '/srv/backup archive'
backup.integrationBranch = ""
backup.alertWebhook = https://hooks.example.com/x#frag
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2 backup.pendingTimeout 1d12h",
		"4 backup.alertEmail Ops <ops@example.com>",
		"5 backup.minAge 2h",
		"6 backup.diskWarningThreshold 70",
		"7 backup.archiveDir /srv/backup archive",
		"8 backup.integrationBranch ",
		"9 backup.alertWebhook https://hooks.example.com/x#frag",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines: %+v", len(lines), lines)
	}
	for i, l := range lines {
		if got := strings.Join([]string{strconv.Itoa(l.Line), l.Key.Name, l.Value}, " "); got != want[i] {
			t.Errorf("line %d: got %q, want %q", i, got, want[i])
		}
	}
}

func TestParseConfigFile_everyBadLineIsReported(t *testing.T) {
	_, err := ParseConfigFile([]byte(`backup.pendingTimeout = 7d
backup.pendingTimout = 7d
backup.diskWarningThreshold = 120
just words
backup.pendingTimeout = 1d
backup.logLevel = "unterminated
`))
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("%v is not ErrInvalidConfig", err)
	}
	for _, want := range []string{
		`line 2: unknown key "backup.pendingTimout" (did you mean backup.pendingTimeout?)`,
		`line 3: backup.diskWarningThreshold = "120": must be a percentage from 1 to 99`,
		`line 4: "just words" is not key = value`,
		`line 5: backup.pendingTimeout is already set on line 1`,
		`line 6: backup.logLevel: bad quoting`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestFormatConfigLine_roundTrip(t *testing.T) {
	k, _ := LookupKey("archiveDir")
	for _, v := range []string{"", "/a/b", " padded ", `"quoted"`, "'single'", "a = b", "#hash", "with inner  spaces"} {
		line := FormatConfigLine(k.Name, v)
		ls, err := ParseConfigFile([]byte(line + "\n"))
		if err != nil || len(ls) != 1 {
			t.Errorf("%q → %q: %v", v, line, err)
			continue
		}
		want := strings.TrimSpace(v) // paths are trimmed when parsed
		if ls[0].Value != want {
			t.Errorf("%q → %q → %q", v, line, ls[0].Value)
		}
	}
}
