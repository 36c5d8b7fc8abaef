package protocol

import "github.com/invsys/inv/engine"

// HashName is TOPOLOGY's name for the shard function below. A client that
// meets another name must not route by its own guess: it sends to any node
// and follows NOT_LEADER hints. It is also the placement a node records in
// its data folder (raftstore): a node refuses a folder written under
// another (docs/adr/0071). The name before it, "fnv1a64-lp", placed items
// by SKU and store.
const HashName = "fnv1a64-store"

// FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/): one multiply and
// one xor per byte, no tables, and a few lines in any language, which is
// what a routing hash that every client must reproduce needs. Its spread
// over store codes and member ids is even enough for placement; it is not
// meant to resist chosen keys, and shard placement needs no secret.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime64 }

// fnvStr8 hashes s as the wire writes it: a length byte, then the bytes.
func fnvStr8(h uint64, s []byte) uint64 {
	h = fnvByte(h, byte(len(s)))
	for _, b := range s {
		h = fnvByte(h, b)
	}
	return h
}

// StoreHash returns the 64-bit hash of a store id: FNV-1a 64 over
// len(store) as one byte, store. Ids are at most MaxIDBytes (64) long, so
// the length byte is exact.
func StoreHash(store []byte) uint64 { return fnvStr8(fnvOffset64, store) }

// The engine keeps its own copy (a code-only pickup's refusal is counted by
// the store's shard alone); TestStoreHashIsTheEngines pins the two.

// ShardOfStore returns the shard that holds a store: its record (time zone,
// pickup windows with their capacity) and every item of the store:
// StoreHash(store) mod shards. shards must be at least 1.
func ShardOfStore(store []byte, shards int) int {
	if shards < 1 {
		panic("protocol: ShardOfStore with fewer than one shard")
	}
	return int(StoreHash(store) % uint64(shards))
}

// ShardOf returns the shard that holds the item (sku, store): its store's
// shard (ShardOfStore), so that every SKU of a store lies in one shard and
// the store's rules are that shard's alone. The SKU does not take part: a
// chain-wide sale of one SKU still spreads over the shards, one item per
// store (docs/adr/0071).
func ShardOf(sku, store []byte, shards int) int {
	_ = sku
	return ShardOfStore(store, shards)
}

// CustomerHash returns the 64-bit hash of a customer id: FNV-1a 64 over
// len(customer) as one byte, customer.
func CustomerHash(customer []byte) uint64 { return fnvStr8(fnvOffset64, customer) }

// ShardOfCustomer returns the shard that keeps a customer's record (tier,
// block flag, per-SKU counters): CustomerHash(customer) mod shards.
func ShardOfCustomer(customer []byte, shards int) int {
	if shards < 1 {
		panic("protocol: ShardOfCustomer with fewer than one shard")
	}
	return int(CustomerHash(customer) % uint64(shards))
}

// AllShards is what a client routes by when a request names no one shard
// (RouteAll or RouteNone): any node takes it.
const AllShards = -1

// RouteKind says where a request goes: to one shard, to every shard, or
// nowhere (it names a shard that does not exist).
type RouteKind uint8

const (
	// RouteShard: the request goes to one shard, the one RouteOf returns.
	RouteShard RouteKind = iota
	// RouteAll: the request concerns every shard. A client sends it to any
	// node, which proposes it to every shard (here or forwarded to their
	// leaders) and merges the answers (docs/adr/0032).
	RouteAll
	// RouteNone: a reservation id whose shard bits name no shard; no shard
	// issued it, so the answer is not_found without asking any.
	RouteNone
)

// RouteOf is the one routing table of clients and nodes (docs/adr/0030):
// it returns where cmd goes among shards, and the shard for RouteShard.
//
//   - ops on an item or a store (reserve, put_item, put_window, restock,
//     adjust_stock, set_sale_window, set_member_share, get_item,
//     get_window, put_store, put_store_window, get_store): the store's
//     shard, ShardOfStore(Store) (items are placed by store, docs/adr/0071);
//   - set_limit: every shard (each keeps the SKU's limit, the same at every
//     store);
//   - ops on a reservation (confirm, extend, cancel, reschedule, return,
//     unlock, get_reservation, pickup with an ID): the shard in the ID's
//     high 16 bits (engine.ShardOfID), RouteNone if there is no such shard;
//   - a customer's block, unblock, set_tier and get_customer: every shard,
//     because the engine keeps a customer's record in each shard where the
//     customer reserves (only the per-SKU limit counters live in the
//     customer's home shard, as claims: docs/adr/0070);
//   - list_reservations, stores_with_stock, list_items, and a pickup by
//     code alone (ID 0), whose code names no shard: every shard;
//   - the node-to-node ops name their shard (docs/adr/0070): claim,
//     release_claim, anchor_claim and get_claim the customer's home,
//     ShardOfCustomer(Customer) (a release_claim without a customer, every
//     shard); resolve_claim and get_claim_hold the item's shard ItemShard
//     (RouteNone past the last shard); delivered every shard (it runs on
//     its sender's own shard, never routed). Nodes send them in SHARD_CALL
//     frames, or as BATCH groups routed by this table.
func RouteOf(cmd *engine.Command, shards int) (RouteKind, int) {
	switch cmd.Op {
	case engine.OpReserve, engine.OpPutItem, engine.OpPutWindow, engine.OpRestock,
		engine.OpAdjustStock, engine.OpSetSaleWindow, engine.OpSetMemberShare, engine.OpUpdateItem,
		engine.OpGetItem, engine.OpGetWindow, engine.OpPutStore, engine.OpPutStoreWindow,
		engine.OpGetStore, engine.OpStoreItems:
		return RouteShard, ShardOfStore(cmd.Store, shards)
	case engine.OpPickup:
		if cmd.ID == 0 {
			return RouteAll, AllShards
		}
		return idRoute(cmd.ID, shards)
	case engine.OpConfirm, engine.OpExtend, engine.OpCancel, engine.OpReschedule,
		engine.OpReturn, engine.OpUnlock, engine.OpGetReservation:
		return idRoute(cmd.ID, shards)
	case engine.OpClaim:
		return RouteShard, ShardOfCustomer(cmd.Customer, shards)
	case engine.OpReleaseClaim, engine.OpAnchorClaim, engine.OpGetClaim:
		if len(cmd.Customer) > 0 { // the customer's home
			return RouteShard, ShardOfCustomer(cmd.Customer, shards)
		}
	case engine.OpResolveClaim, engine.OpGetClaimHold:
		if int(cmd.ItemShard) < shards { // an item's shard (absent: shard 0)
			return RouteShard, int(cmd.ItemShard)
		}
		return RouteNone, AllShards
	}
	// set_limit, block, unblock, set_tier, get_customer, the lists, and the
	// nodes' own ops that name a claim or a message.
	return RouteAll, AllShards
}

func idRoute(id uint64, shards int) (RouteKind, int) {
	if s := int(engine.ShardOfID(id)); s < shards {
		return RouteShard, s
	}
	return RouteNone, AllShards
}
