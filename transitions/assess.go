package transitions

import "fmt"

// Assessment is a backup's confidence with the factors behind it.
type Assessment struct {
	Confidence float64
	Factors    []Factor
	Coverage   float64 // measured now; -1 when there is nothing to measure against
	Against    string  // what coverage was measured against
}

// Assess measures coverage of the given backups against the integration
// branch's tips and sets each one's Confidence. It costs O(changed paths).
func (s *Store) Assess(bs []*Backup) (map[*Backup]Assessment, error) {
	branch, err := s.Repo.IntegrationBranch(s.Policy.IntegrationBranch)
	if err != nil {
		return nil, err
	}
	tips, err := s.Repo.IntegrationTips(branch)
	if err != nil {
		return nil, err
	}
	var commits []string
	against := ""
	for i, t := range tips {
		commits = append(commits, t.Commit)
		if i > 0 {
			against += ", "
		}
		against += t.Ref
	}
	cc, err := s.Repo.NewCoverageChecker(commits)
	if err != nil {
		return nil, fmt.Errorf("assess: %w", err)
	}
	access := s.Repo.LastAccess()
	now := s.now()
	out := make(map[*Backup]Assessment, len(bs))
	for _, b := range bs {
		cov := -1.0
		if len(commits) > 0 && b.State != Deleted {
			cov = cc.Coverage(b.Paths)
		}
		conf, fs := Confidence(b, Facts{Now: now, Coverage: cov, CoverageSource: against, LastAccess: access[b.ID]}, s.Policy)
		b.Confidence = conf
		out[b] = Assessment{Confidence: conf, Factors: fs, Coverage: cov, Against: against}
	}
	return out, nil
}
