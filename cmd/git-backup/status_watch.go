package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"
)

// watchInterval is how often status --watch redraws.
const watchInterval = 2 * time.Second

// clearScreen moves the cursor home and clears the terminal.
const clearScreen = "\x1b[H\x1b[2J"

// watch redraws the dashboard until ctx is cancelled (Ctrl-C), which ends
// it with exit 0. Each frame is drawn into a buffer first, so the screen
// is cleared and rewritten at once, without flicker.
func (c *statusCmd) watch(ctx context.Context, a *App) error {
	if a.JSON {
		return usagef("status: --watch and --json do not mix")
	}
	if !a.stdoutIsTerminal() {
		return usagef("status --watch: stdout is not a terminal (run git backup status to print the dashboard once)")
	}
	return watchLoop(ctx, a.Stdout, watchInterval, func(w io.Writer) error {
		out := a.Stdout
		a.Stdout = w
		defer func() { a.Stdout = out }()
		return c.show(ctx, a)
	})
}

// watchLoop draws a frame into w every interval until ctx is done. A frame
// that fails shows its error and the next one tries again.
func watchLoop(ctx context.Context, w io.Writer, interval time.Duration, draw func(io.Writer) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	var frame bytes.Buffer
	for {
		frame.Reset()
		frame.WriteString(clearScreen)
		if err := draw(&frame); err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			frame.WriteString("git-backup: " + err.Error() + "\n")
		}
		frame.WriteString("\n(every " + interval.String() + "; Ctrl-C stops)\n")
		if _, err := w.Write(frame.Bytes()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
