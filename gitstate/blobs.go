package gitstate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// streamThreshold is the blob size from which tests check that content is
// streamed rather than read into memory; OpenBlob streams every blob.
const streamThreshold = 4 << 20

// OpenBlob opens blob id for reading and returns its size. The content
// streams from a git cat-file --batch process kept for this purpose (git's
// zlib and delta cache, and the size from the object header without
// inflating twice), so memory stays flat for large blobs. The caller closes
// the reader before opening the next blob: one blob streams at a time, and
// OpenBlob waits until the previous one is closed.
func (r *Repo) OpenBlob(id string) (io.ReadCloser, int64, error) {
	if !validObjectID(id) {
		return nil, 0, fmt.Errorf("open blob %q: not an object ID", id)
	}
	c, err := r.streamer()
	if err != nil {
		return nil, 0, fmt.Errorf("open blob %s: %w", id, err)
	}
	c.mu.Lock()
	fail := func(err error) (io.ReadCloser, int64, error) {
		c.broken()
		c.mu.Unlock()
		return nil, 0, fmt.Errorf("open blob %s: %w", id, err)
	}
	if _, err := c.w.WriteString(id + "\x00"); err != nil {
		return fail(err)
	}
	if err := c.w.Flush(); err != nil {
		return fail(err)
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	f := strings.Fields(line)
	if len(f) == 2 && f[1] == "missing" {
		c.mu.Unlock()
		return nil, 0, fmt.Errorf("open blob %s: %w", id, ErrObjectMissing)
	}
	if len(f) != 3 {
		return fail(fmt.Errorf("unexpected answer %q", line))
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return fail(fmt.Errorf("unexpected answer %q", line))
	}
	if f[1] != "blob" {
		// Read past the content so the stream stays in step.
		if _, err := io.CopyN(io.Discard, c.r, size+1); err != nil {
			return fail(err)
		}
		c.mu.Unlock()
		return nil, 0, fmt.Errorf("open blob %s: it is a %s", id, f[1])
	}
	return &blobReader{c: c, left: size}, size, nil
}

// blobReader reads one blob's content off the stream and, on Close, skips
// whatever was not read so the next request finds the stream in step.
type blobReader struct {
	c      *catFile
	left   int64
	closed bool
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("read blob: reader closed")
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.c.r.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *blobReader) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	defer b.c.mu.Unlock()
	if _, err := io.CopyN(io.Discard, b.c.r, b.left+1); err != nil { // the rest and the newline
		b.c.broken()
		return fmt.Errorf("close blob: %w", err)
	}
	return nil
}

// streamer returns the cat-file --batch process that OpenBlob streams from.
func (r *Repo) streamer() (*catFile, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream != nil && r.stream.cmd != nil {
		return r.stream, nil
	}
	c, err := startCatFile(r, false)
	if err != nil {
		return nil, err
	}
	c.r = bufio.NewReaderSize(c.r, 1<<20)
	r.stream = c
	return c, nil
}

// validObjectID reports whether id is a full SHA-1 object ID in lower-case hex.
func validObjectID(id string) bool {
	if len(id) != 40 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
