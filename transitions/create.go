package transitions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/git-backup/git-backup/gitstate"
)

// CreateOptions describes a backup to take.
type CreateOptions struct {
	Message        string
	Trigger        string // what asked for it: user (default), autosave, restore, …
	IncludeIgnored bool
	Pathspec       []string
	Dir            string // directory pathspecs are relative to
	Author         gitstate.Author
}

// CreateResult is what create did.
type CreateResult struct {
	Backup  *Backup
	Created bool   // false: an existing backup already holds this work, or nothing changed
	Reason  string // why nothing was created
	// View is the state the result was read from; an existing backup may be
	// light (View.Full loads it).
	View *View
}

var triggerName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Create takes a backup of the working tree. It changes neither HEAD, the
// index, the working tree nor the stash. When the work equals the newest live
// backup of the branch, it returns that backup with Created false; when the
// work equals HEAD, it returns no backup.
func (s *Store) Create(ctx context.Context, o CreateOptions) (CreateResult, error) {
	if o.Trigger == "" {
		o.Trigger = string(TriggerUser)
	}
	if !triggerName.MatchString(o.Trigger) {
		return CreateResult{}, fmt.Errorf("create: trigger %q: use lower-case letters, digits, - and _ (at most 32)", o.Trigger)
	}
	work, err := s.Repo.WriteWorkTree(ctx, gitstate.WorkOptions{IncludeIgnored: o.IncludeIgnored, Pathspec: o.Pathspec, Dir: o.Dir})
	if errors.Is(err, fs.ErrPermission) {
		return CreateResult{}, fmt.Errorf("create: %w (backups are kept inside the repository: make %q writable)", err, s.Repo.CommonDir)
	}
	if err != nil {
		return CreateResult{}, err
	}
	// Quick check before writing objects; decided again under compare-and-swap.
	// Nothing here reads an object: the common "nothing changed" case costs
	// the snapshot of the work tree and one read of the (cached) state.
	if v, err := s.LoadLight(ctx); err != nil {
		return CreateResult{}, err
	} else if b := newestLive(v, work.Head.Branch); b != nil && b.Tree == work.Tree {
		// A backup never equals its own base; but HEAD may have moved onto
		// this very content since (the work was committed).
		if work.Head.Commit != "" && deref(b.Base) != work.Head.Commit {
			if c, err := s.Repo.Commit(work.Head.Commit); err == nil && c.Tree == work.Tree {
				return CreateResult{Reason: "nothing to back up: the work tree matches HEAD"}, nil
			}
		}
		return CreateResult{Backup: b, View: v, Reason: "unchanged since backup " + b.ID}, nil
	}
	// diff-tree takes the HEAD commit for its tree ("" is the empty tree).
	paths, err := s.Repo.ChangedPaths(ctx, work.Head.Commit, work.Tree)
	if err != nil {
		return CreateResult{}, err
	}
	if len(paths) == 0 {
		return CreateResult{Reason: "nothing to back up: the work tree matches HEAD"}, nil
	}
	var size int64
	for _, p := range paths {
		size += p.Size
	}
	now := s.now()
	msg := o.Message
	if msg == "" {
		msg = "git-backup snapshot"
		if work.Head.Branch != "" {
			msg += " of " + work.Head.Branch
		}
	}
	snap, err := s.Repo.WriteSnapshotCommit(work.Tree, work.Head.Commit, msg+"\n", o.Author, now)
	if err != nil {
		return CreateResult{}, err
	}
	var res CreateResult
	_, _, err = s.UpdateLight(ctx, func(v *View) (*Batch, error) {
		res = CreateResult{}
		existing := newestLive(v, work.Head.Branch)
		if existing == nil || existing.Tree != work.Tree {
			existing = v.BySnapshot(snap) // the same commit: same second, same work
		}
		if existing != nil {
			res = CreateResult{Backup: existing, View: v, Reason: "unchanged since backup " + existing.ID}
			return nil, nil
		}
		id := gitstate.NewBackupID(now, snap, func(id string) bool { return v.ByID(id) != nil })
		ev := gitstate.Event{
			Kind: gitstate.KindCreate, Time: now, To: string(Created), Trigger: o.Trigger,
			ID: id, Snapshot: snap, Tree: work.Tree, Base: work.Head.Commit, Branch: work.Head.Branch,
			Message: o.Message, IncludeIgnored: o.IncludeIgnored, Files: len(paths), SizeBytes: size, Paths: paths,
		}
		b := Fold(snap, []gitstate.Event{ev}, nil)
		res = CreateResult{Backup: b, Created: true}
		return &Batch{
			Trigger: o.Trigger,
			Title:   "create " + id,
			Changes: []Change{{
				Snapshot: snap,
				Events:   []gitstate.Event{ev},
				Refs:     []gitstate.RefUpdate{{Name: gitstate.SnapshotRef(id), New: snap}},
				Summary:  id + " -> CREATED",
			}},
		}, nil
	})
	if err != nil {
		return CreateResult{}, fmt.Errorf("create: %w", err)
	}
	return res, nil
}

// newestLive is the newest backup of branch that still has its snapshot.
func newestLive(v *View, branch string) *Backup {
	for _, b := range v.Backups {
		br := ""
		if b.Branch != nil {
			br = *b.Branch
		}
		if br == branch && b.Live() && len(b.Damaged) == 0 {
			return b
		}
	}
	return nil
}
