package transitions

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// configRepo makes an empty repository with a private global config.
func configRepo(t *testing.T) *gitstate.Repo {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
	dir := filepath.Join(t.TempDir(), "repo")
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	r, err := gitstate.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// backupConfig lists the repository's backup.* entries as scope:key=value.
func backupConfig(t *testing.T, r *gitstate.Repo) []string {
	t.Helper()
	es, err := r.ReadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Key, "backup.") {
			out = append(out, e.Scope+":"+e.Key+"="+e.Value)
		}
	}
	return out
}

func TestApplyConfig_recordsAndRollsBack(t *testing.T) {
	ctx := context.Background()
	r := configRepo(t)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	pend, _ := LookupKey("pendingTimeout")
	warn, _ := LookupKey("diskWarningThreshold")

	if _, err := ApplyConfig(ctx, r, "set", now, []ConfigWrite{{Key: pend, Values: []string{"36h"}}}); err != nil {
		t.Fatal(err)
	}
	h, err := ApplyConfig(ctx, r, "import", now.Add(time.Minute), []ConfigWrite{
		{Key: pend, Values: []string{"2d"}},
		{Scope: "global", Key: warn, Values: []string{"70"}},
	})
	if err != nil || len(h.Changes) != 2 {
		t.Fatalf("import: %+v, %v", h, err)
	}
	if got := backupConfig(t, r); !slices.Equal(got, []string{"global:backup.diskwarningthreshold=70", "local:backup.pendingtimeout=2d"}) {
		t.Errorf("config = %v", got)
	}
	// A write that changes nothing is not recorded.
	if h, err := ApplyConfig(ctx, r, "set", now, []ConfigWrite{{Key: pend, Values: []string{"48h"}}}); err != nil || len(h.Changes) != 0 {
		t.Errorf("no-op set: %+v, %v", h, err)
	}
	hist, _ := r.ConfigHistory()
	if len(hist) != 2 || hist[1].Command != "import" || !slices.Equal(hist[1].Changes[0].Old, []string{"1d12h"}) || hist[1].Changes[1].Old != nil {
		t.Fatalf("history = %+v", hist)
	}

	res, err := RollbackConfig(ctx, r, now.Add(2*time.Minute))
	if err != nil || res.Undone.Command != "import" || len(res.Drifted) != 0 {
		t.Fatalf("rollback: %+v, %v", res, err)
	}
	if got := backupConfig(t, r); !slices.Equal(got, []string{"local:backup.pendingtimeout=1d12h"}) {
		t.Errorf("after rollback config = %v", got)
	}
	// The second rollback undoes the set, not the first rollback.
	res, err = RollbackConfig(ctx, r, now.Add(3*time.Minute))
	if err != nil || res.Undone.Command != "set" {
		t.Fatalf("second rollback: %+v, %v", res, err)
	}
	if got := backupConfig(t, r); len(got) != 0 {
		t.Errorf("after second rollback config = %v", got)
	}
	if _, err := RollbackConfig(ctx, r, now); !errors.Is(err, ErrNoHistory) {
		t.Errorf("third rollback: %v, want ErrNoHistory", err)
	}
	hist, _ = r.ConfigHistory()
	var cmds []string
	for _, h := range hist {
		cmds = append(cmds, h.Command)
	}
	if !slices.Equal(cmds, []string{"rollback of import", "rollback of set"}) {
		t.Errorf("history commands = %v", cmds)
	}
}

func TestApplyConfig_invalidWritesNothing(t *testing.T) {
	ctx := context.Background()
	r := configRepo(t)
	pend, _ := LookupKey("pendingTimeout")
	warn, _ := LookupKey("diskWarningThreshold")
	_, err := ApplyConfig(ctx, r, "import", time.Now(), []ConfigWrite{
		{Key: pend, Values: []string{"2d"}},
		{Key: warn, Values: []string{"90"}},
	})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	if got := backupConfig(t, r); len(got) != 0 {
		t.Errorf("config = %v", got)
	}
	if hist, _ := r.ConfigHistory(); len(hist) != 0 {
		t.Errorf("history = %+v", hist)
	}
}

func TestRollbackConfig_multiValuedAndDrift(t *testing.T) {
	ctx := context.Background()
	r := configRepo(t)
	if err := r.AddConfig(ctx, "local", "backup.alertEmail", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := r.AddConfig(ctx, "local", "backup.alertEmail", "b@example.com"); err != nil {
		t.Fatal(err)
	}
	k, _ := LookupKey("alertEmail")
	if _, err := ApplyConfig(ctx, r, "unset", time.Now(), []ConfigWrite{{Key: k}}); err != nil {
		t.Fatal(err)
	}
	if got := backupConfig(t, r); len(got) != 0 {
		t.Fatalf("after unset = %v", got)
	}
	if err := r.SetConfig(ctx, "local", "backup.alertEmail", "c@example.com"); err != nil {
		t.Fatal(err)
	}
	res, err := RollbackConfig(ctx, r, time.Now())
	if err != nil || !slices.Equal(res.Drifted, []string{"backup.alertEmail"}) {
		t.Fatalf("rollback: %+v, %v", res, err)
	}
	want := []string{"local:backup.alertemail=a@example.com", "local:backup.alertemail=b@example.com"}
	if got := backupConfig(t, r); !slices.Equal(got, want) {
		t.Errorf("after rollback = %v, want %v", got, want)
	}
}
