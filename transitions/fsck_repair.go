package transitions

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/git-backup/git-backup/gitstate"
)

// FsckOptions says what fsck may do.
type FsckOptions struct {
	Repair bool // make the repairs PlanFsck plans
}

// FsckResult is what fsck found and did.
type FsckResult struct {
	Findings []Finding
	Backups  int  // notes checked (0 when the state could not be read)
	Refs     int  // snapshot refs checked
	Repair   bool // repairs were attempted
}

// Remaining counts the findings that are not repaired.
func (r *FsckResult) Remaining() int {
	n := 0
	for _, f := range r.Findings {
		if !f.Repaired {
			n++
		}
	}
	return n
}

// Repairable counts the unrepaired findings that --repair would fix.
func (r *FsckResult) Repairable() int {
	n := 0
	for _, f := range r.Findings {
		if !f.Repaired && f.Action != RepairNone {
			n++
		}
	}
	return n
}

// OK reports whether nothing is left to fix.
func (r *FsckResult) OK() bool { return r.Remaining() == 0 }

// Fsck checks snapshot refs, state notes, the object store and stray files
// against each other. With o.Repair it makes every state repair in one batch
// (one state commit, compare-and-swap, re-planned on a lost race), then
// removes stray files.
func (s *Store) Fsck(ctx context.Context, o FsckOptions) (*FsckResult, error) {
	res := &FsckResult{Repair: o.Repair}
	in := FsckInput{Now: s.now(), Self: s.Clone}
	st, err := s.Repo.ReadState("")
	if err != nil {
		in.StateErr = err
	} else {
		in.Layout = st.Layout
	}
	stateOK := in.StateErr == nil && in.Layout == gitstate.LayoutVersion
	if !stateOK || !o.Repair {
		if stateOK {
			if err := s.fsckReadStable(ctx, &in); err != nil {
				return nil, err
			}
		} else if err := s.fsckFacts(ctx, &in); err != nil {
			return nil, err
		}
		res.Findings = PlanFsck(in)
		res.count(in)
		if o.Repair {
			s.removeStrayFiles(ctx, res.Findings)
		}
		return res, nil
	}

	// Stale lock files first: a stale lock of refs/backups/state would make
	// the repair batch fail.
	locks, err := s.Repo.RefLocks()
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	early := checkLocks(FsckInput{Locks: locks, Now: s.now()})
	s.removeStrayFiles(ctx, early)
	adopt := map[string]adoption{} // ref → rebuilt creation event, across retries
	var last FsckInput
	_, batch, err := s.Update(ctx, func(v *View) (*Batch, error) {
		last = FsckInput{View: v, Layout: v.State.Layout, Now: s.now(), Self: s.Clone}
		if err := s.fsckFacts(ctx, &last); err != nil {
			return nil, err
		}
		res.Findings = PlanFsck(last)
		return s.fsckBatch(ctx, res.Findings, adopt), nil
	})
	if err != nil {
		return nil, fmt.Errorf("fsck --repair: %w", err)
	}
	res.count(last)
	committed := batch != nil && len(batch.Changes) > 0
	for i := range res.Findings {
		if f := &res.Findings[i]; f.planned && committed {
			f.Repaired = true
		}
	}
	s.removeStrayFiles(ctx, res.Findings)
	res.Findings = append(early, res.Findings...)
	return res, nil
}

// count records how much was checked.
func (r *FsckResult) count(in FsckInput) {
	r.Refs = len(in.Refs)
	if in.View != nil {
		r.Backups = len(in.View.Backups)
	}
}

// fsckReadStable loads the state and reads the facts, again (a few times at
// most) when the state moved meanwhile, so a writer's transaction caught
// half-way is not reported as a problem.
func (s *Store) fsckReadStable(ctx context.Context, in *FsckInput) error {
	for range 3 {
		v, err := s.Load(ctx)
		if err != nil {
			return err
		}
		in.View = v
		if err := s.fsckFacts(ctx, in); err != nil {
			return err
		}
		now, err := s.Repo.StateCommit()
		if err != nil || now == v.State.Commit {
			return err
		}
	}
	return nil
}

// fsckFacts reads the snapshot refs, which of their commits exist, and the
// private index files.
func (s *Store) fsckFacts(ctx context.Context, in *FsckInput) error {
	refs, err := s.Repo.SnapshotRefs()
	if err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	in.Refs = refs
	in.Exists = map[string]bool{}
	has := func(id string) {
		if _, ok := in.Exists[id]; !ok {
			in.Exists[id] = s.Repo.HasObject(id)
		}
	}
	for _, c := range refs {
		has(c)
	}
	if in.View != nil {
		for _, b := range in.View.Backups {
			if _, ok := refs[b.ID]; !ok && b.Live() {
				has(b.Snapshot)
			}
		}
	}
	if in.View != nil {
		var checks []gitstate.SnapshotCheck
		for _, b := range in.View.Backups {
			if c, ok := refs[b.ID]; ok && c == b.Snapshot && b.Live() && in.Exists[c] {
				checks = append(checks, gitstate.SnapshotCheck{Commit: c, Base: deref(b.Base)})
			}
		}
		if in.Damaged, err = s.Repo.DamagedSnapshots(ctx, checks); err != nil {
			return fmt.Errorf("fsck: %w", err)
		}
	}
	if in.Indexes, err = s.Repo.PrivateIndexFiles(); err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	if in.Locks, err = s.Repo.RefLocks(); err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	if in.View != nil {
		in.Archives = s.archiveFacts(ctx, in.View)
	}
	return ctx.Err()
}

