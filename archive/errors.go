package archive

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrCorrupt is matched (with errors.Is) by every error about an archive that
// is damaged, truncated or not in this package's format.
var ErrCorrupt = errors.New("archive damaged")

// CorruptError says which archive is damaged and, when known, at which file.
type CorruptError struct {
	Archive string // path of the archive
	File    string // repository path being read, "" for the manifest or the structure
	Err     error
}

// Error says which archive is damaged, where, and how.
func (e *CorruptError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("archive %q is damaged at file %q: %v", e.Archive, e.File, e.Err)
	}
	return fmt.Sprintf("archive %q is damaged: %v", e.Archive, e.Err)
}

// Unwrap returns the underlying error.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// FileSystemFullError says that a file system ran out of space (or of the
// user's quota) while an archive or its files were written.
type FileSystemFullError struct {
	Dir   string // the directory being written to
	Mount string // the mount point of its file system, "" if unknown
	Err   error
}

// Error names the full file system.
func (e *FileSystemFullError) Error() string {
	if e.Mount != "" && e.Mount != e.Dir {
		return fmt.Sprintf("file system full: %q (mounted at %q): %v", e.Dir, e.Mount, e.Err)
	}
	return fmt.Sprintf("file system full: %q: %v", e.Dir, e.Err)
}

// Unwrap returns the underlying error.
func (e *FileSystemFullError) Unwrap() error { return e.Err }

// noSpace wraps err in a FileSystemFullError for dir when it says the file
// system is full or the quota exceeded, and returns it unchanged otherwise.
func noSpace(dir string, err error) error {
	if err == nil || !(errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		return err
	}
	var full *FileSystemFullError
	if errors.As(err, &full) {
		return err
	}
	return &FileSystemFullError{Dir: dir, Mount: mountPoint(dir), Err: err}
}
