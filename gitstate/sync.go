package gitstate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrRejected means the remote refused to move its refs/backups/state because
// it is not an ancestor of ours (someone pushed first): fetch, merge, push again.
var ErrRejected = errors.New("remote state moved: push rejected")

// ErrNoRemote is returned when the remote named for a push or fetch is not
// configured in the repository.
var ErrNoRemote = errors.New("no such remote")

// RemoteStateRef is where the state fetched from remote is kept.
func RemoteStateRef(remote string) string { return RemotesPrefix + remote + "/state" }

// RemoteSnapshotsPrefix is where the snapshot refs fetched from remote are
// kept, one per backup ID. They never overwrite refs/backups/snapshots/*:
// the merge adopts one as a local snapshot ref only when no local ref of that
// backup exists.
func RemoteSnapshotsPrefix(remote string) string { return RemotesPrefix + remote + "/snapshots/" }

// DefaultRemote is the remote of the current branch's upstream, else origin.
func (r *Repo) DefaultRemote(ctx context.Context) (string, error) {
	h, err := r.Head()
	if err == nil && h.Branch != "" {
		out, err := r.git(ctx, runOpts{readOnly: true}, "config", "--get", "branch."+h.Branch+".remote")
		if name := trimNL(out); err == nil && name != "" && name != "." {
			return name, nil
		}
	}
	return "origin", nil
}

// checkRemote makes sure remote is a configured remote name (or a URL, which
// git accepts too), so a typo is reported before any transport starts.
func (r *Repo) checkRemote(ctx context.Context, remote string) error {
	if remote == "" || strings.HasPrefix(remote, "-") {
		return fmt.Errorf("%w: %q", ErrNoRemote, remote)
	}
	if strings.Contains(remote, ":") || strings.Contains(remote, "/") {
		return fmt.Errorf("%w: %q is not a remote name (add it with git remote add NAME URL)", ErrNoRemote, remote)
	}
	out, err := r.git(ctx, runOpts{readOnly: true}, "remote")
	if err != nil {
		return fmt.Errorf("list remotes: %w", err)
	}
	for _, n := range strings.Split(trimNL(out), "\n") {
		if n == remote {
			return nil
		}
	}
	return fmt.Errorf("%w: %q (see git remote -v)", ErrNoRemote, remote)
}

// RemoteBackupRefs lists the remote's refs/backups/state and snapshot refs
// (git ls-remote): full ref name → object ID.
func (r *Repo) RemoteBackupRefs(ctx context.Context, remote string) (map[string]string, error) {
	if err := r.checkRemote(ctx, remote); err != nil {
		return nil, err
	}
	out, err := r.git(ctx, runOpts{readOnly: true}, "ls-remote", "--refs", remote, StateRef, SnapshotsPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("list backup refs of %q: %w", remote, err)
	}
	refs := map[string]string{}
	for _, line := range strings.Split(trimNL(out), "\n") {
		id, name, ok := strings.Cut(line, "\t")
		if !ok || len(id) != 40 || !isHex(id) {
			continue
		}
		if name == StateRef || strings.HasPrefix(name, SnapshotsPrefix) {
			refs[name] = strings.ToLower(id)
		}
	}
	return refs, nil
}

// Fetched is what FetchBackups brought.
type Fetched struct {
	State     string            // the remote's state commit; "" when it has none
	Snapshots map[string]string // backup ID → snapshot commit on the remote
}

// FetchBackups runs git fetch for the remote's refs/backups/state into
// RemoteStateRef and its snapshot refs under RemoteSnapshotsPrefix (pruning
// the ones the remote dropped). The git binary does the transport, so the
// user's credentials and SSH setup apply. Local refs/backups/* are never
// written here.
func (r *Repo) FetchBackups(ctx context.Context, remote string) (Fetched, error) {
	refs, err := r.RemoteBackupRefs(ctx, remote)
	if err != nil {
		return Fetched{}, err
	}
	args := []string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--prune", "--no-recurse-submodules", remote}
	if refs[StateRef] != "" {
		args = append(args, "+"+StateRef+":"+RemoteStateRef(remote))
	}
	args = append(args, "+"+SnapshotsPrefix+"*:"+RemoteSnapshotsPrefix(remote)+"*")
	_, err = r.git(ctx, runOpts{}, args...)
	var ge *GitError
	if err != nil && errors.As(err, &ge) && strings.Contains(ge.Stderr, "no-write-fetch-head") {
		// git before 2.29: FETCH_HEAD is written, as a plain git fetch does.
		args = slices.DeleteFunc(args, func(a string) bool { return a == "--no-write-fetch-head" })
		_, err = r.git(ctx, runOpts{}, args...)
	}
	if err != nil {
		return Fetched{}, fmt.Errorf("fetch backups from %q: %w", remote, err)
	}
	f := Fetched{Snapshots: map[string]string{}}
	if f.State, err = r.ReadRef(RemoteStateRef(remote)); err != nil {
		return Fetched{}, err
	}
	if refs[StateRef] == "" && f.State != "" {
		// The remote has no state (any more): forget what an earlier fetch kept.
		if err := r.UpdateRefs(ctx, "git-backup: fetch "+remote, []RefUpdate{{Name: RemoteStateRef(remote), Old: f.State}}); err != nil {
			return Fetched{}, err
		}
		f.State = ""
	}
	snaps, err := r.RefsWithPrefix(RemoteSnapshotsPrefix(remote))
	if err != nil {
		return Fetched{}, err
	}
	for name, id := range snaps {
		f.Snapshots[strings.TrimPrefix(name, RemoteSnapshotsPrefix(remote))] = id
	}
	return f, nil
}

