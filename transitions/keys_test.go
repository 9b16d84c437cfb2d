package transitions

import (
	"reflect"
	"strings"
	"testing"
)

// keyCases holds, for every key, values that parse (with their canonical
// form) and values that do not.
var keyCases = map[string]struct {
	good map[string]string // input → canonical
	bad  []string
}{
	"backup.pendingTimeout":              {map[string]string{"7d": "7d", "36h": "1d12h", "2w": "14d", "0": "0", "1m": "1m", "3650d": "3650d", "86400": "1d"}, []string{"59s", "3651d", "-1d", "7days", ""}},
	"backup.confirmedTimeout":            {map[string]string{"1d": "1d", "0": "0"}, []string{"30s", "x"}},
	"backup.cleanableTimeout":            {map[string]string{"3d": "3d", "90s": "1m30s"}, []string{"1s", "1y"}},
	"backup.archiveRetention":            {map[string]string{"30d": "30d", "52w": "364d"}, []string{"1000w", "30"}},
	"backup.minAge":                      {map[string]string{"1h": "1h", "1m": "1m", "30d": "30d"}, []string{"0", "59s", "31d"}},
	"backup.autoCleanupConfidence":       {map[string]string{"0.9": "0.9", "0": "0", "1": "1", ".5": "0.5", "0.90": "0.9"}, []string{"1.01", "-0.1", "90%", "NaN", "1e-1", ""}},
	"backup.diskWarningThreshold":        {map[string]string{"75": "75", "75%": "75", "1": "1", "99": "99", "72.5": "72.5"}, []string{"0", "100", "120", "-5", "75%%", "abc"}},
	"backup.diskCriticalThreshold":       {map[string]string{"85": "85"}, []string{"99.5"}},
	"backup.diskEmergencyThreshold":      {map[string]string{"95": "95"}, []string{"0.5"}},
	"backup.minFreeSpaceTarget":          {map[string]string{"20": "20"}, []string{"100"}},
	"backup.maxSize":                     {map[string]string{"0": "0", "10G": "10GB", "1MB": "1MB", "1024TB": "1024TB"}, []string{"1KB", "1025TB", "-1"}},
	"backup.cleanupStrategy":             {map[string]string{"oldest_first": "oldest_first", "LARGEST_FIRST": "largest_first", "confidence_based": "confidence_based"}, []string{"newest_first", ""}},
	"backup.emergencyStrategy":           {map[string]string{"aggressive": "aggressive", "Conservative": "conservative", "nuclear": "nuclear"}, []string{"gentle"}},
	"backup.largeThreshold":              {map[string]string{"100MB": "100MB", "1K": "1KB", "1TB": "1TB", "1536": "1536"}, []string{"1023", "2TB", "0"}},
	"backup.hugeThreshold":               {map[string]string{"500MB": "500MB", "1.5G": "1536MB"}, []string{"huge"}},
	"backup.maxCleanupPerCycle":          {map[string]string{"10": "10", "1": "1", "10000": "10000", "007": "7"}, []string{"0", "10001", "-1", "1.5", "ten"}},
	"backup.emergencyCleanupLimit":       {map[string]string{"50": "50", "100000": "100000"}, []string{"0", "100001"}},
	"backup.checkInterval":               {map[string]string{"60s": "1m", "1s": "1s", "1h": "1h"}, []string{"0", "2h"}},
	"backup.cleanupInterval":             {map[string]string{"5m": "5m", "10s": "10s", "1d": "1d"}, []string{"9s", "2d"}},
	"backup.emergencyInterval":           {map[string]string{"10s": "10s", "10m": "10m"}, []string{"0", "11m"}},
	"backup.diskPressureConfidenceBoost": {map[string]string{"0.2": "0.2", "0": "0"}, []string{"2"}},
	"backup.emergencyConfidenceOverride": {map[string]string{"0.5": "0.5", "1.0": "1"}, []string{"1.5"}},
	"backup.compressBeforeDelete":        {map[string]string{"true": "true", "YES": "true", "on": "true", "1": "true", "false": "false", "no": "false", "off": "false", "0": "false", "": "false"}, []string{"maybe", "2"}},
	"backup.compressionLevel":            {map[string]string{"default": "default", "fastest": "fastest", "better": "better", "BEST": "best"}, []string{"3", "max"}},
	"backup.autosaveInterval":            {map[string]string{"10m": "10m", "0": "0", "10s": "10s", "1d": "1d"}, []string{"5s", "2d"}},
	"backup.autoInstallHooks":            {map[string]string{"false": "false"}, []string{"nope"}},
	"backup.integrationBranch":           {map[string]string{"main": "main", "origin/main": "origin/main", "": "", "release/v1.2": "release/v1.2"}, []string{"-main", "a..b", "a b", "main.lock", "feat/", "x~1", "a\nb"}},
	"backup.archiveDir":                  {map[string]string{"/srv/backups": "/srv/backups", "": "", "rel/dir": "rel/dir"}, []string{"a\x00b", "a\nb"}},
	"backup.alerts":                      {map[string]string{"true": "true", "off": "false"}, []string{"sometimes"}},
	"backup.alertWebhook":                {map[string]string{"https://hooks.example.com/a?b=c": "https://hooks.example.com/a?b=c", "": "", "http://localhost:9000/x": "http://localhost:9000/x"}, []string{"ftp://x.example.com", "hooks.example.com", "https://", "https://a b.example.com"}},
	"backup.smtpServer":                  {map[string]string{"mail.example.com:25": "mail.example.com:25", "": "", "[::1]:587": "[::1]:587"}, []string{"mail.example.com", ":25", "mail.example.com:0", "mail.example.com:smtp", "a b:25", "smtp://mail.example.com:25"}},
	"backup.slackWebhook":                {map[string]string{"https://hooks.slack.com/services/T/B/X": "https://hooks.slack.com/services/T/B/X"}, []string{"slack"}},
	"backup.alertEmail":                  {map[string]string{"ops@example.com": "ops@example.com", "Ops <ops@example.com>": "Ops <ops@example.com>", "": ""}, []string{"ops", "ops@", "<>"}},
	"backup.logLevel":                    {map[string]string{"info": "info", "DEBUG": "debug", "warn": "warn", "error": "error"}, []string{"verbose", "trace"}},
}

