package transitions

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/git-backup/git-backup/gitstate"
)

var mergeEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const mergeSnap = "0123456789abcdef0123456789abcdef01234567"

// genEvent draws one event of a backup's log, created by one of three clones.
func genMergeEvent(t *rapid.T, label string) gitstate.Event {
	e := gitstate.Event{
		Kind:  rapid.SampledFrom([]string{gitstate.KindCreate, gitstate.KindMove, gitstate.KindMove, gitstate.KindPin, gitstate.KindUnpin, gitstate.KindCover}).Draw(t, label+"kind"),
		Time:  mergeEpoch.Add(time.Duration(rapid.IntRange(0, 1000).Draw(t, label+"min")) * time.Minute),
		Clock: uint64(rapid.IntRange(1, 8).Draw(t, label+"clock")),
		Clone: rapid.SampledFrom([]string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"}).Draw(t, label+"clone"),
	}
	switch e.Kind {
	case gitstate.KindCreate:
		e.ID, e.Snapshot, e.Trigger = "20260102-030405-0123456", mergeSnap, "user"
	case gitstate.KindMove:
		e.To = string(rapid.SampledFrom(States).Draw(t, label+"to"))
		e.Trigger = string(rapid.SampledFrom(Triggers).Draw(t, label+"trigger"))
		e.Forced = rapid.IntRange(0, 4).Draw(t, label+"forced") == 0
	}
	return e
}

func genMergeLog(t *rapid.T, label string) []gitstate.Event {
	n := rapid.IntRange(0, 8).Draw(t, label+"n")
	var out []gitstate.Event
	for i := range n {
		out = append(out, genMergeEvent(t, fmt.Sprintf("%s%d.", label, i)))
	}
	return out
}

func lines(evs []gitstate.Event) string { return string(gitstate.EncodeNote(evs)) }

func TestMergeLogs_commutativeAssociativeIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genMergeLog(t, "a"), genMergeLog(t, "b"), genMergeLog(t, "c")
		if lines(MergeLogs(a, b)) != lines(MergeLogs(b, a)) {
			t.Fatalf("not commutative")
		}
		if lines(MergeLogs(MergeLogs(a, b), c)) != lines(MergeLogs(a, MergeLogs(b, c))) {
			t.Fatalf("not associative")
		}
		ab := MergeLogs(a, b)
		if lines(MergeLogs(ab, ab)) != lines(ab) || lines(MergeLogs(ab, a)) != lines(ab) {
			t.Fatalf("not idempotent")
		}
		for _, e := range append(slices.Clone(a), b...) {
			if !strings.Contains(lines(ab), string(e.Line())) {
				t.Fatalf("event lost: %s", e.Line())
			}
		}
	})
}

func TestMergeNote_commutativeOnFolds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := gitstate.EncodeNote(genMergeLog(t, "a")), gitstate.EncodeNote(genMergeLog(t, "b"))
		lim := RemoteLimits{Now: mergeEpoch}
		ab, ba := MergeNote("x", a, b, lim), MergeNote("x", b, a, lim)
		if !bytes.Equal(ab.Note, ba.Note) {
			t.Fatalf("merge depends on the side:\n%s\n---\n%s", ab.Note, ba.Note)
		}
		again := MergeNote("x", ab.Note, b, lim)
		if again.Changed {
			t.Fatalf("merging the same remote twice changed the note")
		}
	})
}

// clone is one simulated clone: its notes by snapshot.
type simClone map[string][]byte

// exchange merges from's notes into to, as MergeRemote does per note.
func exchange(to, from simClone) {
	for snap, rdata := range from {
		if bytes.Equal(to[snap], rdata) {
			continue
		}
		m := MergeNote(snap, to[snap], rdata, RemoteLimits{Now: mergeEpoch.Add(48 * time.Hour)})
		if m.Changed {
			to[snap] = m.Note
		}
	}
}

func foldAll(c simClone) string {
	var out []string
	snaps := make([]string, 0, len(c))
	for s := range c {
		snaps = append(snaps, s)
	}
	slices.Sort(snaps)
	for _, s := range snaps {
		evs, bad := gitstate.ParseNote(c[s])
		b := Fold(s, evs, bad)
		out = append(out, fmt.Sprintf("%s %s %v %d %s", s, b.State, b.Pinned, b.Ignored, lines(b.Events)))
	}
	return strings.Join(out, "\n")
}

func TestMerge_clonesThatExchangeInAnyOrderAgree(t *testing.T) {
	snaps := []string{mergeSnap, strings.Repeat("ab", 20), strings.Repeat("cd", 20)}
	rapid.Check(t, func(t *rapid.T) {
		clones := []simClone{{}, {}, {}}
		steps := rapid.IntRange(1, 30).Draw(t, "steps")
		for i := range steps {
			l := fmt.Sprintf("s%d.", i)
			me := rapid.IntRange(0, 2).Draw(t, l+"clone")
			if rapid.Bool().Draw(t, l+"write") {
				snap := rapid.SampledFrom(snaps).Draw(t, l+"snap")
				e := genMergeEvent(t, l)
				evs, _ := gitstate.ParseNote(clones[me][snap])
				var top uint64
				for _, x := range evs {
					top = max(top, x.Clock)
				}
				e.Clock = top + 1
				e.Clone = fmt.Sprintf("%016d", me)
				clones[me][snap] = append(clones[me][snap], append(e.Line(), '\n')...)
				continue
			}
			exchange(clones[me], clones[rapid.IntRange(0, 2).Draw(t, l+"from")])
		}
		// Everyone syncs with everyone, in a drawn order, until no one learns more.
		order := rapid.Permutation([]int{0, 1, 2}).Draw(t, "order")
		for range 2 {
			for _, i := range order {
				for _, j := range order {
					exchange(clones[i], clones[j])
				}
			}
		}
		want := foldAll(clones[0])
		for i := 1; i < 3; i++ {
			if got := foldAll(clones[i]); got != want {
				t.Fatalf("clone %d differs:\n%s\nclone 0:\n%s", i, got, want)
			}
		}
	})
}

