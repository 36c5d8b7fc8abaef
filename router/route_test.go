// What this file proves: the router sends every engine op where the one
// routing table (protocol.RouteOf) says, the table the client routes by
// (client/routing_test.go checks the client's side): an op for one shard
// reaches that shard only, an op for every shard reaches every shard, an
// id no shard issued reaches none and is answered not_found.
//
// How: every valid op (1..engine.OpLast), with every field set, is served
// by a router over four fake shards whose proposals wait in their queues;
// the shards that got a proposal or a read-index round are compared with
// the table's answer.
package router

import (
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestRoutingAgreesWithTheTable(t *testing.T) {
	const shards = 4
	for _, id := range []uint64{engine.MakeID(2, 7), engine.MakeID(shards+1, 7)} {
		for op := engine.Op(1); op <= engine.OpLast; op++ {
			if !op.Valid() {
				continue
			}
			e := newEnv(t, shards, 1, ReadIndex, 0)
			e.out = new(strings.Builder)
			cmd := engine.Command{Op: op, SKU: []byte("L1"), Store: []byte("S7"), Customer: []byte("ann"), ID: id,
				Qty: 1, Claim: []byte("k")}
			answered := false
			e.nodes[0].r.Serve(&cmd, false, func(engine.Result, error) { answered = true })
			var reached []int
			for _, s := range e.shards {
				if len(s.queue) > 0 {
					reached = append(reached, s.id)
				}
			}
			kind, shard := protocol.RouteOf(&cmd, shards)
			switch kind {
			case protocol.RouteShard:
				if op == engine.OpGetCustomer && len(reached) == shards {
					// the home's record, with every shard's count of open
					// reservations added (fanout.go): the home is among them
					continue
				}
				if len(reached) != 1 || reached[0] != shard {
					t.Errorf("%v (id %s): reached shards %v, the table says %d", op, fmtID(id), reached, shard)
				}
			case protocol.RouteAll:
				if len(reached) != shards {
					t.Errorf("%v: reached shards %v, the table says every shard", op, reached)
				}
			case protocol.RouteNone:
				if len(reached) != 0 || !answered {
					t.Errorf("%v (id %s): reached shards %v (answered %v), the table says none", op, fmtID(id), reached, answered)
				}
			}
		}
	}
}
