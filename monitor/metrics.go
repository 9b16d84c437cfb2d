package monitor

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/git-backup/git-backup/transitions"
)

// Recorder is the Metrics of a running monitor: it appends each cycle's
// sample to the repository's disk-usage history, counts the moves the cycles
// applied, and keeps the latest figures for ServeMetrics. It is safe for
// concurrent use: the loop records while the metrics endpoint reads.
type Recorder struct {
	// History returns the disk-usage history of a repository (Sample.Repo);
	// nil, or a nil result, keeps no history on disk.
	History func(repo string) *History
	Log     *slog.Logger

	mu    sync.Mutex
	repos map[string]*repoMetrics
}

type repoMetrics struct {
	last        Sample
	bytes       map[string]int64         // by state, from SetBackups
	counts      map[string]int           // by state, from SetBackups
	transitions map[TransitionKey]uint64 // since the monitor started
}

// TransitionKey groups moves for counting.
type TransitionKey struct {
	Trigger string `json:"trigger"`
	From    string `json:"from"`
	To      string `json:"to"`
}

func (r *Recorder) repo(name string) *repoMetrics {
	if r.repos == nil {
		r.repos = map[string]*repoMetrics{}
	}
	m := r.repos[name]
	if m == nil {
		m = &repoMetrics{transitions: map[TransitionKey]uint64{}}
		r.repos[name] = m
	}
	return m
}

func (r *Recorder) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Record keeps s as the repository's latest sample and appends it to its
// history. A history that cannot be written is logged: metrics never stop a
// cycle.
func (r *Recorder) Record(s Sample) {
	r.mu.Lock()
	r.repo(s.Repo).last = s
	r.mu.Unlock()
	if r.History == nil {
		return
	}
	if h := r.History(s.Repo); h != nil {
		if err := h.Append(PointOf(s)); err != nil {
			r.log().Warn("record disk history", "repo", s.Repo, "err", err)
		}
	}
}

// Transitions counts the moves a cycle applied.
func (r *Recorder) Transitions(ts []Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range ts {
		r.repo(t.Repo).transitions[TransitionKey{t.Trigger, t.From, t.To}]++
	}
}

// SetBackups records the backups by state and the bytes they hold
// (transitions.Summary.States), for the bytes-by-state gauge; counts from
// Sample.Backups are used when this is never called.
func (r *Recorder) SetBackups(repo string, states map[transitions.State]transitions.StateCount) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.repo(repo)
	m.bytes, m.counts = map[string]int64{}, map[string]int{}
	for st, c := range states {
		m.bytes[string(st)], m.counts[string(st)] = c.Bytes, c.Count
	}
}

// RepoMetrics is one repository's figures at a moment.
type RepoMetrics struct {
	Repo        string
	LastCycle   time.Time // zero before the first sample
	Level       string
	DiskPercent map[string]float64 // by file system: git_dir, archive, root
	HeldBytes   int64
	Backups     map[string]int   // by state
	Bytes       map[string]int64 // by state; nil when unknown
	Transitions map[TransitionKey]uint64
}

// MetricsSource gives the figures that ServeMetrics exports at each scrape.
type MetricsSource interface {
	Snapshot() []RepoMetrics
}

// Snapshot returns a copy of every repository's figures, sorted by repository.
func (r *Recorder) Snapshot() []RepoMetrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RepoMetrics
	for _, name := range slices.Sorted(maps.Keys(r.repos)) {
		m := r.repos[name]
		rm := RepoMetrics{Repo: name, LastCycle: m.last.Time, Level: m.last.Level, HeldBytes: m.last.HeldBytes,
			Transitions: maps.Clone(m.transitions), DiskPercent: map[string]float64{}}
		if !m.last.Time.IsZero() {
			rm.DiskPercent["git_dir"] = m.last.GitDirUsed
			rm.DiskPercent["archive"] = m.last.ArchiveUsed
			if m.last.RootUsed >= 0 {
				rm.DiskPercent["root"] = m.last.RootUsed
			}
		}
		rm.Backups = maps.Clone(m.counts)
		if rm.Backups == nil {
			rm.Backups = maps.Clone(m.last.Backups)
		}
		rm.Bytes = maps.Clone(m.bytes)
		out = append(out, rm)
	}
	return out
}
