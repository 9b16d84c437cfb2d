package transitions

import (
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// StateCount is how many backups are in a state and the bytes they changed.
type StateCount struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Summary is the store at a glance, for status.
type Summary struct {
	States      map[State]StateCount `json:"states"`
	Total       int                  `json:"total"`
	Pinned      int                  `json:"pinned"`
	Damaged     int                  `json:"damaged"`
	Transitions map[string]int       `json:"transitions"` // "FROM->TO" → count, forced moves included
	Forced      int                  `json:"forced"`
	LastCleanup *time.Time           `json:"last_cleanup"` // newest move to ARCHIVED or DELETED
}

// Summarize counts backups and transitions in a view.
func Summarize(v *View) Summary {
	s := Summary{States: map[State]StateCount{}, Transitions: map[string]int{}}
	for _, st := range States {
		s.States[st] = StateCount{}
	}
	for _, b := range v.Backups {
		if len(b.Damaged) > 0 {
			s.Damaged++
		}
		if b.State == "" {
			continue
		}
		s.Total++
		c := s.States[b.State]
		c.Count++
		c.Bytes += b.SizeBytes
		s.States[b.State] = c
		if b.Pinned {
			s.Pinned++
		}
		for _, e := range b.Events {
			if e.Kind != gitstate.KindMove {
				continue
			}
			s.Transitions[e.From+"->"+e.To]++
			if e.Forced {
				s.Forced++
			}
			if (e.To == string(Archived) || e.To == string(Deleted)) && (s.LastCleanup == nil || e.Time.After(*s.LastCleanup)) {
				t := e.Time.UTC()
				s.LastCleanup = &t
			}
		}
	}
	return s
}

// DiskLevel names the level a file system's usage has reached under p:
// ok, warning, critical or emergency.
func DiskLevel(usedPercent float64, p Policy) string {
	switch {
	case usedPercent >= p.DiskEmergencyThreshold:
		return "emergency"
	case usedPercent >= p.DiskCriticalThreshold:
		return "critical"
	case usedPercent >= p.DiskWarningThreshold:
		return "warning"
	}
	return "ok"
}
