package monitor

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// Report is what happened to a repository's backups in a window: the moves
// by trigger and state, what the cleanups freed, the archives on disk, how
// many cleanup candidates were dealt with, and the disk trend.
type Report struct {
	Repository string    `json:"repository"`
	Window     string    `json:"window"` // "1d", "7d"
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`

	Created     int               `json:"created"` // backups taken in the window
	Transitions []TransitionCount `json:"transitions"`
	ByTrigger   map[string]int    `json:"by_trigger"`
	ByState     map[string]int    `json:"by_state"` // moves into each state
	Forced      int               `json:"forced"`

	Freed    Freed         `json:"freed"`
	Archives ArchiveTotals `json:"archives"`
	Cleanup  Effectiveness `json:"cleanup"`
	Disk     []DiskPoint   `json:"disk"` // oldest first; the history keeps 24 hours
}

// TransitionCount is how many moves of one kind the window saw.
type TransitionCount struct {
	Trigger string `json:"trigger"`
	From    string `json:"from"`
	To      string `json:"to"`
	Count   int    `json:"count"`
}

// Freed is what cleanups released in the window: backups that left a live
// state for ARCHIVED or DELETED, each counted once with its size_bytes.
type Freed struct {
	Bytes           int64 `json:"bytes"`
	Archived        int   `json:"archived"`
	ArchivedBytes   int64 `json:"archived_bytes"`
	Deleted         int   `json:"deleted"`
	DeletedBytes    int64 `json:"deleted_bytes"`
	ArchivesDeleted int   `json:"archives_deleted"` // ARCHIVED → DELETED
}

// ArchiveTotals counts the archive files of ARCHIVED backups found on disk.
type ArchiveTotals struct {
	Count   int   `json:"count"`
	Bytes   int64 `json:"bytes"`
	Missing int   `json:"missing"` // named by the state, not on disk (fsck says more)
}

// Effectiveness compares the backups that were cleanup candidates in the
// window (CLEANABLE at its start, or made CLEANABLE during it) with those of
// them that were archived or deleted before its end.
type Effectiveness struct {
	Candidates     int      `json:"candidates"`
	Cleaned        int      `json:"cleaned"`
	StillCleanable int      `json:"still_cleanable"`
	Percent        *float64 `json:"percent"` // null without candidates
}

// ReportInput is what BuildReport works from.
type ReportInput struct {
	Repository string
	Backups    []*transitions.Backup // loaded in full: their events are read
	Disk       []DiskPoint
	Archives   ArchiveTotals
	Now        time.Time
	Since      time.Duration
}

// BuildReport computes the report of the window (Now-Since, Now]. It reads
// only event times, so it gives the same answer on every clone that holds
// the same events.
func BuildReport(in ReportInput) Report {
	from, to := in.Now.Add(-in.Since).UTC(), in.Now.UTC()
	r := Report{Repository: in.Repository, Window: transitions.FormatDuration(in.Since), From: from, To: to,
		ByTrigger: map[string]int{}, ByState: map[string]int{}, Archives: in.Archives, Disk: []DiskPoint{}}
	inWindow := func(t time.Time) bool { return t.After(from) && !t.After(to) }
	counts := map[TransitionKey]int{}
	for _, b := range in.Backups {
		var state string // before the window, then as the events go
		candidate, cleaned, freed := false, false, ""
		for _, e := range b.Events {
			switch {
			case e.Kind == gitstate.KindCreate:
				if !e.Time.After(from) {
					state = string(transitions.Created)
				} else if inWindow(e.Time) {
					r.Created++
				}
				continue
			case e.Kind != gitstate.KindMove:
				continue
			case !e.Time.After(from):
				state = e.To
				continue
			case !inWindow(e.Time):
				continue
			}
			if state == string(transitions.Cleanable) {
				candidate = true // CLEANABLE when the window opened, or made so since
			}
			counts[TransitionKey{e.Trigger, e.From, e.To}]++
			r.ByTrigger[e.Trigger]++
			r.ByState[e.To]++
			if e.Forced {
				r.Forced++
			}
			live := transitions.State(e.From).Live()
			switch {
			case e.To == string(transitions.Cleanable):
				candidate = true
			case live && (e.To == string(transitions.Archived) || e.To == string(transitions.Deleted)):
				if freed == "" {
					freed = e.To
				}
				if e.From == string(transitions.Cleanable) && candidate {
					cleaned = true
				}
			case e.From == string(transitions.Archived) && e.To == string(transitions.Deleted):
				r.Freed.ArchivesDeleted++
			}
			state = e.To
		}
		if state == string(transitions.Cleanable) && !candidate {
			candidate = true // CLEANABLE all through the window
		}
		if candidate {
			r.Cleanup.Candidates++
			if cleaned {
				r.Cleanup.Cleaned++
			}
			if state == string(transitions.Cleanable) {
				r.Cleanup.StillCleanable++
			}
		}
		switch freed {
		case string(transitions.Archived):
			r.Freed.Archived++
			r.Freed.ArchivedBytes += b.SizeBytes
		case string(transitions.Deleted):
			r.Freed.Deleted++
			r.Freed.DeletedBytes += b.SizeBytes
		}
	}
	r.Freed.Bytes = r.Freed.ArchivedBytes + r.Freed.DeletedBytes
	if r.Cleanup.Candidates > 0 {
		p := float64(r.Cleanup.Cleaned) * 100 / float64(r.Cleanup.Candidates)
		r.Cleanup.Percent = &p
	}
	r.Transitions = sortedCounts(counts)
	for _, p := range in.Disk {
		if inWindow(p.Time) {
			r.Disk = append(r.Disk, p)
		}
	}
	return r
}

// sortedCounts orders transition counts by trigger, then by the lifecycle
// order of their states.
func sortedCounts(counts map[TransitionKey]int) []TransitionCount {
	order := func(s string) int {
		if i := slices.Index(transitions.States, transitions.State(s)); i >= 0 {
			return i
		}
		return len(transitions.States)
	}
	out := []TransitionCount{}
	for _, k := range slices.Collect(maps.Keys(counts)) {
		out = append(out, TransitionCount{Trigger: k.Trigger, From: k.From, To: k.To, Count: counts[k]})
	}
	slices.SortFunc(out, func(a, b TransitionCount) int {
		return cmp.Or(cmp.Compare(a.Trigger, b.Trigger), cmp.Compare(order(a.From), order(b.From)),
			cmp.Compare(order(a.To), order(b.To)), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

// ArchiveTotalsOf measures the archive files that ARCHIVED backups name.
func ArchiveTotalsOf(bs []*transitions.Backup) ArchiveTotals {
	var t ArchiveTotals
	seen := map[string]bool{}
	for _, b := range bs {
		if b.State != transitions.Archived || b.Archive == nil || seen[*b.Archive] {
			continue
		}
		seen[*b.Archive] = true
		if n, ok := gitstate.FileSize(*b.Archive); ok {
			t.Count++
			t.Bytes += n
		} else {
			t.Missing++
		}
	}
	return t
}

// LoadReport reads the store and the disk history and builds the report of
// the last since, as of now.
func LoadReport(ctx context.Context, s *transitions.Store, since time.Duration, now time.Time) (Report, error) {
	if since <= 0 {
		return Report{}, fmt.Errorf("report window %q: must be positive", since)
	}
	v, err := s.Load(ctx)
	if err != nil {
		return Report{}, err
	}
	h := &History{Repo: s.Repo, Now: func() time.Time { return now }}
	disk, err := h.Read()
	if err != nil {
		return Report{}, err
	}
	repo := s.Repo.WorkTree
	if repo == "" {
		repo = s.Repo.CommonDir
	}
	return BuildReport(ReportInput{Repository: repo, Backups: v.Backups, Disk: disk,
		Archives: ArchiveTotalsOf(v.Backups), Now: now, Since: since}), nil
}
