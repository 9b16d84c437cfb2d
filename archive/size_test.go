//go:build !race

package archive

// largeSize is the size of the large file in round-trip tests.
const largeSize = 50 << 20
