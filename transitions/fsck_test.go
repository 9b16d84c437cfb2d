package transitions

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

var fsckT0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// fsckSnap is a 40-hex snapshot commit ID made of one repeated digit.
func fsckSnap(c string) string { return strings.Repeat(c, 40) }

// fsckID is the backup ID of snapshot snap taken at fsckT0.
func fsckID(snap string) string { return gitstate.NewBackupID(fsckT0, snap, nil) }

// fsckBackup folds a backup of snap that went through states (after CREATED).
func fsckBackup(snap string, states ...State) *Backup {
	evs := []gitstate.Event{{Kind: gitstate.KindCreate, Time: fsckT0, Clock: 1, Clone: "c", To: string(Created),
		Trigger: "user", ID: fsckID(snap), Snapshot: snap}}
	from := Created
	for i, to := range states {
		evs = append(evs, gitstate.Event{Kind: gitstate.KindMove, Time: fsckT0.Add(time.Duration(i+1) * time.Minute),
			Clock: uint64(i + 2), Clone: "c", From: string(from), To: string(to), Trigger: "user", Forced: true})
		from = to
	}
	return Fold(snap, evs, nil)
}

// fsckView is a view holding bs.
func fsckView(bs ...*Backup) *View {
	v := &View{byID: map[string]*Backup{}, bySnap: map[string]*Backup{}}
	for _, b := range bs {
		v.add(b)
	}
	sortBackups(v.Backups)
	return v
}

// fsckSummary is a finding in short: "kind id action".
func fsckSummary(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", f.Kind, f.Name(), f.Action)))
	}
	return out
}

