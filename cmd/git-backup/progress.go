package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressBar is a one-line bar on stderr, redrawn with \r at most ten
// times a second. The zero value (no writer) draws nothing.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	last  time.Time
	drawn bool
}

// newProgressBar returns a bar on stderr when stderr is a terminal and
// neither --json nor --quiet is given; otherwise one that draws nothing.
func (a *App) newProgressBar() *progressBar {
	f, ok := a.Stderr.(*os.File)
	if a.JSON || a.Quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progressBar{}
	}
	return &progressBar{w: f}
}

// update draws label and done/total, unless the last draw was less than
// 100 ms ago and this is not the end.
func (p *progressBar) update(label string, done, total int64) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = now
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	n := int(frac * width)
	if len(label) > 40 {
		label = label[:40]
	}
	fmt.Fprintf(p.w, "\r%-40s [%s%s] %3.0f%%", label, strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100)
	p.drawn = true
}

// done clears the line if anything was drawn.
func (p *progressBar) done() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
