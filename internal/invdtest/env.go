package invdtest

import (
	"os"
	"strings"
)

// raceExitOption makes a race-enabled process exit at once. The race
// detector's runtime sleeps atexit_sleep_ms (1 s by default) before every
// exit, to catch races of goroutines still running; a report is printed
// when a race happens, not at exit, and the tests stop their servers only
// after their load has ended, so the sleep finds nothing. It cost one
// second per invctl or invbench run and per server stop: most of the time
// of the command packages' end-to-end tests.
const raceExitOption = "atexit_sleep_ms=0"

// Env is the environment of a command a test starts (invd, invctl,
// invbench): the test's own, with raceExitOption added to GORACE unless
// GORACE already sets atexit_sleep_ms.
func Env() []string {
	env := os.Environ()
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GORACE="); ok {
			if !strings.Contains(v, "atexit_sleep_ms") {
				env[i] = "GORACE=" + strings.TrimSpace(v+" "+raceExitOption)
			}
			return env
		}
	}
	return append(env, "GORACE="+raceExitOption)
}
