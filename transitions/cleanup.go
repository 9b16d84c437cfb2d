package transitions

import (
	"context"
	"os"
	"path/filepath"

	"github.com/git-backup/git-backup/archive"
)

// Planner makes a plan from a view and the facts measured on it. Commands
// wrap PlanTime, PlanCleanup, PlanIDs or PlanEscalation in one, so Apply can
// plan again on a fresh view after losing a race.
type Planner func(v *View, f PlanFacts) Plan

// ApplyOptions tune Apply. The zero value means defaults.
type ApplyOptions struct {
	// Archiver writes and verifies archives; nil uses a new one.
	Archiver *archive.Archiver
	// Progress, when set, hears how far Apply is: the archive being written
	// (bytes done of total, both passes) and the moves committed.
	Progress func(ApplyProgress)
	// ArchiveDir overrides where archives go (see Store.ArchiveDir).
	ArchiveDir string
	// Level is the compression level; "" takes backup.compressionLevel.
	Level archive.Level
	// Replan plans again on the fresh view after a lost race. Its moves are
	// kept only where the confirmed plan had the same move (backup and
	// target state), so Apply never does more than was confirmed. When nil,
	// the confirmed moves are re-checked against the fresh view as they are.
	Replan Planner
}

// ApplyProgress is one report of Apply's progress.
type ApplyProgress struct {
	Phase string // "archive" while an archive is written, "commit" once the moves are committed
	ID    string // the backup being archived
	Done  int64  // bytes (archive) or moves (commit) done
	Total int64
}

// ArchiveWritten is an archive Apply put in place (or found and reused).
type ArchiveWritten struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Size   int64  `json:"size_bytes"` // bytes on disk
	Files  int    `json:"files"`
	Bytes  int64  `json:"content_bytes"` // bytes of the files, uncompressed
	Reused bool   `json:"reused"`        // it was already there and verified
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	// Plan is the plan as committed: the confirmed one, or what was left of
	// it after planning again on a fresh view.
	Plan     Plan             `json:"plan"`
	Moves    []PlannedMove    `json:"moves"` // the moves committed
	Archives []ArchiveWritten `json:"archives"`
	// RemovedArchives lists the archive files of backups moved to DELETED
	// that were removed after the commit.
	RemovedArchives []string `json:"removed_archives"`
	// Dropped lists confirmed moves that no longer applied on the fresh view.
	Dropped []Skip `json:"dropped"`
	// Warnings are problems after the commit that lost nothing (an archive
	// of a DELETED backup that could not be removed: fsck finds it).
	Warnings []string `json:"warnings"`
	// FreesBytes sums the committed moves' estimates.
	FreesBytes int64 `json:"frees_bytes"`
}

// ArchiveDir is where archives go: backup.archiveDir when set (a relative
// path is relative to the common git dir), else <git common dir>/backup/archive.
func (s *Store) ArchiveDir() string {
	d := s.Policy.ArchiveDir
	if d == "" {
		return filepath.Join(s.Repo.CommonDir, "backup", "archive")
	}
	if len(d) > 1 && d[0] == '~' && d[1] == '/' {
		if home, err := os.UserHomeDir(); err == nil {
			d = filepath.Join(home, d[2:])
		}
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(s.Repo.CommonDir, d)
	}
	return filepath.Clean(d)
}

// ArchivePath is where the archive of backup id lives in dir.
func ArchivePath(dir, id string) string { return filepath.Join(dir, id+".tar.zst") }

func (o ApplyOptions) archiveDir(s *Store) string {
	if o.ArchiveDir != "" {
		if abs, err := filepath.Abs(o.ArchiveDir); err == nil {
			return abs
		}
		return o.ArchiveDir
	}
	return s.ArchiveDir()
}

func (o ApplyOptions) report(p ApplyProgress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// Facts measures what the planner needs on v: coverage of every backup that
// is not DELETED, last access, which live backups already have a verified
// archive in archiveDir ("" for the default), and the size of every ARCHIVED
// backup's archive.
func (s *Store) Facts(ctx context.Context, v *View, archiveDir string) (PlanFacts, error) {
	if archiveDir == "" {
		archiveDir = s.ArchiveDir()
	}
	f := PlanFacts{Now: s.now(), Coverage: map[*Backup]float64{}, LastAccess: s.Repo.LastAccess(),
		ArchiveVerified: map[string]bool{}, ArchiveBytes: map[string]int64{}}
	var bs []*Backup
	for _, b := range v.Backups {
		if b.State != Deleted && b.State != "" {
			bs = append(bs, b)
		}
	}
	as, err := s.assess(v, bs, false)
	if err != nil {
		return f, err
	}
	for b, a := range as {
		if a.Coverage >= 0 {
			f.Coverage[b] = a.Coverage
		}
	}
	for _, b := range bs {
		if err := ctx.Err(); err != nil {
			return f, err
		}
		switch {
		case b.State == Archived && b.Archive != nil:
			if fi, err := os.Stat(*b.Archive); err == nil {
				f.ArchiveBytes[b.ID] = fi.Size()
			}
		case b.Live() && b.ID != "":
			p := ArchivePath(archiveDir, b.ID)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if m, err := archive.Verify(p); err == nil && m.Backup.Snapshot == b.Snapshot {
				f.ArchiveVerified[b.ID] = true
			}
		}
	}
	return f, nil
}

// Plan loads a fresh view, measures its facts and runs planner on them.
func (s *Store) Plan(ctx context.Context, planner Planner, archiveDir string) (Plan, *View, PlanFacts, error) {
	// Planning needs no event log: the fold cache keeps when each backup
	// entered its state. Apply loads in full what it moves.
	v, err := s.LoadLight(ctx)
	if err != nil {
		return Plan{}, nil, PlanFacts{}, err
	}
	f, err := s.Facts(ctx, v, archiveDir)
	if err != nil {
		return Plan{}, nil, PlanFacts{}, err
	}
	return planner(v, f), v, f, nil
}
