// What this file says: the package's randomized tests run under the race
// detector (go test -race), which makes them about ten times slower, so
// they plan a shorter run; the full run happens without -race.
//
//go:build race

package engine

const testRaceEnabled = true
