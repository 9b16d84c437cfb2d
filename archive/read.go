package archive

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Reader reads an archive: its manifest, then each stored file in manifest
// order, checking as it goes. It is not safe for concurrent use.
type Reader struct {
	path string
	a    *Archiver
	f    *fileReader
	dec  *zstd.Decoder
	tr   *tar.Reader
	m    Manifest
	next int // index in m.Files of the next file to look for

	cur  *File     // the file being read, nil before the first and after the last
	body io.Reader // its content left to read
	left int64     // bytes of it left
	sum  hash.Hash // its blob ID so far

	err error // sticky: once reading failed, it fails for good
}

// Open opens an archive with the package's shared Archiver.
func Open(path string) (*Reader, error) { return defaultArchiver.Open(path) }

// Open opens the archive at path and reads and validates its manifest. The
// caller must Close the Reader.
func (a *Archiver) Open(path string) (*Reader, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	dec, err := a.decoder()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open archive %q: start zstd decoder: %w", path, err)
	}
	r := &Reader{path: path, a: a, f: &fileReader{f: fh}, dec: dec}
	if err := dec.Reset(r.f); err != nil {
		r.Close()
		return nil, fmt.Errorf("open archive %q: %w", path, err)
	}
	r.tr = tar.NewReader(dec)
	if err := r.readManifest(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// readManifest reads and validates the first entry.
func (r *Reader) readManifest() error {
	hdr, err := r.tr.Next()
	if err != nil {
		return r.fail("", fmt.Errorf("read manifest: %w", eofIsUnexpected(err)))
	}
	switch {
	case hdr.Name != ManifestName:
		return r.fail("", fmt.Errorf("first entry is %q, not %s", hdr.Name, ManifestName))
	case hdr.Typeflag != tar.TypeReg:
		return r.fail("", fmt.Errorf("%s is not a regular file", ManifestName))
	case hdr.Size > MaxManifestSize:
		return r.fail("", fmt.Errorf("%s is %d bytes, more than %d", ManifestName, hdr.Size, MaxManifestSize))
	}
	m, err := decodeManifest(io.LimitReader(r.tr, hdr.Size))
	if err != nil {
		return r.fail("", fmt.Errorf("read manifest: %w", eofIsUnexpected(err)))
	}
	if err := m.Validate(); err != nil {
		return r.fail("", fmt.Errorf("manifest: %w", err))
	}
	r.m = m
	return nil
}

// Manifest returns the archive's manifest.
func (r *Reader) Manifest() Manifest { return r.m }

// Next advances to the next stored file (gitlinks are skipped: they have no
// content) and returns its manifest entry; Read then reads its content. The
// rest of the previous file is read and checked first. At the end Next checks
// that nothing follows and that the stream is whole, and returns io.EOF.
func (r *Reader) Next() (File, error) {
	if r.err != nil {
		return File{}, r.err
	}
	if r.cur != nil {
		if _, err := io.Copy(io.Discard, onlyReader{r}); err != nil {
			return File{}, err
		}
		r.cur = nil
	}
	for r.next < len(r.m.Files) && !r.m.Files[r.next].Mode.Stored() {
		r.next++
	}
	if r.next == len(r.m.Files) {
		if err := r.finish(); err != nil {
			return File{}, err
		}
		r.err = io.EOF
		return File{}, io.EOF
	}
	fl := &r.m.Files[r.next]
	hdr, err := r.tr.Next()
	if err == io.EOF {
		return File{}, r.fail(fl.Path, errors.New("missing: the archive ends before it (truncated?)"))
	}
	if err != nil {
		return File{}, r.fail(fl.Path, err)
	}
	if hdr.Name != FilesPrefix+fl.Path {
		return File{}, r.fail("", r.misplaced(hdr.Name, fl.Path))
	}
	switch fl.Mode {
	case ModeSymlink:
		if hdr.Typeflag != tar.TypeSymlink {
			return File{}, r.fail(fl.Path, fmt.Errorf("mode %s, but the tar entry is not a symbolic link", fl.Mode))
		}
		if hdr.Linkname != fl.Target { // the target's blob ID was checked with the manifest
			return File{}, r.fail(fl.Path, fmt.Errorf("link target %q, the manifest says %q", hdr.Linkname, fl.Target))
		}
		r.body = strings.NewReader(fl.Target)
	default:
		if hdr.Typeflag != tar.TypeReg {
			return File{}, r.fail(fl.Path, fmt.Errorf("mode %s, but the tar entry is not a regular file", fl.Mode))
		}
		if hdr.Size != fl.Size {
			return File{}, r.fail(fl.Path, fmt.Errorf("%d bytes in the tar, the manifest says %d", hdr.Size, fl.Size))
		}
		r.body = r.tr
	}
	r.next++
	r.cur, r.left, r.sum = fl, fl.Size, newBlobHash(fl.Size)
	return *fl, nil
}

// misplaced explains a tar entry found where the manifest expected the file
// want ("" at the end of the archive).
func (r *Reader) misplaced(name, want string) error {
	expected := "after the manifest's last file"
	if want != "" {
		expected = fmt.Sprintf("expected %q", FilesPrefix+want)
	}
	if p, ok := strings.CutPrefix(name, FilesPrefix); ok {
		for i, fl := range r.m.Files {
			if fl.Path != p {
				continue
			}
			if i < r.next {
				return fmt.Errorf("entry %q is there twice", name)
			}
			return fmt.Errorf("entry %q comes before %q, against the manifest's order", name, FilesPrefix+want)
		}
	}
	return fmt.Errorf("entry %q is not in the manifest (%s)", name, expected)
}

// finish checks the end of the archive: no more tar entries, and nothing but
// zero padding up to the end of the zstd stream, whose checksum the decoder
// checks on the way.
func (r *Reader) finish() error {
	hdr, err := r.tr.Next()
	if err == nil {
		return r.fail("", r.misplaced(hdr.Name, ""))
	}
	if err != io.EOF {
		return r.fail("", err)
	}
	var buf [4096]byte
	for {
		n, err := r.dec.Read(buf[:])
		if len(bytes.TrimLeft(buf[:n], "\x00")) > 0 {
			return r.fail("", errors.New("data after the end of the tar stream"))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return r.fail("", fmt.Errorf("end of the zstd stream: %w", err))
		}
	}
}

// Read reads the current file's content. At its end it checks the content
// against the file's blob ID, and returns a CorruptError instead of io.EOF
// when they differ.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.cur == nil {
		return 0, io.EOF
	}
	if r.left == 0 {
		return 0, r.check()
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.body.Read(p)
	r.sum.Write(p[:n])
	r.left -= int64(n)
	if err == io.EOF && r.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		return n, r.fail(r.cur.Path, err)
	}
	if r.left == 0 {
		if err := r.check(); err != io.EOF {
			return n, err
		}
	}
	return n, nil
}

