package main

import (
	"context"
	"fmt"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type diffCmd struct {
	ID      string   `arg:"" help:"Backup ID, unique prefix, or latest."`
	Against string   `placeholder:"REV" help:"Compare with this commit (e.g. HEAD) instead of the backup's base."`
	Stat    bool     `help:"Print a diffstat instead of the patch."`
	Paths   []string `arg:"" optional:"" name:"path" help:"Limit to these paths (after --)."`
}

func (c *diffCmd) Run(ctx context.Context, a *App) error {
	s, _, b, err := a.resolve(ctx, c.ID)
	if err != nil {
		return err
	}
	here := s.SnapshotHere(b)
	if !here && b.State != transitions.Archived {
		return fmt.Errorf("diff %s: %w: it is %s", b.ID, transitions.ErrNotLive, b.State)
	}
	from := deref(b.Base, "")
	if c.Against != "" {
		rev, err := s.Repo.ResolveRevision(ctx, c.Against)
		if err != nil {
			return usagef("--against %q: %v", c.Against, err)
		}
		from = rev
	}
	paths, err := a.topRelative(ctx, c.Paths)
	if err != nil {
		return err
	}
	if b.State == transitions.Archived && !here {
		return c.archived(ctx, a, s, b, paths)
	}
	defer s.Repo.TouchAccess(b.ID, time.Now())
	if a.JSON {
		fromTree := ""
		if from != "" {
			ci, err := s.Repo.Commit(from)
			if err != nil {
				return err
			}
			fromTree = ci.Tree
		}
		pcs, err := s.Repo.ChangedPaths(ctx, fromTree, b.Tree, paths...)
		if err != nil {
			return err
		}
		type file struct {
			gitstate.PathChange
			Status string `json:"status"`
		}
		files := []file{}
		for _, p := range pcs {
			files = append(files, file{p, changeLetter(p)})
		}
		return a.printJSON(map[string]any{"id": b.ID, "from": nilIfEmpty(from), "to": b.Snapshot, "files": files})
	}
	return s.Repo.Diff(ctx, from, b.Snapshot, gitstate.DiffOptions{Paths: literalTop(paths), Stat: c.Stat, Out: a.Stdout})
}

// archived prints an ARCHIVED backup's diff from its archive.
func (c *diffCmd) archived(ctx context.Context, a *App, s *transitions.Store, b *transitions.Backup, paths []string) error {
	o := transitions.ArchiveDiffOptions{Paths: paths, Stat: c.Stat, Out: a.Stdout}
	if c.Against != "" {
		rev, err := s.Repo.ResolveRevision(ctx, c.Against)
		if err != nil {
			return usagef("--against %q: %v", c.Against, err)
		}
		o.Against = rev
	}
	if a.JSON {
		d, err := s.ArchivedChanges(ctx, b, o)
		if err != nil {
			return err
		}
		type file struct {
			gitstate.PathChange
			Status string `json:"status"`
		}
		files := []file{}
		for _, p := range d.Changes {
			files = append(files, file{p, changeLetter(p)})
		}
		return a.printJSON(map[string]any{"id": b.ID, "from": nilIfEmpty(d.From), "to": b.Snapshot,
			"archive": d.Archive, "base_missing": d.BaseMissing, "files": files})
	}
	d, err := s.DiffArchived(ctx, b, o)
	if err != nil {
		return err
	}
	if d.BaseMissing && c.Against == "" {
		a.note("backup %s is ARCHIVED and its base commit %s is gone: its changed files are shown as new", b.ID, deref(b.Base, ""))
	}
	return nil
}

// literalTop makes top-relative paths into pathspecs git reads from the top.
func literalTop(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = ":(top)" + p
	}
	return out
}