func TestMergeNote_malformedRemoteLineSkipped(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		local := genMergeLog(t, "l")
		remote := genMergeLog(t, "r")
		garbage := rapid.SampledFrom([]string{`{"kind":"move"`, `not json`, `{"kind":"teleport","time":"2026-01-01T00:00:00Z"}`, `{"kind":"move","time":"2026-01-01T00:00:00Z"}`, `{}{}`}).Draw(t, "garbage")
		at := rapid.IntRange(0, len(remote)).Draw(t, "at")
		var note []byte
		for i, e := range remote {
			if i == at {
				note = append(note, garbage+"\n"...)
			}
			note = append(append(note, e.Line()...), '\n')
		}
		if at == len(remote) {
			note = append(note, garbage+"\n"...)
		}
		m := MergeNote("20260102-030405-0123456", gitstate.EncodeNote(local), note, RemoteLimits{Now: mergeEpoch.Add(48 * time.Hour)})
		if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "20260102-030405-0123456") || !strings.Contains(m.Warnings[0], fmt.Sprintf("line %d", at+1)) {
			t.Fatalf("warnings %q: want one naming the backup and line %d", m.Warnings, at+1)
		}
		if slices.Contains(strings.Split(string(m.Note), "\n"), garbage) {
			t.Fatalf("malformed line applied:\n%s", m.Note)
		}
		if want := gitstate.EncodeNote(MergeLogs(local, remote)); !bytes.Equal(m.Note, want) {
			t.Fatalf("merged note:\n%s\nwant:\n%s", m.Note, want)
		}
	})
}

func TestMergeNote_refusesFutureAndUnattributed(t *testing.T) {
	now := mergeEpoch
	local := gitstate.EncodeNote([]gitstate.Event{{Kind: gitstate.KindCreate, Time: now, Clock: 1, Clone: "aaaaaaaaaaaaaaaa", ID: "x", Snapshot: mergeSnap}})
	for _, tt := range []struct {
		name string
		ev   gitstate.Event
		want string
	}{
		{"time far ahead", gitstate.Event{Kind: gitstate.KindPin, Time: now.Add(49 * time.Hour), Clock: 2, Clone: "b"}, "ahead of now"},
		{"clock jump", gitstate.Event{Kind: gitstate.KindPin, Time: now, Clock: 2_000_000, Clone: "b"}, "clock jumps"},
		{"pin without clone", gitstate.Event{Kind: gitstate.KindPin, Time: now, Clock: 2}, "which clone"},
		{"forced without clone", gitstate.Event{Kind: gitstate.KindMove, To: "DELETED", Forced: true, Time: now, Clock: 2}, "which clone"},
		{"accepted", gitstate.Event{Kind: gitstate.KindPin, Time: now.Add(time.Hour), Clock: 1_000_001, Clone: "b"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := MergeNote("x", local, gitstate.EncodeNote([]gitstate.Event{tt.ev}), RemoteLimits{Now: now})
			if tt.want == "" {
				if len(m.Warnings) != 0 || !bytes.Contains(m.Note, tt.ev.Line()) {
					t.Fatalf("not accepted: %q", m.Warnings)
				}
				return
			}
			if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], tt.want) || m.Changed {
				t.Fatalf("warnings %q changed %v: want one with %q and no change", m.Warnings, m.Changed, tt.want)
			}
		})
	}
}

func TestMergeNote_newNoteWithRefusedCreationIsLeftOut(t *testing.T) {
	now := mergeEpoch
	remote := gitstate.EncodeNote([]gitstate.Event{
		{Kind: gitstate.KindCreate, Time: now.Add(4 * 24 * time.Hour), Clock: 1, Clone: "b", ID: "x", Snapshot: mergeSnap},
		{Kind: gitstate.KindMove, Time: now, Clock: 2, Clone: "b", From: "CREATED", To: "PENDING", Trigger: "user"},
	})
	m := MergeNote("x", nil, remote, RemoteLimits{Now: now})
	if len(m.Note) != 0 || m.Changed {
		t.Fatalf("merged note without its creation event:\n%s", m.Note)
	}
	if len(m.Warnings) != 2 || !strings.Contains(m.Warnings[1], "until its creation event is accepted") {
		t.Fatalf("warnings %q", m.Warnings)
	}
	// A day later the creation event is no longer ahead: the note merges whole.
	m = MergeNote("x", nil, remote, RemoteLimits{Now: now.Add(3 * 24 * time.Hour)})
	if !bytes.Equal(m.Note, remote) || len(m.Warnings) != 0 {
		t.Fatalf("later merge: warnings %q, note:\n%s", m.Warnings, m.Note)
	}
}

func TestMergeNote_keepsLocalDamagedLines(t *testing.T) {
	local := append(gitstate.EncodeNote([]gitstate.Event{{Kind: gitstate.KindCreate, Time: mergeEpoch, Clock: 1, Clone: "a", ID: "x", Snapshot: mergeSnap}}), "garbage\n"...)
	remote := gitstate.EncodeNote([]gitstate.Event{{Kind: gitstate.KindPin, Time: mergeEpoch, Clock: 2, Clone: "b"}})
	m := MergeNote("x", local, remote, RemoteLimits{Now: mergeEpoch})
	if !bytes.HasSuffix(m.Note, []byte("garbage\n")) || !bytes.Contains(m.Note, []byte(`"pin"`)) {
		t.Fatalf("note:\n%s", m.Note)
	}
}
