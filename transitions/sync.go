package transitions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// MergeResult is what merging a remote's state into ours did.
type MergeResult struct {
	Remote      string   `json:"remote"`
	RemoteState string   `json:"remote_state"`     // "" when the remote has no state
	Commit      string   `json:"commit,omitempty"` // the new local state commit; "" when nothing changed
	Merged      []string `json:"merged"`           // backups whose logs took remote events
	Adopted     []string `json:"adopted"`          // local snapshot refs created from the remote's
	Dropped     []string `json:"dropped"`          // local snapshot refs dropped: remote marked them gone, content covered here
	Kept        []string `json:"kept"`             // local snapshot refs kept: remote marked them gone, content not shown covered here
	Warnings    []string `json:"warnings"`         // remote events skipped
}

func newMergeResult(remote, state string) *MergeResult {
	return &MergeResult{Remote: remote, RemoteState: state, Merged: []string{}, Adopted: []string{}, Dropped: []string{}, Kept: []string{}, Warnings: []string{}}
}

// mergeTries bounds compare-and-swap attempts of one merge.
const mergeTries = 10

// MergeRemote merges the state fetched from remote (RemoteStateRef) into
// refs/backups/state: per backup the sorted union of both logs, in one commit
// whose parents are the local and the remote state. It never removes local
// content on the remote's word alone: a backup the remote marked ARCHIVED or
// DELETED keeps its local snapshot ref unless the integration branch covers
// all of its changes here, and then the drop is a local event. Snapshot refs
// fetched from the remote become local refs for live backups that have none.
func (s *Store) MergeRemote(ctx context.Context, remote string, f gitstate.Fetched) (*MergeResult, error) {
	res := newMergeResult(remote, f.State)
	if f.State == "" {
		return res, nil
	}
	rv, err := s.Repo.ReadState(f.State)
	if err != nil {
		return nil, fmt.Errorf("read the state fetched from %q: %w (the local state is untouched; the remote's %s is damaged)", remote, err, gitstate.StateRef)
	}
	if rv.Layout != gitstate.LayoutVersion {
		return nil, fmt.Errorf("the state fetched from %q has layout %q; this git-backup reads %q (the local state is untouched)", remote, rv.Layout, gitstate.LayoutVersion)
	}
	remoteData, err := s.readNotes(rv.Notes)
	if err != nil {
		return nil, fmt.Errorf("read the state fetched from %q: %w (the local state is untouched)", remote, err)
	}
	mu := s.Repo.WriterLock()
	mu.Lock()
	defer mu.Unlock()
	for attempt := 1; ; attempt++ {
		*res = *newMergeResult(remote, f.State)
		err := s.mergeOnce(ctx, rv, remoteData, f, res)
		if err == nil || !errors.Is(err, gitstate.ErrConflict) {
			return res, err
		}
		if attempt >= mergeTries {
			return nil, fmt.Errorf("%w (%d attempts; last: %v)", ErrGaveUp, attempt, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(5+rand.N(20)) * time.Millisecond):
		}
	}
}

