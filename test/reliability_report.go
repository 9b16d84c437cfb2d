package test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The reliability suite (crash trials, concurrency stress, corruption,
// hostile input) runs in a bounded form on every `go test ./...` and in full
// when GIT_BACKUP_RELIABILITY=full: test/reliability.sh sets it and prints
// the table that every suite adds its row to.

// fullRun reports whether the full reliability run was asked for.
func fullRun() bool { return os.Getenv("GIT_BACKUP_RELIABILITY") == "full" }

// scale picks the bounded figure or, in the full run, the full one; the
// environment variable name, when set to a number, overrides both.
func scale(name string, bounded, full int) int {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	if fullRun() {
		return full
	}
	return bounded
}

// scaleDuration is scale for durations ("90s", "2m").
func scaleDuration(name string, bounded, full time.Duration) time.Duration {
	if s := os.Getenv(name); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d
		}
	}
	if fullRun() {
		return full
	}
	return bounded
}

var reportMu sync.Mutex

// report logs one suite's figures and, when GIT_BACKUP_RELIABILITY_REPORT
// names a file, appends them to it as a Markdown table row:
// | suite | what was tried | figures |.
func report(t *testing.T, suite, tried, figures string) {
	t.Helper()
	t.Logf("%s: %s: %s", suite, tried, figures)
	path := os.Getenv("GIT_BACKUP_RELIABILITY_REPORT")
	if path == "" {
		return
	}
	reportMu.Lock()
	defer reportMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Errorf("reliability report: %v", err)
		return
	}
	defer f.Close()
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprintf(f, "| %s | %s | %s |\n", cell(suite), cell(tried), cell(figures))
}
