// End-to-end test of idempotency keys across shards (docs/adr/0073) on one
// invd with 16 shards: one key sent with four reserves for items of four
// stores in four shards gives one reservation and three key_conflict
// (before keys had homes, each shard kept its own keys and all four were
// held); the first request sent again with its key gets its first answer,
// and the storefront-chosen key's registration is counted. Requests go
// over the raw protocol, so nothing in a client library helps.
package main_test

import (
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestOneKeyAcrossShards(t *testing.T) {
	const shards = 16
	p := startInvd(t, shards, "")
	c := dial(t, p)
	const sku, key = "KEYED", "order-4711"
	home := protocol.ShardOfKey([]byte(key), shards)
	var stores []string
	for sh := 0; sh < shards && len(stores) < 4; sh++ {
		if sh == home {
			continue // every request below runs away from the key's home
		}
		store := storeInShard(sku, sh, shards)
		want(t, c, engine.OK, putItem(sku, store, 10))
		stores = append(stores, store)
	}
	first := want(t, c, engine.OK, keyed(reserve(sku, stores[0], "ann", 1), key))
	for _, store := range stores[1:] {
		want(t, c, engine.CodeKeyConflict, keyed(reserve(sku, store, "ann", 1), key))
	}
	again := want(t, c, engine.OK, keyed(reserve(sku, stores[0], "ann", 1), key))
	if again.ID != first.ID {
		t.Errorf("the retry got reservation %d, the first answer was %d", again.ID, first.ID)
	}
	held := int64(0)
	for _, store := range stores {
		it := want(t, c, engine.OK, engine.Command{Op: engine.OpGetItem, SKU: []byte(sku), Store: []byte(store)})
		held += it.Item.Held
	}
	if held != 1 {
		t.Errorf("%d units held over the four stores, want 1 (one key, one reservation)", held)
	}
	m := scrape(t, p)
	if n := m["inv_idempotency_keys_registered_total"]; n < 4 {
		t.Errorf("inv_idempotency_keys_registered_total = %v, want at least 4 (one per request away from the key's home)", n)
	}
}
