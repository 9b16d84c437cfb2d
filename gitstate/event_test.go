package gitstate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleEvents() []Event {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 123_000_000, time.UTC)
	cov := 0.5
	return []Event{
		{Kind: KindCreate, Time: t0, Clock: 1, Clone: "0123456789abcdef", To: "CREATED", Trigger: "user",
			ID: "20260301-100000-abcdef1", Snapshot: "abcdef1234567890abcdef1234567890abcdef12", Tree: EmptyTreeID,
			Base: "1111111111111111111111111111111111111111", Branch: "main", Message: "ünïcode \"quoted\"\nsecond line",
			IncludeIgnored: true, Files: 2, SizeBytes: 42,
			Paths: []PathChange{
				{Path: "a b.txt", Blob: "2222222222222222222222222222222222222222", Mode: "100644", BaseBlob: "3333333333333333333333333333333333333333", Size: 40},
				{Path: "gone", BaseBlob: "4444444444444444444444444444444444444444", Size: 2},
			}},
		{Kind: KindCover, Time: t0.Add(time.Minute), Clock: 2, Clone: "0123456789abcdef", Trigger: "hook", Coverage: &cov, CoveredBy: "5555555555555555555555555555555555555555"},
		{Kind: KindMove, Time: t0.Add(2 * time.Minute), Clock: 3, Clone: "fedcba9876543210", From: "CREATED", To: "PENDING", Trigger: "hook", Reason: "commit covers it"},
		{Kind: KindPin, Time: t0.Add(3 * time.Minute), Clock: 4, Clone: "fedcba9876543210", Trigger: "user"},
		{Kind: KindMove, Time: t0.Add(4 * time.Minute), Clock: 5, Clone: "fedcba9876543210", From: "PENDING", To: "DELETED", Trigger: "user", Forced: true},
		{Kind: KindUnpin, Time: t0.Add(5 * time.Minute), Clock: 6, Clone: "0123456789abcdef", Trigger: "user"},
	}
}

func TestEncodeNote_roundTripKeepsEveryField(t *testing.T) {
	evs := sampleEvents()
	note := EncodeNote(evs)
	if n := bytes.Count(note, []byte("\n")); n != len(evs) {
		t.Fatalf("note has %d lines, want %d:\n%s", n, len(evs), note)
	}
	got, bad := ParseNote(note)
	if len(bad) != 0 {
		t.Fatalf("ParseNote reported damage in its own encoding: %v", bad)
	}
	if len(got) != len(evs) {
		t.Fatalf("got %d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		if !bytes.Equal(got[i].Line(), evs[i].Line()) {
			t.Errorf("event %d changed in the round trip:\n got %s\nwant %s", i, got[i].Line(), evs[i].Line())
		}
		if !got[i].Time.Equal(evs[i].Time) {
			t.Errorf("event %d time %v, want %v", i, got[i].Time, evs[i].Time)
		}
	}
	if got[0].Paths[0].Path != "a b.txt" || got[0].Message != evs[0].Message || !got[0].IncludeIgnored {
		t.Errorf("creation fields lost: %+v", got[0])
	}
	if got[1].Coverage == nil || *got[1].Coverage != 0.5 {
		t.Errorf("coverage lost: %v", got[1].Coverage)
	}
	if !got[4].Forced {
		t.Errorf("forced flag lost")
	}
}

func TestEncodeNote_oneLinePerEventEvenWithNewlinesInFields(t *testing.T) {
	evs := sampleEvents()[:1]
	line := evs[0].Line()
	if bytes.ContainsAny(line, "\n\r") {
		t.Fatalf("Line contains a line break: %q", line)
	}
}

