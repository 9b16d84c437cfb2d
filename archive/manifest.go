package archive

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatVersion is the version of the archive layout this package writes and
// the newest it reads.
const FormatVersion = 1

// HashSHA1 is the object hash of the repositories this package archives: blob
// IDs are SHA-1 in lower-case hex.
const HashSHA1 = "sha1"

// ManifestName is the name of the manifest, the first entry of every archive.
const ManifestName = "MANIFEST.json"

// FilesPrefix is prepended to a file's repository path to name its tar entry.
const FilesPrefix = "files/"

// Bounds on what an archive may ask a reader to hold in memory.
const (
	MaxManifestSize = 64 << 20  // bytes of MANIFEST.json
	MaxEntries      = 1_000_000 // files plus deleted paths
	MaxLinkTarget   = 64 << 10  // bytes of a symbolic link's target
)

// Mode is a git tree entry mode in octal, as git prints it.
type Mode string

// The modes an archive holds.
const (
	ModeRegular    Mode = "100644"
	ModeExecutable Mode = "100755"
	ModeSymlink    Mode = "120000"
	ModeGitlink    Mode = "160000" // a submodule commit: recorded, never stored
)

// Valid reports whether m is one of the modes an archive holds.
func (m Mode) Valid() bool {
	switch m {
	case ModeRegular, ModeExecutable, ModeSymlink, ModeGitlink:
		return true
	}
	return false
}

// Stored reports whether files of mode m have an entry in the tar (all but
// gitlinks).
func (m Mode) Stored() bool { return m.Valid() && m != ModeGitlink }

// Perm is the permission Extract gives a file of mode m.
func (m Mode) Perm() fs.FileMode {
	if m == ModeExecutable {
		return 0o755
	}
	return 0o644
}

// Manifest describes an archive: the backup it holds and every path that
// backup changed against its base.
type Manifest struct {
	Format  int      `json:"format"` // FormatVersion; Write sets it
	Hash    string   `json:"hash"`   // HashSHA1; Write sets it
	Backup  Backup   `json:"backup"`
	Files   []File   `json:"files"`   // added or modified paths, sorted by path
	Deleted []string `json:"deleted"` // paths the backup removed, sorted
	// Commit is the snapshot commit object as git stores it (without the
	// "commit <size>" header), base64-encoded, so the identical commit can be
	// written again when the archive is brought back; "" when not recorded.
	Commit string `json:"commit"`
}

