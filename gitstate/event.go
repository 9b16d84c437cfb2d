package gitstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event kinds in a state note.
const (
	KindCreate = "create" // the first event: the backup's creation fields
	KindMove   = "move"   // a state transition
	KindPin    = "pin"
	KindUnpin  = "unpin"
	KindCover  = "cover" // coverage observed (partial or full) without a move
)

// PathChange is one path a backup changed against its base.
type PathChange struct {
	Path     string `json:"path"`
	Blob     string `json:"blob,omitempty"`      // new blob (or gitlink commit); "" when deleted
	Mode     string `json:"mode,omitempty"`      // new mode in octal, "" when deleted
	BaseBlob string `json:"base_blob,omitempty"` // blob in the base; "" when added
	Size     int64  `json:"size"`                // bytes of the new content (of the old when deleted)
}

// Event is one line of a backup's state note. The note is the backup's event
// log; its current state is a fold of these lines (package transitions).
type Event struct {
	Kind    string    `json:"kind"`
	Time    time.Time `json:"time"`
	Clock   uint64    `json:"clock"` // Lamport clock of this backup's log
	Clone   string    `json:"clone"` // clone that wrote the event
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Trigger string    `json:"trigger,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Forced  bool      `json:"forced,omitempty"`

	CoveredBy string   `json:"covered_by,omitempty"`
	Coverage  *float64 `json:"coverage,omitempty"`
	Archive   string   `json:"archive,omitempty"`

	// Creation fields, on the create event only.
	ID             string       `json:"id,omitempty"`
	Snapshot       string       `json:"snapshot,omitempty"`
	Tree           string       `json:"tree,omitempty"`
	Base           string       `json:"base,omitempty"`
	Branch         string       `json:"branch,omitempty"`
	Message        string       `json:"message,omitempty"`
	IncludeIgnored bool         `json:"include_ignored,omitempty"`
	Files          int          `json:"files,omitempty"`
	SizeBytes      int64        `json:"size_bytes,omitempty"`
	Paths          []PathChange `json:"paths,omitempty"`
}

// Line is the event's canonical encoding: one JSON object, no newline.
func (e Event) Line() []byte {
	b, err := json.Marshal(e)
	if err != nil { // only unencodable floats could get here; Coverage is validated
		panic(fmt.Sprintf("encode event: %v", err))
	}
	return b
}

// LineError is a note line that could not be parsed.
type LineError struct {
	Line int    // 1-based
	Text string // the raw line, cut to 200 bytes
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ParseNote splits a note into events. Lines that do not parse are returned
// as LineErrors; the good lines are still returned, so one damaged line does
// not hide the rest of the log.
func ParseNote(data []byte) ([]Event, []LineError) {
	var evs []Event
	var bad []LineError
	n := 0
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		n++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		ev, err := ParseEvent(line)
		if err != nil {
			t := line
			if len(t) > 200 {
				t = t[:200]
			}
			bad = append(bad, LineError{Line: n, Text: string(t), Err: err})
			continue
		}
		evs = append(evs, ev)
	}
	return evs, bad
}

// ParseEvent parses and checks one note line.
func ParseEvent(line []byte) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("not a JSON event: %w", err)
	}
	if dec.More() {
		return Event{}, errors.New("trailing data after the event")
	}
	switch ev.Kind {
	case KindCreate:
		if ev.ID == "" || ev.Snapshot == "" {
			return Event{}, errors.New("create event without id or snapshot")
		}
	case KindMove:
		if ev.To == "" {
			return Event{}, errors.New("move event without a target state")
		}
	case KindPin, KindUnpin, KindCover:
	case "":
		return Event{}, errors.New("event without a kind")
	default:
		return Event{}, fmt.Errorf("unknown event kind %q", ev.Kind)
	}
	if ev.Time.IsZero() {
		return Event{}, errors.New("event without a time")
	}
	if y := ev.Time.UTC().Year(); y < 0 || y > 9999 {
		return Event{}, fmt.Errorf("event time %s outside years 0000–9999 in UTC", ev.Time.Format(time.RFC3339))
	}
	if ev.Coverage != nil && !(*ev.Coverage >= 0 && *ev.Coverage <= 1) {
		return Event{}, fmt.Errorf("coverage %v outside [0,1]", *ev.Coverage)
	}
	return ev, nil
}

// EncodeNote writes events as a note, one line each.
func EncodeNote(evs []Event) []byte {
	var b bytes.Buffer
	for _, e := range evs {
		b.Write(e.Line())
		b.WriteByte('\n')
	}
	return b.Bytes()
}
