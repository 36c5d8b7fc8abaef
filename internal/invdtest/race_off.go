//go:build !race

package invdtest

// RaceEnabled reports whether this binary runs under the race detector.
const RaceEnabled = false
