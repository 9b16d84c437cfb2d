package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/git-backup/git-backup/transitions"
)

type fsckCmd struct {
	Repair bool `help:"Fix what can be fixed without losing information, in one state commit."`
	Yes    bool `short:"y" help:"Do not ask for confirmation (fsck asks none)."`
	// For tests: judge the age of leftover files as if this much later.
	TimeOffset string `name:"time-offset" hidden:"" help:"Check and record as if this much later than now. For tests."`
}

func (c *fsckCmd) Help() string {
	return `Checks snapshot refs (refs/backups/snapshots/<ID>), state notes
(refs/backups/state) and the object store against each other, and looks for
private index files left by an interrupted create and lock files of
refs/backups/* and packed-refs left by a killed git process (while one
exists, every change of its ref fails).

--repair adopts snapshot refs that have no note (as CREATED backups, trigger
fsck), recreates a live backup's missing ref when its commit still exists and
otherwise marks the backup DELETED (not one another clone took and did not push
with --snapshots: its content is there), drops the refs of DELETED backups and
removes stray index files and lock files an hour old or more (first, so
the repairs can commit). It never removes a note or a line of one: damaged notes
are reported for you to mend.

Archives: every ARCHIVED backup's archive is read whole and verified (zstd
checksum, every file's blob ID) and must hold that backup. A damaged archive is
named with the damaged file and kept. An archive that is missing while the
snapshot is gone too means the content is lost: --repair marks the backup
DELETED (forced, reason "fsck: archive lost"), unless another clone archived
it (the archive is there). A verified archive found in the
archive directory instead of where the state says is moved there. Stray
archives of DELETED backups, of live backups whose snapshot ref holds the
content, and partial files of interrupted writes are removed; files less than
an hour old are only reported (an archive may be being written).

Exit status: 0 when everything is consistent (or was repaired), 1 when
problems remain.`
}

// fsckFindingJSON is one finding in --json output.
type fsckFindingJSON struct {
	Kind     transitions.FsckKind `json:"kind"`
	ID       *string              `json:"id"`
	Ref      *string              `json:"ref"`
	Path     string               `json:"path,omitempty"`
	Message  string               `json:"message"`
	Repair   string               `json:"repair"`
	Repaired bool                 `json:"repaired"`
}

// errFsckProblems is returned when problems remain, for exit status 1.
var errFsckProblems = errors.New("fsck")

func (c *fsckCmd) Run(ctx context.Context, a *App) error {
	s, err := a.cleanupStore(ctx, applyFlags{TimeOffset: c.TimeOffset})
	if err != nil {
		return err
	}
	res, err := s.Fsck(ctx, transitions.FsckOptions{Repair: c.Repair})
	if err != nil {
		return err
	}
	if a.JSON {
		out := struct {
			OK       bool              `json:"ok"`
			Findings []fsckFindingJSON `json:"findings"`
		}{OK: res.OK(), Findings: []fsckFindingJSON{}}
		for _, f := range res.Findings {
			out.Findings = append(out.Findings, fsckFindingJSON{Kind: f.Kind, ID: fsckOptStr(f.ID), Ref: fsckOptStr(f.Ref),
				Path: f.Path, Message: f.Message, Repair: f.Repair, Repaired: f.Repaired})
		}
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		a.printFsck(res)
	}
	if res.OK() {
		return nil
	}
	next := "mend the rest by hand as each finding says"
	if n := res.Repairable(); n > 0 && !res.Repair {
		next = "run git backup fsck --repair"
		if n < res.Remaining() {
			next += ", then mend the rest by hand as each finding says"
		}
	}
	return fmt.Errorf("%w: %d problem(s) remain: %s", errFsckProblems, res.Remaining(), next)
}

// printFsck prints one line per finding and a summary line.
func (a *App) printFsck(res *transitions.FsckResult) {
	for _, f := range res.Findings {
		status := "repair"
		switch {
		case f.Repaired:
			status = "repaired"
		case !res.Repair && f.Action != transitions.RepairNone:
			status = "--repair will"
		}
		a.out("%s %s: %s (%s: %s)", f.Kind, f.Name(), f.Message, status, f.Repair)
	}
	if len(res.Findings) == 0 {
		if !a.Quiet {
			a.out("fsck: no problems (%d backup(s), %d snapshot ref(s) checked)", res.Backups, res.Refs)
		}
		return
	}
	repaired := len(res.Findings) - res.Remaining()
	switch {
	case res.Repair:
		a.out("fsck: %d problem(s) found, %d repaired, %d remain", len(res.Findings), repaired, res.Remaining())
	default:
		a.out("fsck: %d problem(s) found, %d repairable with --repair", len(res.Findings), res.Repairable())
	}
}

func fsckOptStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
