package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type showCmd struct {
	ID string `arg:"" help:"Backup ID, unique prefix, or latest."`
}

// showJSON is SPEC §5's backup object with events and factors.
type showJSON struct {
	*transitions.Backup
	Coverage   *float64              `json:"coverage"`
	Damaged    []string              `json:"damaged,omitempty"`
	Events     []gitstate.Event      `json:"events"`
	Factors    []transitions.Factor  `json:"factors"`
	Paths      []gitstate.PathChange `json:"paths"`
	LastAccess *time.Time            `json:"last_access"`
	// KeptLocally explains a snapshot ref kept here after a remote marked the
	// backup ARCHIVED or DELETED; omitted otherwise.
	KeptLocally string `json:"kept_locally,omitempty"`
}

func (c *showCmd) Run(ctx context.Context, a *App) error {
	s, _, b, err := a.resolve(ctx, c.ID)
	if err != nil {
		return err
	}
	last := s.Repo.LastAccess()[b.ID]
	as, err := s.Assess(nil, []*transitions.Backup{b})
	if err != nil {
		return err
	}
	s.Repo.TouchAccess(b.ID, time.Now())
	asm := as[b]
	kept := keptLocally(s, b)
	if a.JSON {
		out := showJSON{Backup: b, Damaged: b.Damaged, Events: b.Events, Factors: asm.Factors, Paths: b.Paths, KeptLocally: kept}
		if out.Events == nil {
			out.Events = []gitstate.Event{}
		}
		if out.Paths == nil {
			out.Paths = []gitstate.PathChange{}
		}
		for i := range out.Events {
			out.Events[i].Paths = nil // listed once, under paths
		}
		if asm.Coverage >= 0 {
			out.Coverage = &asm.Coverage
		}
		if !last.IsZero() {
			out.LastAccess = &last
		}
		return a.printJSON(out)
	}
	w := a.Stdout
	fmt.Fprintf(w, "backup    %s\n", b.ID)
	fmt.Fprintf(w, "state     %s", b.State)
	if b.Pinned {
		fmt.Fprint(w, " (pinned)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "snapshot  %s\n", b.Snapshot)
	fmt.Fprintf(w, "base      %s\n", deref(b.Base, "(none: unborn branch)"))
	fmt.Fprintf(w, "branch    %s\n", deref(b.Branch, "(detached HEAD)"))
	fmt.Fprintf(w, "created   %s (%s ago) by %s\n", b.CreatedAt.Format(time.RFC3339), age(time.Now(), b.CreatedAt), b.Trigger)
	fmt.Fprintf(w, "updated   %s\n", b.UpdatedAt.Format(time.RFC3339))
	if b.Message != "" {
		fmt.Fprintf(w, "message   %s\n", b.Message)
	}
	fmt.Fprintf(w, "changes   %d file(s), %s\n", b.Files, transitions.HumanBytes(b.SizeBytes))
	if b.CoveredBy != nil {
		fmt.Fprintf(w, "covered   by %s\n", *b.CoveredBy)
	}
	if b.Archive != nil {
		fmt.Fprintf(w, "archive   %s\n", *b.Archive)
	}
	for _, d := range b.Damaged {
		fmt.Fprintf(w, "damaged   %s (see git backup fsck)\n", d)
	}
	if kept != "" {
		fmt.Fprintf(w, "local     %s\n", kept)
	}
	fmt.Fprintf(w, "\nconfidence %.2f (auto-cleanup at %.2f)\n", asm.Confidence, s.Policy.AutoCleanupConfidence)
	for _, f := range asm.Factors {
		weight := fmt.Sprintf("×%.2f", f.Weight)
		if f.Weight == 0 {
			weight = "     "
		}
		fmt.Fprintf(w, "  %-12s %.2f %s  %s\n", f.Name, f.Value, weight, f.Note)
	}
	fmt.Fprintln(w, "\nevents")
	for _, e := range b.Events {
		from := ""
		if e.Clone != s.Clone {
			from = " from another clone"
		}
		fmt.Fprintf(w, "  %s  %s%s\n", e.Time.UTC().Format(time.RFC3339), describeEvent(e), from)
	}
	if len(b.Paths) > 0 {
		fmt.Fprintln(w, "\nfiles")
		for i, p := range b.Paths {
			if i == 20 && !a.Quiet {
				fmt.Fprintf(w, "  … and %d more (git backup diff %s --stat)\n", len(b.Paths)-20, b.ID)
				break
			}
			fmt.Fprintf(w, "  %s %s\n", changeLetter(p), p.Path)
		}
	}
	return nil
}

func changeLetter(p gitstate.PathChange) string {
	switch {
	case p.BaseBlob == "":
		return "A"
	case p.Blob == "":
		return "D"
	}
	return "M"
}

// describeEvent prints one event for people.
func describeEvent(e gitstate.Event) string {
	var b strings.Builder
	switch e.Kind {
	case gitstate.KindCreate:
		fmt.Fprintf(&b, "created (%s)", e.Trigger)
	case gitstate.KindMove:
		fmt.Fprintf(&b, "%s → %s (%s)", e.From, e.To, e.Trigger)
	default:
		fmt.Fprintf(&b, "%s (%s)", e.Kind, e.Trigger)
	}
	if e.Forced {
		b.WriteString(" FORCED")
	}
	if e.CoveredBy != "" {
		fmt.Fprintf(&b, " covered by %.12s", e.CoveredBy)
	}
	if e.Coverage != nil {
		fmt.Fprintf(&b, " coverage %.2f", *e.Coverage)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	fmt.Fprintf(&b, " [clone %.8s]", e.Clone)
	return b.String()
}

// keptLocally explains a snapshot ref this clone keeps although a remote
// marked the backup ARCHIVED or DELETED ("" otherwise).
func keptLocally(s *transitions.Store, b *transitions.Backup) string {
	if b.Live() {
		return ""
	}
	refs, err := s.Repo.SnapshotRefs()
	if err != nil {
		return ""
	}
	return transitions.KeptLocally(b, refs[b.ID] == b.Snapshot, s.Clone)
}