func TestPlanFsck(t *testing.T) {
	a, b, c := fsckSnap("a"), fsckSnap("b"), fsckSnap("c")
	idA, idB, idC := fsckID(a), fsckID(b), fsckID(c)
	damaged := fsckBackup(b)
	damaged.Damaged = []string{"unreadable event at line 2: not a JSON event"}
	nameless := Fold(c, nil, []gitstate.LineError{{Line: 1, Text: "x", Err: errors.New("not a JSON event")}})
	lying := fsckBackup(a)
	lying.ID = "20240102-030405-bbbbbbb" // a creation event whose ID names another commit
	all := map[string]bool{a: true, b: true, c: true}
	old := gitstate.PrivateIndex{Path: "/r/.git/git-backup-index.1.aa", ModTime: fsckT0.Add(-2 * time.Hour)}
	fresh := gitstate.PrivateIndex{Path: "/r/.git/git-backup-index.2.bb", ModTime: fsckT0.Add(-time.Minute)}

	tests := []struct {
		name string
		in   FsckInput
		want []string
	}{
		{"consistent", FsckInput{View: fsckView(fsckBackup(a), fsckBackup(b, Pending)),
			Refs: map[string]string{idA: a, idB: b}, Exists: all}, nil},
		{"empty", FsckInput{View: fsckView()}, nil},
		{"ref without note is adopted", FsckInput{View: fsckView(fsckBackup(a)),
			Refs: map[string]string{idA: a, idB: b}, Exists: all},
			[]string{"orphan-ref " + idB + " adopt"}},
		{"two refs without note to one commit: one adopted", FsckInput{View: fsckView(),
			Refs: map[string]string{idB: b, "20240101-000000-bbbbbbbb": b}, Exists: all},
			[]string{"orphan-ref 20240101-000000-bbbbbbbb adopt", "ref-mismatch " + idB}},
		{"ref without note and without commit", FsckInput{View: fsckView(),
			Refs: map[string]string{idB: b}, Exists: map[string]bool{}},
			[]string{"missing-snapshot " + idB}},
		{"ref not named by an ID", FsckInput{View: fsckView(),
			Refs: map[string]string{"wip": b}, Exists: all},
			[]string{"bad-ref-name " + gitstate.SnapshotRef("wip")}},
		{"ref whose ID names another commit", FsckInput{View: fsckView(),
			Refs: map[string]string{"20240102-030405-ccccccc": b}, Exists: all},
			[]string{"ref-mismatch 20240102-030405-ccccccc"}},
		{"extra ref to a backup's commit", FsckInput{View: fsckView(fsckBackup(b)),
			Refs: map[string]string{idB: b, "20240101-000000-bbbbbbbb": b}, Exists: all},
			[]string{"ref-mismatch 20240101-000000-bbbbbbbb"}},
		{"live backup without ref, commit there: recreate", FsckInput{View: fsckView(fsckBackup(a, Pending, Confirmed)),
			Refs: map[string]string{}, Exists: all},
			[]string{"missing-ref " + idA + " recreate-ref"}},
		{"live backup without ref, commit gone: tombstone", FsckInput{View: fsckView(fsckBackup(a, Cleanable)),
			Refs: map[string]string{}, Exists: map[string]bool{}},
			[]string{"missing-ref " + idA + " tombstone"}},
		{"another clone's live backup without ref or commit: its content is there", FsckInput{View: fsckView(fsckBackup(a, Pending)),
			Refs: map[string]string{}, Exists: map[string]bool{}, Self: "other"}, nil},
		{"another clone's live backup without ref, commit here: recreate", FsckInput{View: fsckView(fsckBackup(a)),
			Refs: map[string]string{}, Exists: all, Self: "other"},
			[]string{"missing-ref " + idA + " recreate-ref"}},
		{"own live backup without ref, commit gone: tombstone", FsckInput{View: fsckView(fsckBackup(a)),
			Refs: map[string]string{}, Exists: map[string]bool{}, Self: "c"},
			[]string{"missing-ref " + idA + " tombstone"}},
		{"DELETED and ARCHIVED need no ref", FsckInput{View: fsckView(fsckBackup(a, Deleted), fsckBackup(b, Cleanable, Archived)),
			Refs: map[string]string{}, Exists: map[string]bool{}}, nil},
		{"DELETED with a ref: drop it", FsckInput{View: fsckView(fsckBackup(a, Cleanable, Deleted)),
			Refs: map[string]string{idA: a}, Exists: all},
			[]string{"stale-ref " + idA + " drop-ref"}},
		{"DELETED with a ref to a lost commit: drop it all the same", FsckInput{View: fsckView(fsckBackup(a, Cleanable, Deleted)),
			Refs: map[string]string{idA: a}, Exists: map[string]bool{}},
			[]string{"stale-ref " + idA + " drop-ref"}},
		{"ARCHIVED with a ref: report only", FsckInput{View: fsckView(fsckBackup(a, Cleanable, Archived)),
			Refs: map[string]string{idA: a}, Exists: all},
			[]string{"stale-ref " + idA}},
		{"ARCHIVED by another clone, ref kept here: report why", FsckInput{View: fsckView(fsckBackup(a, Cleanable, Archived)),
			Refs: map[string]string{idA: a}, Exists: all, Self: "other"},
			[]string{"stale-ref " + idA}},
		{"ref pointing elsewhere", FsckInput{View: fsckView(fsckBackup(a)),
			Refs: map[string]string{idA: c}, Exists: all},
			[]string{"ref-mismatch " + idA}},
		{"ID that does not name its snapshot", FsckInput{View: fsckView(lying),
			Refs: map[string]string{lying.ID: a}, Exists: all},
			[]string{"ref-mismatch " + lying.ID}},
		{"ref and note agree but the commit is gone", FsckInput{View: fsckView(fsckBackup(a)),
			Refs: map[string]string{idA: a}, Exists: map[string]bool{}},
			[]string{"missing-snapshot " + idA}},
		{"damaged note keeps its other checks", FsckInput{View: fsckView(damaged),
			Refs: map[string]string{}, Exists: all},
			[]string{"damaged-note " + idB, "missing-ref " + idB + " recreate-ref"}},
		{"note without creation event: its ref is not adopted over it", FsckInput{View: fsckView(nameless),
			Refs: map[string]string{idC: c}, Exists: all},
			[]string{"damaged-note " + gitstate.StateRef}},
		{"state unreadable: refs checked for objects only", FsckInput{StateErr: errors.New("object missing"),
			Refs: map[string]string{idA: a, idB: b}, Exists: map[string]bool{a: true}},
			[]string{"state-unreadable " + gitstate.StateRef, "missing-snapshot " + idB}},
		{"unknown layout: nothing adopted", FsckInput{Layout: "git-backup-state 9",
			Refs: map[string]string{idA: a}, Exists: all},
			[]string{"unknown-layout " + gitstate.StateRef}},
		{"private index files: only old ones are stray", FsckInput{View: fsckView(),
			Indexes: []gitstate.PrivateIndex{old, fresh}, Now: fsckT0},
			[]string{"stray-index " + old.Path + " remove-file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.View != nil && tt.in.Layout == "" {
				tt.in.Layout = gitstate.LayoutVersion
			}
			fs := PlanFsck(tt.in)
			got := fsckSummary(fs)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("findings\n got %q\nwant %q", got, tt.want)
			}
			for _, f := range fs {
				if f.Message == "" || f.Repair == "" {
					t.Errorf("%s %s: message %q, repair %q: both must say something", f.Kind, f.Name(), f.Message, f.Repair)
				}
				if (f.Action == RepairNone) != strings.HasPrefix(f.Repair, "none: ") {
					t.Errorf("%s %s: action %q but repair text %q", f.Kind, f.Name(), f.Action, f.Repair)
				}
			}
		})
	}
}

