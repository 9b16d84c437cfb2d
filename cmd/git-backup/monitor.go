package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/monitor"
	"github.com/git-backup/git-backup/transitions"
)

type monitorCmd struct {
	Run    monitorRunCmd    `cmd:"" default:"withargs" help:"Run the monitor in the foreground (the default)."`
	Status monitorStatusCmd `cmd:"" help:"Whether a monitor runs for this repository: pid, since, last cycle, level."`
	Stop   monitorStopCmd   `cmd:"" help:"Stop this repository's monitor: SIGTERM, then SIGKILL after 30 s."`

	InstallService   monitorInstallServiceCmd   `cmd:"" name:"install-service" help:"Write a systemd user unit (launchd agent on macOS) that runs monitor --all."`
	UninstallService monitorUninstallServiceCmd `cmd:"" name:"uninstall-service" help:"Remove the unit install-service wrote (--disable stops it first)."`
}

type monitorRunCmd struct {
	Once     bool `help:"Run one cycle and exit."`
	All      bool `help:"Serve every repository in the global config's backup.repo."`
	Register bool `help:"Add this repository to the global config's backup.repo and exit."`
	// MetricsAddr serves Prometheus metrics; a port alone listens on loopback.
	MetricsAddr string `name:"metrics-addr" placeholder:"[HOST:]PORT" help:"Serve Prometheus metrics at /metrics (a port alone: loopback only)."`
	// For tests and experts.
	TimeOffset string `name:"time-offset" hidden:"" help:"Plan and record as if this much later than now. For tests."`
	PruneGrace string `name:"prune-grace" hidden:"" help:"Grace period of reclaim (default 1h; 0: none). For tests and experts."`
}

func (c *monitorRunCmd) Help() string {
	return `Runs until SIGINT or SIGTERM, then finishes the move in hand and exits 0; a
second SIGINT stops at once (every move is one compare-and-swap commit, so the
state stays whole). Each cycle, every backup.checkInterval: autosave changed
work (backup.autosaveInterval), confirm backups merged on the integration
branch, apply the time policies and the disk policies (SPEC §7's table, at most
every backup.cleanupInterval, every backup.emergencyInterval in an emergency),
reclaim the space of dropped snapshots, record the metrics; once a day, post
git backup report's figures to the webhooks (backup.alertWebhook,
backup.slackWebhook) when alerts are on. One monitor per repository; a paused
repository (git backup pause) is left alone. It logs to stderr (log/slog text,
one line per record, fit for journald) and to
<git common dir>/backup/logs/monitor.log, at backup.logLevel (default info) or
-v/-vv, whichever is more verbose; a cycle that panics is logged there with
its stack and the loop goes on.

Exit status: 0 stopped by a signal or after --once, 1 another monitor runs or
the repository cannot be opened.`
}

func (c *monitorRunCmd) Run(ctx context.Context, a *App) error {
	if c.Register {
		return a.registerRepo(ctx)
	}
	var offset time.Duration
	if c.TimeOffset != "" {
		d, err := transitions.ParseDuration(c.TimeOffset)
		if err != nil {
			return usagef("--time-offset: %v", err)
		}
		offset = d
	}
	grace, err := pruneGrace(c.PruneGrace)
	if err != nil {
		return err
	}
	var stores []*transitions.Store
	if c.All {
		stores, err = a.registeredStores(ctx)
	} else {
		var s *transitions.Store
		s, err = a.Store(ctx)
		stores = []*transitions.Store{s}
	}
	if err != nil {
		return err
	}
	for _, s := range stores {
		a.raiseLogLevel(s.Policy.SlogLevel())
	}
	if offset != 0 {
		for _, s := range stores {
			s.Now = func() time.Time { return time.Now().Add(offset) }
		}
	}
	abort, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stopSignals := secondSignal(ctx, cancel)
	defer stopSignals()
	clock := monitor.Clock(monitor.RealClock{})
	if offset != 0 {
		clock = offsetClock{offset}
	}
	if !a.Quiet && !c.Once {
		a.note("git-backup: monitor started for %d repository(ies) (pid %d); Ctrl-C stops it", len(stores), os.Getpid())
	}
	notifiers, rec := monitorSinks(stores, a)
	if c.MetricsAddr != "" {
		ln, err := monitor.ListenMetrics(c.MetricsAddr)
		if err != nil {
			return err
		}
		go func() {
			if err := monitor.ServeMetricsOn(ctx, ln, rec); err != nil {
				a.Log.Warn("metrics endpoint", "err", err)
			}
		}()
	}
	err = monitor.Run(ctx, monitor.Options{Stores: stores, All: c.All, Once: c.Once, Clock: clock,
		Log: a.Log, Abort: abort, ReclaimGrace: grace, Alerter: notifiers, Reporter: notifiers, Metrics: rec})
	if abort.Err() != nil {
		return fmt.Errorf("monitor: aborted by a second signal")
	}
	return err
}

// monitorSinks are the alert and daily report sender (each repository's,
// from its policy) and the metrics recorder (each repository's disk
// history) of a run.
func monitorSinks(stores []*transitions.Store, a *App) (repoNotifiers, *monitor.Recorder) {
	alerters := repoNotifiers{}
	repos := map[string]*gitstate.Repo{}
	for _, s := range stores {
		name := s.Repo.WorkTree
		if name == "" {
			name = s.Repo.CommonDir
		}
		alerters[name] = monitor.NewNotifier(s.Policy, a.Log)
		repos[name] = s.Repo
	}
	rec := &monitor.Recorder{Log: a.Log, History: func(repo string) *monitor.History {
		if r := repos[repo]; r != nil {
			return &monitor.History{Repo: r}
		}
		return nil
	}}
	return alerters, rec
}

