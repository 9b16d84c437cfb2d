package transitions

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

var confNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func confBackup(age time.Duration, size int64, paths ...string) *Backup {
	b := &Backup{ID: "20260301-000000-abcdef0", State: Cleanable, CreatedAt: confNow.Add(-age), SizeBytes: size, RecordedCoverage: -1}
	for _, p := range paths {
		b.Paths = append(b.Paths, gitstate.PathChange{Path: p})
	}
	return b
}

func factorNamed(t *testing.T, fs []Factor, name string) Factor {
	t.Helper()
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no factor %q in %+v", name, fs)
	return Factor{}
}

func TestConfidence_weightsSumToOneAndTotalIsTheWeightedSum(t *testing.T) {
	p := DefaultPolicy()
	cases := []struct {
		b *Backup
		f Facts
	}{
		{confBackup(2*time.Hour, 10, "a.go"), Facts{Now: confNow, Coverage: 0.3, CoverageSource: "refs/heads/main"}},
		{confBackup(30*time.Hour, 200<<20, "pkg/x_test.go"), Facts{Now: confNow, Coverage: 1, LastAccess: confNow.Add(-24 * time.Hour)}},
		{confBackup(time.Minute, 600<<20), Facts{Now: confNow, Coverage: -1}},
	}
	for i, c := range cases {
		conf, fs := Confidence(c.b, c.f, p)
		sumW, total := 0.0, 0.0
		for _, f := range fs {
			if f.Value < 0 || f.Value > 1 {
				t.Errorf("case %d: factor %s = %v outside [0,1]", i, f.Name, f.Value)
			}
			if f.Note == "" {
				t.Errorf("case %d: factor %s has no explanation", i, f.Name)
			}
			sumW += f.Weight
			total += f.Value * f.Weight
		}
		if math.Abs(sumW-1) > 1e-9 {
			t.Errorf("case %d: weights sum to %v", i, sumW)
		}
		if math.Abs(conf-total) > 0.002 {
			t.Errorf("case %d: confidence %v, weighted sum of factors %v", i, conf, total)
		}
		if conf < 0 || conf > 1 {
			t.Errorf("case %d: confidence %v outside [0,1]", i, conf)
		}
	}
}

func TestConfidence_pinnedIsZero(t *testing.T) {
	b := confBackup(30*24*time.Hour, 1)
	b.Pinned = true
	conf, fs := Confidence(b, Facts{Now: confNow, Coverage: 1}, DefaultPolicy())
	if conf != 0 {
		t.Errorf("pinned confidence = %v, want 0", conf)
	}
	if f := factorNamed(t, fs, "pinned"); f.Value != 0 || !strings.Contains(f.Note, "pinned") {
		t.Errorf("pinned factor = %+v", f)
	}
}

func TestConfidence_fullCoverageAndOldIsHigh(t *testing.T) {
	p := DefaultPolicy()
	conf, _ := Confidence(confBackup(3*24*time.Hour, 1000, "main.go"), Facts{Now: confNow, Coverage: 1, CoverageSource: "refs/heads/main"}, p)
	if conf < p.AutoCleanupConfidence {
		t.Errorf("fully covered 3-day-old backup: confidence %v below the auto-cleanup threshold %v", conf, p.AutoCleanupConfidence)
	}
	if conf != 1 {
		t.Errorf("confidence %v, want 1 (every factor at its best)", conf)
	}
	young, _ := Confidence(confBackup(time.Minute, 1000, "main.go"), Facts{Now: confNow, Coverage: 1}, p)
	if young >= conf {
		t.Errorf("a minute-old backup (%v) is not less safe than a 3-day-old one (%v)", young, conf)
	}
	uncovered, _ := Confidence(confBackup(3*24*time.Hour, 1000, "main.go"), Facts{Now: confNow, Coverage: 0}, p)
	if uncovered >= p.AutoCleanupConfidence {
		t.Errorf("an uncovered backup reaches the auto-cleanup threshold: %v", uncovered)
	}
}

