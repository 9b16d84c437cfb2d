package transitions

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

func entry(scope, key, value string) gitstate.ConfigEntry {
	return gitstate.ConfigEntry{Scope: scope, Key: strings.ToLower(key), Value: value}
}

func TestLoadPolicy_defaults(t *testing.T) {
	p, err := LoadPolicy(nil)
	if err != nil || p != DefaultPolicy() {
		t.Fatalf("LoadPolicy(nil) = %+v, %v; want the defaults", p, err)
	}
}

func TestLoadPolicy_laterEntriesWin(t *testing.T) {
	p, err := LoadPolicy([]gitstate.ConfigEntry{
		entry("system", "backup.pendingTimeout", "14d"),
		entry("global", "backup.pendingTimeout", "3d"),
		entry("global", "backup.maxSize", "10G"),
		entry("local", "backup.pendingTimeout", "36h"),
		entry("local", "backup.alerts", "no"),
		entry("command", "backup.cleanupStrategy", "LARGEST_FIRST"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.PendingTimeout != 36*time.Hour || p.MaxSize != 10<<30 || p.Alerts || p.CleanupStrategy != "largest_first" {
		t.Errorf("policy = %+v", p)
	}
}

func TestLoadPolicy_keysInAnyCase(t *testing.T) {
	p, err := LoadPolicy([]gitstate.ConfigEntry{
		{Scope: "local", Key: "backup.pendingtimeout", Value: "2d"},
		{Scope: "local", Key: "Backup.DiskWarningThreshold", Value: "70"},
	})
	if err != nil || p.PendingTimeout != 2*Day || p.DiskWarningThreshold != 70 {
		t.Errorf("policy = %+v, %v", p, err)
	}
}

func TestLoadPolicy_namesKeyScopeValueAndRange(t *testing.T) {
	for _, tc := range []struct {
		e    gitstate.ConfigEntry
		want string
	}{
		{entry("global", "backup.diskWarningThreshold", "120"),
			`backup.diskWarningThreshold = "120" in global config: must be a percentage from 1 to 99 (git config --global backup.diskWarningThreshold 75)`},
		{entry("local", "backup.pendingTimeout", "7 days"),
			`backup.pendingTimeout = "7 days" in local config: must be a duration from 1m to 3650d, or 0 for off (like 90s, 36h, 7d, 2w, 1d12h) (git config --local backup.pendingTimeout 7d)`},
		{entry("system", "backup.cleanupStrategy", "random"),
			`backup.cleanupStrategy = "random" in system config: must be one of oldest_first, largest_first, confidence_based (git config --system backup.cleanupStrategy oldest_first)`},
		{entry("worktree", "backup.alertWebhook", "not a url"),
			`backup.alertWebhook = "not a url" in worktree config: must be an http or https URL (empty: none) (git config --worktree --unset backup.alertWebhook)`},
		{entry("command", "backup.maxCleanupPerCycle", "0"),
			`backup.maxCleanupPerCycle = "0" in command-line config (git -c or GIT_CONFIG_*): must be a whole number from 1 to 10000 (default 10)`},
	} {
		_, err := LoadPolicy([]gitstate.ConfigEntry{tc.e})
		if err == nil || err.Error() != tc.want {
			t.Errorf("LoadPolicy(%v) error:\n got %v\nwant %s", tc.e, err, tc.want)
		}
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("error %v is not ErrInvalidConfig", err)
		}
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Scope != tc.e.Scope || ve.Value != tc.e.Value {
			t.Errorf("error %v: ValueError = %+v", err, ve)
		}
	}
}

func TestLoadPolicy_keepsGoodValuesBesideABadOne(t *testing.T) {
	p, err := LoadPolicy([]gitstate.ConfigEntry{
		entry("local", "backup.minAge", "2h"),
		entry("local", "backup.diskWarningThreshold", "abc"),
		entry("local", "backup.logLevel", "loud"),
	})
	if err == nil || !strings.Contains(err.Error(), "and 1 more") {
		t.Errorf("error = %v, want the first problem and a count", err)
	}
	if p.MinAge != 2*time.Hour || p.DiskWarningThreshold != 75 {
		t.Errorf("policy = %+v", p)
	}
}

func TestLoadPolicy_overriddenBadValueIsNotAnError(t *testing.T) {
	es := []gitstate.ConfigEntry{
		entry("global", "backup.diskWarningThreshold", "120"),
		entry("local", "backup.diskWarningThreshold", "70"),
	}
	p, err := LoadPolicy(es)
	if err != nil || p.DiskWarningThreshold != 70 {
		t.Errorf("LoadPolicy = %v, %v", p.DiskWarningThreshold, err)
	}
	ps := CheckConfig(es)
	if len(ps) != 1 || ps[0].Scope != "global" || ps[0].Warning {
		t.Errorf("CheckConfig = %+v, want the global value reported", ps)
	}
}

func TestLoadPolicy_unknownAndInternalKeysAreIgnored(t *testing.T) {
	_, err := LoadPolicy([]gitstate.ConfigEntry{
		entry("global", "backup.repo", "/a"),
		entry("global", "backup.repo", "/b"),
		entry("local", "backup.cloneid", "x"),
		entry("local", "backup.frobnicate", "yes"),
		entry("local", "core.bare", "false"),
	})
	if err != nil {
		t.Errorf("LoadPolicy: %v", err)
	}
}

func TestLoadPolicy_crossChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		es   []gitstate.ConfigEntry
		want string // "" for valid
	}{
		{"warning above critical",
			[]gitstate.ConfigEntry{entry("local", "backup.diskWarningThreshold", "90")},
			"backup.diskWarningThreshold = 90 (local config) must be below backup.diskCriticalThreshold = 85 (default)"},
		{"critical equal to emergency",
			[]gitstate.ConfigEntry{entry("global", "backup.diskCriticalThreshold", "95")},
			"backup.diskCriticalThreshold = 95 (global config) must be below backup.diskEmergencyThreshold = 95 (default)"},
		{"emergency below critical",
			[]gitstate.ConfigEntry{entry("local", "backup.diskEmergencyThreshold", "82")},
			"backup.diskCriticalThreshold = 85 (default) must be below backup.diskEmergencyThreshold = 82 (local config)"},
		{"large above huge",
			[]gitstate.ConfigEntry{entry("local", "backup.largeThreshold", "1G")},
			"backup.largeThreshold = 1GB (local config) must be below backup.hugeThreshold = 500MB (default)"},
		{"free target met at emergency",
			[]gitstate.ConfigEntry{entry("local", "backup.minFreeSpaceTarget", "5")},
			"backup.minFreeSpaceTarget = 5 (local config) must be above 100 minus backup.diskEmergencyThreshold = 95 (default)"},
		{"all three raised together",
			[]gitstate.ConfigEntry{
				entry("local", "backup.diskWarningThreshold", "90"),
				entry("local", "backup.diskCriticalThreshold", "95"),
				entry("local", "backup.diskEmergencyThreshold", "98"),
			}, ""},
		{"an invalid threshold is not compared",
			[]gitstate.ConfigEntry{entry("local", "backup.diskCriticalThreshold", "150")},
			`backup.diskCriticalThreshold = "150" in local config`},
	} {
		_, err := LoadPolicy(tc.es)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		case tc.want != "" && strings.Contains(err.Error(), "more"):
			t.Errorf("%s: more than one problem: %v", tc.name, err)
		}
	}
}