// check compares the current file's hash with its blob ID; it returns io.EOF
// when they match.
func (r *Reader) check() error {
	if got := hex.EncodeToString(r.sum.Sum(nil)); got != r.cur.Blob {
		return r.fail(r.cur.Path, fmt.Errorf("content has blob ID %s, the manifest says %s", got, r.cur.Blob))
	}
	return io.EOF
}

// fail records and returns the error for a read that went wrong at file
// (a repository path, or "" for the manifest and the archive's structure).
// Errors from the file system stay what they are; everything else means the
// archive is damaged.
func (r *Reader) fail(file string, err error) error {
	if ferr := r.f.failed(); ferr != nil {
		err = fmt.Errorf("read archive %q: %w", r.path, ferr)
	} else {
		err = &CorruptError{Archive: r.path, File: file, Err: eofIsUnexpected(err)}
	}
	r.err = err
	return err
}

// Close releases the archive and hands the decoder back to the Archiver.
func (r *Reader) Close() error {
	if r.dec != nil {
		r.a.putDecoder(r.dec)
		r.dec = nil
	}
	if r.err == nil {
		r.err = errors.New("archive reader closed")
	}
	return r.f.f.Close()
}

// errTruncated is what an end of file inside the archive means.
var errTruncated = fmt.Errorf("%w: the archive ends too early (truncated?)", io.ErrUnexpectedEOF)

// eofIsUnexpected turns an end of file met inside the archive into errTruncated.
func eofIsUnexpected(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return err
}

// fileReader remembers the last error the file system returned, so read
// errors can be told apart from damage. The decoder reads it from its own
// goroutine.
type fileReader struct {
	f   *os.File
	mu  sync.Mutex
	err error
}

func (f *fileReader) Read(p []byte) (int, error) {
	n, err := f.f.Read(p)
	if err != nil && err != io.EOF {
		f.mu.Lock()
		f.err = err
		f.mu.Unlock()
	}
	return n, err
}

// failed returns the last error from the file system, if any.
func (f *fileReader) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// onlyReader hides a Reader's other methods from io.Copy.
type onlyReader struct{ io.Reader }