// PushRequest is one push of backup refs.
type PushRequest struct {
	Remote string
	State  string // local state commit to push to refs/backups/state; "" for none
	// Snapshots maps backup IDs to the snapshot commits pushed to their
	// refs. Commit IDs, not local ref names: a local ref dropped while the
	// push runs (the backup archived meanwhile) must not fail the push.
	Snapshots map[string]string
	Delete    []string // backup IDs whose snapshot refs are deleted on the remote
}

// PushBackups pushes refs/backups/state (never forced) and the snapshot refs
// named, and deletes the remote snapshot refs named, all at once (--atomic
// when the remote supports it). A non-fast-forward of the state returns an
// error wrapping ErrRejected. The user's pre-push hooks do not run: these
// refs are not the user's branches.
func (r *Repo) PushBackups(ctx context.Context, req PushRequest) error {
	if err := r.checkRemote(ctx, req.Remote); err != nil {
		return err
	}
	var specs []string
	if req.State != "" {
		specs = append(specs, req.State+":"+StateRef)
	}
	for _, id := range slices.Sorted(maps.Keys(req.Snapshots)) {
		specs = append(specs, req.Snapshots[id]+":"+SnapshotRef(id))
	}
	for _, id := range req.Delete {
		specs = append(specs, ":"+SnapshotRef(id))
	}
	if len(specs) == 0 {
		return nil
	}
	args := append([]string{"push", "--porcelain", "--no-verify", "--atomic", req.Remote}, specs...)
	out, err := r.git(ctx, runOpts{}, args...)
	var ge *GitError
	if err != nil && errors.As(err, &ge) && strings.Contains(ge.Stderr, "does not support --atomic") {
		args = append([]string{"push", "--porcelain", "--no-verify", req.Remote}, specs...)
		out, err = r.git(ctx, runOpts{}, args...)
	}
	if err == nil {
		return nil
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || f[0] != "!" || !strings.HasSuffix(f[1], ":"+StateRef) {
			continue
		}
		for _, why := range []string{"non-fast-forward", "fetch first", "stale info", "cannot lock", "failed to update ref", "incorrect old value"} {
			if strings.Contains(f[2], why) {
				return fmt.Errorf("push to %q: %w (%s)", req.Remote, ErrRejected, strings.TrimSpace(f[2]))
			}
		}
	}
	if errors.As(err, &ge) {
		for _, why := range []string{"cannot lock ref", "failed to update ref", "incorrect old value"} {
			if strings.Contains(ge.Stderr, why) {
				return fmt.Errorf("push to %q: %w", req.Remote, ErrRejected)
			}
		}
	}
	return fmt.Errorf("push backups to %q: %w", req.Remote, err)
}

// SyncFetchRefspec is the fetch refspec SetupRemote adds: every ref under
// refs/backups on the remote lands under refs/backups/remotes/<remote>/.
// A glob, so a plain git fetch does not fail on a remote without backups.
func SyncFetchRefspec(remote string) string {
	return "+refs/backups/*:" + RemotesPrefix + remote + "/*"
}

// SetupRemote adds SyncFetchRefspec to remote.<remote>.fetch unless it is
// there already; it reports whether it added it. Push config is not touched,
// so a plain git push pushes what it did before.
func (r *Repo) SetupRemote(ctx context.Context, remote string) (bool, error) {
	if err := r.checkRemote(ctx, remote); err != nil {
		return false, err
	}
	key := "remote." + remote + ".fetch"
	spec := SyncFetchRefspec(remote)
	out, err := r.git(ctx, runOpts{readOnly: true}, "config", "--get-all", key)
	var ge *GitError
	if err != nil && !(errors.As(err, &ge) && ge.Code == 1) {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	for _, v := range strings.Split(trimNL(out), "\n") {
		if strings.TrimSpace(v) == spec {
			return false, nil
		}
	}
	if _, err := r.git(ctx, runOpts{}, "config", "--add", key, spec); err != nil {
		return false, fmt.Errorf("set %s: %w", key, err)
	}
	return true, nil
}
