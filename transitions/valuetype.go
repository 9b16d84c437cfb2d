package transitions

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// valueType reads, writes and describes the values of one kind of key.
// parse gets the raw config text and reports false for anything outside the
// type's range; format is its inverse on parsed values.
type valueType interface {
	kind() string
	parse(s string) (any, bool)
	format(v any) string
	describe() string
}

// durationType is a duration between min and max; zeroOff also allows 0 (off).
type durationType struct {
	min, max time.Duration
	zeroOff  bool
}

func (durationType) kind() string { return "duration" }

func (t durationType) parse(s string) (any, bool) {
	d, err := ParseDuration(s)
	if err != nil {
		return nil, false
	}
	if d == 0 && t.zeroOff {
		return d, true
	}
	return d, d >= t.min && d <= t.max
}

func (durationType) format(v any) string { return FormatDuration(v.(time.Duration)) }

func (t durationType) describe() string {
	s := fmt.Sprintf("a duration from %s to %s", FormatDuration(t.min), FormatDuration(t.max))
	if t.zeroOff {
		s += ", or 0 for off"
	}
	return s + " (like 90s, 36h, 7d, 2w, 1d12h)"
}

// bytesType is a size between min and max; zeroOff also allows 0 (none).
type bytesType struct {
	min, max int64
	zeroOff  bool
}

func (bytesType) kind() string { return "bytes" }

func (t bytesType) parse(s string) (any, bool) {
	n, err := ParseBytes(s)
	if err != nil {
		return nil, false
	}
	if n == 0 && t.zeroOff {
		return n, true
	}
	return n, n >= t.min && n <= t.max
}

func (bytesType) format(v any) string { return FormatBytes(v.(int64)) }

func (t bytesType) describe() string {
	s := fmt.Sprintf("a size from %s to %s", FormatBytes(t.min), FormatBytes(t.max))
	if t.zeroOff {
		s += ", or 0 for none"
	}
	return s + " (like 100MB, 500MiB, 1G; units are powers of 1024)"
}

// percentType is a percentage between min and max, with or without "%".
type percentType struct{ min, max float64 }

func (percentType) kind() string { return "percent" }

func (t percentType) parse(s string) (any, bool) {
	f, ok := parseDecimal(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	return f, ok && f >= t.min && f <= t.max
}

func (percentType) format(v any) string { return formatFloat(v.(float64)) }

func (t percentType) describe() string {
	return fmt.Sprintf("a percentage from %s to %s", formatFloat(t.min), formatFloat(t.max))
}

// fractionType is a number between min and max, inside [0,1].
type fractionType struct{ min, max float64 }

func (fractionType) kind() string { return "float" }

func (t fractionType) parse(s string) (any, bool) {
	f, ok := parseDecimal(s)
	return f, ok && f >= t.min && f <= t.max
}

func (fractionType) format(v any) string { return formatFloat(v.(float64)) }

func (t fractionType) describe() string {
	return fmt.Sprintf("a number from %s to %s (like 0.9)", formatFloat(t.min), formatFloat(t.max))
}

// intType is a whole number between min and max.
type intType struct{ min, max int }

func (intType) kind() string { return "int" }

func (t intType) parse(s string) (any, bool) {
	s = strings.TrimSpace(s)
	if !isDigits(s) || len(s) > 18 {
		return nil, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= t.min && n <= t.max
}

func (intType) format(v any) string { return strconv.Itoa(v.(int)) }

func (t intType) describe() string {
	return fmt.Sprintf("a whole number from %d to %d", t.min, t.max)
}

// enumType is one of a few words, in any case.
type enumType struct{ choices []string }

func (enumType) kind() string { return "enum" }

func (t enumType) parse(s string) (any, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, c := range t.choices {
		if s == c {
			return c, true
		}
	}
	return nil, false
}

func (enumType) format(v any) string { return v.(string) }

func (t enumType) describe() string { return "one of " + strings.Join(t.choices, ", ") }

// boolType is a boolean as git reads one: true/yes/on/1 or false/no/off/0,
// in any case; an empty value is false.
type boolType struct{}

func (boolType) kind() string { return "bool" }

func (boolType) parse(s string) (any, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0", "":
		return false, true
	}
	return nil, false
}

func (boolType) format(v any) string { return strconv.FormatBool(v.(bool)) }

func (boolType) describe() string { return "true or false (or yes/no, on/off, 1/0)" }

// textType is free text of one flavour; empty always means "none" or
// "the default".
type textType struct{ flavour string } // branch, path, url, email

func (t textType) kind() string { return t.flavour }

func (t textType) parse(s string) (any, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return s, true
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, false
	}
	switch t.flavour {
	case "branch":
		return s, validBranch(s)
	case "url":
		u, err := url.Parse(s)
		return s, err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
			!strings.ContainsAny(s, " \t")
	case "email":
		a, err := mail.ParseAddress(s)
		return s, err == nil && strings.Contains(a.Address, "@")
	case "hostport":
		host, port, err := net.SplitHostPort(s)
		n, perr := strconv.ParseUint(port, 10, 16)
		return s, err == nil && host != "" && perr == nil && n > 0 && !strings.ContainsAny(s, " \t/")
	}
	return s, true
}

func (textType) format(v any) string { return v.(string) }

func (t textType) describe() string {
	switch t.flavour {
	case "branch":
		return "a branch name like main or origin/main (empty: detect it)"
	case "url":
		return "an http or https URL (empty: none)"
	case "email":
		return "an email address (empty: none)"
	case "hostport":
		return "host:port of an SMTP server, like mail.example.com:25 (empty: the local sendmail)"
	}
	return "a directory (empty: <git common dir>/backup/archive)"
}

// validBranch applies the parts of git's ref-name rules a typo breaks.
func validBranch(s string) bool {
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") ||
		strings.HasSuffix(s, ".") || strings.HasSuffix(s, ".lock") || s == "@" {
		return false
	}
	if strings.Contains(s, "..") || strings.Contains(s, "//") || strings.Contains(s, "@{") {
		return false
	}
	return !strings.ContainsAny(s, " \t~^:?*[\\")
}

// parseDecimal reads a plain decimal number (no sign, exponent, NaN or Inf).
func parseDecimal(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(s, ".")
	if len(s) > 32 || whole == "" && frac == "" || whole != "" && !isDigits(whole) || dot && frac != "" && !isDigits(frac) {
		return 0, false
	}
	if dot && frac == "" && whole == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
