package gitstate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// catFile is a long-lived `git cat-file --batch` (or --batch-check) process:
// one process answers every object request of a command. git reads pack
// indexes by binary search, where go-git loads a whole pack index before its
// first read, which costs O(objects in the repository).
type catFile struct {
	mu    sync.Mutex
	cmd   *exec.Cmd
	stdin io.WriteCloser
	w     *bufio.Writer
	r     *bufio.Reader
	check bool        // --batch-check: no contents
	errs  *tailBuffer // the process's stderr: why it stopped, when it did
}

// tailBuffer keeps the last few KiB written to it; safe for the goroutine
// that copies a child's stderr and a reader after Wait.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4<<10 {
		t.buf = t.buf[len(t.buf)-4<<10:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// objectInfo is cat-file's answer about one object.
type objectInfo struct {
	ID      string
	Type    string
	Size    int64
	Missing bool
}

func startCatFile(r *Repo, check bool) (*catFile, error) {
	mode := "--batch"
	if check {
		mode = "--batch-check"
	}
	// Not tied to a command's context: it lives as long as the Repo, and
	// Close ends it. Killing it mid-answer would leave the protocol unusable.
	cmd := exec.Command("git", "cat-file", mode, "-z")
	cmd.Dir = r.root()
	cmd.Env = baseEnv([]string{"GIT_DIR=" + r.CommonDir}, true)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	errs := &tailBuffer{}
	cmd.Stderr = errs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	return &catFile{cmd: cmd, stdin: in, w: bufio.NewWriterSize(in, 64<<10), r: bufio.NewReaderSize(out, 64<<10), check: check, errs: errs}, nil
}

// broken ends a process whose stream is out of step; the next use starts a
// new one. The caller holds c.mu.
func (c *catFile) broken() {
	if c.cmd == nil {
		return
	}
	c.stdin.Close()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
	c.cmd = nil
}

// close ends the process.
func (c *catFile) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	c.stdin.Close()
	_ = c.cmd.Wait()
}

// request asks about names (object IDs or "<rev>:<path>") and calls fn with
// each answer in order; with --batch, content is the object's bytes. Requests
// are written by a second goroutine so that neither side's pipe can fill up
// and stall the other.
func (c *catFile) request(names []string, fn func(i int, info objectInfo, content []byte) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		if strings.IndexByte(n, 0) >= 0 {
			return fmt.Errorf("cat-file: object name %q contains NUL", n)
		}
	}
	werr := make(chan error, 1)
	go func() {
		for _, n := range names {
			if _, err := c.w.WriteString(n); err != nil {
				werr <- err
				return
			}
			if err := c.w.WriteByte(0); err != nil {
				werr <- err
				return
			}
		}
		werr <- c.w.Flush()
	}()
	var rerr error
	stopped := "" // the object git cat-file stopped at
	for i, n := range names {
		info, content, err := c.readAnswer(n)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				// git cat-file stops when it cannot inflate an object (or
				// read packed-refs); its stderr, read below, says which.
				stopped = n
				err = fmt.Errorf("read object %s: %w: %v", n, ErrObjectDamaged, err)
			}
			rerr = err
			break
		}
		if err := fn(i, info, content); err != nil {
			rerr = err
			break
		}
	}
	if err := <-werr; err != nil && rerr == nil {
		rerr = fmt.Errorf("cat-file: write request: %w", err)
	}
	if rerr != nil {
		// The stream may now be out of step: make the next use start afresh.
		c.stdin.Close()
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		c.cmd = nil
		if msg := c.errs.String(); stopped != "" && msg != "" {
			rerr = fmt.Errorf("read object %s: %w", stopped, &GitError{Args: []string{"cat-file"}, Stderr: msg, Code: 128})
		}
	}
	return rerr
}

