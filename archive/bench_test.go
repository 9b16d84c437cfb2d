package archive

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkWrite archives a 200 MB synthetic snapshot: many source-like
// files, a few large compressible ones and some incompressible ones, written,
// synced and verified as Write always does.
func BenchmarkWrite(b *testing.B) {
	var files []tfile
	total := 0
	for i := 0; total < 200<<20; i++ {
		var f tfile
		switch {
		case i%500 == 0:
			f = tfile{fmt.Sprintf("assets/%d.bin", i), ModeRegular, randomBytes(uint64(i), 4<<20, false)}
		case i%100 == 0:
			f = tfile{fmt.Sprintf("data/%d.txt", i), ModeRegular, randomBytes(uint64(i), 8<<20, true)}
		default:
			f = tfile{fmt.Sprintf("src/pkg%d/file%d.go", i%50, i), ModeRegular, randomBytes(uint64(i), 40_000, true)}
		}
		files = append(files, f)
		total += len(f.content)
	}
	m, s := backup(files)
	a := New()
	defer a.Close()
	dir := b.TempDir()
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		info, err := a.Write(b.Context(), filepath.Join(dir, "x.tar.zst"), m, s.open, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(info.Size)/float64(total), "ratio")
	}
}
