package transitions

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"90s", 90 * time.Second},
		{"5m", 5 * time.Minute},
		{"36h", 36 * time.Hour},
		{"7d", 7 * Day},
		{"2w", 2 * Week},
		{"1d12h", 36 * time.Hour},
		{"1w2d3h4m5s", Week + 2*Day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"12h1d", 36 * time.Hour},
		{"0s", 0},
		{"0d", 0},
		{"604800", 7 * Day},
		{" 7d ", 7 * Day},
		{"15250w", 15250 * Week},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseDuration_bad(t *testing.T) {
	for _, in := range []string{
		"", " ", "d", "7x", "-1d", "+1d", "1.5h", "1 d", "1d 2h", "7D", "1ms", "h1",
		"1e3s", "abc", "9223372036854775807s", "99999999999999999999", "15251w", "1d-", "0x10s",
	} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{-time.Hour, "0"},
		{500 * time.Millisecond, "0"},
		{90 * time.Second, "1m30s"},
		{60 * time.Second, "1m"},
		{36 * time.Hour, "1d12h"},
		{7 * Day, "7d"},
		{2 * Week, "14d"},
		{Day + time.Second, "1d1s"},
	} {
		if got := FormatDuration(tc.in); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0", "90s", "36h", "7d", "2w", "1d12h", "604800", "1w1d1h1m1s", "15250w", "-1s", "1.5h", "9999999999999999999d", "1d1d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		again, err := ParseDuration(FormatDuration(d))
		if err != nil || again != d {
			t.Fatalf("ParseDuration(FormatDuration(%v) = %q) = %v, %v", d, FormatDuration(d), again, err)
		}
	})
}
