// Tests that a node of a 3-node cluster serves the ops that ask every shard
// (list_reservations, get_customer's open counts) although it leads only
// some shards: each shard's part goes to its leader, here or on another node
// (router/forward.go, SHARD_CALL); and that the ops of one shard (block and
// unblock at the customer's home, docs/adr/0072; a pickup by code alone at
// the store's shard) are served by that shard's leader, while another node
// answers NOT_LEADER naming it. The requests are sent on the raw protocol to
// one chosen node, so no client routing can hide a missing forward; the
// cluster runs with tokens and a cluster_token, so forwarding must
// authenticate.
package clustertest

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/server"
)

// Tokens of the forwarding test's cluster (their SHA-256 go in the config).
const (
	fwdOperatorToken = "operator-token-for-the-forward-test"
	fwdClusterToken  = "cluster-token-for-the-forward-test"
	fwdStorefront    = "storefront-token-for-the-forward-test"
)

func TestFanOutThroughAnyNode(t *testing.T) {
	const shards = 6
	cfg := "token = operator " + hashOf(fwdOperatorToken) + "\ntoken = storefront " + hashOf(fwdStorefront) +
		"\ncluster_token = " + fwdClusterToken + "\n"
	c := startClusterWith(t, 3, shards, cfg)
	waitFor(t, "leaders spread 2/2/2", 30*time.Second, func() bool { return slices.Equal(c.LeaderCounts(), []int{2, 2, 2}) })
	cl := dial(t, c, client.WithToken(fwdOperatorToken))
	ctx := testCtx(t, 30*time.Second)

	// One reservation of customer "cust-f" in every shard, each confirmed.
	codes := map[uint64]uint64{} // id → pickup code
	stores := map[uint64]string{}
	for s := range shards {
		sku, store := itemInShard(s, shards)
		if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: 10}); err != nil {
			t.Fatal(err)
		}
		r, err := cl.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: "cust-f", Qty: 1})
		if err != nil {
			t.Fatal(err)
		}
		cr, err := cl.Confirm(ctx, client.ConfirmRequest{ID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		codes[r.ID], stores[r.ID] = cr.PickupCode, store
	}

	for node := range 3 {
		if n := c.LeaderCounts()[node]; n == shards {
			t.Fatalf("node %d leads every shard: nothing would be forwarded", node+1)
		}
		rc := rawDial(t, c.Clients[node], fwdOperatorToken)
		r := rc.call(t, &engine.Command{Op: engine.OpListReservations, Customer: []byte("cust-f")})
		if r.Code != engine.OK || len(r.Reservations) != shards {
			t.Fatalf("node %d: list_reservations: %v, %d reservations; want ok, %d", node+1, r.Code, len(r.Reservations), shards)
		}
		r = rc.call(t, &engine.Command{Op: engine.OpGetCustomer, Customer: []byte("cust-f")})
		if r.Code != engine.OK || r.Customer.Open != shards || r.Customer.Blocked {
			t.Fatalf("node %d: get_customer: %v %+v; want ok, %d open, not blocked", node+1, r.Code, r.Customer, shards)
		}
	}

	// Block and unblock at the customer's home's leader (another node
	// answers NOT_LEADER naming it); the block seen through every node.
	raws := []*rawConn{rawDial(t, c.Clients[0], fwdOperatorToken), rawDial(t, c.Clients[1], fwdOperatorToken),
		rawDial(t, c.Clients[2], fwdOperatorToken)}
	home := c.Leader(protocol.ShardOfCustomer([]byte("cust-f"), shards))
	other := (home + 1) % 3
	block := &engine.Command{Op: engine.OpBlock, Customer: []byte("cust-f")}
	if f := raws[other].send(t, block); f.Op != protocol.OpNotLeader {
		t.Fatalf("block through node %d, which does not lead the customer's home: %v, want NOT_LEADER", other+1, f.Op)
	}
	if r := raws[home].call(t, block); r.Code != engine.OK {
		t.Fatalf("block through node %d: %v", home+1, r.Code)
	}
	for node := range 3 {
		if r := raws[node].call(t, &engine.Command{Op: engine.OpGetCustomer, Customer: []byte("cust-f")}); r.Code != engine.OK || !r.Customer.Blocked {
			t.Fatalf("get_customer through node %d after block: %v %+v", node+1, r.Code, r.Customer)
		}
	}
	if r := raws[home].call(t, &engine.Command{Op: engine.OpUnblock, Customer: []byte("cust-f")}); r.Code != engine.OK {
		t.Fatalf("unblock through node %d: %v", home+1, r.Code)
	}

	// Pickup by code alone, each through the leader of its store's shard
	// (which holds every reservation of the store).
	done := 0
	for id, code := range codes {
		node := c.Leader(protocol.ShardOfStore([]byte(stores[id]), shards))
		r := raws[node].call(t, &engine.Command{Op: engine.OpPickup, Store: []byte(stores[id]), PickupCode: code})
		if r.Code != engine.OK || r.ID != id || r.State != engine.StatePickedUp {
			t.Fatalf("pickup by code of %d through node %d: %v id %d state %v", id, node+1, r.Code, r.ID, r.State)
		}
		done++
	}
	if done != shards {
		t.Fatalf("%d pickups, want %d", done, shards)
	}

	// A SHARD_CALL needs the operator role: a storefront is refused.
	sf := rawDial(t, c.Clients[0], fwdStorefront)
	sf.seq++
	frame := protocol.AppendShardCall(nil, sf.seq, 0, &engine.Command{Op: engine.OpBlock, Customer: []byte("cust-f")})
	if _, err := sf.nc.Write(frame); err != nil {
		t.Fatal(err)
	}
	f, err := sf.rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	var e protocol.ErrorReply
	if f.Op != protocol.OpError || protocol.DecodeErrorReply(f.Payload, &e) != nil || e.Code != engine.CodeUnauthorized {
		t.Fatalf("SHARD_CALL from a storefront: %v %+v; want ERROR unauthorized", f.Op, e)
	}
	if r := raws[0].call(t, &engine.Command{Op: engine.OpGetCustomer, Customer: []byte("cust-f")}); r.Customer.Blocked {
		t.Fatal("a refused SHARD_CALL blocked the customer")
	}
}

