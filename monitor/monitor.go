package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gofrs/flock"

	"github.com/git-backup/git-backup/transitions"
)

// ReclaimGrace is the minimum age of the unreachable objects the monitor
// prunes: objects a concurrent command wrote before its ref must survive.
const ReclaimGrace = time.Hour

// Options configure Run. The zero value of each seam means the real one (or
// none, for Alerter and Metrics).
type Options struct {
	// Stores are the repositories served, each with its policy.
	Stores []*transitions.Store
	// All: a repository whose lock another monitor holds is skipped with a
	// warning instead of failing the run.
	All bool
	// Once runs one cycle and returns.
	Once bool

	Clock   Clock
	Disk    DiskProvider
	Alerter Alerter
	Metrics Metrics
	// Reporter posts each repository's daily report when its policy has
	// alerts on and a webhook (backup.alertWebhook or backup.slackWebhook).
	Reporter Reporter
	// Log hears what the loop does; each repository's lines also go to
	// <git common dir>/backup/logs/monitor.log, at its backup.logLevel.
	Log *slog.Logger
	// Abort, when cancelled, stops the move in hand as well (a second
	// SIGINT); the coordinator's compare-and-swap keeps the state whole.
	// Cancelling Run's ctx only stops between moves. Nil: the move in hand
	// always finishes.
	Abort context.Context
	// ReclaimGrace overrides ReclaimGrace (tests: negative for none).
	ReclaimGrace time.Duration
}

// Run serves the repositories until ctx is cancelled (then it finishes the
// move in hand and returns nil) or, with Once, for one cycle. A cycle that
// fails is logged and the loop goes on. It returns an error when no
// repository can be served (another monitor holds the lock) and, with Once,
// when a cycle failed: a script running one cycle must see it.
func Run(ctx context.Context, o Options) error {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Disk == nil {
		o.Disk = RealDisk
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ReclaimGrace == 0 {
		o.ReclaimGrace = ReclaimGrace
	}
	work := o.Abort
	if work == nil {
		work = context.WithoutCancel(ctx)
	}
	var rs []*repoLoop
	defer func() {
		for _, r := range rs {
			r.close()
		}
	}()
	var lockErr error
	for _, s := range o.Stores {
		l, err := lock(s.Repo)
		if err != nil {
			if o.All && errors.Is(err, ErrRunning) {
				o.Log.Warn("skip repository", "repo", s.Repo.CommonDir, "err", err)
				lockErr = err
				continue
			}
			return err
		}
		rs = append(rs, newRepoLoop(s, l, o))
	}
	if len(rs) == 0 {
		if lockErr != nil {
			return lockErr
		}
		return errors.New("monitor: no repository to serve")
	}
	for {
		now := o.Clock.Now()
		wait := time.Duration(0)
		var failed []error
		for _, r := range rs {
			if ctx.Err() != nil {
				return nil
			}
			d, err := r.runCycle(ctx, work, now)
			if err != nil {
				failed = append(failed, fmt.Errorf("monitor cycle in %s: %w", repoName(r.s), err))
			}
			if wait == 0 || d < wait {
				wait = d
			}
		}
		if o.Once {
			return errors.Join(failed...)
		}
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.Clock.After(wait):
		}
	}
}

// repoLoop is the loop's memory about one repository.
type repoLoop struct {
	s     *transitions.Store
	lock  *flock.Flock
	o     Options
	log   *slog.Logger
	logf  *os.File
	state State

	level        string // the disk level of the last cycle
	lastCleanup  time.Time
	lastAutosave time.Time
	autosaveRead bool
}

func newRepoLoop(s *transitions.Store, l *flock.Flock, o Options) *repoLoop {
	r := &repoLoop{s: s, lock: l, o: o, level: string(transitions.LevelOK)}
	r.log = o.Log.With("repo", repoName(s))
	if f, err := openLog(s); err == nil {
		r.logf = f
		r.log = slog.New(teeHandler{o.Log.Handler(), slog.NewTextHandler(f, &slog.HandlerOptions{Level: s.Policy.SlogLevel()})}).With("repo", repoName(s))
	} else {
		r.log.Warn("open monitor log", "err", err)
	}
	// What the store logs (compare-and-swap retries at debug, push
	// rejections) belongs to the monitor's log too.
	s.Log = r.log
	prev, _ := readState(s.Repo)
	r.state = State{PID: os.Getpid(), Started: o.Clock.Now().UTC(), LastReport: prev.LastReport}
	_ = writeState(s.Repo, r.state)
	return r
}

func (r *repoLoop) close() {
	if r.logf != nil {
		r.logf.Close()
	}
	_ = r.lock.Unlock()
}

func repoName(s *transitions.Store) string {
	if s.Repo.WorkTree != "" {
		return s.Repo.WorkTree
	}
	return s.Repo.CommonDir
}

// runCycle runs one cycle, records its outcome in monitor.json and returns
// how long to wait before the next one, and why the cycle failed.
func (r *repoLoop) runCycle(stop, work context.Context, now time.Time) (time.Duration, error) {
	p := r.s.Policy
	wait := p.CheckInterval
	if wait <= 0 {
		wait = time.Minute
	}
	outcome := "ok"
	var cycleErr error
	if _, err := os.Stat(r.s.Repo.CommonDir); err != nil {
		r.log.Warn("repository vanished; skipped", "err", err)
		outcome = "vanished"
	} else if ps := Paused(r.s.Repo, now); ps.Paused {
		r.log.Debug("paused", "until", ps.Until)
		outcome = "paused"
	} else if err := r.safeCycle(stop, work, now); err != nil {
		r.log.Error("cycle failed", "err", err)
		outcome, cycleErr = err.Error(), err
	}
	if r.level == string(transitions.LevelEmergency) && p.EmergencyInterval > 0 && p.EmergencyInterval < wait {
		wait = p.EmergencyInterval
	}
	end := r.o.Clock.Now()
	r.state.LastCycle, r.state.Outcome, r.state.Level, r.state.NextCycle = end.UTC(), outcome, r.level, end.Add(wait).UTC()
	if outcome != "vanished" {
		if err := writeState(r.s.Repo, r.state); err != nil {
			r.log.Warn("write monitor state", "err", err)
		}
	}
	return wait, cycleErr
}

// safeCycle runs a cycle, turning a panic into an error so the loop goes on.
func (r *repoLoop) safeCycle(stop, work context.Context, now time.Time) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("cycle panicked: %v", v)
			r.log.Error("cycle panicked", "panic", v, "stack", string(debugStack()))
		}
	}()
	return r.cycle(stop, work, now)
}
