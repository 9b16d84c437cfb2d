package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/git-backup/git-backup/transitions"
)

// The log level is the more verbose of -v and backup.logLevel.
func TestLogLevelMoreVerboseWins(t *testing.T) {
	for _, c := range []struct {
		verbose int
		config  string
		want    slog.Level
	}{
		{0, "error", slog.LevelWarn},
		{0, "info", slog.LevelInfo},
		{0, "debug", slog.LevelDebug},
		{1, "warn", slog.LevelInfo},
		{2, "info", slog.LevelDebug},
		{1, "debug", slog.LevelDebug},
	} {
		var stderr bytes.Buffer
		a := &App{Globals: Globals{Verbose: c.verbose}, Stderr: &stderr}
		a.init()
		a.raiseLogLevel(transitions.Policy{LogLevel: c.config}.SlogLevel())
		ctx := context.Background()
		if !a.Log.Enabled(ctx, c.want) || (c.want > slog.LevelDebug && a.Log.Enabled(ctx, c.want-4)) {
			t.Errorf("-v×%d, logLevel %s: level is not %v", c.verbose, c.config, c.want)
		}
	}
}