// rawConn is one protocol connection that sends one request at a time.
type rawConn struct {
	nc  net.Conn
	rd  *protocol.Reader
	seq uint32
}

func rawDial(t *testing.T, addr, token string) *rawConn {
	t.Helper()
	rc, code := rawDialCode(t, addr, token)
	if code != engine.OK {
		t.Fatalf("HELLO to %s: %v", addr, code)
	}
	return rc
}

func rawDialCode(t *testing.T, addr, token string) (*rawConn, engine.Code) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(protocol.AppendHello(nil, 1, &protocol.Hello{Version: protocol.ProtocolVersion, Token: token, Client: "clustertest"})); err != nil {
		t.Fatal(err)
	}
	rc := &rawConn{nc: nc, rd: protocol.NewReader(nc, protocol.DefaultMaxFrameBytes), seq: 1}
	f, err := rc.rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	if f.Op == protocol.OpError {
		var e protocol.ErrorReply
		if err := protocol.DecodeErrorReply(f.Payload, &e); err != nil {
			t.Fatal(err)
		}
		return nil, e.Code
	}
	return rc, engine.OK
}

// send sends cmd and returns the reply's frame, whatever it is.
func (rc *rawConn) send(t *testing.T, cmd *engine.Command) protocol.Frame {
	t.Helper()
	rc.seq++
	_ = rc.nc.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := rc.nc.Write(protocol.AppendRequest(nil, rc.seq, cmd)); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := rc.rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if f.ReqID == rc.seq {
			return f
		}
	}
}

// call sends cmd and returns its result; ERROR and NOT_LEADER replies fail
// the test (a node must serve these ops whoever leads the shards).
func (rc *rawConn) call(t *testing.T, cmd *engine.Command) engine.Result {
	t.Helper()
	rc.seq++
	_ = rc.nc.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := rc.nc.Write(protocol.AppendRequest(nil, rc.seq, cmd)); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := rc.rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if f.ReqID != rc.seq {
			continue
		}
		switch f.Op {
		case protocol.OpError:
			var e protocol.ErrorReply
			_ = protocol.DecodeErrorReply(f.Payload, &e)
			t.Fatalf("%v: ERROR %v: %s", cmd.Op, e.Code, e.Message)
		case protocol.OpNotLeader:
			t.Fatalf("%v: NOT_LEADER", cmd.Op)
		}
		var r engine.Result
		if err := protocol.DecodeResult(f.Payload, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func hashOf(token string) string { return server.HashToken(token) }

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
