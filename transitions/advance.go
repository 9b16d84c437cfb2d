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
	// Skip says a PENDING backup was already checked against these tips
	// and need not be again; nil checks every one.
	Skip func(b *Backup) bool
	// PendingCoverage is coverage against the tips measured beforehand, by
	// snapshot; missing entries are measured with Integration.
	PendingCoverage map[string]float64
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
			if f.Skip != nil && f.Skip(bk) {
				continue
			}
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
			case f.Integration != nil && f.pendingCoverage(bk) >= 1:
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

func (f AdvanceFacts) pendingCoverage(b *Backup) float64 {
	if c, ok := f.PendingCoverage[b.Snapshot]; ok {
		return c
	}
	return f.Integration.Coverage(b.Paths)
}

// AdvanceRequest says what a hook saw.
type AdvanceRequest struct {
	Head      string            // commit to check CREATED backups against ("" to skip that part)
	Branch    string            // HEAD's branch ("" detached)
	Rewritten map[string]string // post-rewrite's old → new commits
	// CommitOnly is a post-commit: PENDING backups are checked only when the
	// commit was made on the integration branch itself.
	CommitOnly bool
}

// Advance gathers the facts for PlanAdvance and commits its batch.
func (s *Store) Advance(ctx context.Context, req AdvanceRequest) (*Batch, error) {
	head, branch, rewritten := req.Head, req.Branch, req.Rewritten
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
	var cc *gitstate.CoverageChecker
	var asked map[string]bool
	if len(tips) > 0 {
		var commits []string
		for _, t := range tips {
			commits = append(commits, t.Commit)
		}
		if cc, err = s.Repo.NewCoverageChecker(commits); err != nil {
			return nil, err
		}
		f.Integration = cc
		f.Merged, asked = memoAncestry(func(c string) bool { return s.Repo.IsAncestorOfAny(ctx, c, commits) })
	}
	tipsKey := tipsSignature(tips)
	_, batch, err := s.UpdateLight(ctx, func(v *View) (*Batch, error) {
		// PENDING backups already checked against these very tips cannot have
		// changed their answer (unless their covering commit was rewritten):
		// the fold cache remembers them, so a commit re-checks nothing.
		c := v.cache
		fresh := c != nil && c.tips == tipsKey
		var pend []*Backup
		for _, b := range v.Backups {
			if b.State != Pending || !b.Live() {
				continue
			}
			// Skipped only when an earlier hook or cycle decided it against
			// these tips; coverage measured by list alone decided nothing.
			if fresh && c.checked[b.Snapshot] && rewritten[deref(b.CoveredBy)] == "" {
				continue
			}
			pend = append(pend, b)
		}
		inPend := make(map[*Backup]bool, len(pend))
		for _, b := range pend {
			inPend[b] = true
		}
		f.Skip = func(b *Backup) bool { return !inPend[b] }
		// Only CREATED and the PENDING backups to check can advance: read just their notes.
		// Without a new commit, CREATED backups cannot advance.
		if err := v.FullWhere(func(b *Backup) bool { return (b.State == Created && head != "") || inPend[b] }); err != nil {
			return nil, err
		}
		f.PendingCoverage = map[string]float64{}
		if cc != nil && len(pend) > 0 {
			sets := make([][]gitstate.PathChange, len(pend))
			for i, b := range pend {
				sets[i] = b.Paths
			}
			for i, cov := range cc.CoverageAll(sets) {
				f.PendingCoverage[pend[i].Snapshot] = cov
			}
		}
		plan := PlanAdvance(v, f)
		if c != nil && cc != nil {
			dirty := !fresh
			if !fresh {
				c.tips, c.coverage, c.checked = tipsKey, map[string]float64{}, map[string]bool{}
			}
			moving := map[*Backup]bool{}
			if plan != nil {
				for _, ch := range plan.Changes {
					moving[ch.Backup] = true
				}
			}
			for _, b := range pend {
				// Remember only complete answers that move nothing: an
				// ancestry question left for later (the per-run bound) must be
				// asked again, and a move is remembered by its commit, which
				// may still lose a race and be decided again.
				if moving[b] {
					continue
				}
				if cov := f.PendingCoverage[b.Snapshot]; cov >= 1 || b.CoveredBy == nil || asked[*b.CoveredBy] {
					c.coverage[b.Snapshot], c.checked[b.Snapshot], dirty = cov, true, true
				}
			}
			if dirty {
				v.saveCache()
			}
		}
		return plan, nil
	})
	return batch, err
}

// maxAncestryChecks bounds the git processes one advance may start; what is
// left is checked by the next hook or monitor cycle.
const maxAncestryChecks = 20

// memoAncestry asks each distinct commit once, and at most maxAncestryChecks;
// the map it returns holds the commits that were asked.
func memoAncestry(isAncestor func(string) bool) (func(string) bool, map[string]bool) {
	seen := map[string]bool{}
	asked := map[string]bool{}
	return func(c string) bool {
		if v, ok := seen[c]; ok {
			return v
		}
		if len(seen) >= maxAncestryChecks {
			return false
		}
		seen[c] = isAncestor(c)
		asked[c] = true
		return seen[c]
	}, asked
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
