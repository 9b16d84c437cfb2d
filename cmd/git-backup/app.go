package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// App is what every command gets: the global flags, the streams, and the
// repository and store, opened on first use.
type App struct {
	Globals
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger

	// level is Log's level: from -v, raised by raiseLogLevel.
	level  slog.LevelVar
	repo   *gitstate.Repo
	store  *transitions.Store
	config []gitstate.ConfigEntry
	in     *bufio.Reader

	prefetched chan configResult // config read while the repository opens
}

type configResult struct {
	es  []gitstate.ConfigEntry
	err error
}

// prefetchConfig starts reading git config beside opening the repository:
// two git processes at once instead of one after the other.
func (a *App) prefetchConfig(ctx context.Context) {
	dir := a.Dir
	if dir == "" {
		dir = "."
	}
	ch := make(chan configResult, 1)
	a.prefetched = ch
	go func() {
		es, err := gitstate.ReadConfigAt(ctx, dir)
		ch <- configResult{es, err}
	}()
}

// init makes the logger: log/slog text on stderr, one line per record and no
// colour (journald reads it as it is), at warn, -v info, -vv debug.
func (a *App) init() {
	level := slog.LevelWarn
	switch {
	case a.Verbose == 1:
		level = slog.LevelInfo
	case a.Verbose >= 2:
		level = slog.LevelDebug
	}
	a.level.Set(level)
	a.Log = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: &a.level}))
}

// raiseLogLevel makes Log at least as verbose as l (backup.logLevel for the
// monitor): the more verbose of it and -v wins.
func (a *App) raiseLogLevel(l slog.Level) {
	if l < a.level.Level() {
		a.level.Set(l)
	}
}

func (a *App) close() {}

// Repo opens the repository at -C (or the current directory).
func (a *App) Repo(ctx context.Context) (*gitstate.Repo, error) {
	if a.repo != nil {
		return a.repo, nil
	}
	r, err := gitstate.Open(ctx, a.Dir)
	if err != nil {
		return nil, err
	}
	a.repo = r
	return r, nil
}

// Config returns every config entry of the repository.
func (a *App) Config(ctx context.Context) ([]gitstate.ConfigEntry, error) {
	if a.config != nil {
		return a.config, nil
	}
	r, err := a.Repo(ctx)
	if err != nil {
		return nil, err
	}
	if ch := a.prefetched; ch != nil {
		a.prefetched = nil
		if res := <-ch; res.err == nil {
			a.config = res.es
			return res.es, nil
		}
	}
	es, err := r.ReadConfig(ctx)
	if err != nil {
		return nil, err
	}
	a.config = es
	return es, nil
}

// Store opens the backup store with the configured policy.
func (a *App) Store(ctx context.Context) (*transitions.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	r, err := a.Repo(ctx)
	if err != nil {
		return nil, err
	}
	es, err := a.Config(ctx)
	if err != nil {
		return nil, err
	}
	if a.store, err = newStore(r, es, a.Log); err != nil {
		return nil, err
	}
	return a.store, nil
}

// newStore is the store of repository r under the policy of its config.
func newStore(r *gitstate.Repo, es []gitstate.ConfigEntry, log *slog.Logger) (*transitions.Store, error) {
	p, err := transitions.LoadPolicy(es)
	if err != nil {
		return nil, err
	}
	clone, err := r.CloneID()
	if err != nil {
		return nil, err
	}
	return &transitions.Store{Repo: r, Policy: p, Clone: clone, Log: log}, nil
}

// Author is the user's identity from config, for snapshot commits.
func (a *App) Author(ctx context.Context) gitstate.Author {
	es, _ := a.Config(ctx)
	var who gitstate.Author
	for _, e := range es {
		switch e.Key {
		case "user.name":
			who.Name = e.Value
		case "user.email":
			who.Email = e.Value
		}
	}
	return who
}

// printJSON writes v as one indented JSON document on stdout.
func (a *App) printJSON(v any) error {
	enc := json.NewEncoder(a.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// out prints a result line on stdout (human output).
func (a *App) out(format string, args ...any) { fmt.Fprintf(a.Stdout, format+"\n", args...) }

// note prints a diagnostic on stderr unless --quiet.
func (a *App) note(format string, args ...any) {
	if !a.Quiet {
		fmt.Fprintf(a.Stderr, format+"\n", args...)
	}
}

// stdinIsTerminal reports whether prompts can be answered.
func (a *App) stdinIsTerminal() bool {
	f, ok := a.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// stdoutIsTerminal reports whether stdout is a terminal (for colour and progress).
func (a *App) stdoutIsTerminal() bool {
	f, ok := a.Stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks question on the terminal. With yes it returns at once; without
// a terminal it refuses instead of waiting for an answer that cannot come.
func (a *App) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	if !a.stdinIsTerminal() {
		return fmt.Errorf("%w: %s needs confirmation and stdin is not a terminal (pass --yes)", transitions.ErrRefused, question)
	}
	if a.in == nil {
		a.in = bufio.NewReader(a.Stdin)
	}
	fmt.Fprintf(a.Stderr, "%s [y/N] ", question)
	line, err := a.in.ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%w: no answer to %q", transitions.ErrRefused, question)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("%w: declined", transitions.ErrRefused)
}

// resolve loads the store and finds one backup by ID, prefix or "latest".
func (a *App) resolve(ctx context.Context, ref string) (*transitions.Store, *transitions.View, *transitions.Backup, error) {
	s, err := a.Store(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	v, err := s.Load(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := v.Resolve(ref)
	if err != nil {
		return nil, nil, nil, err
	}
	return s, v, b, nil
}
