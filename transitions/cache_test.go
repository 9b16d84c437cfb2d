package transitions

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The light view from the cache must equal the full fold in every field list
// prints, and a moved backup must come back with its new state.
func TestLoadLight_cacheMatchesFullFold(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	b1 := backupOf(t, s, dir, "one.txt", "1\n")
	b2 := backupOf(t, s, dir, "two_test.go", "package x\n")
	if _, err := s.SetPinned(ctx, b1.ID, true, TriggerUser); err != nil {
		t.Fatal(err)
	}
	full, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ { // first builds the cache, second reads only it
		light, err := s.LoadLight(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(light.Backups) != len(full.Backups) {
			t.Fatalf("round %d: %d backups, want %d", round, len(light.Backups), len(full.Backups))
		}
		for i, lb := range light.Backups {
			fb := full.Backups[i]
			want := lightCopy(fb)
			got := *lb
			got.Light = true
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("round %d: light %+v\nwant       %+v", round, got, *want)
			}
		}
	}
	if _, err := s.Move(ctx, MoveRequest{ID: b2.ID, To: Pending, Trigger: TriggerUser, Force: true}); err != nil {
		t.Fatal(err)
	}
	light, err := s.LoadLight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := light.ByID(b2.ID).State; got != Pending {
		t.Fatalf("after a move the cache gives %s", got)
	}
	if !light.ByID(b1.ID).Light || !light.ByID(b1.ID).Pinned {
		t.Fatalf("an unchanged note should come from the cache, pinned: %+v", light.ByID(b1.ID))
	}
	if light.ByID(b2.ID).TestPaths != 1 {
		t.Fatalf("test paths lost: %d", light.ByID(b2.ID).TestPaths)
	}
}

// A damaged or foreign cache file is ignored, never trusted.
func TestLoadLight_damagedCacheIsRebuilt(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	b := backupOf(t, s, dir, "one.txt", "1\n")
	cache := filepath.Join(s.Repo.BackupDir(), "cache", foldCacheName)
	for _, junk := range []string{"", "garbage\n", foldCacheHeader + "\nstate\tzz\n", foldCacheHeader + "\ne\tshort\n"} {
		if err := os.WriteFile(cache, []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := s.LoadLight(ctx)
		if err != nil {
			t.Fatalf("%q: %v", junk, err)
		}
		if got := v.ByID(b.ID); got == nil || got.State != Created {
			t.Fatalf("%q: backup lost: %+v", junk, got)
		}
	}
}

// Coverage is cached per tips: a new commit on the integration branch must
// be measured again, not served from the cache.
func TestAssess_coverageFollowsTheTips(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	b := backupOf(t, s, dir, "one.txt", "1\n")
	v, err := s.LoadLight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	as, err := s.Assess(v, v.Backups)
	if err != nil {
		t.Fatal(err)
	}
	if c := as[v.ByID(b.ID)].Coverage; c != 0 {
		t.Fatalf("coverage before commit %v", c)
	}
	storeGit(t, dir, "add", "one.txt")
	storeGit(t, dir, "commit", "-q", "-m", "one")
	v, err = s.LoadLight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	as, err = s.Assess(v, v.Backups)
	if err != nil {
		t.Fatal(err)
	}
	if c := as[v.ByID(b.ID)].Coverage; c != 1 {
		t.Fatalf("coverage after commit on main %v", c)
	}
}

// A cache whose lines were changed or cut after it was written (a flipped
// byte, a truncated file) fails its checksum and is rebuilt: the states it
// would give are never trusted.
func TestLoadLight_alteredCacheIsNotTrusted(t *testing.T) {
	dir, s := storeRepo(t)
	ctx := context.Background()
	b := backupOf(t, s, dir, "one.txt", "1\n")
	if _, err := s.LoadLight(ctx); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(s.Repo.BackupDir(), "cache", foldCacheName)
	good, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(good, []byte("\tCREATED\t")) {
		t.Fatalf("no CREATED entry in the cache:\n%s", good)
	}
	for name, bad := range map[string][]byte{
		"state changed": bytes.Replace(good, []byte("\tCREATED\t"), []byte("\tDELETED\t"), 1),
		"truncated":     good[:len(good)*2/3],
		"no checksum":   good[:bytes.LastIndex(good[:len(good)-1], []byte("\n"))+1],
	} {
		if err := os.WriteFile(cache, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		s.memo = nil
		v, err := s.LoadLight(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := v.ByID(b.ID); got == nil || got.State != Created {
			t.Fatalf("%s: the cache was trusted: %+v", name, got)
		}
	}
}
