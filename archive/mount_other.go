//go:build !unix

package archive

// mountPoint is unknown on this system.
func mountPoint(string) string { return "" }
