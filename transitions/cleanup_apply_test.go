package transitions

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// cleanRepo is a store whose archives go to a private directory.
func cleanRepo(t *testing.T) (string, *Store) {
	t.Helper()
	dir, s := storeRepo(t)
	s.Policy.ArchiveDir = filepath.Join(t.TempDir(), "archives")
	s.Now = nil
	return dir, s
}

// cleanable takes a backup of name and moves it to CLEANABLE; covered
// commits the same content on main first, so its coverage is full.
func cleanable(t *testing.T, s *Store, dir, name string, covered bool) *Backup {
	t.Helper()
	s.Now = nil
	b := backupOf(t, s, dir, name, name+" content\n")
	if covered {
		storeGit(t, dir, "add", name)
		storeGit(t, dir, "commit", "-q", "-m", "add "+name)
	}
	ctx := context.Background()
	for _, to := range []State{Pending, Cleanable} {
		if _, err := s.Move(ctx, MoveRequest{ID: b.ID, To: to, Trigger: TriggerUser, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	aged(s)
	return b
}

// aged sets the store's clock two hours ahead, so the backups taken so far
// are older than minAge.
func aged(s *Store) { s.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } }

func idsPlanner(s *Store, ids []string, force bool) Planner {
	return func(v *View, f PlanFacts) Plan { return PlanIDs(v, ids, f, s.Policy, force) }
}

func planApply(t *testing.T, s *Store, p Planner) Plan {
	t.Helper()
	plan, _, _, err := s.Plan(context.Background(), p, "")
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func backupNow(t *testing.T, s *Store, id string) *Backup {
	t.Helper()
	v, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := v.ByID(id)
	if b == nil {
		t.Fatalf("backup %s is gone from the state", id)
	}
	return b
}

func refOf(t *testing.T, s *Store, id string) string {
	t.Helper()
	c, err := s.Repo.ReadRef(gitstate.SnapshotRef(id))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func archiveFiles(t *testing.T, s *Store) []string {
	t.Helper()
	es, err := os.ReadDir(s.ArchiveDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestApply_archiveDropsTheRefAndRecordsTheVerifiedArchive(t *testing.T) {
	dir, s := cleanRepo(t)
	ctx := context.Background()
	b := cleanable(t, s, dir, "a.new", false)
	plan := planApply(t, s, idsPlanner(s, []string{b.ID}, false))
	if len(plan.Moves) != 1 || plan.Moves[0].Action != ActionArchive {
		t.Fatalf("plan = %+v, want one archive move", plan.Moves)
	}
	res, err := s.Apply(ctx, plan, ApplyOptions{Replan: idsPlanner(s, []string{b.ID}, false)})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := ArchivePath(s.ArchiveDir(), b.ID)
	if len(res.Archives) != 1 || res.Archives[0].Path != want || res.Archives[0].Reused {
		t.Fatalf("archives = %+v, want one new at %s", res.Archives, want)
	}
	if c := refOf(t, s, b.ID); c != "" {
		t.Errorf("snapshot ref still at %s", c)
	}
	got := backupNow(t, s, b.ID)
	if got.State != Archived || deref(got.Archive) != want {
		t.Errorf("state %s archive %q, want ARCHIVED at %q", got.State, deref(got.Archive), want)
	}
	m, err := archive.Verify(want)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(m.Files) != 1 || m.Files[0].Path != "a.new" || m.Backup.Snapshot != b.Snapshot {
		t.Errorf("manifest = %+v", m)
	}
	raw, err := base64.StdEncoding.DecodeString(m.Commit)
	if err != nil {
		t.Fatal(err)
	}
	if _, data, err := s.Repo.RawObject(b.Snapshot); err != nil || string(data) != string(raw) {
		t.Errorf("manifest commit differs from the snapshot commit (%v)", err)
	}

	// Deleting the ARCHIVED backup removes its archive after the commit.
	plan = planApply(t, s, idsPlanner(s, []string{b.ID}, false))
	if len(plan.Moves) != 1 || plan.Moves[0].To != Deleted {
		t.Fatalf("plan = %+v, want ARCHIVED → DELETED", plan.Moves)
	}
	res, err = s.Apply(ctx, plan, ApplyOptions{})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res.RemovedArchives) != 1 {
		t.Errorf("removed = %v", res.RemovedArchives)
	}
	if _, err := os.Stat(want); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("archive still there: %v", err)
	}
	if got := backupNow(t, s, b.ID); got.State != Deleted {
		t.Errorf("state %s, want DELETED", got.State)
	}
}

func TestApply_coveredBackupIsDeletedWithItsRef(t *testing.T) {
	dir, s := cleanRepo(t)
	s.Policy.CompressBeforeDelete = false
	b := cleanable(t, s, dir, "c.new", true)
	plan := planApply(t, s, idsPlanner(s, []string{b.ID}, false))
	if len(plan.Moves) != 1 || plan.Moves[0].To != Deleted {
		t.Fatalf("plan = %+v, want one delete", plan.Moves)
	}
	if _, err := s.Apply(context.Background(), plan, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := refOf(t, s, b.ID); c != "" {
		t.Errorf("ref still there")
	}
	if got := backupNow(t, s, b.ID); got.State != Deleted {
		t.Errorf("state %s", got.State)
	}
}

func TestApply_failureWhileArchivingLeavesStateAndNoFile(t *testing.T) {
	dir, s := cleanRepo(t)
	a := cleanable(t, s, dir, "a.new", false)
	b := cleanable(t, s, dir, "b.new", false)
	ids := []string{a.ID, b.ID}
	plan := planApply(t, s, idsPlanner(s, ids, false))
	before, _ := s.Repo.StateCommit()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The second archive fails part way (after the first one is in place).
	_, err := s.Apply(ctx, plan, ApplyOptions{Replan: idsPlanner(s, ids, false), Progress: func(p ApplyProgress) {
		if p.Phase == "archive" && p.ID == b.ID {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("Apply succeeded, want the injected failure")
	}
	after, _ := s.Repo.StateCommit()
	if after != before {
		t.Errorf("state moved from %s to %s", before, after)
	}
	for _, x := range []*Backup{a, b} {
		if refOf(t, s, x.ID) == "" {
			t.Errorf("ref of %s gone", x.ID)
		}
		if got := backupNow(t, s, x.ID); got.State != Cleanable {
			t.Errorf("%s is %s", x.ID, got.State)
		}
	}
	if fs := archiveFiles(t, s); len(fs) != 0 {
		t.Errorf("files left: %v", fs)
	}
}

func TestApply_lostRaceReplansAndLosesNothing(t *testing.T) {
	dir, s := cleanRepo(t)
	ctx := context.Background()
	a := cleanable(t, s, dir, "a.new", false)
	b := cleanable(t, s, dir, "b.new", false)
	ids := []string{a.ID, b.ID}
	plan := planApply(t, s, idsPlanner(s, ids, false))
	other, err := gitstate.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	raced := false
	res, err := s.Apply(ctx, plan, ApplyOptions{Replan: idsPlanner(s, ids, false), Progress: func(p ApplyProgress) {
		if p.Phase == "archive" && p.ID == b.ID && !raced {
			raced = true
			// Another writer pins b between the plan and the commit.
			v, err := s.Load(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			commitBehindTheBack(t, other, v.ByID(b.ID), gitstate.Event{Kind: gitstate.KindPin, Time: time.Now(), Trigger: "user"})
		}
	}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !raced {
		t.Fatal("the race was not injected")
	}
	if len(res.Moves) != 1 || res.Moves[0].ID != a.ID {
		t.Errorf("moves = %+v, want a's archive only", res.Moves)
	}
	if len(res.Dropped) != 1 || res.Dropped[0].ID != b.ID {
		t.Errorf("dropped = %+v, want b", res.Dropped)
	}
	if got := backupNow(t, s, a.ID); got.State != Archived || refOf(t, s, a.ID) != "" {
		t.Errorf("a is %s", got.State)
	}
	gb := backupNow(t, s, b.ID)
	if gb.State != Cleanable || !gb.Pinned || refOf(t, s, b.ID) == "" {
		t.Errorf("b is %s pinned %v", gb.State, gb.Pinned)
	}
	if fs := archiveFiles(t, s); len(fs) != 1 || fs[0] != a.ID+".tar.zst" {
		t.Errorf("archive files = %v, want a's only", fs)
	}
}

func TestApply_neverDeletesPinnedOrUncovered(t *testing.T) {
	tests := []struct {
		name    string
		covered bool
		pinned  bool
		trigger Trigger
		level   Level
		wantErr error
		want    State
	}{
		{name: "uncovered, moderate", trigger: TriggerUser, level: LevelModerate, wantErr: ErrUncoveredDelete, want: Cleanable},
		{name: "uncovered, disk emergency", trigger: TriggerDisk, level: LevelEmergency, wantErr: ErrUncoveredDelete, want: Cleanable},
		{name: "pinned, disk", covered: true, pinned: true, trigger: TriggerDisk, level: LevelCritical, want: Cleanable},
		{name: "pinned, time", covered: true, pinned: true, trigger: TriggerTime, want: Cleanable},
		{name: "uncovered, nuclear", trigger: TriggerUser, level: LevelNuclear, want: Deleted},
		{name: "covered", covered: true, trigger: TriggerUser, level: LevelModerate, want: Deleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, s := cleanRepo(t)
			ctx := context.Background()
			b := cleanable(t, s, dir, "x.new", tt.covered)
			if tt.pinned {
				if _, err := s.SetPinned(ctx, b.ID, true, TriggerUser); err != nil {
					t.Fatal(err)
				}
			}
			// A plan made by hand: the planner would never propose it.
			plan := Plan{Level: tt.level, Trigger: tt.trigger, Title: "by hand", Moves: []PlannedMove{{
				ID: b.ID, From: Cleanable, To: Deleted, Action: ActionDelete, Trigger: tt.trigger, Reason: "test",
			}}}
			res, err := s.Apply(ctx, plan, ApplyOptions{})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr != nil && !errors.Is(err, ErrRefused)) {
				t.Fatalf("Apply: %v, want %v", err, tt.wantErr)
			}
			got := backupNow(t, s, b.ID)
			if got.State != tt.want {
				t.Errorf("state %s, want %s", got.State, tt.want)
			}
			if hasRef := refOf(t, s, b.ID) != ""; hasRef != (tt.want != Deleted) {
				t.Errorf("ref present %v in state %s", hasRef, got.State)
			}
			if tt.pinned && len(res.Dropped) != 1 {
				t.Errorf("dropped = %+v, want the pinned backup", res.Dropped)
			}
		})
	}
}

func TestApply_reusesAVerifiedArchive(t *testing.T) {
	dir, s := cleanRepo(t)
	ctx := context.Background()
	b := cleanable(t, s, dir, "a.new", false)
	full := backupNow(t, s, b.ID)
	m, err := s.Manifest(full)
	if err != nil {
		t.Fatal(err)
	}
	dest := ArchivePath(s.ArchiveDir(), b.ID)
	if _, err := archive.Write(ctx, dest, m, s.Repo.OpenBlob, archive.Options{}); err != nil {
		t.Fatal(err)
	}
	plan := planApply(t, s, idsPlanner(s, []string{b.ID}, false))
	res, err := s.Apply(ctx, plan, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Archives) != 1 || !res.Archives[0].Reused {
		t.Errorf("archives = %+v, want one reused", res.Archives)
	}
	if got := backupNow(t, s, b.ID); got.State != Archived {
		t.Errorf("state %s", got.State)
	}
}

func TestApply_archiveForcedFromCreated(t *testing.T) {
	dir, s := cleanRepo(t)
	ctx := context.Background()
	b := backupOf(t, s, dir, "y.new", "y\n")
	planner := func(v *View, f PlanFacts) Plan { return PlanArchive(v, []string{b.ID}, f, s.Policy, true) }
	if p := planApply(t, s, func(v *View, f PlanFacts) Plan { return PlanArchive(v, []string{b.ID}, f, s.Policy, false) }); len(p.Moves) != 0 || len(p.Skipped) != 1 {
		t.Fatalf("without force: %+v", p)
	}
	plan := planApply(t, s, planner)
	if len(plan.Moves) != 1 || !plan.Moves[0].Forced {
		t.Fatalf("plan = %+v, want one forced archive", plan.Moves)
	}
	if _, err := s.Apply(ctx, plan, ApplyOptions{Replan: planner}); err != nil {
		t.Fatal(err)
	}
	got := backupNow(t, s, b.ID)
	if got.State != Archived || refOf(t, s, b.ID) != "" || !got.Events[len(got.Events)-1].Forced {
		t.Errorf("state %s, events %+v", got.State, got.Events)
	}
}

func TestApply_lostRaceToAnotherArchiverKeepsItsArchive(t *testing.T) {
	dir, s := cleanRepo(t)
	ctx := context.Background()
	b := cleanable(t, s, dir, "b.new", false)
	ids := []string{b.ID}
	plan := planApply(t, s, idsPlanner(s, ids, false))
	other, err := gitstate.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	dest := ArchivePath(s.ArchiveDir(), b.ID)
	raced := false
	_, err = s.Apply(ctx, plan, ApplyOptions{Replan: idsPlanner(s, ids, false), Progress: func(p ApplyProgress) {
		if p.Phase != "archive" || raced {
			return
		}
		raced = true
		// Another process archives b to the same path and commits first.
		v, err := s.Load(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		cur := v.ByID(b.ID)
		if _, err := archive.Write(ctx, dest, uaManifest(t, s, cur), s.Repo.OpenBlob, archive.Options{}); err != nil {
			t.Error(err)
			return
		}
		st, err := other.ReadState("")
		if err != nil {
			t.Error(err)
			return
		}
		old, err := other.ReadBlob(st.Notes[cur.Snapshot])
		if err != nil {
			t.Error(err)
			return
		}
		ev := gitstate.Event{Kind: gitstate.KindMove, From: string(Cleanable), To: string(Archived), Trigger: "user",
			Archive: dest, Time: time.Now(), Clock: cur.NextClock() + 10, Clone: "other-writer"}
		note := append(old, append(ev.Line(), '\n')...)
		ref := gitstate.SnapshotRef(b.ID)
		if _, err := other.CommitState(ctx, gitstate.StateChange{Base: st, Notes: map[string][]byte{cur.Snapshot: note},
			Message: "other archiver", Refs: []gitstate.RefUpdate{{Name: ref, Old: refOf(t, s, b.ID)}}}); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !raced {
		t.Fatal("the race was not injected")
	}
	if got := backupNow(t, s, b.ID); got.State != Archived || deref(got.Archive) != dest {
		t.Fatalf("b is %s at %q, want ARCHIVED at %q", got.State, deref(got.Archive), dest)
	}
	if _, err := archive.Verify(dest); err != nil {
		t.Errorf("the ARCHIVED backup's only copy is gone: %v", err)
	}
}
