package transitions

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// byteUnits are the multipliers ParseBytes accepts. Like git's own size
// settings (core.bigFileThreshold, pack.windowMemory) they are powers of
// 1024 whichever way they are spelled: 1MB, 1M and 1MiB are all 1,048,576.
var byteUnits = []struct {
	name string // how FormatBytes writes it
	size int64
}{
	{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
}

// errBytes is what ParseBytes says about text it cannot read.
var errBytes = errors.New("not a size (like 100MB, 500MiB, 1G or 1048576)")

// ParseBytes reads a size: a number of bytes, optionally with a decimal
// fraction and a unit (B, K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB, TiB, in
// any case). "1.5G" is 1,610,612,736 bytes; fractions of a byte round to
// the nearest byte. Negative sizes and sizes beyond int64 are errors.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 48 {
		return 0, errBytes
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unitText := s[:i], strings.TrimSpace(s[i:])
	unit, ok := byteUnit(unitText)
	if !ok {
		return 0, errBytes
	}
	whole, frac, hasDot := strings.Cut(num, ".")
	if !isDigits(whole) || hasDot && !isDigits(frac) {
		return 0, errBytes
	}
	// (whole·10^k + frac) · unit / 10^k, rounded half up, exactly.
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	n, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		return 0, errBytes
	}
	n.Mul(n, big.NewInt(unit))
	n.Mul(n, big.NewInt(2))
	n.Add(n, scale)
	n.Quo(n, new(big.Int).Mul(scale, big.NewInt(2)))
	if !n.IsInt64() {
		return 0, errBytes
	}
	return n.Int64(), nil
}

func byteUnit(u string) (int64, bool) {
	switch strings.ToLower(u) {
	case "", "b":
		return 1, true
	case "k", "kb", "kib":
		return 1 << 10, true
	case "m", "mb", "mib":
		return 1 << 20, true
	case "g", "gb", "gib":
		return 1 << 30, true
	case "t", "tb", "tib":
		return 1 << 40, true
	}
	return 0, false
}

// FormatBytes writes n the way ParseBytes reads it: in the largest unit that
// divides it exactly ("100MB", "1536KB"), else in plain bytes.
func FormatBytes(n int64) string {
	if n <= 0 {
		return "0"
	}
	for _, u := range byteUnits {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
