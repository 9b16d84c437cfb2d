package monitor

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/git-backup/git-backup/gitstate"
)

// panickyDisk panics on its first call, then measures like fakeDisk.
type panickyDisk struct {
	*fakeDisk
	panicked bool
}

func (d *panickyDisk) Usage(path string) (gitstate.DiskUsage, error) {
	if !d.panicked {
		d.panicked = true
		panic("disk provider exploded")
	}
	return d.fakeDisk.Usage(path)
}

// A cycle that panics is logged with its stack in monitor.log and on the
// loop's logger, and the next cycle runs.
func TestPanicInCycleIsLoggedAndLoopGoesOn(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.clock.onWait = func(n int) {
		if n >= 2 {
			cancel()
		}
	}
	disk := &panickyDisk{fakeDisk: e.disk}
	var stderr bytes.Buffer
	o := e.options()
	o.Once, o.Disk = false, disk
	o.Log = slog.New(slog.NewTextHandler(&stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := Run(ctx, o); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !disk.panicked || e.disk.calls == 0 {
		t.Fatalf("no cycle measured the disk after the panic (panicked %v, calls %d)", disk.panicked, e.disk.calls)
	}
	logged, err := os.ReadFile(e.s.Repo.LogPath("monitor"))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(logged), stderr.String()} {
		line := grepLine(out, "cycle panicked")
		if line == "" {
			t.Fatalf("no panic record in:\n%s", out)
		}
		for _, want := range []string{"level=ERROR", "disk provider exploded", "goroutine ", "panickyDisk"} {
			if !strings.Contains(line, want) {
				t.Errorf("panic record lacks %q: %s", want, line)
			}
		}
	}
	st, err := readState(e.s.Repo)
	if err != nil {
		t.Fatal(err)
	}
	if st.Outcome != "ok" {
		t.Errorf("last cycle's outcome = %q, want ok", st.Outcome)
	}
}

// grepLine returns the first line of s holding sub: every record is one line.
func grepLine(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}
