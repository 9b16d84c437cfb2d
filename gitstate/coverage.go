package gitstate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
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
	s, err := r.storage()
	if err != nil {
		return "", err
	}
	if ref, err := s.Reference("refs/remotes/origin/HEAD"); err == nil && ref.Type() == plumbing.SymbolicReference {
		return strings.TrimPrefix(ref.Target().String(), "refs/remotes/origin/"), nil
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
// of commit trees. It caches the trees it reads, so checking many backups
// against the same tips reads each tree once.
type CoverageChecker struct {
	r     *Repo
	trees []*object.Tree
}

// NewCoverageChecker prepares to check against the trees of commits.
func (r *Repo) NewCoverageChecker(commits []string) (*CoverageChecker, error) {
	cc := &CoverageChecker{r: r}
	for _, c := range commits {
		cm, err := r.readCommit(plumbing.NewHash(c))
		if err != nil {
			return nil, fmt.Errorf("coverage: %w", err)
		}
		t, err := r.readTree(cm.TreeHash)
		if err != nil {
			return nil, fmt.Errorf("coverage: %w", err)
		}
		cc.trees = append(cc.trees, t)
	}
	return cc, nil
}

// Coverage is the share, weighted by size (at least 1 byte a path), of the
// changes whose result is present in one of the trees: the same blob at the
// same path, or the path absent for a deletion. No trees: 0.
func (cc *CoverageChecker) Coverage(paths []PathChange) float64 {
	if len(cc.trees) == 0 {
		return 0
	}
	if len(paths) == 0 {
		return 1
	}
	var total, covered float64
	for _, p := range paths {
		w := float64(max(p.Size, 1))
		total += w
		if cc.covers(p) {
			covered += w
		}
	}
	return covered / total
}

// Covers reports whether one change is present in any tree.
func (cc *CoverageChecker) covers(p PathChange) bool {
	for _, t := range cc.trees {
		e, err := t.FindEntry(p.Path)
		switch {
		case p.Blob == "" && errors.Is(err, object.ErrEntryNotFound), p.Blob == "" && errors.Is(err, object.ErrDirectoryNotFound):
			return true
		case err == nil && e.Hash.String() == p.Blob:
			return true
		}
	}
	return false
}
