package gitstate

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// LockHeavy takes the repository's lock for heavy work (writing archives,
// reclaiming space), waiting for another process that holds it, and returns
// the function that releases it. The kernel releases it when a process dies,
// so it is never stale. Compare-and-swap still guards the state: this lock
// only keeps two writers from writing the same archive file at once.
func (r *Repo) LockHeavy(ctx context.Context) (func(), error) {
	d, err := r.ensureBackupDir("")
	if err != nil {
		return nil, err
	}
	l := flock.New(filepath.Join(d, "heavy.lock"))
	ok, err := l.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("lock %q: %w", l.Path(), err)
	}
	if !ok {
		return nil, fmt.Errorf("lock %q: not acquired", l.Path())
	}
	return func() { _ = l.Unlock() }, nil
}
