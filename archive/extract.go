package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotInArchive is wrapped by Extract's error when a requested path matches
// nothing the archive records.
var ErrNotInArchive = errors.New("not in the archive")

// ExtractOptions tune Extract. The zero value extracts every file.
type ExtractOptions struct {
	// Paths limits extraction to these repository paths and the files below
	// them. A path that matches no file or deleted path is an error.
	Paths []string
	// Progress, when set, is called with the bytes written and the total, at
	// most about ten times a second and once at the end.
	Progress func(done, total int64)
}

// Extract writes an archive's files into dir with the package's shared
// Archiver (see Archiver.Extract).
func Extract(ctx context.Context, path, dir string, o ExtractOptions) error {
	return defaultArchiver.Extract(ctx, path, dir, o)
}

// Extract writes the files of the archive at path into dir (created if
// missing), each at its repository path, replacing what is there: regular
// files with mode 0644, executables 0755, symbolic links as links. Gitlinks
// and deleted paths are recorded in the manifest only; Extract leaves them to
// the caller.
//
// Before writing anything it refuses (with ErrUnsafePath) a manifest with a
// path that is not clean and relative, and a symbolic link whose target is
// absolute or climbs out of dir. While writing it never follows a symbolic
// link already on disk: a parent directory that is a link is refused, a file
// or link in the way is replaced, not written through. Each file is written
// to a temporary name, checked against its blob ID, and only then renamed into
// place, so damage aborts with a CorruptError naming the file and leaves no
// file with wrong content; the files before it stay written.
func (a *Archiver) Extract(ctx context.Context, path, dir string, o ExtractOptions) error {
	err := a.extract(ctx, path, dir, o)
	if err == nil {
		return nil
	}
	var ce *CorruptError
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("extract archive %q into %q: %w", path, dir, noSpace(dir, err))
}

func (a *Archiver) extract(ctx context.Context, path, dir string, o ExtractOptions) error {
	sel := make([]string, len(o.Paths))
	for i, p := range o.Paths {
		sel[i] = strings.TrimSuffix(p, "/")
		if err := CheckPath(sel[i]); err != nil {
			return fmt.Errorf("requested path: %w", err)
		}
	}
	r, err := a.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()

	// Validate everything that will be written before writing any of it.
	m := r.Manifest()
	matched := make([]bool, len(sel))
	want := func(p string) bool {
		if len(sel) == 0 {
			return true
		}
		ok := false
		for i, s := range sel {
			if p == s || strings.HasPrefix(p, s+"/") {
				matched[i], ok = true, true
			}
		}
		return ok
	}
	var total int64
	for _, f := range m.Files {
		if !want(f.Path) {
			continue
		}
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return fmt.Errorf("%w %q: not a local path on this system", ErrUnsafePath, f.Path)
		}
		if f.Mode == ModeSymlink {
			if err := checkLinkTarget(f.Path, f.Target); err != nil {
				return err
			}
		}
		if f.Mode.Stored() {
			total += f.Size
		}
	}
	for _, p := range m.Deleted {
		want(p)
	}
	for i, ok := range matched {
		if !ok {
			return fmt.Errorf("path %q: %w", o.Paths[i], ErrNotInArchive)
		}
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create target directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open target directory: %w", err)
	}
	defer root.Close()
	x := &extractor{root: root, dirs: map[string]bool{}, buf: make([]byte, copyBuffer), prog: newProgress(o.Progress, total)}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if !want(f.Path) {
			continue
		}
		if err := x.write(ctx, r, f); err != nil {
			return err
		}
	}
	x.prog.finish()
	return nil
}

// checkLinkTarget refuses a symbolic link at link (a checked repository path)
// whose target could lead outside the directory the link is extracted into:
// an absolute target, one that climbs above the top, or one with ".." after
// a name (which the kernel resolves through whatever that name is on disk).
func checkLinkTarget(link, target string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: symlink %q points to %q, %s", ErrUnsafePath, link, target, why)
	}
	switch {
	case target == "":
		return bad("an empty target")
	case strings.IndexByte(target, 0) >= 0:
		return bad("a target with a NUL byte")
	case strings.HasPrefix(target, "/") || filepath.IsAbs(target) || filepath.VolumeName(target) != "":
		return bad("an absolute path, outside the target directory")
	case os.PathSeparator == '\\' && strings.ContainsRune(target, '\\'):
		return bad("a target with backslashes")
	}
	up, down := 0, false
	for _, e := range strings.Split(target, "/") {
		switch e {
		case "", ".":
		case "..":
			if down {
				return bad(`a target with ".." after a name`)
			}
			up++
		default:
			down = true
		}
	}
	if up > strings.Count(link, "/") {
		return bad("outside the target directory")
	}
	return nil
}

