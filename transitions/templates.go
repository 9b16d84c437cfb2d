package transitions

import "slices"

// Template is a named, coherent set of policy values. Templates set the
// lifecycle, disk and monitor policies; they never touch where things go or
// whom to alert (integrationBranch, archiveDir, alerts, webhooks, email,
// logLevel, autoInstallHooks).
type Template struct {
	Name    string
	Summary string
	Values  map[string]string // canonical key name → value
}

// templateKeys are the keys every template sets, in Keys order.
var templateKeys = []string{
	"backup.pendingTimeout", "backup.confirmedTimeout", "backup.cleanableTimeout", "backup.archiveRetention",
	"backup.minAge", "backup.autoCleanupConfidence",
	"backup.diskWarningThreshold", "backup.diskCriticalThreshold", "backup.diskEmergencyThreshold",
	"backup.minFreeSpaceTarget", "backup.cleanupStrategy", "backup.emergencyStrategy",
	"backup.maxCleanupPerCycle", "backup.emergencyCleanupLimit",
	"backup.checkInterval", "backup.cleanupInterval",
	"backup.diskPressureConfidenceBoost", "backup.emergencyConfidenceOverride",
	"backup.compressBeforeDelete", "backup.compressionLevel", "backup.autosaveInterval",
}

// templateValues lists each template's values in templateKeys order.
var templateValues = []struct {
	name, summary string
	values        []string
}{
	{"conservative", "keep backups longer, clean late and only with high confidence, archive everything",
		[]string{"14d", "3d", "7d", "90d", "1d", "0.95", "70", "80", "90", "25", "confidence_based", "conservative",
			"5", "20", "1m", "10m", "0.1", "0.7", "true", "better", "10m"}},
	{"aggressive", "free space early and fast: short timeouts, larger batches, largest backups first",
		[]string{"3d", "6h", "1d", "7d", "30m", "0.8", "65", "75", "85", "30", "largest_first", "aggressive",
			"25", "100", "30s", "2m", "0.3", "0.4", "true", "fastest", "10m"}},
	{"development", "many small backups while iterating: frequent autosave, quick turnover, fast compression",
		[]string{"2d", "12h", "1d", "14d", "15m", "0.85", "80", "90", "95", "15", "oldest_first", "aggressive",
			"20", "50", "30s", "2m", "0.2", "0.5", "true", "fastest", "5m"}},
	{"default", "the built-in defaults", nil},
}

// Templates returns every template, in the order they are documented.
func Templates() []Template {
	out := make([]Template, 0, len(templateValues))
	for _, t := range templateValues {
		m := map[string]string{}
		for i, name := range templateKeys {
			k, _ := LookupKey(name)
			if t.values == nil {
				m[k.Name] = k.Default()
			} else if i < len(t.values) {
				m[k.Name] = t.values[i]
			}
		}
		out = append(out, Template{Name: t.name, Summary: t.summary, Values: m})
	}
	return out
}

// LookupTemplate finds a template by name.
func LookupTemplate(name string) (Template, bool) {
	i := slices.IndexFunc(Templates(), func(t Template) bool { return t.Name == name })
	if i < 0 {
		return Template{}, false
	}
	return Templates()[i], true
}

// TemplateNames lists the templates' names.
func TemplateNames() []string {
	var ns []string
	for _, t := range templateValues {
		ns = append(ns, t.name)
	}
	return ns
}

// Writes returns the template as config writes to scope, in Keys order.
func (t Template) Writes(scope string) []ConfigWrite {
	var ws []ConfigWrite
	for _, k := range Keys {
		if v, ok := t.Values[k.Name]; ok {
			ws = append(ws, ConfigWrite{Scope: scope, Key: k, Values: []string{v}})
		}
	}
	return ws
}
