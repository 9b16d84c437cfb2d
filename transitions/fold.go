package transitions

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// Backup is a backup's current view: its creation fields and the fold of its
// event log. The JSON form is SPEC §5's backup object.
type Backup struct {
	ID        string    `json:"id"`
	State     State     `json:"state"`
	Snapshot  string    `json:"snapshot"`
	Base      *string   `json:"base"`
	Branch    *string   `json:"branch"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Trigger   string    `json:"trigger"`
	Message   string    `json:"message"`
	Files     int       `json:"files"`
	SizeBytes int64     `json:"size_bytes"`
	// Confidence is set by Assess; it depends on the repository's facts.
	Confidence float64 `json:"confidence"`
	Pinned     bool    `json:"pinned"`
	CoveredBy  *string `json:"covered_by"`
	Archive    *string `json:"archive"`

	Tree           string                `json:"-"`
	IncludeIgnored bool                  `json:"-"`
	Paths          []gitstate.PathChange `json:"-"`
	// Coverage last recorded in the log (by a hook or the monitor), -1 if never.
	RecordedCoverage float64          `json:"-"`
	Events           []gitstate.Event `json:"-"`
	// Damaged lists problems with the log: unparsable lines, no creation event,
	// moves that were not legal when folded.
	Damaged []string `json:"-"`
	// Ignored counts events that did not apply (an illegal move from a merge).
	Ignored  int    `json:"-"`
	NoteBlob string `json:"-"`
	// TestPaths counts the changed paths that look like tests (a confidence factor).
	TestPaths int `json:"-"`
	// Light backups come from the fold cache without Events and Paths;
	// View.Full loads them.
	Light bool `json:"-"`
	// since is StateSince of a light backup, kept by the fold cache.
	since time.Time
}

// Live reports whether the backup's snapshot ref should exist.
func (b *Backup) Live() bool { return b.State.Live() }

// SortEvents orders a log deterministically: by Lamport clock, then clone, then
// the encoded line. Every clone that holds the same events sorts them the same.
func SortEvents(evs []gitstate.Event) {
	type keyed struct {
		e    gitstate.Event
		line []byte
	}
	ks := make([]keyed, len(evs))
	for i, e := range evs {
		ks[i] = keyed{e, e.Line()}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch {
		case a.e.Clock != b.e.Clock:
			if a.e.Clock < b.e.Clock {
				return -1
			}
			return 1
		case a.e.Clone != b.e.Clone:
			return strings.Compare(a.e.Clone, b.e.Clone)
		}
		return bytes.Compare(a.line, b.line)
	})
	for i := range ks {
		evs[i] = ks[i].e
	}
}

// Fold computes a backup's view from its event log. snapshot is the note's
// path (the snapshot commit). The events may arrive in any order; they are
// sorted first, so the result depends only on the set of events.
func Fold(snapshot string, evs []gitstate.Event, bad []gitstate.LineError) *Backup {
	evs = slices.Clone(evs)
	SortEvents(evs)
	evs = slices.CompactFunc(evs, func(a, b gitstate.Event) bool { return bytes.Equal(a.Line(), b.Line()) })
	b := &Backup{Snapshot: snapshot, RecordedCoverage: -1, Events: evs}
	for _, le := range bad {
		b.Damaged = append(b.Damaged, "unreadable event at "+le.Error())
	}
	created := false
	for _, e := range evs {
		if e.Kind == gitstate.KindCreate {
			if created {
				continue
			}
			if e.Snapshot != snapshot {
				// Another backup's log (a note copied by hand or a damaged
				// tree): taking its ID would make two backups answer to it.
				b.Damaged = append(b.Damaged, "creation event names snapshot "+e.Snapshot+", the note is at "+snapshot)
				continue
			}
			created = true
			b.ID, b.State, b.CreatedAt, b.UpdatedAt = e.ID, Created, e.Time.UTC(), e.Time.UTC()
			if e.Base != "" {
				b.Base = ptr(e.Base)
			}
			if e.Branch != "" {
				b.Branch = ptr(e.Branch)
			}
			b.Trigger, b.Message, b.Files, b.SizeBytes = e.Trigger, e.Message, e.Files, e.SizeBytes
			b.Tree, b.IncludeIgnored, b.Paths = e.Tree, e.IncludeIgnored, e.Paths
			b.TestPaths = countTestPaths(b)
			continue
		}
		if !created {
			b.Ignored++
			continue
		}
		switch e.Kind {
		case gitstate.KindPin:
			b.Pinned = true
		case gitstate.KindUnpin:
			b.Pinned = false
		case gitstate.KindCover:
			if e.Coverage != nil {
				b.RecordedCoverage = *e.Coverage
			}
			if e.CoveredBy != "" {
				b.CoveredBy = ptr(e.CoveredBy)
			}
		case gitstate.KindMove:
			to := State(e.To)
			if !known(to) {
				b.Damaged = append(b.Damaged, fmt.Sprintf("move to unknown state %q at clock %d", e.To, e.Clock))
				b.Ignored++
				continue
			}
			if err := CheckMove(b.State, to, e.Forced, b.Pinned, Trigger(e.Trigger)); err != nil {
				b.Ignored++
				continue
			}
			if b.State == Archived && to != Deleted {
				b.Archive = nil // unarchived: live again
			}
			b.State = to
			if e.CoveredBy != "" {
				b.CoveredBy = ptr(e.CoveredBy)
			}
			if e.Coverage != nil {
				b.RecordedCoverage = *e.Coverage
			}
			if e.Archive != "" {
				b.Archive = ptr(e.Archive)
			}
		}
		b.UpdatedAt = e.Time.UTC()
	}
	if !created {
		b.Damaged = append(b.Damaged, "no creation event")
		b.State = ""
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// NextClock is the Lamport clock for a new event in b's log.
func (b *Backup) NextClock() uint64 {
	var m uint64
	for _, e := range b.Events {
		m = max(m, e.Clock)
	}
	return m + 1
}