// adoption is a creation event rebuilt for an orphan ref, or why it could not be.
type adoption struct {
	commit string
	ev     gitstate.Event
	err    error
}

// fsckBatch turns the planned state repairs into one batch (nil: none). It
// marks the findings it includes as planned; an adoption that cannot be
// rebuilt is left out and its finding says why.
func (s *Store) fsckBatch(ctx context.Context, fs []Finding, cache map[string]adoption) *Batch {
	b := &Batch{Trigger: "fsck"}
	var what []string
	for i := range fs {
		f := &fs[i]
		var ch Change
		switch f.Action {
		case RepairAdopt:
			a, ok := cache[f.Ref]
			if !ok || a.commit != f.Snapshot {
				a = adoption{commit: f.Snapshot}
				a.ev, a.err = s.adoptEvent(ctx, f.ID, f.Snapshot)
				cache[f.Ref] = a
			}
			if a.err != nil {
				f.Action = RepairNone
				f.Repair = "none: cannot adopt it: " + a.err.Error()
				continue
			}
			// The ref is rewritten to the same commit: the transaction fails
			// if it moved or vanished meanwhile.
			ch = Change{Snapshot: f.Snapshot, Events: []gitstate.Event{a.ev},
				Refs:    []gitstate.RefUpdate{{Name: f.Ref, Old: f.Snapshot, New: f.Snapshot}},
				Summary: f.ID + " adopted -> CREATED"}
			what = append(what, "adopt")
		case RepairRecreate:
			ch = Change{Backup: f.backup, Refs: []gitstate.RefUpdate{{Name: f.Ref, New: f.Snapshot}},
				Summary: f.ID + " snapshot ref recreated"}
			what = append(what, "recreate-ref")
		case RepairTombstone:
			from := f.backup.State
			forced := f.force || !IsLegal(from, Deleted)
			reason := TombstoneReason
			if f.reason != "" {
				reason = f.reason
			}
			ev := gitstate.Event{Kind: gitstate.KindMove, From: string(from), To: string(Deleted),
				Trigger: string(TriggerUser), Reason: reason, Forced: forced}
			ch = Change{Backup: f.backup, Events: []gitstate.Event{ev}, Summary: fmt.Sprintf("%s %s -> DELETED", f.ID, from)}
			if forced {
				ch.Summary += " (forced)"
			}
			what = append(what, "tombstone")
		case RepairDropRef:
			ch = Change{Backup: f.backup, Refs: []gitstate.RefUpdate{{Name: f.Ref, Old: f.Snapshot}},
				Summary: f.ID + " stale snapshot ref dropped"}
			what = append(what, "drop-ref")
		default:
			continue
		}
		f.planned = true
		b.Changes = append(b.Changes, ch)
	}
	if len(b.Changes) == 0 {
		return nil
	}
	slices.Sort(what)
	b.Title = fmt.Sprintf("repair %d problem(s) (%s)", len(b.Changes), strings.Join(slices.Compact(what), ", "))
	return b
}

// adoptEvent rebuilds the creation event of an orphan snapshot ref from its commit.
func (s *Store) adoptEvent(ctx context.Context, id, commit string) (gitstate.Event, error) {
	c, err := s.Repo.Commit(commit)
	if err != nil {
		return gitstate.Event{}, err
	}
	baseTree, note := "", ""
	if len(c.Parents) > 0 {
		bc, err := s.Repo.Commit(c.Parents[0])
		if err != nil {
			note = "its base commit " + abbrevID(c.Parents[0], 12) + " is missing, so every file counts as changed"
		} else {
			baseTree = bc.Tree
		}
	}
	paths, err := s.Repo.ChangedPaths(ctx, baseTree, c.Tree)
	if err != nil {
		return gitstate.Event{}, err
	}
	return AdoptEvent(id, c, paths, note), nil
}

// removeStrayFiles removes the stray private index files among fs, and
// repairs archive files.
func (s *Store) removeStrayFiles(ctx context.Context, fs []Finding) {
	s.repairArchiveFiles(ctx, fs)
	for i := range fs {
		f := &fs[i]
		if f.Repaired {
			continue
		}
		if f.Action == RepairRemoveLock {
			if err := s.Repo.RemoveRefLock(f.lock); err != nil {
				f.Action, f.Repair = RepairNone, "none: "+err.Error()
				continue
			}
			f.Repaired = true
			continue
		}
		if f.Action != RepairRemoveFile {
			continue
		}
		if err := s.Repo.RemovePrivateIndex(f.index); err != nil {
			f.Action, f.Repair = RepairNone, "none: "+err.Error()
			continue
		}
		f.Repaired = true
	}
}
