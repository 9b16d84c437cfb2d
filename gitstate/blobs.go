package gitstate

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"weak"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// streamThreshold is the blob size above which OpenBlob streams the content
// from disk instead of inflating it into memory first.
const streamThreshold = 4 << 20

// OpenBlob opens blob id for reading and returns its size. The caller closes
// the reader.
//
// Blobs up to a few MiB are read into memory (and cached like ReadBlob's).
// Larger ones are streamed from their loose object or pack, so memory stays
// flat however large the blob is, with two exceptions where go-git has to
// materialise the object: a large blob stored as a delta whose base must be
// rebuilt, and a blob that lives only in an alternate object store.
func (r *Repo) OpenBlob(id string) (io.ReadCloser, int64, error) {
	if !validObjectID(id) {
		return nil, 0, fmt.Errorf("open blob %q: not an object ID", id)
	}
	s, err := r.storage()
	if err != nil {
		return nil, 0, err
	}
	h := plumbing.NewHash(id)
	if sz, err := s.EncodedObjectSize(h); err == nil && sz > streamThreshold {
		if ls, err := r.streamStorage(); err == nil {
			s = ls
		}
	}
	o, err := s.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, 0, fmt.Errorf("open blob %s: %w", id, ErrObjectMissing)
		}
		return nil, 0, fmt.Errorf("open blob %s: %w", id, err)
	}
	rd, err := o.Reader()
	if err != nil {
		return nil, 0, fmt.Errorf("open blob %s: %w", id, err)
	}
	return rd, o.Size(), nil
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

// streamStores holds, per Repo, a second object storage that hands out large
// objects as streams (go-git's LargeObjectThreshold). It lives beside the
// Repo rather than in it and is dropped when the Repo is collected.
var streamStores struct {
	sync.Mutex
	m map[weak.Pointer[Repo]]*filesystem.Storage
}

// streamStorage returns the Repo's streaming object storage, creating it on
// first use.
func (r *Repo) streamStorage() (*filesystem.Storage, error) {
	if _, err := r.storage(); err != nil {
		return nil, err
	}
	k := weak.Make(r)
	streamStores.Lock()
	defer streamStores.Unlock()
	if s, ok := streamStores.m[k]; ok {
		return s, nil
	}
	if streamStores.m == nil {
		streamStores.m = make(map[weak.Pointer[Repo]]*filesystem.Storage)
	}
	s := filesystem.NewStorageWithOptions(osfs.New(r.CommonDir), cache.NewObjectLRU(streamThreshold*4), filesystem.Options{
		LargeObjectThreshold: streamThreshold,
		AlternatesFS:         osfs.New("/"),
	})
	streamStores.m[k] = s
	runtime.AddCleanup(r, func(k weak.Pointer[Repo]) {
		streamStores.Lock()
		delete(streamStores.m, k)
		streamStores.Unlock()
	}, k)
	return s, nil
}