func TestEffective(t *testing.T) {
	ss := Effective([]gitstate.ConfigEntry{
		entry("global", "backup.minAge", "2h"),
		entry("local", "backup.minAge", "3h"),
		entry("local", "backup.logLevel", "nonsense"),
	})
	if len(ss) != len(Keys) {
		t.Fatalf("%d settings, want %d", len(ss), len(Keys))
	}
	got := map[string]Setting{}
	for _, s := range ss {
		got[s.Key.Name] = s
	}
	if s := got["backup.minAge"]; s.Value != "3h" || s.Scope != "local" {
		t.Errorf("minAge = %+v", s)
	}
	if s := got["backup.logLevel"]; s.Value != "nonsense" || s.Scope != "local" {
		t.Errorf("logLevel = %+v", s)
	}
	if s := got["backup.pendingTimeout"]; s.Value != "7d" || s.Scope != ScopeDefault {
		t.Errorf("pendingTimeout = %+v", s)
	}
}

func TestCheckConfig(t *testing.T) {
	ps := CheckConfig([]gitstate.ConfigEntry{
		entry("global", "backup.repo", "/src/a"),
		entry("global", "backup.pendingTimout", "3d"),
		entry("global", "backup.diskWarningThreshold", "120"),
		entry("local", "backup.diskWarningThreshold", "80"),
		entry("local", "backup.diskCriticalThreshold", "80"),
		entry("local", "user.name", "x"),
	})
	var msgs []string
	for _, p := range ps {
		level := "error"
		if p.Warning {
			level = "warning"
		}
		msgs = append(msgs, level+": "+p.Err.Error())
	}
	want := []string{
		"warning: unknown key backup.pendingtimout in global config (did you mean backup.pendingTimeout?)",
		`error: backup.diskWarningThreshold = "120" in global config`,
		"error: backup.diskWarningThreshold = 80 (local config) must be below backup.diskCriticalThreshold = 80 (local config)",
	}
	if len(msgs) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(msgs, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(msgs[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s", i, msgs[i], want[i])
		}
	}
}

func TestProposeConfig(t *testing.T) {
	k, _ := LookupKey("minAge")
	es := []gitstate.ConfigEntry{
		entry("system", "backup.minAge", "1d"),
		entry("global", "backup.minAge", "2h"),
		entry("local", "backup.minAge", "3h"),
		entry("command", "core.x", "1"),
	}
	got := ProposeConfig(es, []ConfigWrite{{Scope: "global", Key: k, Values: []string{"5h"}}})
	want := []string{"system=1d", "global=5h", "local=3h", "command=1"}
	var have []string
	for _, e := range got {
		have = append(have, e.Scope+"="+e.Value)
	}
	if strings.Join(have, " ") != strings.Join(want, " ") {
		t.Errorf("proposed %v, want %v", have, want)
	}
	got = ProposeConfig(es, []ConfigWrite{{Scope: "local", Key: k}, {Scope: "worktree", Key: k, Values: []string{"4h"}}})
	if s := Effective(got); s[4].Key != k || s[4].Value != "4h" || s[4].Scope != "worktree" {
		t.Errorf("effective minAge = %+v", s[4])
	}
	if len(es) != 4 || es[2].Value != "3h" {
		t.Errorf("ProposeConfig changed its input: %v", es)
	}
}

func TestCheckWrites(t *testing.T) {
	warn, _ := LookupKey("DISK_WARNING_THRESHOLD")
	crit, _ := LookupKey("diskCriticalThreshold")
	pend, _ := LookupKey("pendingTimeout")
	base := []gitstate.ConfigEntry{entry("global", "backup.diskCriticalThreshold", "80")}

	ws, err := CheckWrites(base, []ConfigWrite{{Key: pend, Values: []string{"36h"}}})
	if err != nil || ws[0].Values[0] != "1d12h" || ws[0].Scope != "local" {
		t.Errorf("CheckWrites = %+v, %v; want canonical value in local", ws, err)
	}
	if _, err := CheckWrites(base, []ConfigWrite{{Key: warn, Values: []string{"120"}}}); err == nil ||
		err.Error() != `backup.diskWarningThreshold = "120": must be a percentage from 1 to 99 (default 75)` {
		t.Errorf("bad value: %v", err)
	}
	if _, err := CheckWrites(base, []ConfigWrite{{Key: warn, Values: []string{"82"}}}); err == nil || !strings.Contains(err.Error(), "must be below") {
		t.Errorf("contradiction: %v", err)
	}
	// Unsetting the local critical threshold would expose a bad global one.
	bad := []gitstate.ConfigEntry{entry("global", "backup.diskCriticalThreshold", "70"), entry("local", "backup.diskCriticalThreshold", "85")}
	if _, err := CheckWrites(bad, []ConfigWrite{{Key: crit}}); err == nil {
		t.Error("unset exposing a contradiction was allowed")
	}
	// A problem that is already there does not block an unrelated write.
	broken := []gitstate.ConfigEntry{entry("local", "backup.logLevel", "loud")}
	if _, err := CheckWrites(broken, []ConfigWrite{{Key: pend, Values: []string{"1d"}}}); err != nil {
		t.Errorf("unrelated write blocked: %v", err)
	}
	if _, err := CheckWrites(nil, []ConfigWrite{{Scope: "command", Key: pend, Values: []string{"1d"}}}); err == nil {
		t.Error("write to command scope allowed")
	}
}
