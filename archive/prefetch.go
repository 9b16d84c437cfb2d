package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// prefetchChunks is how many chunks of content may be read ahead of the
// compressor: memory stays at prefetchChunks × copyBuffer (4 MiB) whatever
// the size of the blobs.
const prefetchChunks = 16

// chunk is a piece of a file's content read ahead, or the error that stopped
// reading.
type chunk struct {
	buf []byte
	err error
}

// prefetcher reads the content of the stored regular files from their blobs
// on its own goroutine, in manifest order, so that reading (inflating git
// objects) and compressing use two cores. Empty files are not read: their
// content is known, and checked against their blob ID like any other.
type prefetcher struct {
	out    chan chunk
	free   chan []byte
	cancel context.CancelFunc
	done   chan struct{}
}

// startPrefetch starts reading the content of files with open.
func startPrefetch(ctx context.Context, files []File, open BlobOpener) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{
		out:    make(chan chunk, prefetchChunks),
		free:   make(chan []byte, prefetchChunks),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	for range prefetchChunks {
		p.free <- make([]byte, copyBuffer)
	}
	go p.run(ctx, files, open)
	return p
}

// run reads every file, and sends the first error instead of more content.
func (p *prefetcher) run(ctx context.Context, files []File, open BlobOpener) {
	defer close(p.done)
	defer close(p.out)
	for _, fl := range files {
		if !fl.Mode.Stored() || fl.Mode == ModeSymlink || fl.Size == 0 {
			continue
		}
		if err := p.read(ctx, fl, open); err != nil {
			select {
			case p.out <- chunk{err: err}:
			case <-ctx.Done():
			}
			return
		}
	}
}

// read sends the content of one file, in chunks.
func (p *prefetcher) read(ctx context.Context, fl File, open BlobOpener) error {
	rc, size, err := open(fl.Blob)
	if err != nil {
		return fmt.Errorf("read blob %s of %q: %w", fl.Blob, fl.Path, err)
	}
	defer rc.Close()
	if size != fl.Size {
		return fmt.Errorf("blob %s of %q is %d bytes, the manifest says %d", fl.Blob, fl.Path, size, fl.Size)
	}
	for left := fl.Size; left > 0; {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-ctx.Done():
			return ctx.Err()
		}
		n, err := io.ReadFull(rc, buf[:min(left, int64(len(buf)))])
		if err != nil {
			p.free <- buf
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("blob ends %d bytes short of its size %d", left-int64(n), fl.Size)
			}
			return fmt.Errorf("read blob %s of %q: %w", fl.Blob, fl.Path, err)
		}
		select {
		case p.out <- chunk{buf: buf[:n]}:
		case <-ctx.Done():
			return ctx.Err()
		}
		left -= int64(n)
	}
	return nil
}

// next returns the next chunk of content; the caller hands it back with
// release once written.
func (p *prefetcher) next(ctx context.Context) ([]byte, error) {
	select {
	case c, ok := <-p.out:
		if !ok {
			return nil, errors.New("blob reader stopped early")
		}
		return c.buf, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release hands a chunk's buffer back for reuse.
func (p *prefetcher) release(buf []byte) { p.free <- buf[:cap(buf)] }

// stop stops reading and waits until no blob is open any more.
func (p *prefetcher) stop() {
	p.cancel()
	<-p.done
}
