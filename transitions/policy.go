package transitions

import (
	"log/slog"
	"time"
)

// Policy is the configured behaviour: SPEC §6's keys, parsed. The zero value is
// not useful; start from DefaultPolicy.
type Policy struct {
	PendingTimeout        time.Duration
	ConfirmedTimeout      time.Duration
	CleanableTimeout      time.Duration
	ArchiveRetention      time.Duration
	MinAge                time.Duration
	AutoCleanupConfidence float64

	DiskWarningThreshold   float64 // percent used
	DiskCriticalThreshold  float64
	DiskEmergencyThreshold float64
	MinFreeSpaceTarget     float64 // percent free
	MaxSize                int64   // bytes, 0 = no cap

	CleanupStrategy   string
	EmergencyStrategy string

	LargeThreshold int64
	HugeThreshold  int64

	MaxCleanupPerCycle    int
	EmergencyCleanupLimit int

	CheckInterval     time.Duration
	CleanupInterval   time.Duration
	EmergencyInterval time.Duration

	DiskPressureConfidenceBoost float64
	EmergencyConfidenceOverride float64

	CompressBeforeDelete bool
	CompressionLevel     string
	AutosaveInterval     time.Duration
	AutoInstallHooks     bool
	IntegrationBranch    string
	ArchiveDir           string

	Alerts       bool
	AlertWebhook string
	SlackWebhook string
	AlertEmail   string
	SMTPServer   string // host:port; empty: the local sendmail
	LogLevel     string
}

// DefaultPolicy returns SPEC §6's defaults.
func DefaultPolicy() Policy {
	return Policy{
		PendingTimeout:              7 * 24 * time.Hour,
		ConfirmedTimeout:            24 * time.Hour,
		CleanableTimeout:            3 * 24 * time.Hour,
		ArchiveRetention:            30 * 24 * time.Hour,
		MinAge:                      time.Hour,
		AutoCleanupConfidence:       0.90,
		DiskWarningThreshold:        75,
		DiskCriticalThreshold:       85,
		DiskEmergencyThreshold:      95,
		MinFreeSpaceTarget:          20,
		CleanupStrategy:             "oldest_first",
		EmergencyStrategy:           "aggressive",
		LargeThreshold:              100 << 20,
		HugeThreshold:               500 << 20,
		MaxCleanupPerCycle:          10,
		EmergencyCleanupLimit:       50,
		CheckInterval:               60 * time.Second,
		CleanupInterval:             5 * time.Minute,
		EmergencyInterval:           10 * time.Second,
		DiskPressureConfidenceBoost: 0.2,
		EmergencyConfidenceOverride: 0.5,
		CompressBeforeDelete:        true,
		CompressionLevel:            "default",
		AutosaveInterval:            10 * time.Minute,
		AutoInstallHooks:            true,
		Alerts:                      true,
		LogLevel:                    "info",
	}
}

// SlogLevel is backup.logLevel as a log/slog level; an empty or unknown
// value (LoadPolicy refuses those) is info.
func (p Policy) SlogLevel() slog.Level {
	switch p.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
