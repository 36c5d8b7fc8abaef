package server

import (
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Where a domain op goes (docs/adr/0030).
const (
	// routeAll: the op concerns every shard; it fans out and the answers
	// merge (fanout.go).
	routeAll = -1
	// routeNoShard: a reservation id whose shard bits name no shard of this
	// cluster; no shard issued it, so the answer is not_found without asking.
	routeNoShard = -2
)

// route returns the shard of cmd, or routeAll, or routeNoShard.
//
//   - ops on an item or a store: the store's shard (protocol.ShardOf, the
//     hash clients route by: items are placed by store, docs/adr/0071);
//   - set_limit: every shard, each keeps the SKU's limit for its items;
//   - ops on a reservation: the shard in the id's high 16 bits;
//   - a customer's block, unblock, tier and reads, and the lists: every
//     shard, because the engine keeps a customer's record in each shard where
//     the customer reserves (only the per-SKU limit counters live in the
//     customer's own shard, as claims: docs/adr/0050); each shard's part
//     goes to its leader, here or forwarded (forward.go);
//   - pickup by code alone (ID 0): every shard, since the code names none.
func route(cmd *engine.Command, shards int) int {
	switch cmd.Op {
	case engine.OpReserve, engine.OpPutItem, engine.OpPutWindow, engine.OpRestock,
		engine.OpAdjustStock, engine.OpSetSaleWindow,
		engine.OpSetMemberShare, engine.OpGetItem, engine.OpGetWindow,
		engine.OpPutStore, engine.OpPutStoreWindow, engine.OpGetStore:
		return protocol.ShardOf(cmd.SKU, cmd.Store, shards)
	case engine.OpPickup:
		if cmd.ID == 0 {
			return routeAll
		}
		return idShard(cmd.ID, shards)
	case engine.OpConfirm, engine.OpExtend, engine.OpCancel, engine.OpReschedule,
		engine.OpReturn, engine.OpUnlock, engine.OpGetReservation:
		return idShard(cmd.ID, shards)
	}
	// Block, unblock, set_tier, set_limit, get_customer,
	// list_reservations, stores_with_stock, list_items.
	return routeAll
}

func idShard(id uint64, shards int) int {
	if s := int(engine.ShardOfID(id)); s < shards {
		return s
	}
	return routeNoShard
}
