package transitions

import (
	"fmt"
	"slices"
	"strings"

	"github.com/git-backup/git-backup/gitstate"
)

// Assessment is a backup's confidence with the factors behind it.
type Assessment struct {
	Confidence float64
	Factors    []Factor
	Coverage   float64 // measured now; -1 when there is nothing to measure against
	Against    string  // what coverage was measured against
}

// Assess measures coverage of the given backups against the integration
// branch's tips and sets each one's Confidence. It costs O(changed paths) of
// the backups whose coverage against these tips is not in the view's cache.
// v is the view the backups came from; it may be nil when none is light.
func (s *Store) Assess(v *View, bs []*Backup) (map[*Backup]Assessment, error) {
	return s.assess(v, bs, true)
}

// Score sets the Confidence of each backup like Assess, without building the
// explanations: what list needs for thousands of backups.
func (s *Store) Score(v *View, bs []*Backup) error {
	_, err := s.assess(v, bs, false)
	return err
}

func (s *Store) assess(v *View, bs []*Backup, explain bool) (map[*Backup]Assessment, error) {
	branch, err := s.Repo.IntegrationBranch(s.Policy.IntegrationBranch)
	if err != nil {
		return nil, err
	}
	tips, err := s.Repo.IntegrationTips(branch)
	if err != nil {
		return nil, err
	}
	var commits, refs []string
	for _, t := range tips {
		commits = append(commits, t.Commit)
		refs = append(refs, t.Ref)
	}
	against := strings.Join(refs, ", ")
	tipsKey := tipsSignature(tips)
	cc, err := s.Repo.NewCoverageChecker(commits)
	if err != nil {
		return nil, fmt.Errorf("assess: %w", err)
	}
	var cache *foldCache
	if v != nil {
		cache = v.cache
	}
	dirty := false
	if cache != nil && cache.tips != tipsKey {
		cache.tips, cache.coverage, cache.checked, dirty = tipsKey, map[string]float64{}, map[string]bool{}, true
	}
	cov := make(map[*Backup]float64, len(bs))
	var need []*Backup
	for _, b := range bs {
		switch {
		case len(commits) == 0 || b.State == Deleted:
			cov[b] = -1
		case cache != nil && hasKey(cache.coverage, b.Snapshot):
			cov[b] = cache.coverage[b.Snapshot]
		default:
			need = append(need, b)
		}
	}
	if len(need) > 0 {
		for _, b := range need {
			if b.Light && v == nil {
				return nil, fmt.Errorf("assess %s: its changed paths are not loaded", b.ID)
			}
		}
		if v != nil {
			if err := v.full(need); err != nil {
				return nil, err
			}
		}
		sets := make([][]gitstate.PathChange, len(need))
		for i, b := range need {
			sets[i] = b.Paths
		}
		for i, c := range cc.CoverageAll(sets) {
			cov[need[i]] = c
			if cache != nil && len(need[i].Damaged) == 0 {
				cache.coverage[need[i].Snapshot], dirty = c, true
			}
		}
	}
	if dirty && v != nil {
		v.saveCache()
	}
	access := s.Repo.LastAccess()
	now := s.now()
	if !explain {
		out := make(map[*Backup]Assessment, len(bs))
		for _, b := range bs {
			b.Confidence = ConfidenceScore(b, Facts{Now: now, Coverage: cov[b], CoverageSource: against, LastAccess: access[b.ID]}, s.Policy)
			out[b] = Assessment{Confidence: b.Confidence, Coverage: cov[b], Against: against}
		}
		return out, nil
	}
	out := make(map[*Backup]Assessment, len(bs))
	for _, b := range bs {
		conf, fs := Confidence(b, Facts{Now: now, Coverage: cov[b], CoverageSource: against, LastAccess: access[b.ID]}, s.Policy)
		b.Confidence = conf
		out[b] = Assessment{Confidence: conf, Factors: fs, Coverage: cov[b], Against: against}
	}
	return out, nil
}

// tipsSignature names a set of integration tips: coverage measured against
// them is cached under it.
func tipsSignature(tips []gitstate.Tip) string {
	sig := make([]string, 0, len(tips))
	for _, t := range tips {
		sig = append(sig, t.Ref+"="+t.Commit)
	}
	slices.Sort(sig)
	return strings.Join(sig, ",")
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}
