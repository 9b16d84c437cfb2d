// Command git-backup is the git extension `git backup`: safety snapshots of the
// working tree, kept as git objects and driven through a lifecycle until they
// are provably safe to archive or delete.
//
// This package is the command tree, flag parsing and output. The work happens
// in packages gitstate, transitions, archive, monitor and hooks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// Exit codes, SPEC §5.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitRefused  = 3
	exitConflict = 4
)

// cli is the command tree.
type cli struct {
	Globals

	Create     createCmd     `cmd:"" help:"Take a backup of the working tree."`
	List       listCmd       `cmd:"" aliases:"ls" help:"List backups, newest first."`
	Show       showCmd       `cmd:"" help:"Show one backup: fields, events and confidence factors."`
	Status     statusCmd     `cmd:"" help:"Dashboard: backups per state, disk usage, thresholds."`
	Diff       diffCmd       `cmd:"" help:"Show a backup's changes against its base (or HEAD)."`
	Restore    restoreCmd    `cmd:"" help:"Write a backup's files back into the work tree or another directory."`
	Confirm    confirmCmd    `cmd:"" help:"Mark a backup's covering commit as merged (PENDING → CONFIRMED)."`
	Transition transitionCmd `cmd:"" help:"Move a backup to another state."`
	Pin        pinCmd        `cmd:"" help:"Protect a backup from automatic cleanup."`
	Unpin      unpinCmd      `cmd:"" help:"Allow automatic cleanup of a pinned backup again."`
	Cleanup    cleanupCmd    `cmd:"" help:"Archive or delete backups by policy, by level or by ID; --dry-run shows the plan."`
	Archive    archiveCmd    `cmd:"" help:"Archive backups now: a verified .tar.zst, then the snapshot ref goes."`
	Unarchive  unarchiveCmd  `cmd:"" help:"Bring an ARCHIVED backup back as a live snapshot in the state it had."`
	Emergency  emergencyCmd  `cmd:"" help:"Guided emergency cleanup: disk levels, the plan, then act."`
	Log        logCmd        `cmd:"" help:"The transition log, newest first."`
	Report     reportCmd     `cmd:"" help:"What happened in a window: moves by trigger and state, bytes freed, archives, disk trend."`
	Config     configCmd     `cmd:"" help:"Read and change policies (git config section backup)."`
	Fsck       fsckCmd       `cmd:"" help:"Check snapshot refs, state notes and archives against each other."`
	Push       pushCmd       `cmd:"" help:"Send the backup state (and with --snapshots the snapshots) to a remote."`
	Fetch      fetchCmd      `cmd:"" help:"Fetch a remote's backup state and merge it into the local state."`
	Sync       syncCmd       `cmd:"" help:"Fetch and merge a remote's backup state, then push."`
	Version    versionCmd    `cmd:"" help:"Print version and build information."`
	Hooks      hooksCmd      `cmd:"" help:"Install, remove or check git-backup's git hooks."`
	Hook       hookCmd       `cmd:"" hidden:"" help:"Run by git-backup's hook scripts."`
	Monitor    monitorCmd    `cmd:"" help:"The background loop: autosave, time and disk policies, reclaim."`
	Pause      pauseCmd      `cmd:"" help:"Stop the hooks, the monitor and autosave in this repository (--for D)."`
	Resume     resumeCmd     `cmd:"" help:"Undo git backup pause."`
	Man        manCmd        `cmd:"" help:"Print or install the man page (for git help backup)."`
}

// Globals are the flags every command takes.
type Globals struct {
	Dir     string `short:"C" name:"dir" placeholder:"PATH" help:"Run as if started in PATH (like git -C)."`
	JSON    bool   `name:"json" help:"Print one JSON document instead of text."`
	Quiet   bool   `short:"q" help:"Print only results; no progress or notes."`
	Verbose int    `short:"v" type:"counter" help:"More diagnostics on stderr (-vv for debug)."`
}

func main() {
	// For developers: GIT_BACKUP_CPUPROFILE=FILE writes a CPU profile of the run.
	if p := os.Getenv("GIT_BACKUP_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
				pprof.StopCPUProfile()
				f.Close()
				os.Exit(code)
			}
		}
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it parses args, runs the command and maps
// its error to an exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var c cli
	app := &App{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	exited := -1
	parser, err := kong.New(&c,
		kong.Name("git-backup"),
		kong.Description("Safety snapshots of your working tree, kept in git until they are provably safe to delete."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exited = code; panic(exitPanic{}) }),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(app),
	)
	if err != nil {
		fmt.Fprintf(stderr, "git-backup: %v\n", err)
		return exitFailed
	}
	kctx, code, done := parseArgs(parser, args, &exited, stderr)
	if done {
		return code
	}
	app.Globals = c.Globals
	app.init()
	if cmd := kctx.Command(); cmd != "version" && cmd != "man" {
		app.prefetchConfig(ctx)
	}
	app.autoInstall(ctx, kctx.Command())
	err = kctx.Run()
	app.close()
	return exitCode(err, stderr)
}

// exitPanic unwinds out of kong when it asks to exit (after --help).
type exitPanic struct{}

// parseArgs parses args; done is true when there is nothing to run (help was
// printed, or the command line was wrong) and code is then the exit code.
func parseArgs(p *kong.Kong, args []string, exited *int, stderr io.Writer) (kctx *kong.Context, code int, done bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exitPanic); !ok {
				panic(r)
			}
			kctx, code, done = nil, *exited, true
		}
	}()
	kctx, err := p.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "git-backup: %v\n", err)
		return nil, exitUsage, true
	}
	return kctx, 0, false
}

// exitCode prints err and maps it to SPEC §5's exit codes. It is the only
// place that knows them.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var se silentError
	if !errors.As(err, &se) {
		fmt.Fprintf(stderr, "git-backup: %v\n", err)
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, transitions.ErrRefused):
		return exitRefused
	case errors.Is(err, transitions.ErrGaveUp):
		return exitConflict
	case errors.Is(err, context.Canceled):
		return exitFailed
	case errors.Is(err, gitstate.ErrNotRepository), errors.Is(err, gitstate.ErrBare):
		return exitFailed
	}
	return exitFailed
}

// silentError is an error already reported elsewhere (a hook's log and the
// shim's one line): it sets the exit code without printing.
type silentError struct{ error }

func (s silentError) Unwrap() error { return s.error }

// usageError is a command line that parses but makes no sense.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }
