package transitions

import (
	"context"
	"fmt"

	"github.com/git-backup/git-backup/gitstate"
)

// Coverer measures coverage of a backup's changes against something: one
// commit (a new HEAD) or the integration branch's tips.
type Coverer interface {
	Coverage(paths []gitstate.PathChange) float64
}

// AdvanceFacts are what a hook knows when it runs.
type AdvanceFacts struct {
	Head       string  // the commit just made or checked out ("" to skip the CREATED check)
	HeadBranch string  // its branch ("" detached)
	ByHead     Coverer // coverage against Head's tree
	// Integration is coverage against the integration branch's tips; nil when
	// there is no integration branch.
	Integration Coverer
	// Rewritten maps old commit → new commit (post-rewrite): PENDING backups
	// covered by an old commit are now covered by the new one.
	Rewritten map[string]string
	// CoverageAt measures coverage against one commit; a rewritten covering
	// commit is followed only when the rewrite still contains the changes.
	CoverageAt func(commit string, paths []gitstate.PathChange) float64
	// Merged reports whether commit is reachable from an integration tip; may be nil.
	Merged func(commit string) bool
}

// PlanAdvance decides the moves hooks make: CREATED backups whose changes the
// new commit fully contains become PENDING (covered_by that commit), partial
// coverage is recorded without a move; PENDING backups whose changes are on
// an integration branch (by content, so squash merges, rebases and amends
// count, or by ancestry of their covering commit) become CONFIRMED. It reads
// only the changed paths stored with each backup.
func PlanAdvance(v *View, f AdvanceFacts) *Batch {
	b := &Batch{Trigger: string(TriggerHook), Title: "advance backups"}
	for _, bk := range v.Backups {
		if !bk.Live() || len(bk.Damaged) > 0 || bk.ID == "" {
			continue
		}
		switch bk.State {
		case Created:
			// Any branch: work backed up on main is often committed on a new branch.
			if f.Head == "" || f.ByHead == nil {
				continue
			}
			cov := f.ByHead.Coverage(bk.Paths)
			switch {
			case cov >= 1:
				ev := gitstate.Event{Kind: gitstate.KindMove, From: string(Created), To: string(Pending), Trigger: string(TriggerHook),
					Reason: "commit " + short(f.Head) + " contains its changes", CoveredBy: f.Head, Coverage: ptr(1.0)}
				evs := []gitstate.Event{ev}
				summary := fmt.Sprintf("%s CREATED -> PENDING", bk.ID)
				if f.Integration != nil && f.Integration.Coverage(bk.Paths) >= 1 {
					evs = append(evs, gitstate.Event{Kind: gitstate.KindMove, From: string(Pending), To: string(Confirmed), Trigger: string(TriggerHook),
						Reason: "its changes are on the integration branch", CoveredBy: f.Head})
					summary = fmt.Sprintf("%s CREATED -> PENDING -> CONFIRMED", bk.ID)
				}
				b.Changes = append(b.Changes, Change{Backup: bk, Events: evs, Summary: summary})
			case cov > 0 && round3(cov) != round3(bk.RecordedCoverage):
				// No covered_by: that names a commit containing all of it (PENDING).
				b.Changes = append(b.Changes, Change{Backup: bk, Events: []gitstate.Event{{Kind: gitstate.KindCover, Trigger: string(TriggerHook),
					Reason: fmt.Sprintf("commit %s contains %.0f%% of its changes", short(f.Head), cov*100), Coverage: ptr(round3(cov))}},
					Summary: fmt.Sprintf("%s partially covered (%.2f)", bk.ID, cov)})
			}
		case Pending:
			var evs []gitstate.Event
			covered := deref(bk.CoveredBy)
			if nc, ok := f.Rewritten[covered]; ok && covered != "" {
				cov := 1.0
				if f.CoverageAt != nil {
					cov = f.CoverageAt(nc, bk.Paths)
				}
				if cov >= 1 {
					evs = append(evs, gitstate.Event{Kind: gitstate.KindCover, Trigger: string(TriggerHook),
						Reason: "covering commit " + short(covered) + " rewritten as " + short(nc), CoveredBy: nc})
					covered = nc
				} else {
					// The rewrite dropped some of the backed-up changes: the old
					// commit no longer stands for them, and nothing merged will.
					evs = append(evs, gitstate.Event{Kind: gitstate.KindCover, Trigger: string(TriggerHook), Coverage: ptr(round3(cov)),
						Reason: fmt.Sprintf("covering commit %s rewritten as %s, which contains %.0f%% of its changes", short(covered), short(nc), cov*100)})
					covered = ""
				}
			}
			why := ""
			switch {
			case f.Integration != nil && f.Integration.Coverage(bk.Paths) >= 1:
				why = "its changes are on the integration branch"
			case covered != "" && f.Merged != nil && f.Merged(covered):
				why = "covering commit " + short(covered) + " is merged"
			}
			summary := ""
			if why != "" {
				evs = append(evs, gitstate.Event{Kind: gitstate.KindMove, From: string(Pending), To: string(Confirmed), Trigger: string(TriggerHook), Reason: why})
				summary = fmt.Sprintf("%s PENDING -> CONFIRMED", bk.ID)
			} else if len(evs) > 0 {
				summary = fmt.Sprintf("%s covering commit rewritten", bk.ID)
			}
			if len(evs) > 0 {
				b.Changes = append(b.Changes, Change{Backup: bk, Events: evs, Summary: summary})
			}
		}
	}
	if len(b.Changes) == 0 {
		return nil
	}
	return b
}