func TestConfidence_sizeScrutiny(t *testing.T) {
	p := DefaultPolicy()
	cases := []struct {
		size int64
		want float64
		note string
	}{
		{p.LargeThreshold - 1, 1, "changed"},
		{p.LargeThreshold, 0.5, "large"},
		{p.HugeThreshold - 1, 0.5, "large"},
		{p.HugeThreshold, 0, "huge"},
		{p.HugeThreshold * 4, 0, "huge"},
	}
	for _, c := range cases {
		_, fs := Confidence(confBackup(48*time.Hour, c.size), Facts{Now: confNow, Coverage: 1}, p)
		if f := factorNamed(t, fs, "size"); f.Value != c.want || !strings.Contains(f.Note, c.note) {
			t.Errorf("size %d: factor %+v, want value %v and a note saying %q", c.size, f, c.want, c.note)
		}
	}
	off := p
	off.LargeThreshold, off.HugeThreshold = 0, 0
	if _, fs := Confidence(confBackup(0, 1<<40), Facts{Now: confNow, Coverage: 1}, off); factorNamed(t, fs, "size").Value != 1 {
		t.Error("with thresholds at 0 (off), size still lowers confidence")
	}
}

func TestConfidence_coverageFallsBackToTheRecordedValue(t *testing.T) {
	b := confBackup(48*time.Hour, 1)
	_, fs := Confidence(b, Facts{Now: confNow, Coverage: -1}, DefaultPolicy())
	if f := factorNamed(t, fs, "coverage"); f.Value != 0 || !strings.Contains(f.Note, "no integration branch") {
		t.Errorf("never measured: %+v", f)
	}
	b.RecordedCoverage = 0.75
	_, fs = Confidence(b, Facts{Now: confNow, Coverage: -1}, DefaultPolicy())
	if f := factorNamed(t, fs, "coverage"); f.Value != 0.75 || !strings.Contains(f.Note, "recorded") {
		t.Errorf("recorded 0.75: %+v", f)
	}
}

func TestConfidence_recentAccessAndTestFilesLowerIt(t *testing.T) {
	p := DefaultPolicy()
	base, _ := Confidence(confBackup(48*time.Hour, 1, "main.go"), Facts{Now: confNow, Coverage: 1}, p)
	touched, fs := Confidence(confBackup(48*time.Hour, 1, "main.go"), Facts{Now: confNow, Coverage: 1, LastAccess: confNow.Add(-time.Hour)}, p)
	if touched >= base || factorNamed(t, fs, "last_access").Value >= 0.1 {
		t.Errorf("shown an hour ago: %v (factors %+v), untouched %v", touched, fs, base)
	}
	tests, fs := Confidence(confBackup(48*time.Hour, 1, "main.go", "pkg/main_test.go", "web/__tests__/a.js"), Facts{Now: confNow, Coverage: 1}, p)
	if tests >= base || !strings.Contains(factorNamed(t, fs, "tests").Note, "2 test file") {
		t.Errorf("touching tests: %v (factors %+v), without %v", tests, fs, base)
	}
}

func TestIsTestPath(t *testing.T) {
	yes := []string{"a_test.go", "x/y_test.go", "test_api.py", "src/app.test.ts", "a.spec.js", "test/x.c", "tests/x", "pkg/test/x", "Tests/x", "a/__tests__/b", "a/testdata/x"}
	no := []string{"main.go", "latest.go", "contest/x.go", "testing.md", "attestation.txt", "test_api.rb"}
	for _, p := range yes {
		if !isTestPath(p) {
			t.Errorf("isTestPath(%q) = false", p)
		}
	}
	for _, p := range no {
		if isTestPath(p) {
			t.Errorf("isTestPath(%q) = true", p)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 100 << 20: "100.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
