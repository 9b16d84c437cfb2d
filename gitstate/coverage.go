package gitstate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Tip is the commit at the end of an integration branch (local or remote-tracking).
type Tip struct {
	Ref    string
	Commit string
}

// IntegrationBranch returns the configured branch, or the remote's default
// branch (refs/remotes/origin/HEAD), else main or master when they exist.
func (r *Repo) IntegrationBranch(configured string) (string, error) {
	if configured != "" {
		return strings.TrimPrefix(configured, "refs/heads/"), nil
	}
	// A symbolic ref is always a loose file: packed-refs cannot hold one.
	if b, err := os.ReadFile(filepath.Join(r.CommonDir, "refs", "remotes", "origin", "HEAD")); err == nil {
		if target, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ref: refs/remotes/origin/"); ok && target != "" {
			return target, nil
		}
	}
	for _, b := range []string{"main", "master"} {
		if id, err := r.ReadRef("refs/heads/" + b); err == nil && id != "" {
			return b, nil
		}
		if id, err := r.ReadRef("refs/remotes/origin/" + b); err == nil && id != "" {
			return b, nil
		}
	}
	return "", nil
}

// IntegrationTips returns the tips of branch: refs/heads/<branch> and every
// remote's refs/remotes/<remote>/<branch> that exist.
func (r *Repo) IntegrationTips(branch string) ([]Tip, error) {
	if branch == "" {
		return nil, nil
	}
	var tips []Tip
	if id, err := r.ReadRef("refs/heads/" + branch); err != nil {
		return nil, err
	} else if id != "" {
		tips = append(tips, Tip{"refs/heads/" + branch, id})
	}
	remotes, err := r.RefsWithPrefix("refs/remotes/")
	if err != nil {
		return nil, err
	}
	for name, id := range remotes {
		rest := strings.TrimPrefix(name, "refs/remotes/")
		if _, b, ok := strings.Cut(rest, "/"); ok && b == branch {
			tips = append(tips, Tip{name, id})
		}
	}
	return tips, nil
}

// CoverageChecker measures how much of a backup's changes are present in a set
// of commits. It asks git for "<commit>:<path>" of each changed path through
// one cat-file process, so a check costs O(changed paths), whatever the size
// of the repository.
type CoverageChecker struct {
	r       *Repo
	commits []string
}

// NewCoverageChecker prepares to check against the trees of commits.
func (r *Repo) NewCoverageChecker(commits []string) (*CoverageChecker, error) {
	for _, c := range commits {
		if !isHex(c) || (len(c) != 40 && len(c) != 64) {
			return nil, fmt.Errorf("coverage: %q is not a commit ID", c)
		}
	}
	infos, err := r.objectInfos(commits)
	if err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	for i, in := range infos {
		if in.Missing || in.Type != "commit" {
			return nil, fmt.Errorf("coverage: commit %s: %w", commits[i], ErrObjectMissing)
		}
	}
	return &CoverageChecker{r: r, commits: commits}, nil
}

// Coverage is the share, weighted by size (at least 1 byte a path), of the
// changes whose result is present in one of the commits: the same blob at the
// same path, or the path absent for a deletion. No commits: 0. When git
// cannot be asked, it answers 0: unknown counts as uncovered.
func (cc *CoverageChecker) Coverage(paths []PathChange) float64 {
	return cc.CoverageAll([][]PathChange{paths})[0]
}

// CoverageAll measures many backups' changes in one round of requests.
func (cc *CoverageChecker) CoverageAll(sets [][]PathChange) []float64 {
	out := make([]float64, len(sets))
	if len(cc.commits) == 0 {
		return out
	}
	var names []string
	for _, paths := range sets {
		for _, p := range paths {
			for _, c := range cc.commits {
				names = append(names, c+":"+p.Path)
			}
		}
	}
	infos, err := cc.r.objectInfos(names)
	if err != nil {
		return out
	}
	k := 0
	for i, paths := range sets {
		if len(paths) == 0 {
			out[i] = 1
			continue
		}
		var total, covered float64
		for _, p := range paths {
			w := float64(max(p.Size, 1))
			total += w
			hit := false
			for range cc.commits {
				in := infos[k]
				k++
				if (p.Blob == "" && in.Missing) || (p.Blob != "" && !in.Missing && in.ID == p.Blob) {
					hit = true
				}
			}
			if hit {
				covered += w
			}
		}
		out[i] = covered / total
	}
	return out
}
