package main

import (
	"context"
	"os"
	"path"
	"strings"

	"github.com/git-backup/git-backup/transitions"
)

type restoreCmd struct {
	ID    string   `arg:"" help:"Backup ID, unique prefix, or latest."`
	To    string   `placeholder:"DIR" help:"Write the snapshot into this new or empty directory instead of the work tree."`
	Force bool     `help:"Overwrite uncommitted changes (they are backed up first)."`
	Yes   bool     `short:"y" help:"Do not ask for confirmation."`
	Paths []string `arg:"" optional:"" name:"path" help:"Restore only these paths (after --)."`
}

func (c *restoreCmd) Help() string {
	return `Writes the backup's files back into the work tree. The current work is backed
up first, so a restore can be undone with another restore. Files with uncommitted
changes are not overwritten unless --force is given (exit 3). The index and HEAD
are not changed: the restored files show up as changes in git status.

With --to DIR the whole snapshot (or the given paths) is written into a new or
empty directory and the work tree is not touched.

An ARCHIVED backup is restored from its archive, which is verified whole
first (a damaged archive restores nothing). When its base commit is gone,
only the files the backup changed are written.`
}

func (c *restoreCmd) Run(ctx context.Context, a *App) error {
	s, _, b, err := a.resolve(ctx, c.ID)
	if err != nil {
		return err
	}
	paths, err := a.topRelative(ctx, c.Paths)
	if err != nil {
		return err
	}
	res, err := s.Restore(ctx, b, transitions.RestoreOptions{ID: b.ID, To: c.To, Paths: paths, Force: c.Force})
	if err != nil {
		return err
	}
	if a.JSON {
		out := map[string]any{"id": b.ID, "to": nilIfEmpty(res.To), "written": nonNil(res.Written), "removed": nonNil(res.Removed), "saved_as": nil,
			"archive": nilIfEmpty(res.Archive), "base_missing": res.BaseMissing}
		if res.SavedAs != nil {
			out["saved_as"] = res.SavedAs.ID
		}
		return a.printJSON(out)
	}
	if res.SavedAs != nil {
		a.note("saved the work as %s first (git backup restore %s undoes this restore)", res.SavedAs.ID, res.SavedAs.ID)
	}
	if res.BaseMissing {
		a.note("backup %s's base commit %s is gone: only the files the backup changed were restored from its archive", b.ID, deref(b.Base, ""))
	}
	if len(res.Written)+len(res.Removed) == 0 {
		a.note("nothing to restore: the files already match backup %s", b.ID)
		return nil
	}
	where := "the work tree"
	if res.To != "" {
		where = res.To
	}
	from := "backup " + b.ID
	if res.Archive != "" {
		from += " (archive " + res.Archive + ")"
	}
	a.out("restored %d file(s) and removed %d from %s into %s", len(res.Written), len(res.Removed), from, where)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// topRelative turns paths given relative to the current directory into paths
// relative to the top of the work tree.
func (a *App) topRelative(ctx context.Context, paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	r, err := a.Repo(ctx)
	if err != nil {
		return nil, err
	}
	wd := a.Dir
	if wd == "" {
		wd, _ = os.Getwd()
	}
	prefix, err := r.Prefix(wd)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		p = path.Clean(prefix + strings.TrimPrefix(p, "./"))
		if p == "." || strings.HasPrefix(p, "../") || p == ".." {
			if p == "." {
				continue
			}
			return nil, usagef("path %q is outside the work tree", p)
		}
		out = append(out, p)
	}
	return out, nil
}
