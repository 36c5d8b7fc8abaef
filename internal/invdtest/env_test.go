// Proves Env: GORACE gets atexit_sleep_ms=0 added to whatever options it
// had, and an atexit_sleep_ms the caller chose is kept.
package invdtest

import (
	"slices"
	"testing"
)

func TestEnvSetsTheRaceExitSleep(t *testing.T) {
	for _, tc := range []struct{ gorace, want string }{
		{"", "GORACE=atexit_sleep_ms=0"},
		{"halt_on_error=1", "GORACE=halt_on_error=1 atexit_sleep_ms=0"},
		{"atexit_sleep_ms=500", "GORACE=atexit_sleep_ms=500"},
	} {
		t.Setenv("GORACE", tc.gorace)
		env := Env()
		if !slices.Contains(env, tc.want) {
			t.Errorf("GORACE=%q: env has %q, want %q", tc.gorace, gorace(env), tc.want)
		}
		if n := len(slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return len(kv) < 7 || kv[:7] != "GORACE=" })); n != 1 {
			t.Errorf("GORACE=%q: %d GORACE entries", tc.gorace, n)
		}
	}
}

func gorace(env []string) string {
	for _, kv := range env {
		if len(kv) >= 7 && kv[:7] == "GORACE=" {
			return kv
		}
	}
	return ""
}
