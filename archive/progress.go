package archive

import "time"

// progressInterval is the least time between two progress reports.
const progressInterval = 100 * time.Millisecond

// progress counts bytes and reports them to a callback at most every
// progressInterval, plus once at the end.
type progress struct {
	fn          func(done, total int64)
	done, total int64
	last        time.Time
}

// newProgress returns a progress towards total bytes; fn may be nil.
func newProgress(fn func(done, total int64), total int64) *progress {
	return &progress{fn: fn, total: total}
}

// add counts n more bytes done.
func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.done += n
	if p.fn == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= progressInterval {
		p.last = now
		p.fn(p.done, p.total)
	}
}

// finish reports the final count.
func (p *progress) finish() {
	if p != nil && p.fn != nil {
		p.fn(p.done, p.total)
	}
}
