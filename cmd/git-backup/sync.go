package main

import (
	"context"
	"fmt"

	"github.com/git-backup/git-backup/transitions"
)

type pushCmd struct {
	Remote    string `arg:"" optional:"" help:"Remote to push to (default: the branch's upstream remote, else origin)."`
	Snapshots bool   `help:"Also push the snapshot refs of live backups, so another clone can restore them."`
}

func (c *pushCmd) Help() string {
	return "Sends refs/backups/state to the remote, never forced: when another clone pushed first,\n" +
		"fetches, merges and pushes again. Removes the remote's snapshot refs of backups that are\n" +
		"ARCHIVED or DELETED. Exit status 4 when the remote kept moving."
}

func (c *pushCmd) Run(ctx context.Context, a *App) error {
	s, remote, err := a.syncStore(ctx, c.Remote)
	if err != nil {
		return err
	}
	res, err := s.Push(ctx, transitions.PushOptions{Remote: remote, Snapshots: c.Snapshots})
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(res)
	}
	for _, m := range res.Merges {
		a.printMerge(m)
	}
	a.printPush(res)
	return nil
}

type fetchCmd struct {
	Remote string `arg:"" optional:"" help:"Remote to fetch from (default: the branch's upstream remote, else origin)."`
}

func (c *fetchCmd) Help() string {
	return "Brings the remote's refs/backups/state to refs/backups/remotes/<remote>/state (and its\n" +
		"snapshot refs under refs/backups/remotes/<remote>/snapshots/) and merges it into the local\n" +
		"state. A backup the remote marked ARCHIVED or DELETED keeps its local snapshot until this\n" +
		"clone can show its changes are covered."
}

func (c *fetchCmd) Run(ctx context.Context, a *App) error {
	s, remote, err := a.syncStore(ctx, c.Remote)
	if err != nil {
		return err
	}
	res, err := s.Fetch(ctx, remote)
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(res)
	}
	a.printMerge(res.MergeResult)
	return nil
}

type syncCmd struct {
	Remote    string `arg:"" optional:"" help:"Remote to sync with (default: the branch's upstream remote, else origin)."`
	Snapshots bool   `help:"Also push the snapshot refs of live backups."`
	Setup     bool   `help:"Add a fetch refspec for refs/backups/* to the remote's config (a plain git push is unchanged)."`
}

func (c *syncCmd) Help() string { return "Fetch and merge, then push (see git backup fetch and push)." }

func (c *syncCmd) Run(ctx context.Context, a *App) error {
	s, remote, err := a.syncStore(ctx, c.Remote)
	if err != nil {
		return err
	}
	if c.Setup {
		added, err := s.Repo.SetupRemote(ctx, remote)
		if err != nil {
			return err
		}
		if added {
			a.note("added fetch refspec to remote.%s.fetch: git fetch %s now brings its backup refs too", remote, remote)
		}
	}
	res, err := s.Sync(ctx, transitions.PushOptions{Remote: remote, Snapshots: c.Snapshots})
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(res)
	}
	a.printMerge(res.Fetch.MergeResult)
	for _, m := range res.Push.Merges {
		a.printMerge(m)
	}
	a.printPush(res.Push)
	return nil
}

// syncStore opens the store and names the remote (the default when "").
func (a *App) syncStore(ctx context.Context, remote string) (*transitions.Store, string, error) {
	s, err := a.Store(ctx)
	if err != nil {
		return nil, "", err
	}
	if remote == "" {
		if remote, err = s.Repo.DefaultRemote(ctx); err != nil {
			return nil, "", err
		}
	}
	return s, remote, nil
}

func (a *App) printMerge(m *transitions.MergeResult) {
	for _, w := range m.Warnings {
		fmt.Fprintf(a.Stderr, "warning: %s\n", w)
	}
	switch {
	case m.RemoteState == "":
		a.out("fetched %s: no backup state there yet", m.Remote)
		return
	case m.Commit == "":
		a.out("fetched %s: up to date", m.Remote)
	default:
		a.out("fetched %s: merged %d backup(s) into %s", m.Remote, len(m.Merged), short(m.Commit))
	}
	for _, id := range m.Adopted {
		a.out("  %s snapshot fetched", id)
	}
	for _, id := range m.Dropped {
		a.out("  %s local snapshot dropped (marked gone by a remote; its changes are covered here)", id)
	}
	for _, id := range m.Kept {
		a.out("  %s kept locally (marked gone by a remote; this clone cannot show it is covered)", id)
	}
}

func (a *App) printPush(p *transitions.PushResult) {
	if p.UpToDate {
		a.out("pushed %s: up to date", p.Remote)
		return
	}
	a.out("pushed %s: state %s, %d snapshot(s) sent, %d removed", p.Remote, short(p.State), len(p.Pushed), len(p.Deleted))
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
