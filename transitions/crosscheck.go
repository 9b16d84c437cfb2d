package transitions

import "fmt"

// CrossError is two keys whose values contradict each other, such as a
// warning threshold above the critical one.
type CrossError struct {
	Low      *Key   // the key named first; its value must be below the other's
	LowScope string // where Low's value came from
	LowValue string
	msg      string
}

func (e *CrossError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrInvalidConfig) true.
func (e *CrossError) Unwrap() error { return ErrInvalidConfig }

// crossRules are the orderings that must hold between keys: lo < hi.
var crossRules = []struct{ lo, hi string }{
	{"backup.diskWarningThreshold", "backup.diskCriticalThreshold"},
	{"backup.diskCriticalThreshold", "backup.diskEmergencyThreshold"},
	{"backup.largeThreshold", "backup.hugeThreshold"},
}

// crossCheck checks the orderings between keys of p. scopes says where each
// value came from; keys in bad had invalid values and are not compared.
func crossCheck(p Policy, scopes map[*Key]string, bad map[*Key]bool) []error {
	var errs []error
	at := func(k *Key) string { return fmt.Sprintf("%s = %s (%s)", k.Name, k.Value(p), scopeShort(scopes[k])) }
	for _, r := range crossRules {
		lo, _ := LookupKey(r.lo)
		hi, _ := LookupKey(r.hi)
		if bad[lo] || bad[hi] || less(lo.get(&p), hi.get(&p)) {
			continue
		}
		errs = append(errs, &CrossError{Low: lo, LowScope: scopes[lo], LowValue: lo.Value(p),
			msg: fmt.Sprintf("%s must be below %s", at(lo), at(hi))})
	}
	// An emergency cleanup stops when free space reaches the target; a target
	// already met at the emergency level would stop it before it starts.
	target, _ := LookupKey("backup.minFreeSpaceTarget")
	emergency, _ := LookupKey("backup.diskEmergencyThreshold")
	if !bad[target] && !bad[emergency] && p.MinFreeSpaceTarget <= 100-p.DiskEmergencyThreshold {
		errs = append(errs, &CrossError{Low: target, LowScope: scopes[target], LowValue: target.Value(p),
			msg: fmt.Sprintf("%s must be above 100 minus %s, or an emergency cleanup would stop before it starts",
				at(target), at(emergency))})
	}
	return errs
}

func scopeShort(scope string) string {
	switch scope {
	case "", ScopeDefault:
		return "default"
	case "command":
		return "command-line config"
	}
	return scope + " config"
}

// less compares two values of the same numeric type.
func less(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && x < y
	case int64:
		y, ok := b.(int64)
		return ok && x < y
	case int:
		y, ok := b.(int)
		return ok && x < y
	}
	return true
}
