// This file proves that the routing hash is the documented one and stays
// put: fixed vectors (also in testdata/golden.json and docs/PROTOCOL.md)
// computed by an independent, plainly written FNV-1a; items placed by their
// store alone; an even spread of a chain's stores over the shards; and
// RouteOf sending every op where the spec says.
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
		// The PROTOCOL.md example: never change these numbers. The SKU
		// does not take part: every SKU of a store is in the store's shard.
		{"", "TPE0427", 64, 16497104550760900906, 42},
		{"4710088412345", "TPE0427", 64, 16497104550760900906, 42},
		{"4710088499999", "TPE0427", 64, 16497104550760900906, 42},
		{"4710088412345", "KHH0113", 64, 6329268523416533300, 52},
		{"", "C", 1024, 589801159983169181, 669},
		{"", "BC", 1024, 16847144975852092946, 530},
	}
	for _, c := range cases {
		in := append([]byte{byte(len(c.store))}, c.store...)
		if h := fnv1a64(in); h != c.hash {
			t.Fatalf("reference FNV of %q = %d, vector says %d", c.store, h, c.hash)
		}
		if h := StoreHash([]byte(c.store)); h != c.hash {
			t.Errorf("StoreHash(%q) = %d, want %d", c.store, h, c.hash)
		}
		if s := ShardOf([]byte(c.sku), []byte(c.store), c.shards); s != c.shard {
			t.Errorf("ShardOf(%q, %q, %d) = %d, want %d", c.sku, c.store, c.shards, s, c.shard)
		}
		if s := ShardOfStore([]byte(c.store), c.shards); s != c.shard {
			t.Errorf("ShardOfStore(%q, %d) = %d, want %d", c.store, c.shards, s, c.shard)
		}
	}
	if h := CustomerHash([]byte("M00012345")); h != fnv1a64(append([]byte{9}, "M00012345"...)) || h != 5023443574863355828 {
		t.Errorf("CustomerHash = %d", h)
	}
	if HashName != "fnv1a64-store" {
		t.Errorf("HashName %q: a new placement takes a new name (clients must not route by the old one)", HashName)
	}
}

// TestShardSpread: a chain's stores spread evenly over the shards, and so
// does a realistic item population (every SKU at every store).
func TestShardSpread(t *testing.T) {
	const shards = 64
	var counts [shards]int
	n := 0
	for store := 0; store < 6400; store++ {
		counts[ShardOfStore(fmt.Appendf(nil, "S%05d", store), shards)]++
		n++
	}
	mean := n / shards
	for s, c := range counts {
		if c < mean*8/10 || c > mean*12/10 {
			t.Errorf("shard %d holds %d stores; mean %d", s, c, mean)
		}
	}
}