// readNotes reads note blobs: snapshot → content.
func (s *Store) readNotes(blobs map[string]string) (map[string][]byte, error) {
	snaps := make([]string, 0, len(blobs))
	ids := make([]string, 0, len(blobs))
	for snap, id := range blobs {
		snaps, ids = append(snaps, snap), append(ids, id)
	}
	out := make(map[string][]byte, len(ids))
	err := s.Repo.ReadBlobs(ids, func(i int, data []byte) error {
		out[snaps[i]] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	return out, nil
}

func (s *Store) mergeOnce(ctx context.Context, rv *gitstate.StateView, remoteData map[string][]byte, f gitstate.Fetched, res *MergeResult) error {
	v, err := s.LoadLight(ctx)
	if err != nil {
		return err
	}
	local := v.State
	both := map[string]string{}
	for snap, blob := range local.Notes {
		if rb, ok := rv.Notes[snap]; ok && rb != blob {
			both[snap] = blob
		}
	}
	localData, err := s.readNotes(both)
	if err != nil {
		return err
	}
	lim := RemoteLimits{Now: s.now()}
	notes := map[string][]byte{}
	final := map[string][]byte{} // snapshot → merged note, for every note the remote has
	for snap, rdata := range remoteData {
		name := noteName(v.BySnapshot(snap), snap, rdata)
		if blob, ok := local.Notes[snap]; ok && blob == rv.Notes[snap] {
			continue
		}
		m := MergeNote(name, localData[snap], rdata, lim)
		res.Warnings = append(res.Warnings, m.Warnings...)
		final[snap] = m.Note
		if m.Changed {
			notes[snap] = m.Note
			res.Merged = append(res.Merged, name)
		}
	}
	refs, err := s.mergeRefs(v, rv, final, notes, f, res)
	if err != nil {
		return err
	}
	needParent := local.Commit != rv.Commit && !s.Repo.IsAncestorOfAny(ctx, rv.Commit, []string{local.Commit})
	if len(notes) == 0 && len(refs) == 0 && !needParent {
		return nil
	}
	slices.Sort(res.Merged)
	msg := fmt.Sprintf("%s: merge state from %s", TriggerRemote, res.Remote)
	if len(res.Merged)+len(res.Dropped) > 0 {
		msg += "\n\n" + strings.Join(append(slices.Clone(res.Merged), res.Dropped...), "\n") + "\n"
	}
	// The merged tree is the remote's and ours is behind it: fast-forward.
	if needParent && s.sameAsRemote(local, rv, notes, remoteData) &&
		(local.Commit == "" || s.Repo.IsAncestorOfAny(ctx, local.Commit, []string{rv.Commit})) {
		ups := append([]gitstate.RefUpdate{{Name: gitstate.StateRef, Old: local.Commit, New: rv.Commit}}, refs...)
		if err := s.Repo.UpdateRefs(ctx, "git-backup: "+firstLine(msg), ups); err != nil {
			return err
		}
		res.Commit = rv.Commit
		return nil
	}
	var parents []string
	if needParent {
		parents = []string{rv.Commit}
	}
	c, err := s.Repo.CommitState(ctx, gitstate.StateChange{Base: local, Notes: notes, Parents: parents, Message: msg, Refs: refs, Time: s.now()})
	if err != nil {
		return err
	}
	res.Commit = c
	return nil
}

// noteName names a backup in warnings: its ID, from our log or else from the
// remote's creation event; its snapshot commit when neither has one.
func noteName(local *Backup, snap string, remote []byte) string {
	if local != nil && local.ID != "" {
		return local.ID
	}
	evs, _ := gitstate.ParseNote(remote)
	for _, e := range evs {
		if e.Kind == gitstate.KindCreate && e.ID != "" {
			return e.ID
		}
	}
	return snap
}

// sameAsRemote reports whether the local state with notes applied has
// exactly the remote's notes.
func (s *Store) sameAsRemote(local, rv *gitstate.StateView, notes map[string][]byte, remoteData map[string][]byte) bool {
	for snap := range local.Notes {
		if _, ok := rv.Notes[snap]; !ok {
			return false
		}
	}
	for snap, rdata := range remoteData {
		if n, ok := notes[snap]; ok {
			if string(n) != string(rdata) {
				return false
			}
			continue
		}
		if local.Notes[snap] != rv.Notes[snap] {
			return false
		}
	}
	return true
}

// mergeRefs decides the local snapshot refs the merge changes: adopt the
// remote's ref of a live backup we have no ref for; for a backup the remote
// marked ARCHIVED or DELETED whose local ref exists, drop the ref only when
// its changes are covered here (recording a local event in notes), else keep it.
func (s *Store) mergeRefs(v *View, rv *gitstate.StateView, final, notes map[string][]byte, f gitstate.Fetched, res *MergeResult) ([]gitstate.RefUpdate, error) {
	have, err := s.Repo.SnapshotRefs()
	if err != nil {
		return nil, err
	}
	var refs []gitstate.RefUpdate
	var gone []*Backup
	for snap := range rv.Notes {
		var b *Backup
		if data, ok := final[snap]; ok {
			evs, bad := gitstate.ParseNote(data)
			b = Fold(snap, evs, bad)
		} else if b = v.BySnapshot(snap); b == nil {
			continue
		}
		if b.ID == "" {
			continue
		}
		ref, ok := have[b.ID]
		switch {
		case b.Live() && !ok && f.Snapshots[b.ID] == snap:
			refs = append(refs, gitstate.RefUpdate{Name: gitstate.SnapshotRef(b.ID), New: snap})
			res.Adopted = append(res.Adopted, b.ID)
		case !b.Live() && b.State != "" && ok && ref == snap:
			if b.Light {
				if _, err := v.Full(b); err != nil {
					return nil, err
				}
			}
			gone = append(gone, b)
		}
	}
	if len(gone) == 0 {
		slices.Sort(res.Adopted)
		return refs, nil
	}
	covered, err := s.fullyCovered(gone)
	if err != nil {
		return nil, err
	}
	for i, b := range gone {
		if !covered[i] {
			res.Kept = append(res.Kept, b.ID)
			continue
		}
		data, ok := final[b.Snapshot]
		if !ok {
			if data, err = s.Repo.ReadBlob(v.State.Notes[b.Snapshot]); err != nil {
				return nil, fmt.Errorf("read note of %s: %w", b.ID, err)
			}
		}
		one := 1.0
		ev := gitstate.Event{Kind: gitstate.KindCover, Time: s.now().Truncate(time.Millisecond), Clock: b.NextClock(), Clone: s.Clone,
			Trigger: string(TriggerRemote), Coverage: &one,
			Reason: fmt.Sprintf("local snapshot ref dropped: a remote marked it %s and the integration branch covers all of its changes", b.State)}
		notes[b.Snapshot] = append(append(slices.Clone(data), ev.Line()...), '\n')
		refs = append(refs, gitstate.RefUpdate{Name: gitstate.SnapshotRef(b.ID), Old: b.Snapshot})
		res.Dropped = append(res.Dropped, b.ID)
	}
	slices.Sort(res.Adopted)
	slices.Sort(res.Kept)
	slices.Sort(res.Dropped)
	return refs, nil
}

// fullyCovered reports for each backup whether the integration branch's tips
// hold every one of its changes (coverage 1.0).
func (s *Store) fullyCovered(bs []*Backup) ([]bool, error) {
	out := make([]bool, len(bs))
	branch, err := s.Repo.IntegrationBranch(s.Policy.IntegrationBranch)
	if err != nil {
		return nil, err
	}
	tips, err := s.Repo.IntegrationTips(branch)
	if err != nil || len(tips) == 0 {
		return out, err
	}
	var commits []string
	for _, t := range tips {
		commits = append(commits, t.Commit)
	}
	cc, err := s.Repo.NewCoverageChecker(commits)
	if err != nil {
		return nil, err
	}
	sets := make([][]gitstate.PathChange, len(bs))
	for i, b := range bs {
		sets[i] = b.Paths
	}
	for i, c := range cc.CoverageAll(sets) {
		out[i] = c >= 1 && len(bs[i].Paths) > 0 && len(bs[i].Damaged) == 0
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// KeptLocally says why b's local snapshot ref still exists although its state
// says the content is gone ("" when that is not the case): a remote marked it
// ARCHIVED or DELETED and this clone cannot show its content is covered.
// self is this clone's ID: a move this clone made itself is not a remote's.
func KeptLocally(b *Backup, haveRef bool, self string) string {
	if b.Live() || b.State == "" || !haveRef {
		return ""
	}
	clone, found := "", false
	for i := len(b.Events) - 1; i >= 0; i-- {
		if e := b.Events[i]; e.Kind == gitstate.KindMove && State(e.To) == b.State {
			clone, found = e.Clone, true
			break
		}
	}
	if !found || self == "" || clone == self {
		return "" // no log to tell (a light view), or this clone's own move
	}
	who := "a remote"
	if clone != "" {
		who = fmt.Sprintf("clone %.8s", clone)
	}
	return fmt.Sprintf("kept locally: %s marked it %s but this clone cannot show it is covered", who, b.State)
}

// SnapshotHere reports whether b's content can be read from its snapshot in
// this clone: it is live, or another clone marked it ARCHIVED or DELETED and
// its snapshot was kept locally (KeptLocally).
func (s *Store) SnapshotHere(b *Backup) bool {
	if b.Live() {
		return true
	}
	ref, err := s.Repo.ReadRef(gitstate.SnapshotRef(b.ID))
	return err == nil && ref != "" && ref == b.Snapshot && KeptLocally(b, true, s.Clone) != ""
}
