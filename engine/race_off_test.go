// What this file says: the race detector is off, so the randomized tests
// make their full run (see race_on_test.go).
//
//go:build !race

package engine

const testRaceEnabled = false
