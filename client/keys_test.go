// What this file proves: a key the client generates for a request is homed
// (protocol.ShardOfKey) on the shard the request goes to, for every shard
// of several cluster sizes, is 27 lowercase hex characters and the suffix
// "~hhhh" naming its shard, and costs no allocation; a cart line's derived
// key is homed on its store's shard and follows from the cart's key alone;
// BenchmarkKeyOn measures the cost. How: nextOn is called for
// each shard many times and every key is checked with the protocol's own
// function.
package client

import (
	"testing"

	"github.com/invsys/inv/engine"
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
				for j, c := range k {
					if j == keyBytes-protocol.KeyHomeSuffix {
						if c != '~' {
							t.Fatalf("key %q has no home suffix", k[:])
						}
					} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
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

func TestCartLineKeysHomedOnTheStoresShard(t *testing.T) {
	c := &Client{keys: newKeySource()}
	c.route.Store(&routing{shards: 16, hashed: true})
	for _, store := range []string{"S1", "TPE0427", "KHH0113"} {
		home := c.storeShard([]byte(store))
		if home != protocol.ShardOfStore([]byte(store), 16) {
			t.Fatalf("store %s: storeShard %d", store, home)
		}
		for _, base := range []string{"cart-1", c.NewKey(), string(make([]byte, 60))} {
			for i := 0; i < 3; i++ {
				k := derivedKey(base, "l", i, home)
				if len(k) > maxKeyBytes {
					t.Fatalf("derived key %q of %d bytes", k, len(k))
				}
				if got := protocol.ShardOfKey(k, 16); got != home {
					t.Errorf("line %d of cart %q at %s: key %q homed on %d, the store's shard is %d", i, base, store, k, got, home)
				}
				if again := derivedKey(base, "l", i, home); string(again) != string(k) {
					t.Errorf("line %d: keys %q and %q for one cart key", i, k, again)
				}
			}
		}
	}
	// Placement unknown: the derived key has no suffix (homed by its hash).
	if k := derivedKey("cart-1", "l", 0, -1); string(k) != "cart-1/l0" {
		t.Errorf("derived key without a shard: %q", k)
	}
}

func TestCallerKeysHomed(t *testing.T) {
	c := &Client{keys: newKeySource()}
	c.route.Store(&routing{shards: 16, hashed: true})
	for _, store := range []string{"S1", "TPE0427"} {
		k := c.KeyForStore("order-4711-r", store)
		if got, want := protocol.ShardOfKey([]byte(k), 16), protocol.ShardOfStore([]byte(store), 16); got != want || k[:12] != "order-4711-r" {
			t.Errorf("KeyForStore(%s) = %q homed on %d, the store's shard is %d", store, k, got, want)
		}
	}
	id := engine.MakeID(5, 77)
	if k := c.KeyForReservation("order-4711-c", id); protocol.ShardOfKey([]byte(k), 16) != 5 {
		t.Errorf("KeyForReservation = %q, homed on %d, want 5", k, protocol.ShardOfKey([]byte(k), 16))
	}
	long := string(make([]byte, maxKeyBytes))
	if k := c.KeyForStore(long, "S1"); k != long {
		t.Error("a key with no room for the suffix was changed")
	}
	c.route.Store(&routing{shards: 16})
	if k := c.KeyForStore("order-1", "S1"); k != "order-1" {
		t.Errorf("placement unknown: %q", k)
	}
}
