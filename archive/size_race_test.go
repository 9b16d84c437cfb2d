//go:build race

package archive

// largeSize is the size of the large file in round-trip tests, smaller
// under the race detector, which slows compression down many times.
const largeSize = 8 << 20