// readAnswer reads one answer: "<oid> <type> <size>\n[content\n]", or
// "<name> missing\n" (also "ambiguous"). The name of a missing object is
// echoed as it was asked, newlines included.
func (c *catFile) readAnswer(name string) (objectInfo, []byte, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return objectInfo{}, nil, fmt.Errorf("cat-file: read answer for %q: %w", name, err)
	}
	if !looksLikeHeader([]byte(line)) {
		rest := strings.TrimSuffix(line, "\n")
		if nl := strings.IndexByte(name, '\n'); nl >= 0 && strings.HasPrefix(name, rest) && len(rest) == nl {
			// The echoed name goes on past its first newline: skip the rest of it.
			if _, err := c.r.Discard(len(name) - nl - 1); err != nil {
				return objectInfo{}, nil, fmt.Errorf("cat-file: %w", err)
			}
			tail, err := c.r.ReadString('\n')
			if err != nil {
				return objectInfo{}, nil, fmt.Errorf("cat-file: %w", err)
			}
			rest = name + tail[:len(tail)-1]
		}
		if rest == name+" missing" || rest == name+" ambiguous" {
			return objectInfo{Missing: true}, nil, nil
		}
		return objectInfo{}, nil, fmt.Errorf("cat-file: unexpected answer %q for %q", line, name)
	}
	f := strings.Fields(line)
	if len(f) == 2 && (f[1] == "missing" || f[1] == "ambiguous") {
		return objectInfo{Missing: true}, nil, nil
	}
	if len(f) != 3 {
		return objectInfo{}, nil, fmt.Errorf("cat-file: unexpected answer %q for %q", line, name)
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return objectInfo{}, nil, fmt.Errorf("cat-file: unexpected size in %q", line)
	}
	info := objectInfo{ID: f[0], Type: f[1], Size: size}
	if c.check {
		return info, nil, nil
	}
	content := make([]byte, size+1)
	if _, err := io.ReadFull(c.r, content); err != nil {
		return objectInfo{}, nil, fmt.Errorf("cat-file: read %s: %w", f[0], err)
	}
	if content[size] != '\n' {
		return objectInfo{}, nil, fmt.Errorf("cat-file: %s not terminated", f[0])
	}
	return info, content[:size], nil
}

// looksLikeHeader reports whether b starts with "<hex oid> <type> ".
func looksLikeHeader(b []byte) bool {
	i := bytes.IndexByte(b, ' ')
	return (i == 40 || i == 64) && isHex(string(b[:i]))
}

// batch returns the repository's cat-file process, starting it on first use.
func (r *Repo) catFile(check bool) (*catFile, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &r.batch
	if check {
		p = &r.batchCheck
	}
	if *p != nil && (*p).cmd != nil {
		return *p, nil
	}
	c, err := startCatFile(r, check)
	if err != nil {
		return nil, err
	}
	*p = c
	return c, nil
}

// objects reads the objects named by ids (or "<rev>:<path>" names) through
// cat-file --batch, calling fn for each in order.
func (r *Repo) objects(ids []string, fn func(i int, info objectInfo, content []byte) error) error {
	if len(ids) == 0 {
		return nil
	}
	c, err := r.catFile(false)
	if err != nil {
		return err
	}
	return c.request(ids, fn)
}

// objectInfos answers for each name whether it exists, its type and size.
func (r *Repo) objectInfos(names []string) ([]objectInfo, error) {
	out := make([]objectInfo, len(names))
	if len(names) == 0 {
		return out, nil
	}
	c, err := r.catFile(true)
	if err != nil {
		return nil, err
	}
	err = c.request(names, func(i int, info objectInfo, _ []byte) error {
		out[i] = info
		return nil
	})
	return out, err
}

// readObject reads one object and checks its type.
func (r *Repo) readObject(id, typ string) ([]byte, error) {
	var data []byte
	var info objectInfo
	err := r.objects([]string{id}, func(_ int, in objectInfo, content []byte) error {
		info, data = in, content
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", typ, id, err)
	}
	if info.Missing {
		return nil, fmt.Errorf("read %s %s: %w", typ, id, ErrObjectMissing)
	}
	if info.Type != typ {
		return nil, fmt.Errorf("read %s %s: it is a %s", typ, id, info.Type)
	}
	return data, nil
}
