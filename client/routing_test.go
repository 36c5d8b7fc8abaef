// What this file proves: the client routes every engine op by the nodes'
// own table (protocol.RouteOf; router/route_test.go proves the router's
// side): an op for one shard goes to that shard's leader, and an op for
// every shard (a customer's block, unblock, tier and reads, the lists, a
// pickup by code alone) or for no shard (an id no shard issued) to any
// node, which fans it out or refuses it.
//
// How: a routing map of four shards, each led by its own node, is asked
// for the node of every valid op (1..engine.OpLast) with every field set,
// and its answer is compared with the table's.
package client

import (
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestRoutingIsTheNodesTable(t *testing.T) {
	const shards = 4
	leaders := make([]*node, shards)
	for i := range leaders {
		leaders[i] = &node{addr: string(rune('a' + i))}
	}
	anyNode := &node{addr: "any"}
	r := &routing{shards: shards, hashed: true, leaders: leaders, nodes: []*node{anyNode}}
	for _, id := range []uint64{engine.MakeID(2, 7), engine.MakeID(shards+1, 7)} {
		for op := engine.Op(1); op <= engine.OpLast; op++ {
			if !op.Valid() {
				continue
			}
			cmd := engine.Command{Op: op, SKU: []byte("L1"), Store: []byte("S7"), Customer: []byte("ann"), ID: id}
			want := anyNode
			if kind, shard := protocol.RouteOf(&cmd, shards); kind == protocol.RouteShard {
				want = leaders[shard]
			}
			if got := r.nodeFor(r.shardOf(&cmd), 0); got != want {
				t.Errorf("%v: sent to %q, the table says %q", op, got.addr, want.addr)
			}
		}
	}
	// A customer's block, tier and record go to its home (docs/adr/0072).
	home := protocol.ShardOfCustomer([]byte("ann"), shards)
	for _, op := range []engine.Op{engine.OpBlock, engine.OpUnblock, engine.OpSetTier, engine.OpGetCustomer} {
		if got := r.shardOf(&engine.Command{Op: op, Customer: []byte("ann")}); got != home {
			t.Errorf("%v: routed to shard %d, want the customer's home %d", op, got, home)
		}
	}
}
