// Fuzzing of the config file parser: any bytes either parse or are refused
// with an error naming the file and line; never a panic. What parses is
// checked for the invariants the rest of invd relies on: tokens are stored
// as 64-digit hashes with a role, store tokens name their stores, durations
// are not negative, connection bounds are positive or (per address) -1 for
// none, and parsing the same text twice gives the same config
// (no hidden state between runs). Seeds live in testdata/fuzz/FuzzParseConfig
// and are run by every `go test`; `make fuzz` explores from them.
package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/invsys/inv/server"
)

func FuzzParseConfig(f *testing.F) {
	f.Add("listen = 127.0.0.1:7420\nshards = 4\n")
	f.Add("token = operator " + server.HashToken("x") + "\n")
	f.Add("token = store " + server.HashToken("k") + " S1,S2 # a kiosk\n")
	f.Add(`pickup_secret = "00112233445566778899aabbccddeeff"` + "\nhold_ttl = 5m\n")
	f.Add("read_timeout = 300ms\nwrite_timeout = -1s\n")
	f.Add("pickup_rate_per_store = 2.5\npickup_burst_per_store = 10\n")
	f.Add("max_unauthenticated_connections = 64\nmax_connections_per_address = 0\n")
	f.Add("= \n#\n\"\"=\"\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		c := defaultConfig()
		err := parseConfig(&c, strings.NewReader(text), "fuzz.conf")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.conf:") {
				t.Fatalf("error without its line: %v", err)
			}
			return
		}
		for h, g := range c.Tokens {
			if len(h) != 64 || g.Role == server.RoleNone || (g.Role == server.RoleStore) != (len(g.Stores) > 0) {
				t.Fatalf("token %q: %+v", h, g)
			}
		}
		if c.Server.ReadTimeout < 0 || c.Server.WriteTimeout < 0 || c.Server.HelloTimeout < 0 ||
			c.Server.PickupRatePerConn < 0 || c.Server.PickupRatePerStore < 0 ||
			c.Server.MaxUnauthenticated < 0 || c.Server.MaxConnsPerAddress < -1 {
			t.Fatalf("negative setting parsed: %+v", c.Server)
		}
		c2 := defaultConfig()
		if err := parseConfig(&c2, strings.NewReader(text), "fuzz.conf"); err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}