func TestParseNote_damagedLinesReportedGoodLinesKept(t *testing.T) {
	evs := sampleEvents()
	var b bytes.Buffer
	b.Write(evs[0].Line())
	b.WriteString("\n")
	b.WriteString("{not json\n") // line 2
	b.WriteString("\n")          // line 3: blank, skipped silently
	b.Write(evs[2].Line())       // line 4
	b.WriteString("\r\n")
	b.WriteString(`{"kind":"teleport","time":"2026-03-01T10:00:00Z"}` + "\n") // line 5
	b.WriteString(`{"kind":"move","time":"2026-03-01T10:00:00Z"}` + "\n")     // line 6: no target
	b.WriteString(`{"kind":"pin"}` + "\n")                                    // line 7: no time
	b.WriteString(`{"kind":"cover","time":"2026-03-01T10:00:00Z","coverage":1.5}` + "\n")
	b.WriteString(`{"kind":"create","time":"2026-03-01T10:00:00Z","id":"x"}` + "\n") // no snapshot
	b.WriteString(`{"kind":"pin","time":"2026-03-01T10:00:00Z"} {"kind":"pin"}` + "\n")
	b.WriteString(`{"time":"2026-03-01T10:00:00Z"}` + "\n")
	b.WriteString(strings.Repeat("x", 500) + "\n")
	b.Write(evs[3].Line()) // last line without newline

	got, bad := ParseNote(b.Bytes())
	if len(got) != 3 {
		t.Fatalf("kept %d events, want 3 (lines 1, 4 and the last)", len(got))
	}
	for i, want := range []Event{evs[0], evs[2], evs[3]} {
		if !bytes.Equal(got[i].Line(), want.Line()) {
			t.Errorf("event %d: got %s, want %s", i, got[i].Line(), want.Line())
		}
	}
	wantLines := []int{2, 5, 6, 7, 8, 9, 10, 11, 12}
	if len(bad) != len(wantLines) {
		t.Fatalf("got %d damaged lines %v, want lines %v", len(bad), bad, wantLines)
	}
	for i, le := range bad {
		if le.Line != wantLines[i] {
			t.Errorf("damage %d at line %d, want %d (%v)", i, le.Line, wantLines[i], le)
		}
		if le.Err == nil || !strings.Contains(le.Error(), "line ") {
			t.Errorf("damage %d has no explanation: %v", i, le)
		}
		if len(le.Text) > 200 {
			t.Errorf("damage %d keeps %d bytes of text, want at most 200", i, len(le.Text))
		}
	}
}

func TestParseEvent_rejectsTimesThatCannotBeWrittenInUTC(t *testing.T) {
	for _, line := range []string{
		`{"kind":"pin","time":"0000-01-01T00:30:00+01:00"}`,
		`{"kind":"pin","time":"9999-12-31T23:30:00-01:00"}`,
	} {
		if ev, err := ParseEvent([]byte(line)); err == nil {
			t.Errorf("ParseEvent(%s) accepted time %v, which is outside years 0–9999 in UTC", line, ev.Time.UTC())
		}
	}
	if _, err := ParseEvent([]byte(`{"kind":"pin","time":"2026-01-01T00:30:00+01:00"}`)); err != nil {
		t.Errorf("a time with an offset was refused: %v", err)
	}
}

// checkNoteRoundTrip is the invariant FuzzParseNote checks: every event
// ParseNote returns encodes to a line that parses back to the same event, and
// its time can be written in UTC (as every JSON output does).
func checkNoteRoundTrip(t *testing.T, data []byte) {
	evs, bad := ParseNote(data)
	nonBlank := 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			nonBlank++
		}
	}
	if len(evs)+len(bad) != nonBlank {
		t.Fatalf("%d events + %d damaged lines, but the note has %d non-blank lines", len(evs), len(bad), nonBlank)
	}
	for _, e := range evs {
		line := e.Line()
		again, err := ParseEvent(line)
		if err != nil {
			t.Fatalf("re-encoded event %s does not parse: %v", line, err)
		}
		if !bytes.Equal(again.Line(), line) {
			t.Fatalf("re-encoded event changed:\n first %s\nsecond %s", line, again.Line())
		}
		if _, err := json.Marshal(e.Time.UTC()); err != nil {
			t.Fatalf("event time %v cannot be written in UTC: %v", e.Time, err)
		}
	}
	for _, le := range bad {
		if le.Err == nil || le.Line < 1 {
			t.Fatalf("damaged line without line number or error: %+v", le)
		}
	}
	// A note re-encoded from the good events parses without damage to the same events.
	evs2, bad2 := ParseNote(EncodeNote(evs))
	if len(bad2) != 0 || len(evs2) != len(evs) {
		t.Fatalf("re-encoded note: %d events, %d damaged; want %d, 0", len(evs2), len(bad2), len(evs))
	}
}

func FuzzParseNote(f *testing.F) {
	f.Add(EncodeNote(sampleEvents()))
	f.Add([]byte("{not json\n"))
	f.Add([]byte(`{"kind":"pin","time":"2026-03-01T10:00:00Z"}` + "\n" + `{"kind":"move","to":"PENDING","time":"2026-03-01T10:00:00+02:00","coverage":0.25}`))
	f.Add([]byte(`{"kind":"cover","time":"2026-03-01T10:00:00Z","coverage":1e309}`))
	f.Add([]byte(`{"KIND":"pin","Time":"2026-03-01T10:00:00Z","clock":18446744073709551615}`))
	f.Add([]byte("\r\n\n  \t\n"))
	f.Fuzz(checkNoteRoundTrip)
}
