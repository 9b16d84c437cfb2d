package monitor

import "strings"

var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws vals in at most width cells (neighbouring values averaged),
// scaled from their minimum (▁) to their maximum (█); a flat series is drawn
// at mid height.
func Sparkline(vals []float64, width int) string {
	if len(vals) == 0 || width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = buckets(vals, width)
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := len(sparks) / 2
		if hi > lo {
			i = int((v-lo)/(hi-lo)*float64(len(sparks)-1) + 0.5)
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

// buckets averages vals into n groups of nearly equal size.
func buckets(vals []float64, n int) []float64 {
	out := make([]float64, n)
	for i := range n {
		a, z := i*len(vals)/n, (i+1)*len(vals)/n
		sum := 0.0
		for _, v := range vals[a:z] {
			sum += v
		}
		out[i] = sum / float64(z-a)
	}
	return out
}
