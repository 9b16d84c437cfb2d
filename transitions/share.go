package transitions

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// pushTries bounds push attempts: a rejected push fetches, merges and tries
// again, after a random pause that grows from pushBackoff, so that clones
// pushing at the same moment fall out of step instead of rejecting each other
// again (with 3 tries and no pause, a clone racing a peer that pushed several
// times a second gave up in most syncs).
const (
	pushTries   = 6
	pushBackoff = 50 * time.Millisecond
)

// FetchResult is what Fetch did.
type FetchResult struct {
	*MergeResult
	Snapshots int `json:"remote_snapshots"` // snapshot refs the remote has
}

// Fetch brings remote's state (and snapshot refs) and merges it into ours.
func (s *Store) Fetch(ctx context.Context, remote string) (*FetchResult, error) {
	f, err := s.Repo.FetchBackups(ctx, remote)
	if err != nil {
		return nil, err
	}
	m, err := s.MergeRemote(ctx, remote, f)
	if err != nil {
		return nil, err
	}
	state, _ := s.Repo.StateCommit()
	if err := s.Repo.RecordSync(remote, false, state, s.now()); err != nil {
		s.log().Warn("record sync", "err", err)
	}
	return &FetchResult{MergeResult: m, Snapshots: len(f.Snapshots)}, nil
}

// PushOptions tune Push.
type PushOptions struct {
	Remote    string
	Snapshots bool // also push the snapshot refs of live backups
}

// PushResult is what Push did.
type PushResult struct {
	Remote   string         `json:"remote"`
	State    string         `json:"state"`   // the state commit the remote now has
	Pushed   []string       `json:"pushed"`  // snapshot refs sent
	Deleted  []string       `json:"deleted"` // remote snapshot refs of ARCHIVED or DELETED backups removed
	UpToDate bool           `json:"up_to_date"`
	Attempts int            `json:"attempts"`
	Merges   []*MergeResult `json:"merges"` // merges after a rejected push
}

// Push sends refs/backups/state to remote, never forced: when the remote's
// state moved meanwhile it fetches, merges and pushes again, at most
// pushTries times. With Snapshots it sends the live backups' snapshot refs;
// it always removes the remote's snapshot refs of backups that are ARCHIVED
// or DELETED here.
func (s *Store) Push(ctx context.Context, o PushOptions) (*PushResult, error) {
	res := &PushResult{Remote: o.Remote, Pushed: []string{}, Deleted: []string{}, Merges: []*MergeResult{}}
	backoff := pushBackoff
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		req, err := s.pushRequest(ctx, o)
		if err != nil {
			return nil, err
		}
		res.State = req.State
		res.Pushed = append([]string{}, slices.Sorted(maps.Keys(req.Snapshots))...)
		res.Deleted = append([]string{}, req.Delete...)
		if req.State == "" && len(req.Snapshots) == 0 && len(req.Delete) == 0 {
			res.UpToDate = true
			break
		}
		err = s.Repo.PushBackups(ctx, req)
		if err == nil {
			break
		}
		if !errors.Is(err, gitstate.ErrRejected) {
			return nil, err
		}
		if attempt >= pushTries {
			return nil, fmt.Errorf("%w: push to %q rejected %d times (the remote's state keeps moving; run git backup sync again)", ErrGaveUp, o.Remote, attempt)
		}
		s.log().Info("push rejected: fetching and merging", "remote", o.Remote, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff/2 + rand.N(backoff)):
		}
		backoff = min(2*backoff, time.Second)
		f, err := s.Repo.FetchBackups(ctx, o.Remote)
		if err != nil {
			return nil, err
		}
		m, err := s.MergeRemote(ctx, o.Remote, f)
		if err != nil {
			return nil, err
		}
		res.Merges = append(res.Merges, m)
	}
	if res.State == "" {
		res.State, _ = s.Repo.StateCommit()
	}
	if err := s.Repo.RecordSync(o.Remote, true, res.State, s.now()); err != nil {
		s.log().Warn("record sync", "err", err)
	}
	return res, nil
}

// pushRequest decides what one push attempt sends.
func (s *Store) pushRequest(ctx context.Context, o PushOptions) (gitstate.PushRequest, error) {
	req := gitstate.PushRequest{Remote: o.Remote}
	remote, err := s.Repo.RemoteBackupRefs(ctx, o.Remote)
	if err != nil {
		return req, err
	}
	v, err := s.LoadLight(ctx)
	if err != nil {
		return req, err
	}
	if c := v.State.Commit; c != "" && remote[gitstate.StateRef] != c {
		req.State = c
	}
	have, err := s.Repo.SnapshotRefs()
	if err != nil {
		return req, err
	}
	for _, b := range v.Backups {
		if b.ID == "" {
			continue
		}
		there := remote[gitstate.SnapshotRef(b.ID)]
		switch {
		case b.Live() && o.Snapshots && have[b.ID] == b.Snapshot && there != b.Snapshot:
			if req.Snapshots == nil {
				req.Snapshots = map[string]string{}
			}
			req.Snapshots[b.ID] = b.Snapshot
		case !b.Live() && b.State != "" && there != "":
			req.Delete = append(req.Delete, b.ID)
		}
	}
	return req, nil
}

// SyncResult is what Sync did.
type SyncResult struct {
	Fetch *FetchResult `json:"fetch"`
	Push  *PushResult  `json:"push"`
}

// Sync fetches and merges remote's state, then pushes ours.
func (s *Store) Sync(ctx context.Context, o PushOptions) (*SyncResult, error) {
	f, err := s.Fetch(ctx, o.Remote)
	if err != nil {
		return nil, err
	}
	p, err := s.Push(ctx, o)
	if err != nil {
		return &SyncResult{Fetch: f}, err
	}
	return &SyncResult{Fetch: f, Push: p}, nil
}
