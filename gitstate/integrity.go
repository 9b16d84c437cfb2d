package gitstate

import (
	"context"
	"fmt"
	"strings"
)

// SnapshotCheck is one snapshot commit to check, with the base its changes
// are measured against ("" for a root snapshot).
type SnapshotCheck struct {
	Commit, Base string
}

// DamagedSnapshots reads every object a snapshot adds to its base (the
// commit, the trees and blobs that differ) and returns, for each snapshot
// with one that is missing or cannot be read, what is wrong. Objects shared
// with the base are left to git fsck. One rev-list and one cat-file read all
// snapshots; only when they fail is each snapshot checked alone, to name it.
func (r *Repo) DamagedSnapshots(ctx context.Context, snaps []SnapshotCheck) (map[string]string, error) {
	out := map[string]string{}
	if len(snaps) == 0 {
		return out, nil
	}
	if objs, missing, err := r.snapshotObjects(ctx, snaps); err == nil && len(missing) == 0 {
		if r.objects(objs, func(int, objectInfo, []byte) error { return nil }) == nil {
			return out, nil
		}
	}
	for _, s := range snaps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if problem := r.damagedSnapshot(ctx, s); problem != "" {
			out[s.Commit] = problem
		}
	}
	return out, nil
}

// damagedSnapshot checks one snapshot; "" when it reads whole.
func (r *Repo) damagedSnapshot(ctx context.Context, s SnapshotCheck) string {
	objs, missing, err := r.snapshotObjects(ctx, []SnapshotCheck{s})
	if err != nil {
		return err.Error()
	}
	if len(missing) > 0 {
		return fmt.Sprintf("object %s is missing", strings.Join(missing, ", "))
	}
	for _, id := range objs {
		var info objectInfo
		err := r.objects([]string{id}, func(_ int, in objectInfo, _ []byte) error { info = in; return nil })
		switch {
		case err != nil:
			return fmt.Sprintf("object %s cannot be read", id)
		case info.Missing:
			return fmt.Sprintf("object %s is missing", id)
		}
	}
	return ""
}

// snapshotObjects lists the objects the snapshots add to their bases, and
// those of them that are missing.
func (r *Repo) snapshotObjects(ctx context.Context, snaps []SnapshotCheck) (objs, missing []string, err error) {
	var in strings.Builder
	for _, s := range snaps {
		in.WriteString(s.Commit + "\n")
		if s.Base != "" {
			in.WriteString("^" + s.Base + "\n")
		}
	}
	b, err := r.git(ctx, runOpts{readOnly: true, stdin: strings.NewReader(in.String())},
		"rev-list", "--objects", "--missing=print", "--stdin")
	if err != nil {
		return nil, nil, fmt.Errorf("list objects: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		id, _, _ := strings.Cut(l, " ")
		if m, ok := strings.CutPrefix(id, "?"); ok {
			missing = append(missing, m)
			continue
		}
		objs = append(objs, id)
	}
	return objs, missing, nil
}
