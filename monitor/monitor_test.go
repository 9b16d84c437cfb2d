package monitor

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/transitions"
)

func fourCleanable(t *testing.T, e *env) {
	t.Helper()
	for _, n := range []string{"b1", "b2", "b3", "b4"} {
		e.cleanable(t, n+".txt")
	}
	e.clock.add(2 * time.Hour) // past minAge
}

func TestRun_warningCleansGentlyAndStopsBelowWarning(t *testing.T) {
	e := newEnv(t)
	fourCleanable(t, e)
	e.disk.git = func() float64 { return 65 + 3*e.live(t) } // 4 live: 77%, 3 live: 74%
	e.runOnce(t)
	n := e.count(t)
	if n[transitions.Archived] != 1 || n[transitions.Cleanable] != 3 {
		t.Fatalf("want 1 archived (covered, compressBeforeDelete) and 3 left, got %v", n)
	}
	if len(e.alert.events) != 0 {
		t.Fatalf("the cycle ended below warning, as it started from: no alert, got %+v", e.alert.events)
	}
	if len(e.mets.samples) != 1 || e.mets.samples[0].Level != "ok" {
		t.Fatalf("samples %+v", e.mets.samples)
	}
	if len(e.mets.moves) != 1 || e.mets.moves[0].Trigger != string(transitions.TriggerDisk) {
		t.Fatalf("transitions %+v", e.mets.moves)
	}
}

func TestRun_criticalRemeasuresAfterEachBackupAndStopsAtTarget(t *testing.T) {
	e := newEnv(t)
	fourCleanable(t, e)
	e.disk.git = func() float64 { return 71 + 5*e.live(t) } // 4 live: 91%, 3: 86%, 2: 81%
	e.disk.calls = 0
	o := e.options()
	o.Log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	n := e.count(t)
	if n["live"] != 2 || n[transitions.Archived] != 2 {
		t.Fatalf("want 2 cleaned, 2 left, got %v", n)
	}
	// One measure at the start, one after each of the two backups, one for
	// the root in metrics, at least: a measure between backups.
	if e.disk.calls < 4 {
		t.Fatalf("measured %d times", e.disk.calls)
	}
}

func TestRun_emergencyCleansUntilFreeSpaceTarget(t *testing.T) {
	e := newEnv(t)
	fourCleanable(t, e)
	e.disk.git = func() float64 { return 80 + 5*e.live(t) } // 4 live: 100%; 0 live: 80% (20% free)
	e.runOnce(t)
	if n := e.count(t); n["live"] != 0 {
		t.Fatalf("want every CLEANABLE backup cleaned, got %v", n)
	}
	if len(e.alert.events) != 1 || e.alert.events[0].Level != "warning" || e.alert.events[0].Plan.Moves != 4 {
		t.Fatalf("want one alert, emergency brought down to warning, got %+v", e.alert.events)
	}
}

func TestRun_emergencyChecksEveryEmergencyIntervalAndAlertsEachCycle(t *testing.T) {
	e := newEnv(t)
	e.disk.git = func() float64 { return 97 } // nothing to clean: stays in emergency
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.clock.onWait = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	o := e.options()
	o.Once = false
	if err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, w := range e.clock.waits {
		if w != e.s.Policy.EmergencyInterval {
			t.Fatalf("waits %v, want every %v", e.clock.waits, e.s.Policy.EmergencyInterval)
		}
	}
	if len(e.alert.events) != 3 {
		t.Fatalf("want an alert per cycle in emergency, got %d", len(e.alert.events))
	}
	if ev := e.alert.events[0]; ev.Level != "emergency" || ev.Previous != "ok" || ev.Usage.UsedPercent != 97 {
		t.Fatalf("first alert %+v", ev)
	}
	if ev := e.alert.events[1]; ev.Previous != "emergency" {
		t.Fatalf("second alert %+v", ev)
	}
	st, err := ReadStatus(e.s.Repo)
	if err != nil || st.Running || st.Level != "emergency" || st.Outcome != "ok" {
		t.Fatalf("status %+v %v", st, err)
	}
}

func TestRun_levelChangeAlertsOnce(t *testing.T) {
	e := newEnv(t)
	used := 80.0
	e.disk.git = func() float64 { return used }
	e.runOnce(t)
	e.runOnce(t) // a new run starts from ok again
	if len(e.alert.events) != 2 || e.alert.events[0].Level != "warning" {
		t.Fatalf("alerts %+v", e.alert.events)
	}
	// Within one run, a steady level alerts once.
	e.alert.events = nil
	ctx, cancel := context.WithCancel(context.Background())
	e.clock.onWait = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	o := e.options()
	o.Once = false
	if err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	if len(e.alert.events) != 1 {
		t.Fatalf("want one alert for a steady warning, got %d", len(e.alert.events))
	}
}