func TestKeys_everyKeyHasCases(t *testing.T) {
	for _, k := range Keys {
		if _, ok := keyCases[k.Name]; !ok {
			t.Errorf("no test cases for %s", k.Name)
		}
	}
	for name := range keyCases {
		if _, ok := LookupKey(name); !ok {
			t.Errorf("test cases for unknown key %s", name)
		}
	}
}

func TestKey_Parse(t *testing.T) {
	for name, tc := range keyCases {
		k, ok := LookupKey(name)
		if !ok {
			continue
		}
		for in, want := range tc.good {
			got, err := k.Normalize(in)
			if err != nil || got != want {
				t.Errorf("%s: Normalize(%q) = %q, %v; want %q", name, in, got, err, want)
			}
			p := DefaultPolicy()
			v, _ := k.Parse(in)
			k.set(&p, v)
			if k.Value(p) != want {
				t.Errorf("%s: policy holds %q after setting %q, want %q", name, k.Value(p), in, want)
			}
		}
		for _, in := range tc.bad {
			_, err := k.Parse(in)
			if err == nil {
				t.Errorf("%s: Parse(%q) succeeded, want an error", name, in)
				continue
			}
			msg := err.Error()
			for _, part := range []string{k.Name, "must be " + k.Range(), "default " + quoteEmpty(k.Default())} {
				if !strings.Contains(msg, part) {
					t.Errorf("%s: Parse(%q) error %q does not say %q", name, in, msg, part)
				}
			}
		}
	}
}

