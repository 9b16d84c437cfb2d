package transitions

import "testing"

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1", 1},
		{"1048576", 1 << 20},
		{"100MB", 100 << 20},
		{"100mb", 100 << 20},
		{"500MiB", 500 << 20},
		{"1G", 1 << 30},
		{"1g", 1 << 30},
		{"2T", 2 << 40},
		{"1.5G", 3 << 29},
		{"1.5 GB", 3 << 29},
		{"10K", 10 << 10},
		{"10 KiB", 10 << 10},
		{"512B", 512},
		{"0.5", 1}, // half a byte rounds up
		{"8388607TB", 8388607 << 40},
		{" 1M ", 1 << 20},
	} {
		got, err := ParseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseBytes_bad(t *testing.T) {
	for _, in := range []string{
		"", "MB", "-1", "+1", "1PB", "1 M B", "1e6", "1..5G", ".5G", "5.G", "1,5G", "8388608TB",
		"9223372036854775808", "0x10", "NaN", "Inf", "1GBB",
	} {
		if n, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", in, n)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{-5, "0"},
		{1, "1"},
		{1000, "1000"},
		{1 << 10, "1KB"},
		{1536 << 10, "1536KB"},
		{100 << 20, "100MB"},
		{1 << 30, "1GB"},
		{3 << 40, "3TB"},
		{1<<20 + 1, "1048577"},
	} {
		if got := FormatBytes(tc.in); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"0", "100MB", "500MiB", "1G", "1.5G", "123456789", "8388607TB", "9.999999999999999999T", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseBytes(%q) = %d, negative", s, n)
		}
		again, err := ParseBytes(FormatBytes(n))
		if err != nil || again != n {
			t.Fatalf("ParseBytes(FormatBytes(%d) = %q) = %d, %v", n, FormatBytes(n), again, err)
		}
	})
}
