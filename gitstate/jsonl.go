package gitstate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A JSONL file is a history kept under <common dir>/backup, one JSON object a
// line, named by its path below that directory ("metrics/disk.jsonl"). Lines
// are appended by one writer (the monitor holds its lock) and rewritten
// whole, atomically, when old lines are dropped.

// jsonlPath is where the JSONL file name lives; name must stay inside
// BackupDir.
func (r *Repo) jsonlPath(name string) (string, error) {
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("history file %q: not a relative path inside the backup directory", name)
	}
	return filepath.Join(r.BackupDir(), name), nil
}

// AppendJSONL appends one line (without its newline) to the JSONL file name,
// creating it and its directory when needed.
func (r *Repo) AppendJSONL(name string, line []byte) error {
	p, err := r.jsonlPath(name)
	if err != nil {
		return err
	}
	if bytes.ContainsAny(line, "\n\r") {
		return fmt.Errorf("append to %q: line holds a newline", name)
	}
	if _, err := r.ensureBackupDir(filepath.Dir(name)); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("append to %q: %w", name, err)
	}
	buf := make([]byte, 0, len(line)+2)
	// A last line cut short by a crash has no newline: end it first, or the
	// new line would be glued to it and both would be lost to readers.
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			buf = append(buf, '\n')
		}
	}
	buf = append(append(buf, line...), '\n')
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("append to %q: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append to %q: %w", name, err)
	}
	return nil
}

// ReadJSONL returns the non-empty lines of the JSONL file name; a file that
// does not exist reads as no lines. A last line cut short by a crash is
// returned too: callers skip lines that do not parse.
func (r *Repo) ReadJSONL(name string) ([][]byte, error) {
	p, err := r.jsonlPath(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", name, err)
	}
	var lines [][]byte
	for l := range bytes.SplitSeq(data, []byte{'\n'}) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// RewriteJSONL replaces the JSONL file name with lines, atomically: a reader
// sees the old file or the new one, never a mix.
func (r *Repo) RewriteJSONL(name string, lines [][]byte) error {
	p, err := r.jsonlPath(name)
	if err != nil {
		return err
	}
	if _, err := r.ensureBackupDir(filepath.Dir(name)); err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if err := WriteFileAtomic(p, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("rewrite %q: %w", name, err)
	}
	return nil
}

// FileSize returns the size of the regular file at path and whether it exists
// (an archive, which may live under the git dir).
func FileSize(path string) (int64, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}
