//go:build unix

package archive

import (
	"path/filepath"
	"syscall"
)

// mountPoint returns the top directory of the file system holding dir: the
// last ancestor on the same device. It returns "" when it cannot tell.
func mountPoint(dir string) string {
	p, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	var st syscall.Stat_t
	if syscall.Stat(p, &st) != nil {
		return ""
	}
	for {
		up := filepath.Dir(p)
		var ust syscall.Stat_t
		if up == p || syscall.Stat(up, &ust) != nil || ust.Dev != st.Dev {
			return p
		}
		p = up
	}
}