func TestPlanFsck_damagedNoteIsNamedByNotePath(t *testing.T) {
	c := fsckSnap("c")
	nameless := Fold(c, nil, []gitstate.LineError{{Line: 1, Err: errors.New("not a JSON event")}})
	fs := PlanFsck(FsckInput{View: fsckView(nameless), Layout: gitstate.LayoutVersion})
	if len(fs) != 1 || fs[0].ID != "" || !strings.Contains(fs[0].Message, c) {
		t.Fatalf("got %+v, want one damaged-note without ID naming snapshot %s", fs, c)
	}
}

func TestFsckBatch(t *testing.T) {
	a, b, c := fsckSnap("a"), fsckSnap("b"), fsckSnap("c")
	v := fsckView(fsckBackup(a, Pending), fsckBackup(b), fsckBackup(c, Cleanable, Deleted))
	in := FsckInput{View: v, Layout: gitstate.LayoutVersion,
		Refs: map[string]string{fsckID(c): c}, Exists: map[string]bool{a: true, c: true}}
	fs := PlanFsck(in)
	s := &Store{}
	batch := s.fsckBatch(t.Context(), fs, map[string]adoption{})
	if batch == nil || len(batch.Changes) != 3 {
		t.Fatalf("batch %+v, want 3 changes", batch)
	}
	byID := map[string]Change{}
	for _, ch := range batch.Changes {
		byID[ch.Backup.ID] = ch
	}
	if ch := byID[fsckID(a)]; len(ch.Events) != 0 || len(ch.Refs) != 1 || ch.Refs[0].Old != "" || ch.Refs[0].New != a {
		t.Errorf("recreate: %+v, want a create-only ref update to %s and no event", ch, a)
	}
	ch := byID[fsckID(b)]
	if len(ch.Refs) != 0 || len(ch.Events) != 1 {
		t.Fatalf("tombstone: %+v, want one event and no ref", ch)
	}
	if e := ch.Events[0]; e.Kind != gitstate.KindMove || e.To != string(Deleted) || !e.Forced ||
		e.Trigger != string(TriggerUser) || e.Reason != TombstoneReason || e.From != string(Created) {
		t.Errorf("tombstone event %+v", e)
	}
	if ch := byID[fsckID(c)]; len(ch.Events) != 0 || len(ch.Refs) != 1 || ch.Refs[0].Old != c || ch.Refs[0].New != "" {
		t.Errorf("drop-ref: %+v, want the ref deleted from %s", ch, c)
	}
	for _, f := range fs {
		if !f.planned {
			t.Errorf("%s %s not marked planned", f.Kind, f.Name())
		}
	}
	if s.fsckBatch(t.Context(), PlanFsck(FsckInput{View: fsckView(), Layout: gitstate.LayoutVersion}), nil) != nil {
		t.Errorf("nothing to repair must give no batch")
	}
}

