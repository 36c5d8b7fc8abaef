// What this file says: the tests run under the race detector (go test
// -race), whose sync.Pool drops records at random: a test that counts
// allocations of pooled paths skips itself.
//
//go:build race

package router

const testRaceEnabled = true
