package transitions

import (
	"strings"
	"time"
)

// Key is one policy key in git config section backup: its name, the name the
// old shell settings used for it, its type and range, and the Policy field it
// fills.
type Key struct {
	Name   string // canonical spelling, "backup.pendingTimeout"
	Alias  string // the old shell name, "PENDING_TO_CLEANUP_TIMEOUT", or ""
	Secret bool   // left out of exports and masked in listings
	Help   string // one line for people

	typ valueType
	get func(*Policy) any
	set func(*Policy, any)
}

// field binds a Key to one Policy field of type T.
func field[T any](ptr func(*Policy) *T) (func(*Policy) any, func(*Policy, any)) {
	return func(p *Policy) any { return *ptr(p) },
		func(p *Policy, v any) {
			if t, ok := v.(T); ok {
				*ptr(p) = t
			}
		}
}

func key[T any](name, alias, help string, t valueType, ptr func(*Policy) *T) *Key {
	get, set := field(ptr)
	return &Key{Name: name, Alias: alias, Help: help, typ: t, get: get, set: set}
}

func secret(k *Key) *Key { k.Secret = true; return k }

// Ranges shared by several keys.
var (
	timeoutRange  = durationType{min: time.Minute, max: 3650 * Day, zeroOff: true}
	thresholdSize = bytesType{min: 1 << 10, max: 1 << 40}
	percentRange  = percentType{min: 1, max: 99}
	unitRange     = fractionType{min: 0, max: 1}
)

