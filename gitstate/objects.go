package gitstate

import (
	"errors"
	"fmt"
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
var ErrObjectMissing = errors.New("object missing (" + ObjectStoreHint + ")")

// ErrObjectDamaged is returned when git cannot read an object it has.
var ErrObjectDamaged = errors.New("object damaged (" + ObjectStoreHint + ")")

// ObjectStoreHint is the way out of a missing or damaged object.
const ObjectStoreHint = "run git fsck to see what is damaged, and git backup fsck for the backups it touches"

// ReadBlob returns the content of blob id.
func (r *Repo) ReadBlob(id string) ([]byte, error) {
	return r.readObject(id, "blob")
}

// ReadBlobs reads many blobs through one cat-file process, calling fn with
// each in order. A missing blob is an error wrapping ErrObjectMissing.
func (r *Repo) ReadBlobs(ids []string, fn func(i int, data []byte) error) error {
	return r.objects(ids, func(i int, info objectInfo, content []byte) error {
		if info.Missing {
			return fmt.Errorf("read blob %s: %w", ids[i], ErrObjectMissing)
		}
		if info.Type != "blob" {
			return fmt.Errorf("read blob %s: it is a %s", ids[i], info.Type)
		}
		return fn(i, content)
	})
}

// BlobSizes returns the size of each object, -1 for a missing one, asking git
// once for all of them.
func (r *Repo) BlobSizes(ids []string) ([]int64, error) {
	infos, err := r.objectInfos(ids)
	if err != nil {
		return nil, fmt.Errorf("object sizes: %w", err)
	}
	out := make([]int64, len(ids))
	for i, in := range infos {
		out[i] = in.Size
		if in.Missing {
			out[i] = -1
		}
	}
	return out, nil
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

// readTree returns tree id, read through git and decoded by go-git.
func (r *Repo) readTree(id plumbing.Hash) (*object.Tree, error) {
	data, err := r.readObject(id.String(), "tree")
	if err != nil {
		return nil, err
	}
	t := &object.Tree{}
	if err := t.Decode(memoryObject(plumbing.TreeObject, data)); err != nil {
		return nil, fmt.Errorf("decode tree %s: %w", id, err)
	}
	t.Hash = id
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

// readCommit returns commit id, read through git and decoded by go-git.
func (r *Repo) readCommit(id plumbing.Hash) (*object.Commit, error) {
	data, err := r.readObject(id.String(), "commit")
	if err != nil {
		return nil, err
	}
	c := &object.Commit{}
	if err := c.Decode(memoryObject(plumbing.CommitObject, data)); err != nil {
		return nil, fmt.Errorf("decode commit %s: %w", id, err)
	}
	c.Hash = id
	return c, nil
}

// memoryObject wraps raw object content for go-git's decoders.
func memoryObject(t plumbing.ObjectType, data []byte) *plumbing.MemoryObject {
	o := &plumbing.MemoryObject{}
	o.SetType(t)
	o.SetSize(int64(len(data)))
	_, _ = o.Write(data)
	return o
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

// HasObject reports whether object id is in the store (alternates included).
func (r *Repo) HasObject(id string) bool {
	infos, err := r.objectInfos([]string{id})
	return err == nil && !infos[0].Missing
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
