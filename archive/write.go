package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// BlobOpener opens the blob with the given ID and returns its content and
// size. Write closes the reader.
type BlobOpener func(id string) (io.ReadCloser, int64, error)

// Options tune Write. The zero value means defaults.
type Options struct {
	// Level is the compression level; "" means LevelDefault.
	Level Level
	// Progress, when set, is called with the bytes done and the total, at
	// most about ten times a second and once at the end. Both passes count:
	// writing the files and reading them back to verify them, so total is
	// twice the size of the files.
	Progress func(done, total int64)
}

// Info describes an archive Write put in place.
type Info struct {
	Path     string   // where it is
	Size     int64    // bytes on disk
	Files    int      // files stored (gitlinks are in the manifest only)
	Bytes    int64    // bytes of those files, uncompressed
	Manifest Manifest // as written: sorted, link targets filled in
}

// file is what Write needs of its temporary file.
type file interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

// createTemp creates a temporary file readable by its owner only.
func createTemp(dir, pattern string) (file, error) { return os.CreateTemp(dir, pattern) }

// IsTemp reports whether a file name (without directory) is one of Write's
// temporary files: what a crash or a kill during Write leaves behind.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
}

// Write writes the archive of the backup m describes to dest, with the files'
// content from open, with the package's shared Archiver.
func Write(ctx context.Context, dest string, m Manifest, open BlobOpener, o Options) (Info, error) {
	return defaultArchiver.Write(ctx, dest, m, open, o)
}

// Write writes the archive of the backup m describes to dest. m.Files lists
// every added or modified path (any order; Write sorts them) and m.Deleted the
// removed ones; the content of each stored file comes from open, streamed.
//
// The archive is written to a temporary file in dest's directory (readable by
// its owner only; the directory is created, likewise, if missing), synced,
// read back and verified (the zstd checksum and every file's blob ID), and
// only then renamed to dest, replacing any file there, and the directory
// synced. On error no temporary file is left and no new archive is at dest,
// and the error says which step failed; when the file system is full it is a
// FileSystemFullError naming it.
func (a *Archiver) Write(ctx context.Context, dest string, m Manifest, open BlobOpener, o Options) (Info, error) {
	info, err := a.write(ctx, dest, m, open, o)
	if err != nil {
		return Info{}, fmt.Errorf("write archive %q: %w", dest, noSpace(filepath.Dir(dest), err))
	}
	return info, nil
}

