package transitions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/git-backup/git-backup/gitstate"
)

// ErrInvalidConfig marks a config value outside its key's range, or keys
// whose values contradict each other.
var ErrInvalidConfig = errors.New("invalid config")

// ScopeDefault is the scope Effective reports for a key that is set nowhere.
const ScopeDefault = "default"

// ValueError is one bad value: which key, from which scope, and what would
// be valid.
type ValueError struct {
	Key     string // canonical name
	Scope   string // local, global, system, worktree, command; "" for a value not yet in config
	File    string // the config file it is in, when known
	Value   string
	Want    string // what is valid, as the end of "must be …"
	Default string
}

func (e *ValueError) Error() string {
	if e.Scope == "" {
		return fmt.Sprintf("%s = %q: must be %s (default %s)", e.Key, e.Value, e.Want, quoteEmpty(e.Default))
	}
	where := ScopeName(e.Scope)
	if e.File != "" {
		where += " " + e.File
	}
	return fmt.Sprintf("%s = %q in %s: must be %s (%s)", e.Key, e.Value, where, e.Want, fixHint(e.Scope, e.Key, e.Default))
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) true.
func (e *ValueError) Unwrap() error { return ErrInvalidConfig }

// ScopeName says where a scope's values live, for messages: "global config".
func ScopeName(scope string) string {
	switch scope {
	case "command":
		return "command-line config (git -c or GIT_CONFIG_*)"
	case ScopeDefault, "":
		return "the defaults"
	}
	return scope + " config"
}

// fixHint is the git command that puts the default back.
func fixHint(scope, key, def string) string {
	switch scope {
	case "local", "global", "system", "worktree":
		if def == "" {
			return fmt.Sprintf("git config --%s --unset %s", scope, key)
		}
		return fmt.Sprintf("git config --%s %s %s", scope, key, def)
	}
	return "default " + quoteEmpty(def)
}

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// Setting is one key's effective value and where it came from.
type Setting struct {
	Key   *Key
	Value string // the winning config value, or the key's default
	Scope string // the winning entry's scope, or ScopeDefault
	File  string // the winning entry's file, when known
}

// Effective returns every key's effective setting, in Keys order: the last
// entry for a key wins, as in git.
func Effective(entries []gitstate.ConfigEntry) []Setting {
	last := map[*Key]gitstate.ConfigEntry{}
	for _, e := range entries {
		if k, ok := policyKey(e.Key); ok {
			last[k] = e
		}
	}
	out := make([]Setting, 0, len(Keys))
	for _, k := range Keys {
		if e, ok := last[k]; ok {
			out = append(out, Setting{Key: k, Value: e.Value, Scope: e.Scope, File: e.File})
		} else {
			out = append(out, Setting{Key: k, Value: k.Default(), Scope: ScopeDefault})
		}
	}
	return out
}

// policyKey finds the key of a config entry name ("backup.pendingtimeout");
// aliases and short names do not count here.
func policyKey(name string) (*Key, bool) {
	name = strings.ToLower(name)
	if !strings.HasPrefix(name, "backup.") {
		return nil, false
	}
	k, ok := keyIndex[name]
	return k, ok && strings.EqualFold(k.Name, name)
}

// LoadPolicy builds the policy from git config entries (all scopes, in git's
// order: later entries win), starting from DefaultPolicy. Only effective
// values count: a bad value that a later scope overrides is not an error here
// (CheckConfig reports it). Unknown backup.* keys are ignored.
//
// An invalid value is an error naming the key, its scope, the value and the
// valid range; the policy returned with it holds every valid value and the
// default for the rest.
func LoadPolicy(entries []gitstate.ConfigEntry) (Policy, error) {
	p, errs := loadPolicy(entries)
	switch len(errs) {
	case 0:
		return p, nil
	case 1:
		return p, errs[0]
	}
	return p, fmt.Errorf("%w (and %d more: git backup config validate lists them)", errs[0], len(errs)-1)
}

// loadPolicy is LoadPolicy with every problem.
func loadPolicy(entries []gitstate.ConfigEntry) (Policy, []error) {
	p := DefaultPolicy()
	var errs []error
	scopes := map[*Key]string{}
	bad := map[*Key]bool{}
	for _, s := range Effective(entries) {
		scopes[s.Key] = s.Scope
		if s.Scope == ScopeDefault {
			continue
		}
		v, ok := s.Key.parse(s.Value)
		if !ok {
			bad[s.Key] = true
			errs = append(errs, &ValueError{Key: s.Key.Name, Scope: s.Scope, File: s.File, Value: s.Value, Want: s.Key.Range(), Default: s.Key.Default()})
			continue
		}
		s.Key.set(&p, v)
	}
	return p, append(errs, crossCheck(p, scopes, bad)...)
}

// Problem is one finding of CheckConfig.
type Problem struct {
	Key     string // as configured (lower-cased by git), or the canonical name
	Scope   string
	Value   string
	Warning bool // true: suspicious but harmless (an unknown key)
	Err     error
}

// CheckConfig checks every backup.* entry in every scope, including values
// that a later scope overrides, then the effective values against each other.
// Unknown keys are warnings; git-backup's own bookkeeping keys (backup.repo)
// are fine.
func CheckConfig(entries []gitstate.ConfigEntry) []Problem {
	var ps []Problem
	for _, e := range entries {
		name := strings.ToLower(e.Key)
		if !strings.HasPrefix(name, "backup.") || internalKeys[name] {
			continue
		}
		k, ok := policyKey(name)
		if !ok {
			msg := fmt.Sprintf("unknown key %s in %s", e.Key, ScopeName(e.Scope))
			if s := SuggestKey(name); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			ps = append(ps, Problem{Key: e.Key, Scope: e.Scope, Value: e.Value, Warning: true, Err: errors.New(msg)})
			continue
		}
		if _, ok := k.parse(e.Value); !ok {
			ps = append(ps, Problem{Key: k.Name, Scope: e.Scope, Value: e.Value,
				Err: &ValueError{Key: k.Name, Scope: e.Scope, File: e.File, Value: e.Value, Want: k.Range(), Default: k.Default()}})
		}
	}
	_, errs := loadPolicy(entries)
	for _, err := range errs {
		var ce *CrossError
		if errors.As(err, &ce) {
			ps = append(ps, Problem{Key: ce.Low.Name, Scope: ce.LowScope, Value: ce.LowValue, Err: err})
		}
	}
	return ps
}

// SuggestKey returns the known key closest to an unknown name, if any is close.
func SuggestKey(name string) string {
	short := strings.TrimPrefix(strings.ToLower(name), "backup.")
	best, bestD := "", 4
	for _, k := range Keys {
		for _, cand := range []string{k.Short(), k.Alias} {
			if d := editDistance(short, strings.ToLower(cand)); cand != "" && d < bestD {
				best, bestD = k.Name, d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