// Backup holds the backup's fields, so an archive can be understood (and
// turned back into a snapshot) without the state it came from.
type Backup struct {
	ID        string    `json:"id"`
	Snapshot  string    `json:"snapshot"`       // the snapshot commit
	Base      string    `json:"base,omitempty"` // its first parent; "" on an unborn branch
	Tree      string    `json:"tree,omitempty"` // the snapshot's tree
	Branch    string    `json:"branch,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Message   string    `json:"message,omitempty"`
	Trigger   string    `json:"trigger,omitempty"`
}

// File is one added or modified path.
type File struct {
	Path string `json:"path"` // repository path, slash-separated
	Blob string `json:"blob"` // git blob ID (the commit for a gitlink)
	Mode Mode   `json:"mode"`
	Size int64  `json:"size"` // bytes of content (0 for a gitlink)
	// Target is a symbolic link's target, which is also its blob's content.
	// Write fills it in; readers check links against it before writing any.
	Target string `json:"target,omitempty"`
}

// StoredFiles counts the files that have a tar entry, and their bytes.
func (m *Manifest) StoredFiles() (n int, bytes int64) {
	for _, f := range m.Files {
		if f.Mode.Stored() {
			n++
			bytes += f.Size
		}
	}
	return n, bytes
}

// Validate checks the manifest: its version, the backup's object IDs, every
// path (relative, clean, no "..", no ".git", UTF-8), every mode, size and blob ID,
// each symbolic link's target against its blob ID, no path twice, and no
// file below another file.
func (m *Manifest) Validate() error {
	switch {
	case m.Format == 0:
		return errors.New("manifest has no format version")
	case m.Format > FormatVersion:
		return fmt.Errorf("manifest format %d is newer than this version of git-backup reads (%d)", m.Format, FormatVersion)
	case m.Format < 0:
		return fmt.Errorf("manifest format %d is not a version", m.Format)
	case m.Hash != HashSHA1:
		return fmt.Errorf("manifest hash %q is not supported (only %q)", m.Hash, HashSHA1)
	}
	b := m.Backup
	if b.ID == "" {
		return errors.New("manifest has no backup ID")
	}
	for _, id := range []struct{ name, v string }{{"snapshot", b.Snapshot}, {"base", b.Base}, {"tree", b.Tree}} {
		if (id.v != "" || id.name == "snapshot") && !validID(id.v) {
			return fmt.Errorf("backup %s %q is not an object ID", id.name, id.v)
		}
	}
	if n := len(m.Files) + len(m.Deleted); n > MaxEntries {
		return fmt.Errorf("manifest has %d entries, more than %d", n, MaxEntries)
	}
	seen := make(map[string]Mode, len(m.Files)+len(m.Deleted))
	for _, f := range m.Files {
		if err := f.validate(); err != nil {
			return err
		}
		if _, dup := seen[f.Path]; dup {
			return fmt.Errorf("file %q: duplicate path", f.Path)
		}
		seen[f.Path] = f.Mode
	}
	for _, f := range m.Files {
		// A file below a file (or below a link) cannot be in one tree; on disk
		// it would mean writing through a link.
		for p := parentDir(f.Path); p != ""; p = parentDir(p) {
			if mode, ok := seen[p]; ok {
				return fmt.Errorf("file %q is below %q, which is a file of mode %s", f.Path, p, mode)
			}
		}
	}
	for _, p := range m.Deleted {
		if err := CheckPath(p); err != nil {
			return fmt.Errorf("deleted path: %w", err)
		}
		if !utf8.ValidString(p) {
			return fmt.Errorf("deleted path %q: %w", p, errNotUTF8)
		}
		if _, dup := seen[p]; dup {
			return fmt.Errorf("deleted path %q: duplicate path", p)
		}
		seen[p] = ""
	}
	return nil
}

// validate checks one file entry.
func (f *File) validate() error {
	if err := CheckPath(f.Path); err != nil {
		return err
	}
	switch {
	case !utf8.ValidString(f.Path):
		return fmt.Errorf("file %q: path %w", f.Path, errNotUTF8)
	case !utf8.ValidString(f.Target):
		return fmt.Errorf("symlink %q: target %q %w", f.Path, f.Target, errNotUTF8)
	case !f.Mode.Valid():
		return fmt.Errorf("file %q: mode %q is not one of 100644, 100755, 120000, 160000", f.Path, f.Mode)
	case !validID(f.Blob):
		return fmt.Errorf("file %q: blob %q is not an object ID", f.Path, f.Blob)
	case f.Size < 0:
		return fmt.Errorf("file %q: size %d is negative", f.Path, f.Size)
	case f.Mode != ModeSymlink && f.Target != "":
		return fmt.Errorf("file %q: mode %s has a link target", f.Path, f.Mode)
	case f.Mode == ModeSymlink && f.Size > MaxLinkTarget:
		return fmt.Errorf("symlink %q: target of %d bytes is longer than %d", f.Path, f.Size, MaxLinkTarget)
	case f.Mode == ModeSymlink && int64(len(f.Target)) != f.Size:
		return fmt.Errorf("symlink %q: target of %d bytes, size says %d", f.Path, len(f.Target), f.Size)
	case f.Mode == ModeSymlink && BlobID([]byte(f.Target)) != f.Blob:
		return fmt.Errorf("symlink %q: target %q does not match blob %s", f.Path, f.Target, f.Blob)
	}
	return nil
}

// errNotUTF8 is why a path or link target that is not UTF-8 is refused: JSON
// would record U+FFFD in its place, and the archive would not match its own
// manifest.
var errNotUTF8 = errors.New("is not valid UTF-8, which the manifest cannot record")

// ErrUnsafePath is wrapped by errors about a path that could write outside
// the target directory or into a repository's .git.
var ErrUnsafePath = errors.New("unsafe path")

// CheckPath checks a repository path: not empty, slash-separated, relative,
// already clean (no "", "." or ".." elements), no NUL, and no element git
// itself refuses (".git" in any case, and its NTFS aliases).
func CheckPath(p string) error {
	unsafe := func(why string) error { return fmt.Errorf("%w %q: %s", ErrUnsafePath, p, why) }
	switch {
	case p == "":
		return unsafe("empty")
	case strings.IndexByte(p, 0) >= 0:
		return unsafe("contains a NUL byte")
	case p[0] == '/':
		return unsafe("absolute")
	}
	for _, e := range strings.Split(p, "/") {
		switch {
		case e == "":
			return unsafe("has an empty element")
		case e == "." || e == "..":
			return unsafe(fmt.Sprintf("has a %q element", e))
		case isDotGit(e):
			return unsafe(fmt.Sprintf("has a %q element", e))
		}
	}
	return nil
}

// isDotGit reports whether a path element names a .git directory on some
// file system: ".git" in any case, with trailing dots or spaces (NTFS), or
// its 8.3 short name.
func isDotGit(e string) bool {
	e = strings.ToLower(strings.TrimRight(e, ". "))
	return e == ".git" || e == "git~1"
}

// parentDir returns the directory part of a clean relative path, "" at the top.
func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// validID reports whether id is a SHA-1 object ID in lower-case hex.
func validID(id string) bool {
	if len(id) != 2*sha1.Size {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// BlobID returns the git blob ID of data: SHA-1 of "blob <size>\x00" and data.
func BlobID(data []byte) string {
	h := newBlobHash(int64(len(data)))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// newBlobHash returns a hash primed with the blob header for size bytes;
// writing the content to it yields the blob ID.
func newBlobHash(size int64) hash.Hash {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.FormatInt(size, 10) + "\x00"))
	return h
}

// decodeManifest reads a manifest, refusing more than MaxEntries entries
// before holding them, and anything after the JSON object.
func decodeManifest(r io.Reader) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return m, err
	}
	entries := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return m, err
		}
		key, _ := t.(string)
		switch key {
		case "files":
			err = decodeArray(dec, func() error {
				if entries++; entries > MaxEntries {
					return fmt.Errorf("manifest has more than %d entries", MaxEntries)
				}
				var f File
				err := dec.Decode(&f)
				m.Files = append(m.Files, f)
				return err
			})
		case "deleted":
			err = decodeArray(dec, func() error {
				if entries++; entries > MaxEntries {
					return fmt.Errorf("manifest has more than %d entries", MaxEntries)
				}
				var p string
				err := dec.Decode(&p)
				m.Deleted = append(m.Deleted, p)
				return err
			})
		case "format":
			err = dec.Decode(&m.Format)
		case "hash":
			err = dec.Decode(&m.Hash)
		case "backup":
			err = dec.Decode(&m.Backup)
		case "commit":
			err = dec.Decode(&m.Commit)
		default: // a field from a later minor version
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return m, fmt.Errorf("field %q: %w", key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return m, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return m, errors.New("data after the manifest object")
	}
	if m.Files == nil {
		m.Files = []File{}
	}
	if m.Deleted == nil {
		m.Deleted = []string{}
	}
	return m, nil
}

// decodeArray reads a JSON array (or null), calling each for every element.
func decodeArray(dec *json.Decoder, each func() error) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want an array, have %v", t)
	}
	for dec.More() {
		if err := each(); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

// expectDelim reads one token and checks that it is d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := t.(json.Delim); !ok || got != d {
		return fmt.Errorf("want %q, have %v", d, t)
	}
	return nil
}
