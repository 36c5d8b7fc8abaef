package protocol

import "github.com/invsys/inv/engine"

// HashName is TOPOLOGY's name for the shard function below. A client that
// meets another name must not route by its own guess: it sends to any node
// and follows NOT_LEADER hints.
const HashName = "fnv1a64-lp"

// FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/): one multiply and
// one xor per byte, no tables, and a few lines in any language, which is
// what a routing hash that every client must reproduce needs. Its spread
// over (SKU, store) pairs is even enough for placement; it is not meant to
// resist chosen keys, and shard placement needs no secret.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime64 }

// fnvStr8 hashes s as the wire writes it: a length byte, then the bytes.
// The length prefix keeps ("AB", "C") and ("A", "BC") apart.
func fnvStr8(h uint64, s []byte) uint64 {
	h = fnvByte(h, byte(len(s)))
	for _, b := range s {
		h = fnvByte(h, b)
	}
	return h
}

// ItemHash returns the 64-bit hash of an item: FNV-1a 64 over
// len(sku) as one byte, sku, len(store) as one byte, store. Ids are at most
// MaxIDBytes (64) long, so the length byte is exact.
func ItemHash(sku, store []byte) uint64 {
	return fnvStr8(fnvStr8(fnvOffset64, sku), store)
}

// ShardOf returns the shard that holds the item (sku, store):
// ItemHash(sku, store) mod shards. shards must be at least 1.
func ShardOf(sku, store []byte, shards int) int {
	if shards < 1 {
		panic("protocol: ShardOf with fewer than one shard")
	}
	return int(ItemHash(sku, store) % uint64(shards))
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

// AllShards is Route's answer for requests that every shard must see.
const AllShards = -1

// Route returns the shard a request goes to, or AllShards when it must go to
// every shard and the answers be merged (list_reservations, stores_with_stock,
// list_items, and a pickup by code alone, whose code names no shard).
//
//   - ops on an item (reserve, put_item, put_window, restock, adjust_stock,
//     set_sale_window, set_limit, set_member_share, get_item, get_window):
//     ShardOf(SKU, Store)
//   - ops on a reservation (confirm, extend, cancel, reschedule, return,
//     unlock, get_reservation, pickup with an ID): the shard in the ID's high
//     16 bits (engine.ShardOfID); a result >= shards means an id no shard
//     issued, which the caller refuses
//   - ops on a customer (block, unblock, set_tier, get_customer, and the
//     node-to-node claim): ShardOfCustomer(Customer)
//   - the other node-to-node ops (release_claim, anchor_claim,
//     resolve_claim, delivered, get_claim, get_claim_hold) name a claim's
//     key or a message, not a shard (AllShards): nodes send them in
//     SHARD_CALL frames, naming the shard themselves (docs/adr/0070)
func Route(cmd *engine.Command, shards int) int {
	switch cmd.Op {
	case engine.OpReserve, engine.OpPutItem, engine.OpPutWindow, engine.OpRestock,
		engine.OpAdjustStock, engine.OpSetSaleWindow, engine.OpSetLimit,
		engine.OpSetMemberShare, engine.OpGetItem, engine.OpGetWindow:
		return ShardOf(cmd.SKU, cmd.Store, shards)
	case engine.OpPickup:
		if cmd.ID == 0 {
			return AllShards
		}
		return int(engine.ShardOfID(cmd.ID))
	case engine.OpConfirm, engine.OpExtend, engine.OpCancel, engine.OpReschedule,
		engine.OpReturn, engine.OpUnlock, engine.OpGetReservation:
		return int(engine.ShardOfID(cmd.ID))
	case engine.OpBlock, engine.OpUnblock, engine.OpSetTier, engine.OpGetCustomer, engine.OpClaim:
		return ShardOfCustomer(cmd.Customer, shards)
	}
	return AllShards
}