func TestKeys_defaults(t *testing.T) {
	want := map[string]string{
		"backup.pendingTimeout": "7d", "backup.confirmedTimeout": "1d", "backup.cleanableTimeout": "3d",
		"backup.archiveRetention": "30d", "backup.minAge": "1h", "backup.autoCleanupConfidence": "0.9",
		"backup.diskWarningThreshold": "75", "backup.diskCriticalThreshold": "85", "backup.diskEmergencyThreshold": "95",
		"backup.minFreeSpaceTarget": "20", "backup.maxSize": "0", "backup.cleanupStrategy": "oldest_first",
		"backup.emergencyStrategy": "aggressive", "backup.largeThreshold": "100MB", "backup.hugeThreshold": "500MB",
		"backup.maxCleanupPerCycle": "10", "backup.emergencyCleanupLimit": "50", "backup.checkInterval": "1m",
		"backup.cleanupInterval": "5m", "backup.emergencyInterval": "10s", "backup.diskPressureConfidenceBoost": "0.2",
		"backup.emergencyConfidenceOverride": "0.5", "backup.compressBeforeDelete": "true", "backup.compressionLevel": "default",
		"backup.autosaveInterval": "10m", "backup.autoInstallHooks": "true", "backup.integrationBranch": "",
		"backup.archiveDir": "", "backup.alerts": "true", "backup.alertWebhook": "", "backup.slackWebhook": "",
		"backup.alertEmail": "", "backup.smtpServer": "", "backup.logLevel": "info",
	}
	for _, k := range Keys {
		if got := k.Default(); got != want[k.Name] {
			t.Errorf("%s default = %q, want %q", k.Name, got, want[k.Name])
		}
		v, err := k.Parse(k.Default())
		if err != nil {
			t.Errorf("%s: default %q does not parse: %v", k.Name, k.Default(), err)
			continue
		}
		// Setting the parsed default changes nothing: set and get agree on the type.
		p := DefaultPolicy()
		k.set(&p, v)
		if !reflect.DeepEqual(p, DefaultPolicy()) {
			t.Errorf("%s: setting the default changed the policy", k.Name)
		}
	}
	if len(want) != len(Keys) {
		t.Errorf("%d keys, want %d", len(Keys), len(want))
	}
}

// TestKeys_setReachesItsField makes sure each key writes its own field.
func TestKeys_setReachesItsField(t *testing.T) {
	for name, tc := range keyCases {
		k, _ := LookupKey(name)
		for in := range tc.good {
			v, _ := k.Parse(in)
			if k.Format(v) == k.Default() {
				continue
			}
			p := DefaultPolicy()
			k.set(&p, v)
			if reflect.DeepEqual(p, DefaultPolicy()) {
				t.Errorf("%s: setting %q left the policy unchanged", name, in)
			}
			for _, other := range Keys {
				if other != k && other.Value(p) != other.Default() {
					t.Errorf("%s: setting %q changed %s", name, in, other.Name)
				}
			}
			break
		}
	}
}

func TestLookupKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"backup.pendingTimeout", "backup.pendingTimeout"},
		{"backup.pendingtimeout", "backup.pendingTimeout"},
		{"BACKUP.PENDINGTIMEOUT", "backup.pendingTimeout"},
		{"pendingTimeout", "backup.pendingTimeout"},
		{"pendingtimeout", "backup.pendingTimeout"},
		{"PENDING_TO_CLEANUP_TIMEOUT", "backup.pendingTimeout"},
		{"pending_to_cleanup_timeout", "backup.pendingTimeout"},
		{"DISK_WARNING_THRESHOLD", "backup.diskWarningThreshold"},
		{"DISK_CRITICAL_THRESHOLD", "backup.diskCriticalThreshold"},
		{"DISK_EMERGENCY_THRESHOLD", "backup.diskEmergencyThreshold"},
		{"HUGE_BACKUP_THRESHOLD", "backup.hugeThreshold"},
		{"EMERGENCY_CLEANUP_LIMIT", "backup.emergencyCleanupLimit"},
		{"CLEANUP_INTERVAL", "backup.cleanupInterval"},
		{"EMERGENCY_INTERVAL", "backup.emergencyInterval"},
		{"DISK_CHECK_INTERVAL", "backup.checkInterval"},
		{"EMERGENCY_CONFIDENCE_OVERRIDE", "backup.emergencyConfidenceOverride"},
		{"ENABLE_DISK_ALERTS", "backup.alerts"},
		{"ALERT_WEBHOOK_URL", "backup.alertWebhook"},
		{"SLACK_WEBHOOK_URL", "backup.slackWebhook"},
		{"ALERT_EMAIL", "backup.alertEmail"},
		{"MAX_BACKUP_SIZE", "backup.maxSize"},
		{"MIN_BACKUP_AGE", "backup.minAge"},
		{" LOG_LEVEL ", "backup.logLevel"},
		{"archiveDir", "backup.archiveDir"},
	} {
		k, ok := LookupKey(tc.in)
		if !ok || k.Name != tc.want {
			t.Errorf("LookupKey(%q) = %v, %v; want %s", tc.in, k, ok, tc.want)
		}
	}
	for _, in := range []string{"", "backup", "backup.", "backup.repo", "pending", "core.pendingTimeout", "backup.PENDING_TO_CLEANUP_TIMEOUT"} {
		if k, ok := LookupKey(in); ok {
			t.Errorf("LookupKey(%q) = %s, want none", in, k.Name)
		}
	}
}

func TestKeys_namesAndAliasesUnique(t *testing.T) {
	seen := map[string]string{}
	for _, k := range Keys {
		for _, n := range []string{k.Name, k.Short(), k.Alias} {
			if n == "" {
				continue
			}
			l := strings.ToLower(n)
			if prev, dup := seen[l]; dup && prev != k.Name {
				t.Errorf("%q names both %s and %s", n, prev, k.Name)
			}
			seen[l] = k.Name
		}
		if k.Alias != "" && k.Alias != strings.ToUpper(k.Alias) {
			t.Errorf("%s: alias %q is not upper case", k.Name, k.Alias)
		}
	}
}

func TestKeys_secrets(t *testing.T) {
	var got []string
	for _, k := range Keys {
		if k.Secret {
			got = append(got, k.Name)
		}
	}
	want := []string{"backup.alertWebhook", "backup.slackWebhook"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("secret keys = %v, want %v", got, want)
	}
}

func TestSuggestKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"backup.pendingTimout", "backup.pendingTimeout"},
		{"pendngtimeout", "backup.pendingTimeout"},
		{"ALERT_WEBHOOK", "backup.alertWebhook"},
		{"backup.somethingelse", ""},
	} {
		if got := SuggestKey(tc.in); got != tc.want {
			t.Errorf("SuggestKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParseConfigValue(f *testing.F) {
	for i, k := range Keys {
		f.Add(uint8(i), k.Default())
		if tc, ok := keyCases[k.Name]; ok {
			for in := range tc.good {
				f.Add(uint8(i), in)
			}
			for _, in := range tc.bad {
				f.Add(uint8(i), in)
			}
		}
	}
	f.Fuzz(func(t *testing.T, i uint8, s string) {
		k := Keys[int(i)%len(Keys)]
		v, err := k.Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), k.Name) {
				t.Fatalf("%s: error %q does not name the key", k.Name, err)
			}
			return
		}
		text := k.Format(v)
		again, err := k.Parse(text)
		if err != nil {
			t.Fatalf("%s: Parse(%q) ok, but its format %q does not parse: %v", k.Name, s, text, err)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("%s: Parse(%q) = %#v, re-parsed from %q as %#v", k.Name, s, v, text, again)
		}
		if k.Format(again) != text {
			t.Fatalf("%s: format is not stable: %q then %q", k.Name, text, k.Format(again))
		}
	})
}
