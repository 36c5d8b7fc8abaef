// This file proves that the routing hash is the documented one and stays
// put: fixed vectors (also in testdata/golden.json and docs/PROTOCOL.md)
// computed by an independent, plainly written FNV-1a; an even spread of a
// realistic item population over the shards; and Route sending every op
// where the spec says.
package protocol

import (
	"fmt"
	"testing"

	"github.com/invsys/inv/engine"
)

// fnv1a64 is the textbook definition, written apart from shard.go.
func fnv1a64(data []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range data {
		h ^= uint64(b)
		h *= 1099511628211
	}
	return h
}

func TestShardOfVectors(t *testing.T) {
	cases := []struct {
		sku, store string
		shards     int
		hash       uint64
		shard      int
	}{
		// The PROTOCOL.md example: never change these numbers.
		{"4710088412345", "TPE0427", 64, 16911997977788350216, 8},
		{"4710088412345", "KHH0113", 64, 6286486891376283034, 26},
		{"AB", "C", 1024, 5074366073579022326, 1014},
		{"A", "BC", 1024, 7364113046297638012, 124},
	}
	for _, c := range cases {
		in := append(append([]byte{byte(len(c.sku))}, c.sku...), append([]byte{byte(len(c.store))}, c.store...)...)
		if h := fnv1a64(in); h != c.hash {
			t.Fatalf("reference FNV of %q/%q = %d, vector says %d", c.sku, c.store, h, c.hash)
		}
		if h := ItemHash([]byte(c.sku), []byte(c.store)); h != c.hash {
			t.Errorf("ItemHash(%q, %q) = %d, want %d", c.sku, c.store, h, c.hash)
		}
		if s := ShardOf([]byte(c.sku), []byte(c.store), c.shards); s != c.shard {
			t.Errorf("ShardOf(%q, %q, %d) = %d, want %d", c.sku, c.store, c.shards, s, c.shard)
		}
	}
	if h := CustomerHash([]byte("M00012345")); h != fnv1a64(append([]byte{9}, "M00012345"...)) || h != 5023443574863355828 {
		t.Errorf("CustomerHash = %d", h)
	}
}

func TestShardSpread(t *testing.T) {
	const shards = 64
	var counts [shards]int
	n := 0
	for sku := 0; sku < 200; sku++ {
		for store := 0; store < 500; store++ {
			counts[ShardOf(fmt.Appendf(nil, "4710088%06d", sku), fmt.Appendf(nil, "S%05d", store), shards)]++
			n++
		}
	}
	mean := n / shards
	for s, c := range counts {
		if c < mean*9/10 || c > mean*11/10 {
			t.Errorf("shard %d holds %d items; mean %d", s, c, mean)
		}
	}
}

func TestRoute(t *testing.T) {
	const shards = 16
	item := ShardOf(vSKU, vStore, shards)
	cust := ShardOfCustomer(vCustomer, shards)
	id := engine.MakeID(11, 5)
	for op := engine.Op(1); op <= engine.OpLast; op++ {
		if !clientOp(op) {
			continue
		}
		cmd := engine.Command{Op: op, SKU: vSKU, Store: vStore, Customer: vCustomer, ID: id}
		want := map[engine.Op]int{
			engine.OpReserve: item, engine.OpPutItem: item, engine.OpPutWindow: item, engine.OpRestock: item,
			engine.OpAdjustStock: item, engine.OpSetSaleWindow: item, engine.OpSetLimit: item,
			engine.OpSetMemberShare: item, engine.OpGetItem: item, engine.OpGetWindow: item,
			engine.OpConfirm: 11, engine.OpExtend: 11, engine.OpCancel: 11, engine.OpPickup: 11,
			engine.OpReschedule: 11, engine.OpReturn: 11, engine.OpUnlock: 11, engine.OpGetReservation: 11,
			engine.OpBlock: cust, engine.OpUnblock: cust, engine.OpSetTier: cust, engine.OpGetCustomer: cust,
			engine.OpListReservations: AllShards, engine.OpStoresWithStock: AllShards, engine.OpListItems: AllShards,
			engine.OpClaim: cust, engine.OpReleaseClaim: AllShards, engine.OpAnchorClaim: AllShards,
			engine.OpResolveClaim: AllShards, engine.OpDelivered: AllShards, engine.OpGetClaim: AllShards,
			engine.OpGetClaimHold: AllShards,
		}
		w, ok := want[op]
		if !ok {
			t.Errorf("%v: no routing rule in this test", op)
			continue
		}
		if got := Route(&cmd, shards); got != w {
			t.Errorf("Route(%v) = %d, want %d", op, got, w)
		}
	}
	byCode := engine.Command{Op: engine.OpPickup, Store: vStore, PickupCode: vCode}
	if got := Route(&byCode, shards); got != AllShards {
		t.Errorf("pickup by code alone routed to %d", got)
	}
}

// TestCustomerShardAgrees: the engine's CustomerShard (which decides
// whether a reserve needs a claim) is ShardOfCustomer, for every id length.
func TestCustomerShardAgrees(t *testing.T) {
	for n := 1; n <= MaxIDBytes; n++ {
		for shards := 1; shards <= 17; shards += 4 {
			id := fmt.Appendf(nil, "%0*d", n, n*shards)
			if a, b := engine.CustomerShard(id, shards), ShardOfCustomer(id, shards); a != b {
				t.Fatalf("%q over %d shards: engine %d, protocol %d", id, shards, a, b)
			}
		}
	}
}
