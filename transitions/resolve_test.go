package transitions

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func viewOf(bs ...*Backup) *View {
	v := &View{byID: map[string]*Backup{}, bySnap: map[string]*Backup{}}
	for _, b := range bs {
		v.add(b)
	}
	sortBackups(v.Backups)
	return v
}

func resolveFixture() *View {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return viewOf(
		&Backup{ID: "20260301-100000-aaaa111", Snapshot: "aaaa111000000000000000000000000000000000", State: Created, CreatedAt: t0},
		&Backup{ID: "20260301-100100-bbbb222", Snapshot: "bbbb222000000000000000000000000000000000", State: Pending, CreatedAt: t0.Add(time.Minute)},
		&Backup{ID: "20260302-090000-bbbb333", Snapshot: "bbbb333000000000000000000000000000000000", State: Archived, CreatedAt: t0.Add(23 * time.Hour)},
		&Backup{ID: "20260303-000000-cccc444", Snapshot: "cccc444000000000000000000000000000000000", State: Deleted, CreatedAt: t0.Add(48 * time.Hour)},
		&Backup{Snapshot: "dddd555000000000000000000000000000000000", CreatedAt: t0.Add(72 * time.Hour), Damaged: []string{"no creation event"}},
	)
}

func TestView_Resolve(t *testing.T) {
	v := resolveFixture()
	tests := []struct {
		ref, want string
	}{
		{"20260301-100000-aaaa111", "20260301-100000-aaaa111"}, // full ID
		{" 20260301-100100-bbbb222\n", "20260301-100100-bbbb222"},
		{"20260301-1000", "20260301-100000-aaaa111"}, // unique ID prefix
		{"20260302", "20260302-090000-bbbb333"},
		{"aaaa", "20260301-100000-aaaa111"},    // snapshot prefix
		{"BBBB222", "20260301-100100-bbbb222"}, // snapshot prefix in upper case
		{"cccc444", "20260303-000000-cccc444"}, // DELETED backups are still named
		{"latest", "20260302-090000-bbbb333"},  // newest not DELETED, not nameless
		{"LATEST", "20260302-090000-bbbb333"},
	}
	for _, tc := range tests {
		b, err := v.Resolve(tc.ref)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tc.ref, err)
			continue
		}
		if b.ID != tc.want {
			t.Errorf("Resolve(%q) = %s, want %s", tc.ref, b.ID, tc.want)
		}
	}
}

func TestView_Resolve_unknown(t *testing.T) {
	v := resolveFixture()
	for _, ref := range []string{"", "  ", "2025", "eeee", "aaa1", "20260301-100000-aaaa1112", "abc"} {
		b, err := v.Resolve(ref)
		if !errors.Is(err, ErrUnknownBackup) {
			t.Errorf("Resolve(%q) = %v, %v; want ErrUnknownBackup", ref, b, err)
		}
	}
	// a snapshot prefix shorter than 4 characters is not looked up: "aaa" could be anything
	if _, err := v.Resolve("aaa"); !errors.Is(err, ErrUnknownBackup) {
		t.Errorf("Resolve(aaa): %v, want ErrUnknownBackup", err)
	}
	if _, err := viewOf().Resolve("latest"); !errors.Is(err, ErrUnknownBackup) {
		t.Errorf("latest with no backups: %v", err)
	}
	onlyDeleted := viewOf(&Backup{ID: "20260303-000000-cccc444", Snapshot: "cccc444000000000000000000000000000000000", State: Deleted})
	if _, err := onlyDeleted.Resolve("latest"); !errors.Is(err, ErrUnknownBackup) {
		t.Errorf("latest with only DELETED backups: %v", err)
	}
}

func TestView_Resolve_ambiguousNamesTheCandidates(t *testing.T) {
	v := resolveFixture()
	for ref, cands := range map[string][]string{
		"20260301": {"20260301-100000-aaaa111", "20260301-100100-bbbb222"},
		"bbbb":     {"20260301-100100-bbbb222", "20260302-090000-bbbb333"},
		"2026":     {"20260301-100000-aaaa111", "20260303-000000-cccc444"},
	} {
		_, err := v.Resolve(ref)
		if !errors.Is(err, ErrAmbiguousBackup) {
			t.Errorf("Resolve(%q) = %v, want ErrAmbiguousBackup", ref, err)
			continue
		}
		for _, c := range cands {
			if !strings.Contains(err.Error(), c) {
				t.Errorf("Resolve(%q) error %q does not name candidate %s", ref, err, c)
			}
		}
	}
}

func TestView_Resolve_manyCandidatesAreCut(t *testing.T) {
	var bs []*Backup
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range 8 {
		id := t0.Add(time.Duration(i)*time.Second).Format("20060102-150405") + "-abcdef" + string(rune('0'+i))
		bs = append(bs, &Backup{ID: id, Snapshot: "abcdef" + string(rune('0'+i)) + strings.Repeat("0", 33), State: Created, CreatedAt: t0})
	}
	_, err := viewOf(bs...).Resolve("2026")
	if !errors.Is(err, ErrAmbiguousBackup) || !strings.Contains(err.Error(), "and 3 more") {
		t.Errorf("8 candidates: %v, want 5 named and \"and 3 more\"", err)
	}
}
