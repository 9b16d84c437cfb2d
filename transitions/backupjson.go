package transitions

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendBackupsJSON appends bs as an indented JSON array, byte for byte what
// encoding/json's Encoder with SetIndent("", "  ") and SetEscapeHTML(false)
// writes, several times faster: list prints thousands of backups.
func AppendBackupsJSON(dst []byte, bs []*Backup) []byte {
	if len(bs) == 0 {
		return append(dst, "[]\n"...)
	}
	dst = slices.Grow(dst, len(bs)*640)
	dst = append(dst, "[\n"...)
	for i, b := range bs {
		dst = append(dst, "  {\n"...)
		dst = jsonField(dst, "id", true)
		dst = appendJSONString(dst, b.ID)
		dst = jsonField(dst, "state", false)
		dst = appendJSONString(dst, string(b.State))
		dst = jsonField(dst, "snapshot", false)
		dst = appendJSONString(dst, b.Snapshot)
		dst = jsonField(dst, "base", false)
		dst = appendOptString(dst, b.Base)
		dst = jsonField(dst, "branch", false)
		dst = appendOptString(dst, b.Branch)
		dst = jsonField(dst, "created_at", false)
		dst = appendJSONTime(dst, b.CreatedAt)
		dst = jsonField(dst, "updated_at", false)
		dst = appendJSONTime(dst, b.UpdatedAt)
		dst = jsonField(dst, "trigger", false)
		dst = appendJSONString(dst, b.Trigger)
		dst = jsonField(dst, "message", false)
		dst = appendJSONString(dst, b.Message)
		dst = jsonField(dst, "files", false)
		dst = strconv.AppendInt(dst, int64(b.Files), 10)
		dst = jsonField(dst, "size_bytes", false)
		dst = strconv.AppendInt(dst, b.SizeBytes, 10)
		dst = jsonField(dst, "confidence", false)
		dst = appendJSONFloat(dst, b.Confidence)
		dst = jsonField(dst, "pinned", false)
		dst = strconv.AppendBool(dst, b.Pinned)
		dst = jsonField(dst, "covered_by", false)
		dst = appendOptString(dst, b.CoveredBy)
		dst = jsonField(dst, "archive", false)
		dst = appendOptString(dst, b.Archive)
		dst = append(dst, "\n  }"...)
		if i < len(bs)-1 {
			dst = append(dst, ',')
		}
		dst = append(dst, '\n')
	}
	return append(dst, "]\n"...)
}

func jsonField(dst []byte, name string, first bool) []byte {
	if !first {
		dst = append(dst, ",\n"...)
	}
	dst = append(dst, `    "`...)
	dst = append(dst, name...)
	return append(dst, `": `...)
}

func appendOptString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendJSONString(dst, *s)
}

func appendJSONTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendJSONFloat formats like encoding/json for the values confidence takes.
func appendJSONFloat(dst []byte, f float64) []byte {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // as encoding/json: e-09 becomes e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does without HTML escaping:
// invalid UTF-8 becomes U+FFFD, and U+2028 and U+2029 are escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