// Advance gathers the facts for PlanAdvance and commits its batch. head is
// the commit to check CREATED backups against ("" to skip that part).
func (s *Store) Advance(ctx context.Context, head, branch string, rewritten map[string]string) (*Batch, error) {
	f := AdvanceFacts{Head: head, HeadBranch: branch, Rewritten: rewritten}
	if len(rewritten) > 0 {
		f.CoverageAt = func(commit string, paths []gitstate.PathChange) float64 {
			cc, err := s.Repo.NewCoverageChecker([]string{commit})
			if err != nil {
				return 0
			}
			return cc.Coverage(paths)
		}
	}
	if head != "" {
		cc, err := s.Repo.NewCoverageChecker([]string{head})
		if err != nil {
			return nil, err
		}
		f.ByHead = cc
	}
	ib, err := s.Repo.IntegrationBranch(s.Policy.IntegrationBranch)
	if err != nil {
		return nil, err
	}
	tips, err := s.Repo.IntegrationTips(ib)
	if err != nil {
		return nil, err
	}
	if len(tips) > 0 {
		var commits []string
		for _, t := range tips {
			commits = append(commits, t.Commit)
		}
		cc, err := s.Repo.NewCoverageChecker(commits)
		if err != nil {
			return nil, err
		}
		f.Integration = cc
		f.Merged = memoAncestry(func(c string) bool { return s.Repo.IsAncestorOfAny(ctx, c, commits) })
	}
	_, batch, err := s.UpdateLight(ctx, func(v *View) (*Batch, error) {
		// Only CREATED and PENDING backups can advance: read just their notes.
		if err := v.FullWhere(func(b *Backup) bool { return b.State == Created || b.State == Pending }); err != nil {
			return nil, err
		}
		return PlanAdvance(v, f), nil
	})
	return batch, err
}

// maxAncestryChecks bounds the git processes one advance may start; what is
// left is checked by the next hook or monitor cycle.
const maxAncestryChecks = 20

// memoAncestry asks each distinct commit once, and at most maxAncestryChecks.
func memoAncestry(isAncestor func(string) bool) func(string) bool {
	seen := map[string]bool{}
	return func(c string) bool {
		if v, ok := seen[c]; ok {
			return v
		}
		if len(seen) >= maxAncestryChecks {
			return false
		}
		seen[c] = isAncestor(c)
		return seen[c]
	}
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
