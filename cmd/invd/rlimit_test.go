// The start-up check of the file descriptor limit, as a decision over the
// soft and hard limits: enough is kept, a soft limit below the need is
// raised to the hard one (or to the need under an unlimited hard one), and
// a hard limit below the need, even by one, is refused with both numbers
// and the settings that change them. The e2e test TestDescriptorLimitAtStart
// runs the same against a real invd under ulimit.
package main

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/invsys/inv/server"
)

func TestPlanNoFile(t *testing.T) {
	need := server.Descriptors{Connections: 100, Unauthenticated: 20, Rest: 30} // 150
	for _, tc := range []struct {
		soft, hard, want uint64
		refused          bool
	}{
		{soft: 150, hard: 150, want: 150},
		{soft: 4096, hard: 8192, want: 4096},
		{soft: 149, hard: 150, want: 150},
		{soft: 64, hard: 1 << 20, want: 1 << 20},
		{soft: 64, hard: math.MaxUint64, want: 150},
		{soft: 149, hard: 149, refused: true},
		{soft: 64, hard: 100, refused: true},
	} {
		got, err := planNoFile(tc.soft, tc.hard, need)
		if tc.refused {
			if err == nil {
				t.Errorf("soft %d hard %d: started with %d, want a refusal", tc.soft, tc.hard, got)
				continue
			}
			for _, s := range []string{"is " + strconv.FormatUint(tc.hard, 10), "the 150 this configuration needs", "max_connections 100",
				"max_unauthenticated_connections 20", "30 for", "ulimit -n", "LimitNOFILE"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("soft %d hard %d: the refusal does not say %q: %v", tc.soft, tc.hard, s, err)
				}
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("soft %d hard %d: %d %v, want %d", tc.soft, tc.hard, got, err, tc.want)
		}
	}
}

// TestFitConnections: a default max_connections is lowered to what the
// hard limit leaves (never raised, never below minFittedConnections).
func TestFitConnections(t *testing.T) {
	need := server.Descriptors{Connections: 10_000, Unauthenticated: 1024, Rest: 1300}
	for _, tc := range []struct {
		hard uint64
		want int
		ok   bool
	}{
		{hard: 4096, want: 4096 - 2324, ok: true},
		{hard: 2324 + minFittedConnections, want: minFittedConnections, ok: true},
		{hard: 2324 + minFittedConnections - 1, ok: false},
		{hard: 1 << 20, want: 10_000, ok: true},
		{hard: math.MaxUint64, want: 10_000, ok: true},
	} {
		got, ok := fitConnections(tc.hard, need)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("hard %d: %d %v, want %d %v", tc.hard, got, ok, tc.want, tc.ok)
		}
	}
}