// extractor writes files under root.
type extractor struct {
	root *os.Root
	dirs map[string]bool // directories known to be real directories
	buf  []byte
	prog *progress
}

// write writes the current file of r, f, at its path under the root: to a
// temporary name beside it first, renamed into place once complete and
// checked.
func (x *extractor) write(ctx context.Context, r *Reader, f File) error {
	if err := x.parents(f.Path); err != nil {
		return err
	}
	name := filepath.FromSlash(f.Path)
	var tmp string
	for try := 0; ; try++ {
		tmp = filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		var err error
		if f.Mode == ModeSymlink {
			// The target was checked by checkLinkTarget, and against the tar by Next.
			err = x.root.Symlink(f.Target, tmp)
			x.prog.add(f.Size)
		} else {
			err = x.create(ctx, r, tmp, f)
		}
		if errors.Is(err, fs.ErrExist) && try < 10 {
			continue
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			return err
		}
		if err != nil {
			return fmt.Errorf("write %q: %w", f.Path, err)
		}
		break
	}
	if err := x.root.Rename(tmp, name); err != nil {
		x.root.Remove(tmp)
		return fmt.Errorf("write %q: %w", f.Path, err)
	}
	return nil
}

// create writes the current file of r to a new file tmp (failing with
// fs.ErrExist if there is one) and gives it f's mode. On error tmp is gone.
func (x *extractor) create(ctx context.Context, r *Reader, tmp string, f File) (err error) {
	fh, err := x.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			x.root.Remove(tmp)
		}
	}()
	for {
		n, rerr := r.Read(x.buf)
		if _, err := fh.Write(x.buf[:n]); err != nil {
			return err
		}
		x.prog.add(int64(n))
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	// Set the mode on the open file: no umask, no path to follow.
	return fh.Chmod(f.Mode.Perm())
}

// parents makes sure every directory above p is a real directory under the
// root, creating missing ones, and refuses a symbolic link among them. It
// descends one directory at a time from the deepest one already known, so a
// deep path costs time in proportion to its depth, not to its square.
func (x *extractor) parents(p string) error {
	dir := parentDir(p)
	if dir == "" || x.dirs[dir] {
		return nil
	}
	known := parentDir(dir)
	for known != "" && !x.dirs[known] {
		known = parentDir(known)
	}
	cur := x.root
	if known != "" {
		r, err := x.root.OpenRoot(filepath.FromSlash(known))
		if err != nil {
			return fmt.Errorf("open directory %q: %w", known, err)
		}
		cur = r
	}
	defer func() {
		if cur != x.root {
			cur.Close()
		}
	}()
	prefix := known
	rest := strings.TrimPrefix(dir[len(known):], "/")
	for _, e := range strings.Split(rest, "/") {
		if prefix == "" {
			prefix = e
		} else {
			prefix += "/" + e
		}
		fi, err := cur.Lstat(e)
		if errors.Is(err, fs.ErrNotExist) {
			if err := cur.Mkdir(e, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("create directory %q: %w", prefix, err)
			}
			fi, err = cur.Lstat(e)
		}
		switch {
		case err != nil:
			return fmt.Errorf("check directory %q: %w", prefix, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%w: %q is a symbolic link on disk; files are not written through it", ErrUnsafePath, prefix)
		case !fi.IsDir():
			return fmt.Errorf("write %q: %q is in the way, not a directory", p, prefix)
		}
		// OpenRoot stays below cur even if e were swapped for a link meanwhile.
		next, err := cur.OpenRoot(e)
		if err != nil {
			return fmt.Errorf("open directory %q: %w", prefix, err)
		}
		if cur != x.root {
			cur.Close()
		}
		cur = next
		x.dirs[prefix] = true
	}
	return nil
}