func TestRun_archiveDiskDeletesOldestArchivedUntilBelowCritical(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"b1", "b2", "b3"} {
		e.cleanable(t, n+".txt")
	}
	// Time policies first: CLEANABLE for cleanableTimeout → ARCHIVED.
	e.clock.add(e.s.Policy.CleanableTimeout + time.Hour)
	e.disk.arch = func() float64 { return 80 + 5*float64(e.count(t)[transitions.Archived]) } // 3: 95%, 1: 85%, 0: 80%
	e.runOnce(t)
	n := e.count(t)
	if n[transitions.Archived] != 0 || n[transitions.Deleted] != 3 {
		t.Fatalf("want the archives deleted down to below critical, got %v", n)
	}
	var time_, disk int
	for _, m := range e.mets.moves {
		switch m.Trigger {
		case string(transitions.TriggerTime):
			time_++
		case string(transitions.TriggerDisk):
			disk++
		}
	}
	if time_ != 3 || disk != 3 {
		t.Fatalf("want 3 time moves and 3 disk moves, got %+v", e.mets.moves)
	}
}

func TestRun_timePoliciesThroughACycle(t *testing.T) {
	e := newEnv(t)
	e.cleanable(t, "b1.txt")
	e.clock.add(2 * time.Hour)
	e.runOnce(t)
	if n := e.count(t); n[transitions.Cleanable] != 1 {
		t.Fatalf("not due yet: %v", n)
	}
	e.clock.add(e.s.Policy.CleanableTimeout)
	e.runOnce(t)
	if n := e.count(t); n[transitions.Archived] != 1 {
		t.Fatalf("due: want ARCHIVED, got %v", n)
	}
}

func TestRun_autosaveOnlyWhenTheWorkChangedAndTheIntervalPassed(t *testing.T) {
	e := newEnv(t)
	e.s.Policy.AutosaveInterval = 10 * time.Minute
	e.runOnce(t)
	if n := e.count(t); n[transitions.Created] != 0 {
		t.Fatalf("nothing changed: %v", n)
	}
	writeFile(t, e.dir, "a.txt", "changed\n")
	e.runOnce(t)
	if n := e.count(t); n[transitions.Created] != 1 {
		t.Fatalf("changed: want an autosave, got %v", n)
	}
	writeFile(t, e.dir, "a.txt", "changed again\n")
	e.clock.add(5 * time.Minute)
	e.runOnce(t)
	if n := e.count(t); n[transitions.Created] != 1 {
		t.Fatalf("within the interval: want no new autosave, got %v", n)
	}
	e.clock.add(6 * time.Minute)
	e.runOnce(t)
	n := e.count(t)
	if n[transitions.Created] != 2 {
		t.Fatalf("interval passed: want a second autosave, got %v", n)
	}
	v, _ := e.s.Load(context.Background())
	for _, b := range v.Backups {
		if b.Trigger != "autosave" {
			t.Fatalf("backup %s trigger %q", b.ID, b.Trigger)
		}
	}
}

func TestRun_pausedDoesNothingUntilResumed(t *testing.T) {
	e := newEnv(t)
	fourCleanable(t, e)
	e.s.Policy.AutosaveInterval = time.Minute
	writeFile(t, e.dir, "a.txt", "changed\n")
	e.disk.git = func() float64 { return 80 + 5*e.live(t) }
	if err := Pause(e.s.Repo, e.clock.Now(), e.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.runOnce(t)
	if n := e.count(t); n["live"] != 4 || n[transitions.Created] != 0 {
		t.Fatalf("paused: want nothing done, got %v", n)
	}
	if st, _ := ReadStatus(e.s.Repo); st.Outcome != "paused" {
		t.Fatalf("outcome %q", st.Outcome)
	}
	e.clock.add(time.Hour) // the pause ran out
	if Paused(e.s.Repo, e.clock.Now()).Paused {
		t.Fatal("still paused after its end")
	}
	if err := Pause(e.s.Repo, e.clock.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	e.runOnce(t)
	if n := e.count(t); n["live"] != 4 {
		t.Fatalf("paused until resumed: %v", n)
	}
	if err := Resume(e.s.Repo); err != nil {
		t.Fatal(err)
	}
	e.runOnce(t)
	if n := e.count(t); n[transitions.Created] != 1 {
		t.Fatalf("resumed: want the autosave and the cleanup, got %v", n)
	}
}

func TestRun_secondMonitorIsRefused(t *testing.T) {
	e := newEnv(t)
	l, err := lock(e.s.Repo)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if err := writeState(e.s.Repo, State{PID: 4242, Started: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), e.options())
	if !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "pid 4242") {
		t.Fatalf("want ErrRunning naming pid 4242, got %v", err)
	}
	st, err := ReadStatus(e.s.Repo)
	if err != nil || !st.Running || st.PID != 4242 {
		t.Fatalf("status %+v %v", st, err)
	}
	// --all skips it with a warning, and fails only when nothing is left.
	o := e.options()
	o.All = true
	if err := Run(context.Background(), o); !errors.Is(err, ErrRunning) {
		t.Fatalf("--all with every repository taken: %v", err)
	}
	l.Unlock()
	if err := Run(context.Background(), e.options()); err != nil {
		t.Fatalf("after the lock is free: %v", err)
	}
}

func TestRun_cancelledStopsWithoutError(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := e.options()
	o.Once = false
	if err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
}

func TestRun_vanishedRepositoryIsSkipped(t *testing.T) {
	e := newEnv(t)
	if err := Run(context.Background(), e.options()); err != nil {
		t.Fatal(err)
	}
	e.s.Repo.CommonDir += "-gone"
	o := e.options()
	if err := Run(context.Background(), o); err == nil {
		// the lock cannot be taken in a vanished directory: an error, not a panic
		t.Log("ran")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
