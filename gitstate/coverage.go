package gitstate

import (
	"fmt"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
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
// of commits. It walks each commit's trees in-process along the changed paths
// only, reading every tree once and keeping it for the next backup, so a
// check costs O(changed paths), whatever the size of the repository.
type CoverageChecker struct {
	r     *Repo
	roots []string                         // root tree of each commit
	trees map[string]map[string]coverEntry // tree ID → name → entry
}

type coverEntry struct {
	id  string
	dir bool
}

// NewCoverageChecker prepares to check against the trees of commits.
func (r *Repo) NewCoverageChecker(commits []string) (*CoverageChecker, error) {
	cc := &CoverageChecker{r: r, trees: map[string]map[string]coverEntry{}}
	for _, c := range commits {
		if !isHex(c) || (len(c) != 40 && len(c) != 64) {
			return nil, fmt.Errorf("coverage: %q is not a commit ID", c)
		}
		ci, err := r.Commit(c)
		if err != nil {
			return nil, fmt.Errorf("coverage: %w", err)
		}
		cc.roots = append(cc.roots, ci.Tree)
	}
	return cc, nil
}

// Coverage is the share, weighted by size (at least 1 byte a path), of the
// changes whose result is present in one of the commits: the same blob at the
// same path, or the path absent for a deletion. No commits: 0. A tree that
// cannot be read counts as not containing the path: unknown is uncovered.
func (cc *CoverageChecker) Coverage(paths []PathChange) float64 {
	return cc.CoverageAll([][]PathChange{paths})[0]
}

// CoverageAll measures many backups' changes.
func (cc *CoverageChecker) CoverageAll(sets [][]PathChange) []float64 {
	out := make([]float64, len(sets))
	if len(cc.roots) == 0 {
		return out
	}
	for i, paths := range sets {
		if len(paths) == 0 {
			out[i] = 1
			continue
		}
		var total, covered float64
		for _, p := range paths {
			w := float64(max(p.Size, 1))
			total += w
			for _, root := range cc.roots {
				id, ok := cc.lookup(root, p.Path)
				if (p.Blob == "" && !ok) || (p.Blob != "" && ok && id == p.Blob) {
					covered += w
					break
				}
			}
		}
		out[i] = covered / total
	}
	return out
}

// lookup finds path in the tree root: the ID of what is there, if anything.
func (cc *CoverageChecker) lookup(root, path string) (string, bool) {
	tree := root
	for {
		name, rest, more := strings.Cut(path, "/")
		es := cc.entries(tree)
		e, ok := es[name]
		if !ok {
			return "", false
		}
		if !more {
			return e.id, true
		}
		if !e.dir {
			return "", false
		}
		tree, path = e.id, rest
	}
}

// entries reads tree id once.
func (cc *CoverageChecker) entries(id string) map[string]coverEntry {
	if es, ok := cc.trees[id]; ok {
		return es
	}
	es := map[string]coverEntry{}
	if t, err := cc.r.readTree(plumbing.NewHash(id)); err == nil {
		for _, e := range t.Entries {
			es[e.Name] = coverEntry{id: e.Hash.String(), dir: e.Mode == filemode.Dir}
		}
	}
	cc.trees[id] = es
	return es
}
