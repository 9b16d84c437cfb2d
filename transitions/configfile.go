package transitions

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ConfigLine is one setting read from an export file.
type ConfigLine struct {
	Line  int
	Key   *Key
	Value string // canonical
}

// LineError is a problem on one line of an import file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap makes errors.Is(err, ErrInvalidConfig) true, and reaches the cause.
func (e *LineError) Unwrap() []error { return []error{ErrInvalidConfig, e.Err} }

// FormatConfigLine writes one `key = value` line of an export file. Values
// that would not survive trimming (empty, padded, quoted, multi-line) are
// written in double quotes with Go escapes.
func FormatConfigLine(key, value string) string {
	if value == "" || strings.TrimSpace(value) != value || strings.HasPrefix(value, `"`) ||
		strings.HasPrefix(value, "'") || strings.ContainsAny(value, "\n\r") {
		value = strconv.Quote(value)
	}
	return key + " = " + value
}

// ParseConfigFile reads an export file: `key = value` lines, where key is a
// key's name, short name or alias (so `PENDING_TO_CLEANUP_TIMEOUT=7d` from the
// old shell settings reads too, with or without "export"), and value may be
// in double or single quotes. Blank lines and lines starting with # are
// skipped. Every bad line is reported, joined into one error; a key may
// appear once.
func ParseConfigFile(data []byte) ([]ConfigLine, error) {
	var out []ConfigLine
	var errs []error
	seen := map[*Key]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cl, err := parseConfigLine(line, seen)
		if err != nil {
			errs = append(errs, &LineError{Line: n, Err: err})
			continue
		}
		cl.Line = n
		seen[cl.Key] = n
		out = append(out, cl)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &LineError{Line: n + 1, Err: err})
	}
	return out, errors.Join(errs...)
}

func parseConfigLine(line string, seen map[*Key]int) (ConfigLine, error) {
	name, value, ok := strings.Cut(line, "=")
	if !ok {
		return ConfigLine{}, fmt.Errorf("%q is not key = value", line)
	}
	name = strings.TrimSpace(strings.TrimPrefix(name, "export "))
	k, ok := LookupKey(name)
	if !ok {
		hint := ""
		if s := SuggestKey(name); s != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", s)
		}
		return ConfigLine{}, fmt.Errorf("unknown key %q%s", name, hint)
	}
	if prev, dup := seen[k]; dup {
		return ConfigLine{}, fmt.Errorf("%s is already set on line %d", k.Name, prev)
	}
	value = strings.TrimSpace(value)
	switch {
	case strings.HasPrefix(value, `"`):
		u, err := strconv.Unquote(value)
		if err != nil {
			return ConfigLine{}, fmt.Errorf("%s: bad quoting in %s", k.Name, value)
		}
		value = u
	case len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'':
		value = value[1 : len(value)-1]
	}
	c, err := k.Normalize(value)
	if err != nil {
		return ConfigLine{}, err
	}
	return ConfigLine{Key: k, Value: c}, nil
}
