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

// AllShards is Route's answer for requests that every shard must see.
const AllShards = -1

// Route returns the shard a request goes to, or AllShards when it must go to
// every shard and the answers be merged (list_reservations, stores_with_stock,
// list_items, and a pickup by code alone, whose code names no shard), or be
// applied by every shard (set_limit: every shard keeps the SKU's limit).
//
//   - ops on an item or a store (reserve, put_item, put_window, restock,
//     adjust_stock, set_sale_window, set_member_share, get_item,
//     get_window, put_store, put_store_window, get_store):
//     ShardOfStore(Store)
//   - set_limit: AllShards (the SKU's limit, the same at every store)
//   - ops on a reservation (confirm, extend, cancel, reschedule, return,
//     unlock, get_reservation, pickup with an ID): the shard in the ID's high
//     16 bits (engine.ShardOfID); a result >= shards means an id no shard
//     issued, which the caller refuses
//   - ops on a customer (block, unblock, set_tier, get_customer, and the
//     node-to-node claim): ShardOfCustomer(Customer)
//   - claim_released: the shard in the ID; release_claim, settle_claim and
//     extend_claim name only a claim's key (AllShards): nodes send every
//     claim op in SHARD_CALL frames, naming the shard themselves
//     (docs/adr/0050)
func Route(cmd *engine.Command, shards int) int {
	switch cmd.Op {
	case engine.OpReserve, engine.OpPutItem, engine.OpPutWindow, engine.OpRestock,
		engine.OpAdjustStock, engine.OpSetSaleWindow, engine.OpSetMemberShare,
		engine.OpGetItem, engine.OpGetWindow, engine.OpPutStore, engine.OpPutStoreWindow,
		engine.OpGetStore:
		return ShardOfStore(cmd.Store, shards)
	case engine.OpPickup:
		if cmd.ID == 0 {
			return AllShards
		}
		return int(engine.ShardOfID(cmd.ID))
	case engine.OpConfirm, engine.OpExtend, engine.OpCancel, engine.OpReschedule,
		engine.OpReturn, engine.OpUnlock, engine.OpGetReservation, engine.OpClaimReleased:
		return int(engine.ShardOfID(cmd.ID))
	case engine.OpBlock, engine.OpUnblock, engine.OpSetTier, engine.OpGetCustomer, engine.OpClaim:
		return ShardOfCustomer(cmd.Customer, shards)
	}
	return AllShards
}
