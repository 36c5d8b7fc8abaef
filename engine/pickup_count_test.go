// A code-only pickup is asked of every shard; it must count as one refusal
// (inv_refusals_total), not one per shard (docs/adr/0103). This proves, on
// engines configured as shards of a cluster of 4, that a code naming
// nothing is counted bad_code by the store's shard only, the others
// answering bad_code uncounted, and that a one-shard engine counts every
// miss. Before, every shard counted bad_code.
package engine

import (
	"testing"
	"time"
)

func TestCodeOnlyPickupCountedOnce(t *testing.T) {
	const shards = 4
	store := []byte("TPE0427")
	home := uint16(storeHash(store) % shards)
	misses := 0
	for sh := uint16(0); sh < shards; sh++ {
		e := New(Config{ShardID: sh, Shards: shards, PickupSecret: []byte("count test")})
		res, _ := e.Apply(time.Now().UnixNano(), []Command{{Op: OpPickup, Store: store, PickupCode: 123456789012}})
		if res[0].Code != CodeBadCode {
			t.Fatalf("shard %d: %v, want bad_code", sh, res[0].Code)
		}
		n := e.Stats().Refusals[CodeBadCode]
		if (sh == home) != (n == 1) || n > 1 {
			t.Errorf("shard %d (the store's is %d) counted %d bad_code", sh, home, n)
		}
		misses += int(n)
	}
	if misses != 1 {
		t.Fatalf("one code-only pickup counted %d times over %d shards", misses, shards)
	}
	one := New(Config{PickupSecret: []byte("count test")})
	one.Apply(time.Now().UnixNano(), []Command{{Op: OpPickup, Store: store, PickupCode: 123456789012}})
	if n := one.Stats().Refusals[CodeBadCode]; n != 1 {
		t.Fatalf("a one-shard engine counted %d", n)
	}
}
