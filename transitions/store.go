package transitions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// ErrGaveUp is returned when a batch lost the compare-and-swap race too many
// times in a row. Nothing was written; the command may be run again.
var ErrGaveUp = errors.New("gave up after repeated compare-and-swap conflicts on " + gitstate.StateRef)

// ErrUnknownBackup and ErrAmbiguousBackup are returned by View.Resolve.
var (
	ErrUnknownBackup   = errors.New("no such backup")
	ErrAmbiguousBackup = errors.New("ambiguous backup ID")
)

// Store applies decisions to a repository's backups. It is the coordinator:
// read the state, let a pure function decide, commit the batch with
// compare-and-swap, and on a lost race read again and decide again. Like its
// Repo, a Store serves one goroutine at a time: concurrent writers each open
// their own (compare-and-swap keeps them apart).
type Store struct {
	Repo    *gitstate.Repo
	Policy  Policy
	Clone   string           // this clone's ID, written into every event
	Now     func() time.Time // the clock; time.Now when nil
	Retries int              // compare-and-swap attempts per batch; 25 when 0
	Log     *slog.Logger

	memo *foldCache // the fold cache as last loaded; a Store serves one goroutine at a time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// View is one consistent read of every backup.
type View struct {
	State   *gitstate.StateView
	Backups []*Backup // newest first
	byID    map[string]*Backup
	bySnap  map[string]*Backup
	store   *Store
	cache   *foldCache
	archDir string // the archive directory of this repository
}

// Load reads every backup in full: events and changed paths.
func (s *Store) Load(ctx context.Context) (*View, error) {
	v, err := s.LoadLight(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.FullWhere(func(*Backup) bool { return true }); err != nil {
		return nil, err
	}
	return v, nil
}

// LoadLight reads refs/backups/state through the fold cache: backups whose
// note is unchanged since the cache was written come back light (no Events,
// no Paths; View.Full loads them), the others are read and folded. When the
// state has not moved, no object is read at all.
func (s *Store) LoadLight(ctx context.Context) (*View, error) {
	commit, err := s.Repo.StateCommit()
	if err != nil {
		return nil, err
	}
	// A long-running process (the monitor) keeps the decoded cache between
	// loads of the same state instead of decoding the file again.
	c := s.memo
	if c == nil || c.state != commit || commit == "" {
		c = decodeFoldCache(s.Repo.ReadCache(foldCacheName))
	}
	dirty := false
	var st *gitstate.StateView
	if c != nil && commit != "" && c.state == commit {
		notes := make(map[string]string, len(c.notes))
		paths := make(map[string]string, len(c.notes))
		for snap, n := range c.notes {
			notes[snap], paths[snap] = n.blob, n.path
		}
		st = gitstate.NewStateView(commit, c.tree, c.layout, notes, paths)
	} else {
		if st, err = s.Repo.ReadState(commit); err != nil {
			return nil, err
		}
		old := c
		c = newFoldCache()
		c.state, c.tree, c.layout = st.Commit, st.Tree, st.Layout
		if old != nil {
			c.tips = old.tips
			for snap := range st.Notes {
				if v, ok := old.coverage[snap]; ok {
					c.coverage[snap] = v
				}
				if old.checked[snap] {
					c.checked[snap] = true
				}
			}
			for _, blob := range st.Notes {
				if e := old.entries[blob]; e != nil {
					c.entries[blob] = e
				}
			}
		}
		for snap, blob := range st.Notes {
			c.notes[snap] = cachedNote{blob: blob, path: st.NotePath(snap)}
		}
		dirty = true
	}
	if st.Layout != gitstate.LayoutVersion {
		return nil, fmt.Errorf("%s has layout %q; this git-backup reads %q (upgrade git-backup)", gitstate.StateRef, st.Layout, gitstate.LayoutVersion)
	}
	v := &View{State: st, byID: map[string]*Backup{}, bySnap: map[string]*Backup{}, store: s, cache: c, archDir: s.ArchiveDir()}
	var need []*Backup
	for snap, blob := range st.Notes {
		// An entry is the fold of one note at one snapshot: the same bytes at
		// another snapshot's path (a copied note) fold differently.
		if e := c.entries[blob]; e != nil && e.Snapshot == snap {
			cp := *e
			v.add(&cp)
			continue
		}
		b := &Backup{Snapshot: snap, NoteBlob: blob, Light: true, RecordedCoverage: -1}
		v.add(b)
		need = append(need, b)
	}
	if err := v.full(need); err != nil {
		return nil, err
	}
	for _, b := range need {
		if len(b.Damaged) == 0 && b.ID != "" {
			c.entries[b.NoteBlob] = lightCopy(b)
			dirty = true
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sortBackups(v.Backups)
	if dirty {
		v.saveCache()
	}
	s.memo = c
	return v, nil
}

// saveCache writes the fold cache, keeping only entries of current notes. A
// cache that cannot be written (a read-only repository) is simply not kept.
func (v *View) saveCache() {
	c := v.cache
	live := make(map[string]*Backup, len(c.notes))
	for _, n := range c.notes {
		if e := c.entries[n.blob]; e != nil {
			live[n.blob] = e
		}
	}
	c.entries = live
	_ = v.store.Repo.WriteCache(foldCacheName, c.encode())
}

// Full loads b's events and changed paths if b is light.
func (v *View) Full(b *Backup) (*Backup, error) {
	if err := v.full([]*Backup{b}); err != nil {
		return nil, err
	}
	return b, nil
}

// FullWhere loads every light backup for which want is true, reading their
// notes through one cat-file process.
func (v *View) FullWhere(want func(*Backup) bool) error {
	var bs []*Backup
	for _, b := range v.Backups {
		if b.Light && want(b) {
			bs = append(bs, b)
		}
	}
	return v.full(bs)
}

// full replaces light backups in place with the fold of their notes, so every
// pointer to them sees the full backup.
func (v *View) full(bs []*Backup) error {
	var ids []string
	var todo []*Backup
	for _, b := range bs {
		if b.Light {
			ids, todo = append(ids, b.NoteBlob), append(todo, b)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	read := make([]bool, len(ids))
	err := v.store.Repo.ReadBlobs(ids, func(i int, data []byte) error {
		evs, bad := gitstate.ParseNote(data)
		v.replace(todo[i], Fold(todo[i].Snapshot, evs, bad))
		read[i] = true
		return nil
	})
	if err != nil {
		// Read what can be read one by one, and mark the rest as damaged.
		for i, b := range todo {
			if read[i] {
				continue
			}
			data, rerr := v.store.Repo.ReadBlob(ids[i])
			if rerr != nil {
				v.replace(b, &Backup{Snapshot: b.Snapshot, RecordedCoverage: -1, Damaged: []string{"note unreadable: " + rerr.Error()}})
				continue
			}
			evs, bad := gitstate.ParseNote(data)
			v.replace(b, Fold(b.Snapshot, evs, bad))
		}
	}
	return nil
}

// replace overwrites b with the full fold f, keeping b's identity and note.
func (v *View) replace(b, f *Backup) {
	blob := b.NoteBlob
	oldID := b.ID
	*b = *f
	b.NoteBlob = blob
	if oldID != "" && oldID != b.ID {
		delete(v.byID, oldID)
	}
	if b.ID != "" {
		v.byID[b.ID] = b
	}
	v.relocateArchive(b)
}

// relocateArchive points an ARCHIVED backup at <ID>.tar.zst in this
// repository's archive directory when its state records a path elsewhere and
// that file exists: the repository was moved or copied (the recorded path is
// then another place's, perhaps another repository's file), or the archives
// were moved along with backup.archiveDir. Archives in the archive directory
// cost no file system call.
func (v *View) relocateArchive(b *Backup) {
	if b.State != Archived || b.Archive == nil || v.archDir == "" || filepath.Dir(*b.Archive) == v.archDir {
		return
	}
	p := ArchivePath(v.archDir, b.ID)
	if _, err := os.Stat(p); err == nil {
		b.Archive = &p
	}
}

// damagedFor is the backup with an unreadable note whose snapshot ID
// begins with the hex part of backup ID id (YYYYMMDD-HHMMSS-<hex>), or nil.
func (v *View) damagedFor(id string) *Backup {
	i := strings.LastIndexByte(id, '-')
	hex := strings.ToLower(id[i+1:])
	if i < 0 || len(hex) < 7 || !isHexString(hex) {
		return nil
	}
	for _, b := range v.Backups {
		if b.ID == "" && len(b.Damaged) > 0 && strings.HasPrefix(b.Snapshot, hex) {
			return b
		}
	}
	return nil
}

func isHexString(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (v *View) add(b *Backup) {
	v.relocateArchive(b)
	v.Backups = append(v.Backups, b)
	v.bySnap[b.Snapshot] = b
	if b.ID != "" {
		v.byID[b.ID] = b
	}
}

// sortBackups orders newest first; IDs break ties, so the order is total.
func sortBackups(bs []*Backup) {
	sort.SliceStable(bs, func(i, j int) bool {
		if !bs[i].CreatedAt.Equal(bs[j].CreatedAt) {
			return bs[i].CreatedAt.After(bs[j].CreatedAt)
		}
		return bs[i].ID > bs[j].ID
	})
}

// BySnapshot returns the backup whose snapshot commit is snap.
func (v *View) BySnapshot(snap string) *Backup { return v.bySnap[snap] }

// ByID returns the backup with exactly this ID.
func (v *View) ByID(id string) *Backup { return v.byID[id] }

// Resolve finds a backup by full ID, unique prefix of an ID or of its snapshot
// commit, or "latest" (the newest backup that is not DELETED).
func (v *View) Resolve(ref string) (*Backup, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("%w: empty ID (see git backup list)", ErrUnknownBackup)
	}
	if strings.EqualFold(ref, "latest") {
		for _, b := range v.Backups {
			if b.State != Deleted && b.ID != "" {
				return b, nil
			}
		}
		return nil, fmt.Errorf("%w: no backups yet (take one with git backup create)", ErrUnknownBackup)
	}
	if b := v.byID[ref]; b != nil {
		return b, nil
	}
	var hits []*Backup
	for _, b := range v.Backups {
		if b.ID != "" && strings.HasPrefix(b.ID, ref) || len(ref) >= 4 && strings.HasPrefix(b.Snapshot, strings.ToLower(ref)) {
			hits = append(hits, b)
		}
	}
	switch len(hits) {
	case 0:
		if b := v.damagedFor(ref); b != nil {
			return nil, fmt.Errorf("%w: %q: the note of its snapshot %s is damaged (%s): read it with git cat-file -p %s:%s, and run git backup fsck",
				ErrUnknownBackup, ref, b.Snapshot, strings.Join(b.Damaged, "; "), gitstate.StateRef, v.State.NotePath(b.Snapshot))
		}
		return nil, fmt.Errorf("%w: %q (see git backup list)", ErrUnknownBackup, ref)
	case 1:
		return hits[0], nil
	}
	var names []string
	for i, b := range hits {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(hits)-5))
			break
		}
		names = append(names, b.ID)
	}
	return nil, fmt.Errorf("%w: %q matches %s (give more characters)", ErrAmbiguousBackup, ref, strings.Join(names, ", "))
}

// Change is what a batch does to one backup: events appended to its log and
// refs changed with it.
type Change struct {
	Backup   *Backup // the backup as read; nil for a new one
	Snapshot string  // note path of a new backup
	Events   []gitstate.Event
	Refs     []gitstate.RefUpdate
	Summary  string // one line for the audit log: "<id> CREATED -> PENDING"
}

// Batch is a set of changes committed together as one state commit.
type Batch struct {
	Trigger string
	Title   string // first line of the audit-log message
	Changes []Change
}

// Decider looks at a fresh view and returns the batch to commit (nil: nothing
// to do). It is called again after every lost race, so it must decide from
// the view alone. It runs under the repository's in-process writer lock, so it
// must not call Update itself.
type Decider func(v *View) (*Batch, error)

// Update runs decide and commits its batch with compare-and-swap, retrying
// with backoff and a fresh view when another writer got there first. It
// returns the view the batch was decided on and the batch as committed.
func (s *Store) Update(ctx context.Context, decide Decider) (*View, *Batch, error) {
	return s.update(ctx, s.Load, decide)
}

// UpdateLight is Update on a light view (LoadLight): deciders that need a
// backup's events or changed paths call View.Full for it. Hooks and create
// use it, so their cost does not grow with every backup's log.
func (s *Store) UpdateLight(ctx context.Context, decide Decider) (*View, *Batch, error) {
	return s.update(ctx, s.LoadLight, decide)
}

func (s *Store) update(ctx context.Context, load func(context.Context) (*View, error), decide Decider) (*View, *Batch, error) {
	mu := s.Repo.WriterLock()
	mu.Lock()
	defer mu.Unlock()
	retries := s.Retries
	if retries <= 0 {
		retries = 25
	}
	backoff := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		v, err := load(ctx)
		if err != nil {
			return nil, nil, err
		}
		batch, err := decide(v)
		if err != nil || batch == nil || len(batch.Changes) == 0 {
			return v, batch, err
		}
		err = s.commit(ctx, v, batch)
		if err == nil {
			return v, batch, nil
		}
		if !errors.Is(err, gitstate.ErrConflict) {
			return v, nil, err
		}
		if attempt >= retries {
			return v, nil, fmt.Errorf("%w (%d attempts; last: %v)", ErrGaveUp, attempt, err)
		}
		s.log().Debug("compare-and-swap conflict, retrying", "attempt", attempt, "err", err)
		d := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return v, nil, ctx.Err()
		case <-time.After(d):
		}
		backoff = min(2*backoff, 250*time.Millisecond)
	}
}

// commit writes one batch: new notes, one state commit, and the refs, in one
// transaction.
func (s *Store) commit(ctx context.Context, v *View, b *Batch) error {
	now := s.now()
	notes := map[string][]byte{}
	var refs []gitstate.RefUpdate
	var lines []string
	next := map[string]uint64{} // next clock of a note already changed in this batch
	// The notes this batch appends to, read through one cat-file round.
	var blobs []string
	for _, c := range b.Changes {
		if c.Backup != nil && c.Backup.NoteBlob != "" {
			blobs = append(blobs, c.Backup.NoteBlob)
		}
	}
	noteData := make(map[string][]byte, len(blobs))
	if err := s.Repo.ReadBlobs(blobs, func(i int, data []byte) error {
		noteData[blobs[i]] = data
		return nil
	}); err != nil {
		return fmt.Errorf("read notes: %w", err)
	}
	for i := range b.Changes {
		c := &b.Changes[i]
		snap := c.Snapshot
		var old []byte
		clock := uint64(1)
		if c.Backup != nil {
			snap = c.Backup.Snapshot
			clock = c.Backup.NextClock()
			if c.Backup.NoteBlob != "" {
				data := noteData[c.Backup.NoteBlob]
				old = data
				// A light backup carries no events: the clock comes from the note.
				evs, _ := gitstate.ParseNote(data)
				for _, e := range evs {
					clock = max(clock, e.Clock+1)
				}
			}
		}
		if prev, ok := notes[snap]; ok {
			old = prev // two changes to one backup in a batch
			clock = next[snap]
		}
		buf := slices.Clone(old)
		if len(buf) > 0 && buf[len(buf)-1] != '\n' {
			buf = append(buf, '\n')
		}
		for _, e := range c.Events {
			if e.Time.IsZero() {
				e.Time = now
			}
			e.Time = e.Time.UTC().Truncate(time.Millisecond)
			e.Clock = clock
			clock++
			if e.Clone == "" {
				e.Clone = s.Clone
			}
			buf = append(buf, e.Line()...)
			buf = append(buf, '\n')
		}
		notes[snap] = buf
		next[snap] = clock
		refs = append(refs, c.Refs...)
		if c.Summary != "" {
			lines = append(lines, c.Summary)
		}
	}
	msg := b.Title
	if b.Trigger != "" {
		msg = b.Trigger + ": " + b.Title
	}
	if len(lines) > 0 {
		msg += "\n\n" + strings.Join(lines, "\n") + "\n"
	}
	_, err := s.Repo.CommitState(ctx, gitstate.StateChange{Base: v.State, Notes: notes, Message: msg, Refs: refs, Time: now})
	return err
}
