package transitions

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day and Week are the calendar-free units config durations accept.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// durationUnits are the suffixes ParseDuration accepts, largest first (the
// order FormatDuration writes them in).
var durationUnits = []struct {
	suffix byte
	size   time.Duration
}{
	{'w', Week}, {'d', Day}, {'h', time.Hour}, {'m', time.Minute}, {'s', time.Second},
}

// errDuration is what ParseDuration says about text it cannot read.
var errDuration = errors.New("not a duration (like 90s, 36h, 7d, 2w or 1d12h)")

// ParseDuration reads a config duration: whole numbers with the units w
// (weeks), d (days), h, m and s, in any combination ("90s", "36h", "7d", "2w",
// "1d12h"). A plain number counts seconds (the unit of the old shell
// settings); "0" is zero. Negative durations, fractions and durations beyond
// time.Duration's range are errors.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return 0, errDuration
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, errDuration
		}
		return time.Duration(n) * time.Second, nil
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, errDuration
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, errDuration
		}
		unit, ok := durationUnit(s[i])
		if !ok {
			return 0, errDuration
		}
		if n > int64(math.MaxInt64/unit) {
			return 0, errDuration
		}
		part := time.Duration(n) * unit
		if total > math.MaxInt64-part {
			return 0, errDuration
		}
		total += part
		s = s[i+1:]
	}
	return total, nil
}

func durationUnit(c byte) (time.Duration, bool) {
	for _, u := range durationUnits {
		if u.suffix == c {
			return u.size, true
		}
	}
	return 0, false
}

// FormatDuration writes d the way ParseDuration reads it, with days as the
// largest unit ("7d", "1d12h", "1m30s", "0"). Parts below a second are
// dropped; negative durations format as "0".
func FormatDuration(d time.Duration) string {
	if d < time.Second {
		return "0"
	}
	var b strings.Builder
	for _, u := range durationUnits[1:] {
		if n := d / u.size; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteByte(u.suffix)
			d -= n * u.size
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
