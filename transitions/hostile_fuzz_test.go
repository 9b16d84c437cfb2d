package transitions

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// sampleFoldCache is a cache as LoadLight writes it: a light entry, a plain
// note, coverage, a checked backup.
func sampleFoldCache() []byte {
	c := newFoldCache()
	c.state, c.tree, c.layout = strings.Repeat("a", 40), strings.Repeat("b", 40), "fanout \"2\""
	c.tips = "main=" + strings.Repeat("c", 40)
	msg, base, branch := "wip\ttab \"q\"\nline", strings.Repeat("d", 40), "feature/ü"
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	b := &Backup{ID: "20260301-100000-abcdef1", State: Pending, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), Trigger: "hook",
		Message: msg, Files: 3, SizeBytes: 42, Pinned: true, Base: &base, Branch: &branch, Tree: strings.Repeat("e", 40),
		IncludeIgnored: true, TestPaths: 1, RecordedCoverage: 0.5, since: t0.Add(time.Hour)}
	c.notes["snap1"] = cachedNote{blob: "blob1", path: "sn/ap1"}
	c.entries["blob1"] = b
	c.coverage["snap1"] = 0.25
	c.checked["snap1"] = true
	c.notes["snap2"] = cachedNote{blob: "blob2", path: "snap2"}
	return c.encode()
}

// FuzzDecodeFoldCache feeds the fold cache decoder arbitrary files, each
// both as it is (the checksum line must refuse it unless it happens to be
// right) and sealed with a valid checksum, so the line parser behind it is
// reached. A cache it accepts holds only values a fold can produce, and
// encodes to a file that decodes to the same cache (encode, decode, encode is
// stable).
func FuzzDecodeFoldCache(f *testing.F) {
	good := sampleFoldCache()
	body := checkFoldCacheSum(good)
	f.Add(good)
	f.Add(body)
	f.Add(good[:len(good)/2])
	f.Add(bytes.Replace(body, []byte("0.25"), []byte("NaN"), 1))
	f.Add(bytes.Replace(body, []byte("PENDING"), []byte("EXPLODED"), 1))
	f.Add([]byte(foldCacheHeader + "\nstate\tx\ty\t\"\"\nn\ts\tb\t\"\\xff\"\t-1e308\n"))
	f.Add([]byte(foldCacheHeader + "\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, sealFoldCache(data)} {
			c := decodeFoldCache(in)
			if c == nil {
				continue
			}
			checkFoldCacheSane(t, c)
			enc := c.encode()
			c2 := decodeFoldCache(enc)
			if c2 == nil {
				t.Fatalf("cache decoded from %q encodes to %q, which does not decode", in, enc)
			}
			checkFoldCacheSane(t, c2)
			if enc2 := c2.encode(); !bytes.Equal(enc, enc2) {
				t.Fatalf("encoding not stable:\n first %q\nsecond %q", enc, enc2)
			}
		}
	})
}

// sealFoldCache appends a valid checksum line to body.
func sealFoldCache(body []byte) []byte {
	return fmt.Appendf(slices.Clip(body), "%s%08x\n", foldCacheSum, crc32.Checksum(body, castagnoli))
}

func checkFoldCacheSane(t *testing.T, c *foldCache) {
	t.Helper()
	if c.state == "" {
		t.Fatal("cache without a state commit accepted")
	}
	for snap, v := range c.coverage {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("coverage %v of %q accepted", v, snap)
		}
	}
	for blob, b := range c.entries {
		switch {
		case !slices.Contains(States, b.State):
			t.Fatalf("entry %q: state %q accepted", blob, b.State)
		case b.ID == "":
			t.Fatalf("entry %q: no ID", blob)
		case b.Files < 0 || b.SizeBytes < 0 || b.TestPaths < 0:
			t.Fatalf("entry %q: negative counts %d, %d, %d", blob, b.Files, b.SizeBytes, b.TestPaths)
		case !(b.RecordedCoverage == -1 || b.RecordedCoverage >= 0 && b.RecordedCoverage <= 1):
			t.Fatalf("entry %q: recorded coverage %v", blob, b.RecordedCoverage)
		}
	}
}

// FuzzParseConfigFile feeds `config import` arbitrary files. Every setting
// it accepts is canonical, no key is set twice, and the settings exported
// again (FormatConfigLine) import to the same settings without error. Every
// refusal is ErrInvalidConfig and names its line.
func FuzzParseConfigFile(f *testing.F) {
	f.Add([]byte("# exported\nbackup.pendingTimeout = 36h\nexport MIN_BACKUP_AGE=7200\nDISK_WARNING_THRESHOLD=\"70\"\narchiveDir = '/srv/a b'\n"))
	f.Add([]byte("backup.logLevel = \"unterminated\nbackup.pendingTimeout = 7d\nbackup.pendingTimeout = 1d\njust words\n"))
	f.Add([]byte("backup.archiveDir = \"\\x00\\n\"\r\nbackup.alertEmail=\t\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := ParseConfigFile(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error %q is not ErrInvalidConfig naming a line", err)
			}
		}
		seen := map[*Key]bool{}
		var export bytes.Buffer
		for _, l := range lines {
			if l.Key == nil || l.Line < 1 {
				t.Fatalf("setting without key or line: %+v", l)
			}
			if seen[l.Key] {
				t.Fatalf("%s set twice", l.Key.Name)
			}
			seen[l.Key] = true
			if c, err := l.Key.Normalize(l.Value); err != nil || c != l.Value {
				t.Fatalf("%s = %q is not canonical: %q, %v", l.Key.Name, l.Value, c, err)
			}
			export.WriteString(FormatConfigLine(l.Key.Name, l.Value) + "\n")
		}
		again, err := ParseConfigFile(export.Bytes())
		if err != nil {
			t.Fatalf("exported settings do not import: %v\n%s", err, export.Bytes())
		}
		if len(again) != len(lines) {
			t.Fatalf("%d settings exported, %d imported", len(lines), len(again))
		}
		for i := range lines {
			if again[i].Key != lines[i].Key || again[i].Value != lines[i].Value {
				t.Fatalf("%s = %q exported, %s = %q imported", lines[i].Key.Name, lines[i].Value, again[i].Key.Name, again[i].Value)
			}
		}
	})
}

