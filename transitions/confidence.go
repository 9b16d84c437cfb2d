package transitions

import (
	"fmt"
	"math"
	"path"
	"strings"
	"time"
)

// Facts are what the repository says about one backup at this moment. They
// are gathered by the caller (coverage needs git); confidence is pure.
type Facts struct {
	Now time.Time
	// Coverage is the share of the backup's changed bytes present in commits
	// reachable from an integration branch, in [0,1]; negative when unknown.
	Coverage float64
	// CoverageSource names what coverage was measured against.
	CoverageSource string
	LastAccess     time.Time // zero: never shown, diffed or restored
}

// Factor is one term of the confidence and why it has its value.
type Factor struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`  // in [0,1]; 1 means "safe to clean" as far as this factor goes
	Weight float64 `json:"weight"` // share of the total; weights add up to 1
	Note   string  `json:"note"`
}

// Factor weights: coverage dominates, the others tip the balance.
const (
	weightCoverage = 0.60
	weightAge      = 0.15
	weightSize     = 0.10
	weightAccess   = 0.10
	weightTests    = 0.05
)

// Confidence is the cleanup confidence of b in [0,1], with its factors.
// A pinned backup has confidence 0.
func Confidence(b *Backup, f Facts, p Policy) (float64, []Factor) {
	return confidence(b, f, p, true)
}

// ConfidenceScore is Confidence without the explanations, for callers that
// score many backups (list).
func ConfidenceScore(b *Backup, f Facts, p Policy) float64 {
	c, _ := confidence(b, f, p, false)
	return c
}

// confidence computes the factors; the notes only when explain is set.
func confidence(b *Backup, f Facts, p Policy, explain bool) (float64, []Factor) {
	note := func(s func() string) string {
		if explain {
			return s()
		}
		return ""
	}
	cov := f.Coverage
	covNote := "share of changed bytes found on " + f.CoverageSource
	if cov < 0 {
		cov = max(b.RecordedCoverage, 0)
		covNote = "not measured now; last recorded value"
		if b.RecordedCoverage < 0 {
			covNote = "not measured: no integration branch to compare against"
		}
	}
	if f.CoverageSource == "" && f.Coverage >= 0 {
		covNote = "share of changed bytes found in merged history"
	}
	age := f.Now.Sub(b.CreatedAt)
	ageV := clamp01(age.Hours() / 24)
	var sizeV float64
	sizeNote := note(func() string { return fmt.Sprintf("%s changed", humanBytes(b.SizeBytes)) })
	switch {
	case p.HugeThreshold > 0 && b.SizeBytes >= p.HugeThreshold:
		sizeV, sizeNote = 0, sizeNote+", huge: cleaned only with full coverage or an archive"
	case p.LargeThreshold > 0 && b.SizeBytes >= p.LargeThreshold:
		sizeV, sizeNote = 0.5, sizeNote+", large: more scrutiny"
	default:
		sizeV = 1
	}
	accessV, accessNote := 1.0, "never shown, diffed or restored"
	if !f.LastAccess.IsZero() {
		since := f.Now.Sub(f.LastAccess)
		accessV = clamp01(since.Hours() / (7 * 24))
		accessNote = note(func() string { return "last used " + roundDuration(since) + " ago" })
	}
	testsV, testsNote := 1.0, "touches no test files"
	if n := b.testPathCount(); n > 0 {
		testsV, testsNote = 0, note(func() string { return fmt.Sprintf("touches %d test file(s)", n) })
	}
	var fs [6]Factor
	fs[0] = Factor{Name: "coverage", Value: round3(cov), Weight: weightCoverage, Note: covNote}
	fs[1] = Factor{Name: "age", Value: round3(ageV), Weight: weightAge, Note: note(func() string { return roundDuration(age) + " old; full weight after 1 day" })}
	fs[2] = Factor{Name: "size", Value: sizeV, Weight: weightSize, Note: sizeNote}
	fs[3] = Factor{Name: "last_access", Value: round3(accessV), Weight: weightAccess, Note: accessNote}
	fs[4] = Factor{Name: "tests", Value: testsV, Weight: weightTests, Note: testsNote}
	total := 0.0
	for _, x := range fs[:5] {
		total += x.Value * x.Weight
	}
	pinV, pinNote := 1.0, "not pinned"
	if b.Pinned {
		pinV, pinNote, total = 0, "pinned: never cleaned automatically", 0
	}
	fs[5] = Factor{Name: "pinned", Value: pinV, Weight: 0, Note: pinNote + " (multiplies the total)"}
	if !explain {
		return round3(clamp01(total)), nil
	}
	return round3(clamp01(total)), fs[:]
}

// isTestPath recognises common test file and directory conventions.
func isTestPath(p string) bool {
	base := path.Base(p)
	lower := strings.ToLower(p)
	switch {
	case strings.HasSuffix(base, "_test.go"),
		strings.HasPrefix(base, "test_") && strings.HasSuffix(base, ".py"),
		strings.Contains(base, ".test.") || strings.Contains(base, ".spec."),
		strings.HasPrefix(lower, "test/") || strings.HasPrefix(lower, "tests/") ||
			strings.Contains(lower, "/test/") || strings.Contains(lower, "/tests/") ||
			strings.Contains(lower, "__tests__/") || strings.Contains(lower, "/testdata/"):
		return true
	}
	return false
}

// testPathCount counts test paths, from Paths when loaded, else as cached.
func (b *Backup) testPathCount() int {
	if b.Paths != nil {
		return countTestPaths(b)
	}
	return b.TestPaths
}

func countTestPaths(b *Backup) int {
	n := 0
	for _, p := range b.Paths {
		if isTestPath(p.Path) {
			n++
		}
	}
	return n
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return math.Min(1, math.Max(0, x))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func roundDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// humanBytes prints n as B, KiB, MiB, GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// HumanBytes prints n for people (1.5 MiB).
func HumanBytes(n int64) string { return humanBytes(n) }