func TestRouteOf(t *testing.T) {
	const shards = 16
	item := ShardOfStore(vStore, shards)
	if ShardOf(vSKU2, vStore, shards) != item {
		t.Fatalf("two SKUs of one store in two shards")
	}
	cust := ShardOfCustomer(vCustomer, shards)
	id := engine.MakeID(11, 5)
	type where struct {
		kind  RouteKind
		shard int
	}
	one := func(s int) where { return where{RouteShard, s} }
	all := where{RouteAll, AllShards}
	want := map[engine.Op]where{
		engine.OpReserve: one(item), engine.OpPutItem: one(item), engine.OpPutWindow: one(item),
		engine.OpRestock: one(item), engine.OpAdjustStock: one(item), engine.OpSetSaleWindow: one(item),
		engine.OpSetLimit: all, engine.OpSetMemberShare: one(item), engine.OpUpdateItem: one(item), engine.OpStoreItems: one(item), engine.OpGetItem: one(item),
		engine.OpGetWindow: one(item), engine.OpPutStore: one(item), engine.OpPutStoreWindow: one(item),
		engine.OpGetStore: one(item), engine.OpSetMarkRule: one(item), engine.OpGetMarkRule: one(item),
		engine.OpListByMark: all, engine.OpJoinWaitlist: one(item), engine.OpLeaveWaitlist: one(item),
		engine.OpGetWaitlist: one(item),
		// Coupons (docs/adr/0106): an issue by its store, a serial by its
		// ID's shard whatever store redeems it.
		engine.OpPutCouponIssue: one(item), engine.OpTakeCoupon: one(item), engine.OpGetCouponIssue: one(item),
		engine.OpRedeemCoupon: one(11), engine.OpGetCoupon: one(11),
		engine.OpConfirm: one(11), engine.OpExtend: one(11), engine.OpCancel: one(11), engine.OpPickup: one(11),
		engine.OpReschedule: one(11), engine.OpReturn: one(11), engine.OpUnlock: one(11),
		engine.OpGetReservation: one(11), engine.OpReleaseReview: one(11),
		// A customer's home owns its block, tier and no-shows (docs/adr/0072).
		engine.OpBlock: one(cust), engine.OpUnblock: one(cust), engine.OpSetTier: one(cust), engine.OpGetCustomer: one(cust),
		engine.OpNoShow: one(cust), engine.OpCustomerCopy: one(9),
		engine.OpListReservations: all, engine.OpStoresWithStock: all, engine.OpListItems: all,
		// The nodes' own name their shard: the customer's home, or the
		// item's shard (item_shard); delivered runs where it is proposed.
		engine.OpClaim: one(cust), engine.OpReleaseClaim: one(cust), engine.OpAnchorClaim: one(cust),
		engine.OpResolveClaim: one(7), engine.OpDelivered: all, engine.OpGetClaim: one(cust), engine.OpGetClaimHold: one(7),
		engine.OpExpire: all,
		// register_key: the key's home.
		engine.OpRegisterKey: one(ShardOfKey(vKey, shards)),
		// put_items: its first item's store's shard; without items, none.
		engine.OpPutItems: {RouteNone, AllShards},
	}
	for op := engine.Op(1); op <= engine.OpLast; op++ {
		if !op.Valid() {
			continue
		}
		cmd := engine.Command{Op: op, SKU: vSKU, Store: vStore, Customer: vCustomer, Key: vKey, ID: id, ItemShard: 7, ToShard: 9}
		w, ok := want[op]
		if !ok {
			t.Errorf("%v: no routing rule in this test", op)
			continue
		}
		if k, s := RouteOf(&cmd, shards); k != w.kind || s != w.shard {
			t.Errorf("RouteOf(%v) = %d/%d, want %d/%d", op, k, s, w.kind, w.shard)
		}
	}
	byCode := engine.Command{Op: engine.OpPickup, Store: vStore, PickupCode: vCode}
	if k, s := RouteOf(&byCode, shards); k != RouteShard || s != ShardOfStore(vStore, shards) {
		t.Errorf("pickup by code alone routed to %d/%d, want the store's shard %d", k, s, ShardOfStore(vStore, shards))
	}
	noStore := engine.Command{Op: engine.OpPickup, PickupCode: vCode}
	if k, s := RouteOf(&noStore, shards); k != RouteAll || s != AllShards {
		t.Errorf("pickup naming no reservation and no store routed to %d/%d", k, s)
	}
	if k, s := RouteOf(&engine.Command{Op: engine.OpCustomerCopy, Customer: vCustomer, ToShard: shards}, shards); k != RouteNone || s != AllShards {
		t.Errorf("a customer copy to shard %d among %d routed to %d/%d", shards, shards, k, s)
	}
	nowhere := engine.Command{Op: engine.OpCancel, ID: engine.MakeID(shards, 1)}
	bulk := engine.Command{Op: engine.OpPutItems, Items: []engine.ItemPut{{SKU: vSKU2, Store: vStore}, {SKU: vSKU, Store: []byte("elsewhere")}}}
	if k, s := RouteOf(&bulk, shards); k != RouteShard || s != item {
		t.Errorf("RouteOf(put_items) = %d/%d, want its first item's shard %d", k, s, item)
	}
	if k, s := RouteOf(&nowhere, shards); k != RouteNone || s != AllShards {
		t.Errorf("an id of shard %d among %d routed to %d/%d", shards, shards, k, s)
	}
	noItemShard := engine.Command{Op: engine.OpGetClaimHold, Claim: vClaim, ItemShard: shards}
	if k, s := RouteOf(&noItemShard, shards); k != RouteNone || s != AllShards {
		t.Errorf("item_shard %d among %d routed to %d/%d", shards, shards, k, s)
	}
	oldRelease := engine.Command{Op: engine.OpReleaseClaim, Claim: vClaim}
	if k, s := RouteOf(&oldRelease, shards); k != RouteAll || s != AllShards {
		t.Errorf("a release without its customer routed to %d/%d", k, s)
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

// TestStoreHashIsTheEngines: the engine's copy of the placement hash
// (engine.StoreHash, which decides the shard that counts a code-only
// pickup's refusal) is the protocol's, for ids of every length.
func TestStoreHashIsTheEngines(t *testing.T) {
	for n := 0; n <= MaxIDBytes; n++ {
		id := make([]byte, n)
		for i := range id {
			id[i] = byte(31*n + 7*i)
		}
		if StoreHash(id) != engine.StoreHash(id) {
			t.Fatalf("%d bytes: protocol %x, engine %x", n, StoreHash(id), engine.StoreHash(id))
		}
	}
}
