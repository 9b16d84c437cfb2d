package gitstate

import (
	"fmt"
	"syscall"
)

// DiskUsage is the state of the file system holding a path.
type DiskUsage struct {
	Path        string  `json:"path"`
	TotalBytes  uint64  `json:"total_bytes"`
	FreeBytes   uint64  `json:"free_bytes"` // available to unprivileged users
	UsedPercent float64 `json:"used_percent"`
}

// Usage measures the file system that holds path.
func Usage(path string) (DiskUsage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return DiskUsage{}, fmt.Errorf("measure disk of %q: %w", path, err)
	}
	bs := uint64(st.Bsize)
	total := st.Blocks * bs
	avail := st.Bavail * bs
	used := total - st.Bfree*bs
	u := DiskUsage{Path: path, TotalBytes: total, FreeBytes: avail}
	// Like df: used / (used + available), so reserved blocks count as full.
	if used+avail > 0 {
		u.UsedPercent = float64(used) * 100 / float64(used+avail)
	}
	return u, nil
}
