package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestWatchLoop_redrawsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out bytes.Buffer
	n := 0
	err := watchLoop(ctx, &out, time.Millisecond, func(w io.Writer) error {
		n++
		if n == 2 {
			return errors.New("state is busy")
		}
		if n == 3 {
			cancel()
		}
		io.WriteString(w, "dashboard\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	frames := strings.Split(out.String(), clearScreen)[1:]
	if len(frames) != 3 {
		t.Fatalf("want 3 frames, got %d: %q", len(frames), out.String())
	}
	if !strings.HasPrefix(frames[0], "dashboard\n") || !strings.Contains(frames[1], "git-backup: state is busy") {
		t.Errorf("frames %q", frames)
	}
}
