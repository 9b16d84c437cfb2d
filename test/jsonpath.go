package test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonPath evaluates a dotted path (".0.state", ".backup.id", "length",
// ".events.length") on a JSON document and returns the value in compact JSON,
// with strings unquoted.
func jsonPath(doc []byte, path string) (string, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return "", fmt.Errorf("stdout is not JSON: %w", err)
	}
	for _, part := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		if part == "" {
			continue
		}
		switch x := v.(type) {
		case []any:
			if part == "length" {
				v = float64(len(x))
				continue
			}
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return "", fmt.Errorf("index %q out of range (length %d)", part, len(x))
			}
			v = x[i]
		case map[string]any:
			if part == "length" {
				if _, ok := x["length"]; !ok {
					v = float64(len(x))
					continue
				}
			}
			val, ok := x[part]
			if !ok {
				return "", fmt.Errorf("no key %q", part)
			}
			v = val
		default:
			return "", fmt.Errorf("cannot index %T with %q", v, part)
		}
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}