// repoNotifiers sends each event and daily report with its repository's
// alert settings.
type repoNotifiers map[string]*monitor.Notifier

func (m repoNotifiers) Alert(ctx context.Context, e monitor.Event) error {
	if n := m[e.Repo]; n != nil {
		return n.Alert(ctx, e)
	}
	return nil
}

func (m repoNotifiers) DailyReport(ctx context.Context, r monitor.Report) error {
	if n := m[r.Repository]; n != nil {
		return n.DailyReport(ctx, r)
	}
	return nil
}

// secondSignal cancels abort on a second SIGINT or SIGTERM: the first one
// cancels ctx (main's signal context) and lets the move in hand finish.
func secondSignal(ctx context.Context, abort context.CancelFunc) func() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-ch:
				if n++; n >= 2 {
					abort()
					return
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// offsetClock is the wall clock shifted by a fixed offset (--time-offset).
type offsetClock struct{ d time.Duration }

func (c offsetClock) Now() time.Time                         { return time.Now().Add(c.d) }
func (c offsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// registeredStores opens every repository in the global backup.repo; a
// vanished one is skipped with a warning.
func (a *App) registeredStores(ctx context.Context) ([]*transitions.Store, error) {
	paths, err := gitstate.GlobalConfigValues(ctx, "backup.repo")
	if err != nil {
		return nil, err
	}
	var ss []*transitions.Store
	for _, p := range paths {
		s, err := openStore(ctx, p, a)
		if err != nil {
			a.note("git-backup: skipping registered repository %q: %v", p, err)
			continue
		}
		ss = append(ss, s)
	}
	if len(ss) == 0 {
		return nil, errors.New("monitor --all: no registered repository can be opened (git backup monitor --register adds one)")
	}
	return ss, nil
}

// openStore opens the repository at dir with its own policy.
func openStore(ctx context.Context, dir string, a *App) (*transitions.Store, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	r, err := gitstate.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	es, err := r.ReadConfig(ctx)
	if err != nil {
		return nil, err
	}
	return newStore(r, es, a.Log)
}

// registerRepo adds this repository to the global backup.repo, once.
func (a *App) registerRepo(ctx context.Context) error {
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	path := r.WorkTree
	if path == "" {
		path = r.CommonDir
	}
	added, err := r.RegisterRepo(ctx, path)
	if err != nil {
		return err
	}
	if added {
		a.out("registered %s (git backup monitor --all serves it)", path)
	} else {
		a.out("%s is already registered", path)
	}
	return nil
}

// registerQuietly adds this repository to the global backup.repo, saying so
// on stderr the first time; a failure is a note, never the command's error.
func (a *App) registerQuietly(ctx context.Context) {
	r, err := a.Repo(ctx)
	if err != nil {
		return
	}
	path := r.WorkTree
	if path == "" {
		path = r.CommonDir
	}
	added, err := r.RegisterRepo(ctx, path)
	switch {
	case err != nil:
		a.note("git-backup: could not add %s to the global backup.repo: %v", path, err)
	case added:
		a.note("git-backup: registered %s in the global backup.repo (git backup monitor --all serves it)", path)
	}
}

type monitorStatusCmd struct{}

func (c *monitorStatusCmd) Run(ctx context.Context, a *App) error {
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	st, err := monitor.ReadStatus(r)
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(st)
	}
	printMonitorStatus(a, st, time.Now())
	return nil
}

// printMonitorStatus prints the monitor part of status and monitor status.
func printMonitorStatus(a *App, st monitor.Status, now time.Time) {
	if !st.Running {
		line := "not running"
		if !st.LastCycle.IsZero() {
			line += fmt.Sprintf(" (last cycle %s ago: %s)", age(now, st.LastCycle), st.Outcome)
		}
		a.out("monitor     %s", line)
		return
	}
	a.out("monitor     running, pid %d, since %s (%s ago)", st.PID, st.Started.Local().Format(time.RFC3339), age(now, st.Started))
	if st.LastCycle.IsZero() {
		a.out("last cycle  none yet")
	} else {
		a.out("last cycle  %s ago: %s", age(now, st.LastCycle), st.Outcome)
	}
	if st.Level != "" {
		a.out("level       %s", st.Level)
	}
	if !st.NextCycle.IsZero() {
		a.out("next cycle  %s", st.NextCycle.Local().Format(time.RFC3339))
	}
}

type monitorStopCmd struct {
	Timeout time.Duration `default:"30s" hidden:"" help:"How long to wait after SIGTERM before SIGKILL."`
}

func (c *monitorStopCmd) Run(ctx context.Context, a *App) error {
	r, err := a.Repo(ctx)
	if err != nil {
		return err
	}
	st, err := monitor.ReadStatus(r)
	if err != nil {
		return err
	}
	if !st.Running || st.PID <= 0 {
		a.out("no monitor is running")
		return nil
	}
	p, err := os.FindProcess(st.PID)
	if err != nil {
		return fmt.Errorf("find monitor pid %d: %w", st.PID, err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop monitor pid %d: %w", st.PID, err)
	}
	deadline := time.Now().Add(c.Timeout)
	for time.Now().Before(deadline) {
		if s, err := monitor.ReadStatus(r); err == nil && !s.Running {
			a.out("monitor (pid %d) stopped after SIGTERM", st.PID)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill monitor pid %d: %w", st.PID, err)
	}
	a.out("monitor (pid %d) did not stop within %s: killed (SIGKILL)", st.PID, c.Timeout)
	return nil
}