func TestFsckBatch_tombstoneOfCleanableIsLegal(t *testing.T) {
	a := fsckSnap("a")
	fs := PlanFsck(FsckInput{View: fsckView(fsckBackup(a, Cleanable)), Layout: gitstate.LayoutVersion})
	batch := (&Store{}).fsckBatch(t.Context(), fs, nil)
	if batch == nil || len(batch.Changes) != 1 || batch.Changes[0].Events[0].Forced {
		t.Fatalf("batch %+v: CLEANABLE → DELETED is legal and must not be marked forced", batch)
	}
}

func TestAdoptEvent(t *testing.T) {
	snap := "1234567" + strings.Repeat("0", 33)
	commitTime := time.Date(2023, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600))
	paths := []gitstate.PathChange{{Path: "a", Size: 3}, {Path: "b", Size: 4}}
	c := gitstate.CommitInfo{ID: snap, Tree: "tree", Parents: []string{"p1", "p2"}, Time: commitTime, Message: "git-backup snapshot of main\n"}

	e := AdoptEvent("20240102-030405-1234567", c, paths, "")
	if e.Kind != gitstate.KindCreate || e.ID != "20240102-030405-1234567" || e.Snapshot != snap || e.Tree != "tree" ||
		e.Base != "p1" || e.Branch != "" || e.Trigger != "fsck" || e.Files != 2 || e.SizeBytes != 7 || e.Message != "" {
		t.Errorf("event %+v", e)
	}
	if !e.Time.Equal(fsckT0) {
		t.Errorf("time %v, want the ID's stamp %v", e.Time, fsckT0)
	}
	if !strings.Contains(e.Reason, "adopted") {
		t.Errorf("reason %q must say the backup was adopted", e.Reason)
	}
	if _, err := gitstate.ParseEvent(e.Line()); err != nil {
		t.Errorf("adopted event does not parse: %v", err)
	}

	c.Parents, c.Message = nil, "my work\n\nmore"
	e = AdoptEvent("20241399-030405-1234567", c, nil, "base missing")
	if !e.Time.Equal(commitTime) || e.Base != "" || e.Message != "my work" || !strings.Contains(e.Reason, "base missing") {
		t.Errorf("event %+v: want the commit's time, no base, the commit subject and the note", e)
	}
	if b := Fold(snap, []gitstate.Event{e}, nil); b.State != Created || len(b.Damaged) != 0 || b.Branch != nil {
		t.Errorf("adopted backup folds to %+v", b)
	}
}

func TestParseBackupID(t *testing.T) {
	for _, tt := range []struct {
		id    string
		stamp time.Time
		hex   string
		ok    bool
	}{
		{"20240102-030405-abcdef0", fsckT0, "abcdef0", true},
		{"20241302-030405-abcdef0", time.Time{}, "abcdef0", true},
		{"20240102-030405-abc", time.Time{}, "", false},
		{"wip", time.Time{}, "", false},
		{"20240102-030405-ABCDEF0", time.Time{}, "", false},
	} {
		stamp, hex, ok := ParseBackupID(tt.id)
		if !stamp.Equal(tt.stamp) || hex != tt.hex || ok != tt.ok {
			t.Errorf("ParseBackupID(%q) = %v, %q, %v; want %v, %q, %v", tt.id, stamp, hex, ok, tt.stamp, tt.hex, tt.ok)
		}
	}
}

func TestPlanFsck_refKeptAfterAnotherCloneArchivedIsNamedSo(t *testing.T) {
	a := fsckSnap("a")
	in := FsckInput{View: fsckView(fsckBackup(a, Cleanable, Archived)), Layout: gitstate.LayoutVersion,
		Refs: map[string]string{fsckID(a): a}, Exists: map[string]bool{a: true}}
	for _, self := range []string{"c", "d"} {
		in.Self = self
		fs := PlanFsck(in)
		if len(fs) != 1 || fs[0].Kind != FsckStaleRef || fs[0].Action != RepairNone {
			t.Fatalf("self %s: findings %q", self, fsckSummary(fs))
		}
		kept := strings.Contains(fs[0].Message, "kept locally")
		if want := self != "c"; kept != want {
			t.Errorf("self %s (the archive was made by clone c): message %q, want kept locally: %v", self, fs[0].Message, want)
		}
	}
}
