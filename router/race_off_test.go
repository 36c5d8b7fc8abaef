// What this file says: the race detector is off, so the tests that count
// allocations run (see race_on_test.go).
//
//go:build !race

package router

const testRaceEnabled = false