// Keys is every policy key of SPEC §6, in the order `config list` shows them.
var Keys = []*Key{
	key("backup.pendingTimeout", "PENDING_TO_CLEANUP_TIMEOUT", "PENDING → CLEANABLE when never merged",
		timeoutRange, func(p *Policy) *time.Duration { return &p.PendingTimeout }),
	key("backup.confirmedTimeout", "CONFIRMED_TO_CLEANUP_TIMEOUT", "CONFIRMED → CLEANABLE",
		timeoutRange, func(p *Policy) *time.Duration { return &p.ConfirmedTimeout }),
	key("backup.cleanableTimeout", "CLEANABLE_TO_ARCHIVE_TIMEOUT", "CLEANABLE → ARCHIVED or DELETED",
		timeoutRange, func(p *Policy) *time.Duration { return &p.CleanableTimeout }),
	key("backup.archiveRetention", "ARCHIVE_RETENTION", "ARCHIVED → DELETED",
		timeoutRange, func(p *Policy) *time.Duration { return &p.ArchiveRetention }),
	key("backup.minAge", "MIN_BACKUP_AGE", "nothing younger is cleaned, ever",
		durationType{min: time.Minute, max: 30 * Day}, func(p *Policy) *time.Duration { return &p.MinAge }),
	key("backup.autoCleanupConfidence", "AUTO_CLEANUP_CONFIDENCE", "confidence an automatic cleanup needs",
		unitRange, func(p *Policy) *float64 { return &p.AutoCleanupConfidence }),
	key("backup.diskWarningThreshold", "DISK_WARNING_THRESHOLD", "% of the disk used: warning level",
		percentRange, func(p *Policy) *float64 { return &p.DiskWarningThreshold }),
	key("backup.diskCriticalThreshold", "DISK_CRITICAL_THRESHOLD", "% of the disk used: critical level",
		percentRange, func(p *Policy) *float64 { return &p.DiskCriticalThreshold }),
	key("backup.diskEmergencyThreshold", "DISK_EMERGENCY_THRESHOLD", "% of the disk used: emergency level",
		percentRange, func(p *Policy) *float64 { return &p.DiskEmergencyThreshold }),
	key("backup.minFreeSpaceTarget", "MIN_FREE_SPACE_TARGET", "% free to reach before an emergency cleanup stops",
		percentRange, func(p *Policy) *float64 { return &p.MinFreeSpaceTarget }),
	key("backup.maxSize", "MAX_BACKUP_SIZE", "cap on bytes held by backups and archives (0: none)",
		bytesType{min: 1 << 20, max: 1 << 50, zeroOff: true}, func(p *Policy) *int64 { return &p.MaxSize }),
	key("backup.cleanupStrategy", "CLEANUP_STRATEGY", "order of cleanup candidates",
		enumType{[]string{"oldest_first", "largest_first", "confidence_based"}}, func(p *Policy) *string { return &p.CleanupStrategy }),
	key("backup.emergencyStrategy", "EMERGENCY_CLEANUP_STRATEGY", "what the emergency level may clean",
		enumType{[]string{"conservative", "aggressive", "nuclear"}}, func(p *Policy) *string { return &p.EmergencyStrategy }),
	key("backup.largeThreshold", "LARGE_BACKUP_THRESHOLD", "a backup this big gets more scrutiny",
		thresholdSize, func(p *Policy) *int64 { return &p.LargeThreshold }),
	key("backup.hugeThreshold", "HUGE_BACKUP_THRESHOLD", "a backup this big gets the most scrutiny",
		thresholdSize, func(p *Policy) *int64 { return &p.HugeThreshold }),
	key("backup.maxCleanupPerCycle", "MAX_CLEANUP_PER_CYCLE", "backups cleaned per monitor cycle",
		intType{1, 10000}, func(p *Policy) *int { return &p.MaxCleanupPerCycle }),
	key("backup.emergencyCleanupLimit", "EMERGENCY_CLEANUP_LIMIT", "backups cleaned per emergency cycle",
		intType{1, 100000}, func(p *Policy) *int { return &p.EmergencyCleanupLimit }),
	key("backup.checkInterval", "DISK_CHECK_INTERVAL", "how often the monitor measures the disk",
		durationType{min: time.Second, max: time.Hour}, func(p *Policy) *time.Duration { return &p.CheckInterval }),
	key("backup.cleanupInterval", "CLEANUP_INTERVAL", "how often the monitor applies the time policies",
		durationType{min: 10 * time.Second, max: Day}, func(p *Policy) *time.Duration { return &p.CleanupInterval }),
	key("backup.emergencyInterval", "EMERGENCY_INTERVAL", "how often the monitor re-checks in an emergency",
		durationType{min: time.Second, max: 10 * time.Minute}, func(p *Policy) *time.Duration { return &p.EmergencyInterval }),
	key("backup.diskPressureConfidenceBoost", "DISK_PRESSURE_CONFIDENCE_BOOST", "added to confidence under disk pressure",
		unitRange, func(p *Policy) *float64 { return &p.DiskPressureConfidenceBoost }),
	key("backup.emergencyConfidenceOverride", "EMERGENCY_CONFIDENCE_OVERRIDE", "confidence an emergency cleanup needs",
		unitRange, func(p *Policy) *float64 { return &p.EmergencyConfidenceOverride }),
	key("backup.compressBeforeDelete", "COMPRESS_BEFORE_DELETE", "archive a backup that is not fully covered before deleting it",
		boolType{}, func(p *Policy) *bool { return &p.CompressBeforeDelete }),
	key("backup.compressionLevel", "", "zstd level of archives",
		enumType{[]string{"fastest", "default", "better", "best"}}, func(p *Policy) *string { return &p.CompressionLevel }),
	key("backup.autosaveInterval", "", "the monitor backs up changed work this often (0: off)",
		durationType{min: 10 * time.Second, max: Day, zeroOff: true}, func(p *Policy) *time.Duration { return &p.AutosaveInterval }),
	key("backup.autoInstallHooks", "", "install the hooks on first use in a repository",
		boolType{}, func(p *Policy) *bool { return &p.AutoInstallHooks }),
	key("backup.integrationBranch", "", "the branch that confirms a backup (empty: detect)",
		textType{"branch"}, func(p *Policy) *string { return &p.IntegrationBranch }),
	key("backup.archiveDir", "", "where archives go (empty: <git common dir>/backup/archive)",
		textType{"path"}, func(p *Policy) *string { return &p.ArchiveDir }),
	key("backup.alerts", "ENABLE_DISK_ALERTS", "send alerts on disk level changes",
		boolType{}, func(p *Policy) *bool { return &p.Alerts }),
	secret(key("backup.alertWebhook", "ALERT_WEBHOOK_URL", "URL that alerts are POSTed to as JSON",
		textType{"url"}, func(p *Policy) *string { return &p.AlertWebhook })),
	secret(key("backup.slackWebhook", "SLACK_WEBHOOK_URL", "Slack incoming-webhook URL for alerts",
		textType{"url"}, func(p *Policy) *string { return &p.SlackWebhook })),
	key("backup.alertEmail", "ALERT_EMAIL", "address that alerts are mailed to",
		textType{"email"}, func(p *Policy) *string { return &p.AlertEmail }),
	key("backup.smtpServer", "", "SMTP server (host:port) that alert mail goes through (empty: the local sendmail)",
		textType{"hostport"}, func(p *Policy) *string { return &p.SMTPServer }),
	key("backup.logLevel", "LOG_LEVEL", "monitor and hook log level",
		enumType{[]string{"debug", "info", "warn", "error"}}, func(p *Policy) *string { return &p.LogLevel }),
}

