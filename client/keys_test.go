// What this file proves: a key the client generates for a request is homed
// (protocol.ShardOfKey) on the shard the request goes to, for every shard
// of several cluster sizes, is 32 lowercase hex characters, and costs no
// allocation; BenchmarkKeyOn measures its cost. How: nextOn is called for
// each shard many times and every key is checked with the protocol's own
// function.
package client

import (
	"testing"

	"github.com/invsys/inv/protocol"
)

func TestGeneratedKeysLandOnTheirShard(t *testing.T) {
	s := newKeySource()
	for _, shards := range []int{2, 3, 16, 64, 300, 1024} {
		for shard := 0; shard < shards; shard++ {
			for i := 0; i < 4; i++ {
				var k [keyBytes]byte
				s.nextOn(&k, shard, shards)
				if got := protocol.ShardOfKey(k[:], shards); got != shard {
					t.Fatalf("key %s for shard %d of %d is homed on %d", k[:], shard, shards, got)
				}
				for _, c := range k {
					if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
						t.Fatalf("key %q is not hex", k[:])
					}
				}
			}
		}
	}
}

func TestGenKeyForFollowsTheRoute(t *testing.T) {
	c := &Client{keys: newKeySource()}
	c.route.Store(&routing{shards: 16, hashed: true})
	for _, store := range []string{"S1", "S2", "TPE0427", "KHH0113"} {
		r := request{store: store}
		r.cmd.Op = 1 // reserve
		c.genKeyFor(&r)
		if got, want := protocol.ShardOfKey(r.genKey[:], 16), protocol.ShardOfStore([]byte(store), 16); got != want {
			t.Errorf("store %s (shard %d): key homed on %d", store, want, got)
		}
	}
}

func TestKeyOnAllocatesNothing(t *testing.T) {
	s := newKeySource()
	var k [keyBytes]byte
	if a := testing.AllocsPerRun(1000, func() { s.nextOn(&k, 5, 16) }); a != 0 {
		t.Errorf("%v allocations per key", a)
	}
}

func BenchmarkKeyOn(b *testing.B) {
	for _, shards := range []int{1, 16, 1024} {
		b.Run("shards="+itoa(shards), func(b *testing.B) {
			s := newKeySource()
			var k [keyBytes]byte
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s.nextOn(&k, i%shards, shards)
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
