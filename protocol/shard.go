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

// KeyHash returns the 64-bit hash of an idempotency key: FNV-1a 64 over
// len(key) as one byte, key. Keys are at most MaxKeyBytes (64) long, so
// the length byte is exact.
func KeyHash(key []byte) uint64 { return fnvStr8(fnvOffset64, key) }

// KeyHomeSuffix is the length of a homed key's suffix: '~' and four
// lowercase hex digits naming a number h, 0 to 65535. A key that ends so is
// homed on h mod shards instead of on its hash, so that a client can make
// a key homed on the shard of the request it goes with in O(1) (the
// client library does, for every key it makes: docs/adr/0073). Any other
// key, '~' and hex digits elsewhere included, is homed by its hash.
const KeyHomeSuffix = 5

// KeyHome returns the number a homed key's suffix names, and whether the
// key has one.
func KeyHome(key []byte) (uint64, bool) {
	n := len(key)
	if n < KeyHomeSuffix || key[n-KeyHomeSuffix] != '~' {
		return 0, false
	}
	var h uint64
	for _, c := range key[n-KeyHomeSuffix+1:] {
		switch {
		case '0' <= c && c <= '9':
			h = h<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			h = h<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return h, true
}

// ShardOfKey returns an idempotency key's home shard: the number of its
// suffix mod shards for a homed key (KeyHome), else KeyHash(key) mod
// shards. A request whose key is homed on another shard than its own
// registers the key there first (register_key, docs/adr/0073); the client
// library makes keys homed on their request's shard, which never do.
func ShardOfKey(key []byte, shards int) int {
	if shards < 1 {
		panic("protocol: ShardOfKey with fewer than one shard")
	}
	if h, ok := KeyHome(key); ok {
		return int(h % uint64(shards))
	}
	return int(KeyHash(key) % uint64(shards))
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
//     get_window, put_store, put_store_window, get_store, set_mark_rule,
//     get_mark_rule, and a coupon issue's put_coupon_issue, take_coupon
//     and get_coupon_issue: the issue's store): the store's
//     shard, ShardOfStore(Store) (items are placed by store, docs/adr/0071);
//   - put_items: its first item's store's shard (the client sends items
//     of one shard in one bulk put; the engine refuses an item of
//     another); RouteNone without items;
//   - set_limit: every shard (each keeps the SKU's limit, the same at every
//     store);
//   - ops on a reservation (confirm, extend, cancel, reschedule, return,
//     unlock, get_reservation, pickup with an ID) and on a coupon serial
//     (redeem_coupon, get_coupon: the serial alone routes, whatever
//     store redeems it, docs/adr/0106): the shard in the ID's
//     high 16 bits (engine.ShardOfID), RouteNone if there is no such shard;
//   - a pickup by code alone (ID 0): the counter's store's shard, which
//     holds every reservation made at that store (docs/adr/0071), so a
//     code is checked, and a wrong one counted, exactly once;
//   - a customer's block, unblock, set_tier and get_customer: the
//     customer's home, ShardOfCustomer(Customer), which owns the block,
//     the tier and the no-show history and pushes copies to the other
//     shards (docs/adr/0072); the node adds the other shards' counts to
//     get_customer's answer;
//   - list_reservations, list_by_mark, stores_with_stock, list_items, and a pickup that
//     names neither a reservation nor a store (refused): every shard;
//   - the node-to-node ops name their shard (docs/adr/0070): claim,
//     release_claim, anchor_claim and get_claim the customer's home,
//     ShardOfCustomer(Customer) (a release_claim without a customer, every
//     shard); register_key the key's home, ShardOfKey(Key); resolve_claim and get_claim_hold the item's shard ItemShard
//     (RouteNone past the last shard); delivered every shard (it runs on
//     its sender's own shard, never routed); the outbox messages no_show
//     the customer's home, customer_copy the shard it goes to, ToShard
//     (RouteNone past the last shard). Nodes send them in SHARD_CALL
//     frames, or as BATCH groups routed by this table.
func RouteOf(cmd *engine.Command, shards int) (RouteKind, int) {
	switch cmd.Op {
	case engine.OpReserve, engine.OpPutItem, engine.OpPutWindow, engine.OpRestock,
		engine.OpAdjustStock, engine.OpSetSaleWindow, engine.OpSetMemberShare, engine.OpUpdateItem,
		engine.OpGetItem, engine.OpGetWindow, engine.OpPutStore, engine.OpPutStoreWindow,
		engine.OpGetStore, engine.OpSetMarkRule, engine.OpGetMarkRule, engine.OpStoreItems,
		engine.OpJoinWaitlist, engine.OpLeaveWaitlist, engine.OpGetWaitlist,
		engine.OpPutCouponIssue, engine.OpTakeCoupon, engine.OpGetCouponIssue:
		return RouteShard, ShardOfStore(cmd.Store, shards)
	case engine.OpPutItems:
		// A bulk put holds items of one shard (the client splits by
		// shard); the first names it, the engine refuses one of another.
		if len(cmd.Items) > 0 {
			return RouteShard, ShardOfStore(cmd.Items[0].Store, shards)
		}
		return RouteNone, AllShards
	case engine.OpPickup:
		if cmd.ID != 0 {
			return idRoute(cmd.ID, shards)
		}
		if len(cmd.Store) > 0 { // by code alone: the store's reservations are all in its shard
			return RouteShard, ShardOfStore(cmd.Store, shards)
		}
		return RouteAll, AllShards // no store: every shard refuses it, as one
	case engine.OpConfirm, engine.OpExtend, engine.OpCancel, engine.OpReschedule,
		engine.OpReturn, engine.OpUnlock, engine.OpGetReservation,
		engine.OpRedeemCoupon, engine.OpGetCoupon, engine.OpReleaseReview:
		return idRoute(cmd.ID, shards)
	case engine.OpClaim, engine.OpBlock, engine.OpUnblock, engine.OpSetTier, engine.OpGetCustomer, engine.OpNoShow:
		return RouteShard, ShardOfCustomer(cmd.Customer, shards)
	case engine.OpCustomerCopy:
		if int(cmd.ToShard) < shards {
			return RouteShard, int(cmd.ToShard)
		}
		return RouteNone, AllShards
	case engine.OpReleaseClaim, engine.OpAnchorClaim, engine.OpGetClaim:
		if len(cmd.Customer) > 0 { // the customer's home
			return RouteShard, ShardOfCustomer(cmd.Customer, shards)
		}
	case engine.OpRegisterKey:
		return RouteShard, ShardOfKey(cmd.Key, shards)
	case engine.OpResolveClaim, engine.OpGetClaimHold:
		if int(cmd.ItemShard) < shards { // an item's shard (absent: shard 0)
			return RouteShard, int(cmd.ItemShard)
		}
		return RouteNone, AllShards
	}
	// set_limit, the lists, and the nodes' own ops that name a claim or a
	// message.
	return RouteAll, AllShards
}

func idRoute(id uint64, shards int) (RouteKind, int) {
	if s := int(engine.ShardOfID(id)); s < shards {
		return RouteShard, s
	}
	return RouteNone, AllShards
}
