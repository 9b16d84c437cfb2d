package main

import (
	"context"

	"github.com/git-backup/git-backup/transitions"
)

type unarchiveCmd struct {
	ID  string `arg:"" help:"Backup ID, unique prefix, or latest."`
	Yes bool   `short:"y" help:"Do not ask for confirmation (unarchive asks none: it loses nothing)."`
}

func (c *unarchiveCmd) Help() string {
	return `Brings an ARCHIVED backup back as a live snapshot, in the state it had before
it was archived. The archive is verified first. The snapshot ref points at the
same snapshot commit as before; when git has pruned that commit, it is written
again from the archive on its base commit, and checked to have the same ID.
When the base commit is gone too, unarchive is refused: git backup restore ID
--to DIR still writes the backup's files. Once the state is committed, the
archive file is removed: its content is live again.`
}

func (c *unarchiveCmd) Run(ctx context.Context, a *App) error {
	s, _, b, err := a.resolve(ctx, c.ID)
	if err != nil {
		return err
	}
	res, err := s.Unarchive(ctx, b.ID)
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(map[string]any{"id": b.ID, "from": res.From, "state": res.To, "snapshot": b.Snapshot,
			"ref": res.Ref, "rebuilt": res.Rebuilt, "archive": res.Archive, "archive_removed": res.ArchiveRemoved,
			"warning": nilIfEmpty(res.Warning)})
	}
	how := "its commit was still there"
	if res.Rebuilt {
		how = "its commit was rebuilt from the archive with the same ID"
	}
	a.out("unarchived %s: %s -> %s, %s at %s (%s)", b.ID, transitions.Archived, res.To, res.Ref, b.Snapshot[:min(12, len(b.Snapshot))], how)
	if res.ArchiveRemoved {
		a.note("removed the archive %s: its content is live again", res.Archive)
	}
	if res.Warning != "" {
		a.note("warning: %s", res.Warning)
	}
	return nil
}
