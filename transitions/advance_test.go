package transitions

import (
	"testing"

	"github.com/git-backup/git-backup/gitstate"
)

// coverByPath reports the coverage listed for a backup's first path.
type coverByPath map[string]float64

func (c coverByPath) Coverage(paths []gitstate.PathChange) float64 {
	if len(paths) == 0 {
		return 1
	}
	return c[paths[0].Path]
}

func advBackup(id string, st State, path string, coveredBy string) *Backup {
	b := &Backup{ID: id, State: st, RecordedCoverage: -1, Paths: []gitstate.PathChange{{Path: path, Blob: "b", Size: 1}}}
	if coveredBy != "" {
		b.CoveredBy = ptr(coveredBy)
	}
	return b
}

func changeFor(t *testing.T, b *Batch, id string) *Change {
	t.Helper()
	if b == nil {
		t.Fatalf("no batch, want a change for %s", id)
	}
	for i := range b.Changes {
		if b.Changes[i].Backup.ID == id {
			return &b.Changes[i]
		}
	}
	t.Fatalf("no change for %s in %+v", id, b.Changes)
	return nil
}

func TestPlanAdvance_createdFullyCoveredBecomesPending(t *testing.T) {
	v := &View{Backups: []*Backup{advBackup("full", Created, "a", "")}}
	b := PlanAdvance(v, AdvanceFacts{Head: "h1", ByHead: coverByPath{"a": 1}, Integration: coverByPath{}})
	ch := changeFor(t, b, "full")
	if len(ch.Events) != 1 || ch.Events[0].To != string(Pending) || ch.Events[0].CoveredBy != "h1" {
		t.Errorf("events %+v, want one move to PENDING covered by h1", ch.Events)
	}
}

func TestPlanAdvance_createdOnIntegrationBranchBecomesConfirmed(t *testing.T) {
	v := &View{Backups: []*Backup{advBackup("main", Created, "a", "")}}
	b := PlanAdvance(v, AdvanceFacts{Head: "h1", ByHead: coverByPath{"a": 1}, Integration: coverByPath{"a": 1}})
	ch := changeFor(t, b, "main")
	if len(ch.Events) != 2 || ch.Events[0].To != string(Pending) || ch.Events[1].To != string(Confirmed) {
		t.Errorf("events %+v, want PENDING then CONFIRMED", ch.Events)
	}
}

func TestPlanAdvance_partialCoverageRecordedWithoutCoveringCommit(t *testing.T) {
	v := &View{Backups: []*Backup{advBackup("part", Created, "a", "")}}
	b := PlanAdvance(v, AdvanceFacts{Head: "h1", ByHead: coverByPath{"a": 0.5}})
	ch := changeFor(t, b, "part")
	if len(ch.Events) != 1 {
		t.Fatalf("events %+v, want one", ch.Events)
	}
	ev := ch.Events[0]
	if ev.Kind != gitstate.KindCover || ev.Coverage == nil || *ev.Coverage != 0.5 {
		t.Errorf("event %+v, want a cover event with coverage 0.5", ev)
	}
	if ev.CoveredBy != "" {
		t.Errorf("covered_by %q: a commit with part of the changes does not cover the backup", ev.CoveredBy)
	}

	// The same coverage again records nothing new.
	v.Backups[0].RecordedCoverage = 0.5
	if b := PlanAdvance(v, AdvanceFacts{Head: "h2", ByHead: coverByPath{"a": 0.5}}); b != nil {
		t.Errorf("batch %+v, want none", b.Changes)
	}
}

func TestPlanAdvance_pendingFollowsRewriteThenMerge(t *testing.T) {
	v := &View{Backups: []*Backup{advBackup("p", Pending, "a", "old")}}
	merged := func(c string) bool { return c == "new" }

	b := PlanAdvance(v, AdvanceFacts{Rewritten: map[string]string{"old": "new"}})
	ch := changeFor(t, b, "p")
	if len(ch.Events) != 1 || ch.Events[0].Kind != gitstate.KindCover || ch.Events[0].CoveredBy != "new" {
		t.Errorf("events %+v, want covered_by to follow to new", ch.Events)
	}

	b = PlanAdvance(v, AdvanceFacts{Rewritten: map[string]string{"old": "new"}, Integration: coverByPath{}, Merged: merged})
	ch = changeFor(t, b, "p")
	if n := len(ch.Events); n != 2 || ch.Events[1].To != string(Confirmed) {
		t.Errorf("events %+v, want the rewrite then CONFIRMED", ch.Events)
	}
}

func TestPlanAdvance_pendingConfirmedByContent(t *testing.T) {
	v := &View{Backups: []*Backup{advBackup("squashed", Pending, "a", "c1"), advBackup("elsewhere", Pending, "b", "c2")}}
	b := PlanAdvance(v, AdvanceFacts{Integration: coverByPath{"a": 1, "b": 0.9}, Merged: func(string) bool { return false }})
	ch := changeFor(t, b, "squashed")
	if len(ch.Events) != 1 || ch.Events[0].To != string(Confirmed) {
		t.Errorf("events %+v, want CONFIRMED", ch.Events)
	}
	if len(b.Changes) != 1 {
		t.Errorf("changes %+v, want only the fully covered one", b.Changes)
	}
}

func TestPlanAdvance_nothingToDo(t *testing.T) {
	v := &View{Backups: []*Backup{advBackup("c", Created, "a", ""), advBackup("p", Pending, "b", "c1"), advBackup("done", Confirmed, "a", "c0")}}
	if b := PlanAdvance(v, AdvanceFacts{Head: "h", ByHead: coverByPath{}, Integration: coverByPath{"a": 1}}); b != nil {
		t.Errorf("batch %+v, want none", b.Changes)
	}
}