// A line longer than the import reader takes is refused naming it, in
// bounded memory, and does not hide the lines before it.
func TestParseConfigFile_hugeLine(t *testing.T) {
	data := []byte("backup.pendingTimeout = 7d\nbackup.archiveDir = " + strings.Repeat("x", 2<<20) + "\n")
	lines, err := ParseConfigFile(data)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want ErrInvalidConfig naming line 2", err)
	}
	if len(lines) != 1 || lines[0].Key.Name != "backup.pendingTimeout" {
		t.Fatalf("lines before the long one: %+v", lines)
	}
}

// FuzzMergeNote merges arbitrary remote notes into arbitrary local ones, as
// sync does with what a remote sends. Local events are never lost, local
// damage is kept for fsck, nothing refused is applied, and merging the same
// remote again changes nothing.
func FuzzMergeNote(f *testing.F) {
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	create := gitstate.Event{Kind: gitstate.KindCreate, Time: t0, Clock: 1, Clone: "aaaaaaaaaaaaaaaa", To: "CREATED", Trigger: "user", ID: "x", Snapshot: strings.Repeat("1", 40)}
	move := gitstate.Event{Kind: gitstate.KindMove, Time: t0.Add(time.Minute), Clock: 2, Clone: "bbbbbbbbbbbbbbbb", From: "CREATED", To: "PENDING", Trigger: "hook"}
	local := gitstate.EncodeNote([]gitstate.Event{create})
	remote := gitstate.EncodeNote([]gitstate.Event{create, move})
	f.Add(local, remote)
	f.Add(local, []byte(`{"kind":"pin","time":"2099-01-01T00:00:00Z","clock":5}`+"\n"))
	f.Add(local, []byte(`{"kind":"move","to":"DELETED","forced":true,"time":"2026-03-01T11:00:00Z","clock":18446744073709551615,"clone":"c"}`))
	f.Add(append([]byte("{damaged\n"), local...), remote)
	f.Add([]byte{}, []byte("\x00\xff\n{}\n"))
	f.Fuzz(func(t *testing.T, local, remote []byte) {
		lim := RemoteLimits{Now: now}
		m := MergeNote("b", local, remote, lim)
		localEvs, localBad := gitstate.ParseNote(local)
		mergedEvs, mergedBad := gitstate.ParseNote(m.Note)
		if len(mergedBad) != len(localBad) {
			t.Fatalf("%d damaged local lines became %d in the merge", len(localBad), len(mergedBad))
		}
		have := map[string]bool{}
		for _, e := range mergedEvs {
			have[string(e.Line())] = true
		}
		for _, e := range localEvs {
			if !have[string(e.Line())] {
				t.Fatalf("local event lost in the merge: %s", e.Line())
			}
		}
		var top uint64
		for _, e := range localEvs {
			top = max(top, e.Clock)
		}
		remoteEvs, remoteBad := gitstate.ParseNote(remote)
		if len(m.Warnings) < len(remoteBad) {
			t.Fatalf("%d damaged remote lines, %d warnings", len(remoteBad), len(m.Warnings))
		}
		lines := map[string]bool{}
		for _, e := range localEvs {
			lines[string(e.Line())] = true
		}
		for _, e := range remoteEvs {
			if refuseRemote(e, top, lim.withDefaults()) != "" && !lines[string(e.Line())] && have[string(e.Line())] {
				t.Fatalf("refused remote event applied: %s", e.Line())
			}
		}
		// A remote event refused for its clock may be accepted by a later
		// merge, once the local clock has caught up: that is allowed.
		jumped := false
		for _, e := range remoteEvs {
			jumped = jumped || e.Clock > top && e.Clock-top > lim.withDefaults().MaxJump
		}
		again := MergeNote("b", m.Note, remote, lim)
		if again.Changed && !jumped {
			t.Fatalf("merging the same remote twice changed the note:\n first %q\nsecond %q", m.Note, again.Note)
		}
	})
}

// A local log whose clock is near the top of uint64 (damaged, or from a
// runaway clone) must not make ordinary remote events look like a jump.
func TestMergeNote_localClockNearMax(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	create := gitstate.Event{Kind: gitstate.KindCreate, Time: t0, Clock: 1, Clone: "aaaaaaaaaaaaaaaa", To: "CREATED", Trigger: "user", ID: "x", Snapshot: strings.Repeat("1", 40)}
	pin := gitstate.Event{Kind: gitstate.KindPin, Time: t0.Add(time.Minute), Clock: 1<<64 - 2, Clone: "aaaaaaaaaaaaaaaa", Trigger: "user"}
	move := gitstate.Event{Kind: gitstate.KindMove, Time: t0.Add(2 * time.Minute), Clock: 2_000_000, Clone: "bbbbbbbbbbbbbbbb", From: "CREATED", To: "PENDING", Trigger: "hook"}
	m := MergeNote("x", gitstate.EncodeNote([]gitstate.Event{create, pin}), gitstate.EncodeNote([]gitstate.Event{move}), RemoteLimits{Now: t0.Add(time.Hour)})
	if len(m.Warnings) != 0 || !m.Changed {
		t.Fatalf("remote move at clock 2000000 refused below a local clock of 2^64-2: %q", m.Warnings)
	}
}