// internalKeys are backup.* keys that are not policies but are written by
// git-backup itself (backup.repo: repositories the monitor serves).
var internalKeys = map[string]bool{"backup.repo": true, "backup.cloneid": true}

// keyIndex finds keys by lower-cased full name, short name and alias.
var keyIndex = func() map[string]*Key {
	m := map[string]*Key{}
	for _, k := range Keys {
		m[strings.ToLower(k.Name)] = k
		m[strings.ToLower(k.Short())] = k
		if k.Alias != "" {
			m[strings.ToLower(k.Alias)] = k
		}
	}
	return m
}()

// LookupKey finds a key by its name in any case, with or without "backup.",
// or by its alias ("PENDING_TO_CLEANUP_TIMEOUT").
func LookupKey(name string) (*Key, bool) {
	k, ok := keyIndex[strings.ToLower(strings.TrimSpace(name))]
	return k, ok
}

// Short is the name without its section: "pendingTimeout".
func (k *Key) Short() string { return strings.TrimPrefix(k.Name, "backup.") }

// Kind names the key's type: duration, bytes, percent, float, int, enum,
// bool, branch, path, url or email.
func (k *Key) Kind() string { return k.typ.kind() }

// Range says which values are valid, as the end of "must be …".
func (k *Key) Range() string { return k.typ.describe() }

// Parse reads a value for this key. Its error is a *ValueError that names
// the key, the value and the valid range.
func (k *Key) Parse(s string) (any, error) {
	v, ok := k.parse(s)
	if !ok {
		return nil, &ValueError{Key: k.Name, Value: s, Want: k.Range(), Default: k.Default()}
	}
	return v, nil
}

// parse is Parse without the error; it never panics.
func (k *Key) parse(s string) (v any, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return k.typ.parse(s)
}

// Format writes a parsed value in the canonical form Parse reads back.
func (k *Key) Format(v any) string {
	defer func() { _ = recover() }()
	return k.typ.format(v)
}

// Normalize checks s and returns its canonical form ("36h" → "1d12h",
// "YES" → "true").
func (k *Key) Normalize(s string) (string, error) {
	v, err := k.Parse(s)
	if err != nil {
		return "", err
	}
	return k.Format(v), nil
}

// Value is the key's value in p, formatted.
func (k *Key) Value(p Policy) string { return k.Format(k.get(&p)) }

// Default is the key's value in DefaultPolicy, formatted.
func (k *Key) Default() string { return k.Value(DefaultPolicy()) }