func (a *Archiver) write(ctx context.Context, dest string, m Manifest, open BlobOpener, o Options) (Info, error) {
	li, err := o.Level.index()
	if err != nil {
		return Info{}, err
	}
	if open == nil {
		return Info{}, errors.New("no blob opener")
	}
	m, err = prepare(ctx, m, open)
	if err != nil {
		return Info{}, err
	}
	if err := m.Validate(); err != nil {
		return Info{}, fmt.Errorf("invalid manifest: %w", err)
	}
	mj, err := json.Marshal(m)
	if err != nil {
		return Info{}, fmt.Errorf("encode manifest: %w", err)
	}
	if len(mj) > MaxManifestSize {
		return Info{}, fmt.Errorf("manifest of %d bytes is larger than %d", len(mj), MaxManifestSize)
	}
	nFiles, nBytes := m.StoredFiles()
	prog := newProgress(o.Progress, 2*nBytes)

	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Info{}, fmt.Errorf("create archive directory: %w", err)
	}
	f, err := a.create(dir, "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return Info{}, fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	closed, placed := false, false
	defer func() {
		if !closed {
			f.Close()
		}
		if !placed {
			os.Remove(tmp)
		}
	}()

	enc, err := a.encoder(li)
	if err != nil {
		return Info{}, fmt.Errorf("start zstd encoder: %w", err)
	}
	defer a.putEncoder(li, enc)
	out := &countWriter{w: f}
	enc.Reset(out)
	tw := tar.NewWriter(enc)
	mtime := m.Backup.CreatedAt.UTC().Truncate(time.Second)
	if mtime.Before(time.Unix(0, 0)) {
		mtime = time.Unix(0, 0)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: int64(len(mj)), Mode: 0o644, ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return Info{}, fmt.Errorf("write manifest: %w", err)
	}
	if _, err := tw.Write(mj); err != nil {
		return Info{}, fmt.Errorf("write manifest: %w", err)
	}
	pf := startPrefetch(ctx, m.Files, open)
	defer pf.stop()
	for _, fl := range m.Files {
		if err := ctx.Err(); err != nil {
			return Info{}, err
		}
		if err := writeEntry(ctx, tw, fl, mtime, pf, prog); err != nil {
			return Info{}, err
		}
	}
	pf.stop()
	if err := tw.Close(); err != nil {
		return Info{}, fmt.Errorf("finish tar stream: %w", err)
	}
	if err := enc.Close(); err != nil {
		return Info{}, fmt.Errorf("finish zstd stream: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("sync %q: %w", tmp, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("close %q: %w", tmp, err)
	}

	got, err := a.verify(ctx, tmp, prog)
	if err != nil {
		return Info{}, fmt.Errorf("verify: %w", err)
	}
	if gj, err := json.Marshal(got); err != nil || !bytes.Equal(gj, mj) {
		return Info{}, fmt.Errorf("verify: the manifest read back from %q differs from the one written", tmp)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return Info{}, fmt.Errorf("rename into place: %w", err)
	}
	placed = true
	if err := syncDir(dir); err != nil {
		os.Remove(dest)
		return Info{}, fmt.Errorf("sync directory %q: %w", dir, err)
	}
	prog.finish()
	return Info{Path: dest, Size: out.n, Files: nFiles, Bytes: nBytes, Manifest: m}, nil
}

// copyBuffer is the size of the chunks content is copied in.
const copyBuffer = 256 << 10

// prepare returns a copy of m ready to write: format and hash set, files and
// deleted paths sorted, symbolic links' targets read from their blobs.
func prepare(ctx context.Context, m Manifest, open BlobOpener) (Manifest, error) {
	m.Format, m.Hash = FormatVersion, HashSHA1
	m.Files = slices.Clone(m.Files)
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	m.Deleted = slices.Clone(m.Deleted)
	slices.Sort(m.Deleted)
	if m.Files == nil {
		m.Files = []File{}
	}
	if m.Deleted == nil {
		m.Deleted = []string{}
	}
	for i := range m.Files {
		fl := &m.Files[i]
		if fl.Mode != ModeSymlink {
			continue
		}
		if err := ctx.Err(); err != nil {
			return m, err
		}
		if fl.Size > MaxLinkTarget {
			return m, fmt.Errorf("symlink %q: target of %d bytes is longer than %d", fl.Path, fl.Size, MaxLinkTarget)
		}
		rc, size, err := open(fl.Blob)
		if err != nil {
			return m, fmt.Errorf("read blob %s of %q: %w", fl.Blob, fl.Path, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, MaxLinkTarget+1))
		rc.Close()
		if err != nil {
			return m, fmt.Errorf("read blob %s of %q: %w", fl.Blob, fl.Path, err)
		}
		if size != fl.Size || int64(len(b)) != size {
			return m, fmt.Errorf("blob %s of %q: %d bytes read, size %d, the manifest says %d", fl.Blob, fl.Path, len(b), size, fl.Size)
		}
		fl.Target = string(b)
	}
	return m, nil
}

// writeEntry writes one file's tar entry, a regular file's content coming
// from the prefetcher.
func writeEntry(ctx context.Context, tw *tar.Writer, fl File, mtime time.Time, pf *prefetcher, prog *progress) error {
	hdr := &tar.Header{Name: FilesPrefix + fl.Path, ModTime: mtime}
	switch fl.Mode {
	case ModeGitlink:
		return nil
	case ModeSymlink:
		hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, fl.Target, 0o777
	default:
		hdr.Typeflag, hdr.Size, hdr.Mode = tar.TypeReg, fl.Size, int64(fl.Mode.Perm())
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write file %q: %w", fl.Path, err)
	}
	if fl.Mode == ModeSymlink {
		prog.add(fl.Size)
		return nil
	}
	for left := fl.Size; left > 0; {
		buf, err := pf.next(ctx)
		if err != nil {
			return err
		}
		if int64(len(buf)) > left { // cannot happen: the prefetcher reads exactly each size
			return fmt.Errorf("write file %q: %d bytes more than its size", fl.Path, int64(len(buf))-left)
		}
		_, err = tw.Write(buf)
		pf.release(buf)
		if err != nil {
			return fmt.Errorf("write file %q: %w", fl.Path, err)
		}
		left -= int64(len(buf))
		prog.add(int64(len(buf)))
	}
	return nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory and
// does not need to.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
