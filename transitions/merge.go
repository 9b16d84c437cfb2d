package transitions

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// MergeLogs is the sorted union of event logs, each distinct event once:
// sorted by Lamport clock, clone ID and encoded line (SortEvents). It is
// commutative, associative and idempotent, so clones that exchange logs in
// any order end with the same log.
func MergeLogs(logs ...[]gitstate.Event) []gitstate.Event {
	var all []gitstate.Event
	for _, l := range logs {
		all = append(all, l...)
	}
	SortEvents(all)
	return slices.CompactFunc(all, func(a, b gitstate.Event) bool { return bytes.Equal(a.Line(), b.Line()) })
}

// RemoteLimits bound what a remote's events may claim. The zero value means
// the defaults: one day ahead of now, a clock one million ahead of ours.
type RemoteLimits struct {
	Now       time.Time
	MaxAhead  time.Duration
	MaxJump   uint64
	LocalName string // how warnings name our side; "local" by default
}

func (l RemoteLimits) withDefaults() RemoteLimits {
	if l.Now.IsZero() {
		l.Now = time.Now()
	}
	if l.MaxAhead == 0 {
		l.MaxAhead = 24 * time.Hour
	}
	if l.MaxJump == 0 {
		l.MaxJump = 1_000_000
	}
	return l
}

// NoteMerge is the merge of one backup's local and remote notes.
type NoteMerge struct {
	Note     []byte   // the merged note
	Changed  bool     // Note differs from the local note
	Warnings []string // remote lines skipped, each naming the backup and line
}

// MergeNote merges a remote note into a local one. Remote lines that do not
// parse, events from the future (time beyond Now+MaxAhead, or a clock beyond
// the local log's highest plus MaxJump), and pin, unpin or forced moves that
// do not name their clone are skipped with a warning: never fatal, never
// applied. The merged note is every accepted event once, sorted; local lines
// that do not parse are kept at its end, for fsck to report.
func MergeNote(name string, local, remote []byte, lim RemoteLimits) NoteMerge {
	lim = lim.withDefaults()
	localEvs, localBad := gitstate.ParseNote(local)
	var top uint64
	for _, e := range localEvs {
		top = max(top, e.Clock)
	}
	remoteEvs, remoteBad := gitstate.ParseNote(remote)
	var m NoteMerge
	for _, le := range remoteBad {
		m.Warnings = append(m.Warnings, fmt.Sprintf("backup %s: remote line %d skipped: %v", name, le.Line, le.Err))
	}
	var ok []gitstate.Event
	for _, e := range remoteEvs {
		if why := refuseRemote(e, top, lim); why != "" {
			m.Warnings = append(m.Warnings, fmt.Sprintf("backup %s: remote %s event at clock %d from clone %q refused: %s", name, e.Kind, e.Clock, e.Clone, why))
			continue
		}
		ok = append(ok, e)
	}
	if hasCreate(remoteEvs) && !hasCreate(ok) && !hasCreate(localEvs) {
		// Without its creation event the note would only be damaged: leave
		// the remote's note out until a later merge accepts that event.
		m.Warnings = append(m.Warnings, fmt.Sprintf("backup %s: remote note skipped until its creation event is accepted", name))
		ok = nil
	}
	m.Note = gitstate.EncodeNote(MergeLogs(localEvs, ok))
	if len(localBad) > 0 {
		m.Note = append(m.Note, badLines(local)...)
	}
	m.Changed = !bytes.Equal(m.Note, local)
	return m
}

// hasCreate reports whether evs hold a creation event.
func hasCreate(evs []gitstate.Event) bool {
	return slices.ContainsFunc(evs, func(e gitstate.Event) bool { return e.Kind == gitstate.KindCreate })
}

// refuseRemote says why a remote event is not accepted ("" when it is).
func refuseRemote(e gitstate.Event, localTop uint64, lim RemoteLimits) string {
	switch {
	case e.Time.After(lim.Now.Add(lim.MaxAhead)):
		return fmt.Sprintf("its time %s is more than %s ahead of now", e.Time.UTC().Format(time.RFC3339), lim.MaxAhead)
	case e.Clock > localTop && e.Clock-localTop > lim.MaxJump: // not localTop+MaxJump, which can wrap
		return fmt.Sprintf("its clock jumps more than %d past this clone's %d", lim.MaxJump, localTop)
	case e.Clone == "" && (e.Kind == gitstate.KindPin || e.Kind == gitstate.KindUnpin || e.Forced):
		return "it does not say which clone made it"
	}
	return ""
}

// badLines returns the lines of note that do not parse, each with its newline.
func badLines(note []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(note, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if _, err := gitstate.ParseEvent(line); err != nil {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}
