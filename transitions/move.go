package transitions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// MoveRequest asks for one backup to change state.
type MoveRequest struct {
	ID      string // exact backup ID
	To      State
	Trigger Trigger
	Reason  string
	Force   bool
	// CoveredBy and Coverage record what justified the move, when known.
	CoveredBy string
	Coverage  *float64
}

// ErrNeedsArchive is returned for moves to ARCHIVED, which only the archive
// command can make (it writes and verifies the archive first).
var ErrNeedsArchive = errors.New("a backup becomes ARCHIVED only through git backup archive, which writes and verifies the archive first")

// ErrNeedsUnarchive is returned (wrapped, and matching ErrRefused) for a
// move from ARCHIVED to a live state: the snapshot ref is gone and the
// content is only in the archive, so only unarchive, which verifies the
// archive and brings the snapshot back, may make the backup live again.
var ErrNeedsUnarchive = fmt.Errorf("%w: an ARCHIVED backup's content is only in its archive; git backup unarchive brings it back as a live snapshot (then move it)", ErrRefused)

// CheckLeaveArchive refuses a move from ARCHIVED to a live state, forced or
// not (ErrNeedsUnarchive); Unarchive makes that move itself.
func CheckLeaveArchive(from, to State) error {
	if from == Archived && to.Live() {
		return fmt.Errorf("move %s → %s: %w", from, to, ErrNeedsUnarchive)
	}
	return nil
}

// Move applies one state change with compare-and-swap. A move to DELETED
// drops the snapshot ref in the same transaction.
func (s *Store) Move(ctx context.Context, req MoveRequest) (*Backup, error) {
	if req.To == Archived {
		return nil, fmt.Errorf("move %s: %w", req.ID, ErrNeedsArchive)
	}
	var moved *Backup
	_, _, err := s.UpdateLight(ctx, func(v *View) (*Batch, error) {
		b := v.ByID(req.ID)
		if b == nil {
			return nil, fmt.Errorf("%w: %q", ErrUnknownBackup, req.ID)
		}
		if _, err := v.Full(b); err != nil {
			return nil, err
		}
		if err := CheckMove(b.State, req.To, req.Force, b.Pinned, req.Trigger); err != nil {
			return nil, fmt.Errorf("backup %s: %w", b.ID, err)
		}
		if err := CheckLeaveArchive(b.State, req.To); err != nil {
			return nil, fmt.Errorf("backup %s: %w", b.ID, err)
		}
		forced := req.Force && !IsLegal(b.State, req.To)
		// Time, clock and clone as commit writes them, so the fold below
		// orders the move after the backup's earlier events.
		ev := gitstate.Event{Kind: gitstate.KindMove, Time: s.now().Truncate(time.Millisecond), Clock: b.NextClock(), Clone: s.Clone,
			From: string(b.State), To: string(req.To), Trigger: string(req.Trigger),
			Reason: req.Reason, Forced: forced, CoveredBy: req.CoveredBy, Coverage: req.Coverage}
		ch := Change{Backup: b, Events: []gitstate.Event{ev}, Summary: fmt.Sprintf("%s %s -> %s", b.ID, b.State, req.To)}
		if forced {
			ch.Summary += " (forced)"
		}
		if req.To == Deleted {
			ref := gitstate.SnapshotRef(b.ID)
			cur, err := s.Repo.ReadRef(ref)
			if err != nil {
				return nil, err
			}
			if cur != "" {
				ch.Refs = append(ch.Refs, gitstate.RefUpdate{Name: ref, Old: cur})
			}
		}
		moved = Fold(b.Snapshot, append(b.Events[:len(b.Events):len(b.Events)], ev), nil)
		return &Batch{Trigger: string(req.Trigger), Title: fmt.Sprintf("move %s to %s", b.ID, req.To), Changes: []Change{ch}}, nil
	})
	if err != nil {
		return nil, err
	}
	return moved, nil
}

// SetPinned pins or unpins a backup. It returns false when it already was so.
func (s *Store) SetPinned(ctx context.Context, id string, pinned bool, trigger Trigger) (bool, error) {
	changed := false
	_, _, err := s.UpdateLight(ctx, func(v *View) (*Batch, error) {
		changed = false
		b := v.ByID(id)
		if b == nil {
			return nil, fmt.Errorf("%w: %q", ErrUnknownBackup, id)
		}
		if b.Pinned == pinned {
			return nil, nil
		}
		if b.State == Deleted {
			return nil, fmt.Errorf("backup %s is DELETED: there is nothing left to pin", b.ID)
		}
		changed = true
		kind, verb := gitstate.KindPin, "pin"
		if !pinned {
			kind, verb = gitstate.KindUnpin, "unpin"
		}
		return &Batch{Trigger: string(trigger), Title: verb + " " + b.ID, Changes: []Change{{
			Backup: b, Events: []gitstate.Event{{Kind: kind, Trigger: string(trigger)}}, Summary: b.ID + " " + verb,
		}}}, nil
	})
	return changed, err
}
