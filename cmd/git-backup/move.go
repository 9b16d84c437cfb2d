package main

import (
	"context"
	"fmt"

	"github.com/git-backup/git-backup/transitions"
)

type transitionCmd struct {
	ID     string `arg:"" help:"Backup ID, unique prefix, or latest."`
	State  string `arg:"" help:"Target state (any case)."`
	Force  bool   `help:"Allow a move that is not in the lifecycle; it is marked as forced in the log."`
	Reason string `help:"Why, for the log."`
	Yes    bool   `short:"y" help:"Do not ask for confirmation."`
}

func (c *transitionCmd) Help() string {
	return `Legal moves: CREATED→PENDING, PENDING→CONFIRMED|CLEANABLE, CONFIRMED→CLEANABLE,
CLEANABLE→ARCHIVED|DELETED, ARCHIVED→DELETED. Anything else needs --force. A move
to DELETED drops the snapshot: its content is gone. A move below the confidence
threshold (backup.autoCleanupConfidence) asks twice.`
}

func (c *transitionCmd) Run(ctx context.Context, a *App) error {
	to, err := transitions.ParseState(c.State)
	if err != nil {
		return usagef("%v", err)
	}
	return a.move(ctx, c.ID, to, c.Force, c.Reason, c.Yes)
}

type confirmCmd struct {
	ID     string `arg:"" help:"Backup ID, unique prefix, or latest."`
	Force  bool   `help:"Confirm from a state other than PENDING; marked as forced."`
	Reason string `help:"Why, for the log."`
	Yes    bool   `short:"y" help:"Do not ask for confirmation."`
}

func (c *confirmCmd) Run(ctx context.Context, a *App) error {
	return a.move(ctx, c.ID, transitions.Confirmed, c.Force, c.Reason, c.Yes)
}

// move is transition and confirm: check, ask (twice below the threshold), apply.
func (a *App) move(ctx context.Context, ref string, to transitions.State, force bool, reason string, yes bool) error {
	s, _, b, err := a.resolve(ctx, ref)
	if err != nil {
		return err
	}
	if err := transitions.CheckMove(b.State, to, force, b.Pinned, transitions.TriggerUser); err != nil {
		return fmt.Errorf("backup %s: %w", b.ID, err)
	}
	if err := transitions.CheckLeaveArchive(b.State, to); err != nil {
		return fmt.Errorf("backup %s: %w", b.ID, err)
	}
	if _, err := s.Assess(nil, []*transitions.Backup{b}); err != nil {
		return err
	}
	q := fmt.Sprintf("move backup %s from %s to %s (confidence %.2f)?", b.ID, b.State, to, b.Confidence)
	if to == transitions.Deleted {
		q = fmt.Sprintf("delete backup %s (%d file(s), %s)? Its content will be gone", b.ID, b.Files, transitions.HumanBytes(b.SizeBytes))
	}
	if err := a.confirm(yes, q); err != nil {
		return err
	}
	towardsCleanup := to == transitions.Cleanable || to == transitions.Deleted || to == transitions.Archived
	if towardsCleanup && b.Confidence < s.Policy.AutoCleanupConfidence {
		q2 := fmt.Sprintf("confidence %.2f is below the threshold %.2f (git backup show %s explains); really move it?", b.Confidence, s.Policy.AutoCleanupConfidence, b.ID)
		if err := a.confirm(yes, q2); err != nil {
			return err
		}
	}
	if reason == "" {
		reason = "by hand"
	}
	moved, err := s.Move(ctx, transitions.MoveRequest{ID: b.ID, To: to, Trigger: transitions.TriggerUser, Reason: reason, Force: force})
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(moved)
	}
	a.out("%s %s -> %s", moved.ID, b.State, moved.State)
	return nil
}

type pinCmd struct {
	ID string `arg:"" help:"Backup ID, unique prefix, or latest."`
}

func (c *pinCmd) Run(ctx context.Context, a *App) error { return a.pin(ctx, c.ID, true) }

type unpinCmd struct {
	ID string `arg:"" help:"Backup ID, unique prefix, or latest."`
}

func (c *unpinCmd) Run(ctx context.Context, a *App) error { return a.pin(ctx, c.ID, false) }

func (a *App) pin(ctx context.Context, ref string, pinned bool) error {
	s, _, b, err := a.resolve(ctx, ref)
	if err != nil {
		return err
	}
	changed, err := s.SetPinned(ctx, b.ID, pinned, transitions.TriggerUser)
	if err != nil {
		return err
	}
	word := map[bool]string{true: "pinned", false: "unpinned"}[pinned]
	if a.JSON {
		return a.printJSON(map[string]any{"id": b.ID, "pinned": pinned, "changed": changed})
	}
	if !changed {
		a.note("%s was already %s", b.ID, word)
	}
	a.out("%s %s", b.ID, word)
	return nil
}
