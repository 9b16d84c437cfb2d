package gitstate

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ZeroID is the all-zero object ID git uses for "no object".
const ZeroID = "0000000000000000000000000000000000000000"

// EmptyTreeID is the ID of the empty tree.
const EmptyTreeID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// ErrObjectMissing is returned when an object the state refers to is not in the store.
var ErrObjectMissing = errors.New("object missing")

// ReadBlob returns the content of blob id.
func (r *Repo) ReadBlob(id string) ([]byte, error) {
	s, err := r.storage()
	if err != nil {
		return nil, err
	}
	o, err := s.EncodedObject(plumbing.BlobObject, plumbing.NewHash(id))
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, fmt.Errorf("read blob %s: %w", id, ErrObjectMissing)
		}
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	rd, err := o.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	return b, nil
}

// BlobSize returns the size of blob id without reading its content when it is
// stored loose or undeltified.
func (r *Repo) BlobSize(id string) (int64, error) {
	s, err := r.storage()
	if err != nil {
		return 0, err
	}
	sz, err := s.EncodedObjectSize(plumbing.NewHash(id))
	if err != nil {
		return 0, fmt.Errorf("size of blob %s: %w", id, err)
	}
	return sz, nil
}

// writeBlob stores data as a blob and returns its ID.
func (r *Repo) writeBlob(data []byte) (plumbing.Hash, error) {
	s, err := r.storage()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	o := s.NewEncodedObject()
	o.SetType(plumbing.BlobObject)
	o.SetSize(int64(len(data)))
	w, err := o.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	h, err := s.SetEncodedObject(o)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return h, nil
}

// readTree returns tree id.
func (r *Repo) readTree(id plumbing.Hash) (*object.Tree, error) {
	s, err := r.storage()
	if err != nil {
		return nil, err
	}
	t, err := object.GetTree(s, id)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, fmt.Errorf("read tree %s: %w", id, ErrObjectMissing)
		}
		return nil, fmt.Errorf("read tree %s: %w", id, err)
	}
	return t, nil
}

// writeTree stores a tree with the given entries (sorted here as git requires).
func (r *Repo) writeTree(entries []object.TreeEntry) (plumbing.Hash, error) {
	s, err := r.storage()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sortTreeEntries(entries)
	t := &object.Tree{Entries: entries}
	o := s.NewEncodedObject()
	if err := t.Encode(o); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	h, err := s.SetEncodedObject(o)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write tree: %w", err)
	}
	return h, nil
}

// readCommit returns commit id.
func (r *Repo) readCommit(id plumbing.Hash) (*object.Commit, error) {
	s, err := r.storage()
	if err != nil {
		return nil, err
	}
	c, err := object.GetCommit(s, id)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, fmt.Errorf("read commit %s: %w", id, ErrObjectMissing)
		}
		return nil, fmt.Errorf("read commit %s: %w", id, err)
	}
	return c, nil
}

// CommitInfo is what callers need of a commit.
type CommitInfo struct {
	ID      string
	Tree    string
	Parents []string
	Time    time.Time
	Message string
}

// Commit returns the commit id, or an error wrapping ErrObjectMissing.
func (r *Repo) Commit(id string) (CommitInfo, error) {
	c, err := r.readCommit(plumbing.NewHash(id))
	if err != nil {
		return CommitInfo{}, err
	}
	ci := CommitInfo{ID: c.Hash.String(), Tree: c.TreeHash.String(), Time: c.Committer.When.UTC(), Message: c.Message}
	for _, p := range c.ParentHashes {
		ci.Parents = append(ci.Parents, p.String())
	}
	return ci, nil
}

// HasObject reports whether object id is in the store, alternates included.
func (r *Repo) HasObject(id string) bool {
	s, err := r.storage()
	if err != nil {
		return false
	}
	h := plumbing.NewHash(id)
	if s.HasEncodedObject(h) == nil {
		return true
	}
	// HasEncodedObject does not look into alternates (clone --shared, --reference).
	_, err = s.EncodedObject(plumbing.AnyObject, h)
	return err == nil
}

// writeCommit stores a commit object.
func (r *Repo) writeCommit(tree plumbing.Hash, parents []plumbing.Hash, sig object.Signature, msg string) (plumbing.Hash, error) {
	s, err := r.storage()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: parents}
	o := s.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	h, err := s.SetEncodedObject(o)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write commit: %w", err)
	}
	return h, nil
}

// sortTreeEntries orders entries as git does: by name, with trees compared as if
// their name ended in '/'.
func sortTreeEntries(es []object.TreeEntry) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	slices.SortFunc(es, func(a, b object.TreeEntry) int { return strings.Compare(key(a), key(b)) })
}
