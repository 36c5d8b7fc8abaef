package clustertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/server"
)

const (
	memberOperatorToken   = "op-4b1d7c0e9a2f3e58"
	memberStorefrontToken = "web-7e2a9c1d0b3f6a44"
)

// memberTokens are the config lines of a cluster that wants tokens: an
// operator and a storefront token, and the nodes' own credential for
// forwarding between them.
var memberTokens = fmt.Sprintf("token = operator %s\ntoken = storefront %s\ncluster_token = %s\n",
	server.HashToken(memberOperatorToken), server.HashToken(memberStorefrontToken), "cluster-token-of-the-membership-test")

// startTokenCluster starts a cluster whose nodes want tokens.
func startTokenCluster(t *testing.T, nodes, shards int) *invdtest.Cluster {
	t.Helper()
	return startClusterWith(t, nodes, shards, memberTokens)
}

// dialAs returns a client of addrs with token, patient enough for
// elections and membership changes.
func dialAs(t *testing.T, addrs []string, token string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, addrs, client.WithToken(token),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 200, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 250 * time.Millisecond}),
		client.WithRequestTimeout(2*time.Second), client.WithDialTimeout(time.Second),
		client.WithTopologyRefresh(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// traffic restocks and reads one item per shard in a loop until stopped,
// and records every failure: the cluster must serve throughout.
type traffic struct {
	cl       *client.Client
	skus     []string
	stores   []string     // of each item in skus
	restocks atomic.Int64 // acknowledged restocks of 1 unit, over every item
	hold     sync.Mutex   // held by each round; a test holds it to pause the traffic
	mu       sync.Mutex
	errs     []error
	stop     chan struct{}
	done     sync.WaitGroup
}

func startTraffic(t *testing.T, cl *client.Client, shards int) *traffic {
	tr := &traffic{cl: cl, stop: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for s := range shards {
		sku, store := itemInShard(s, shards)
		if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: 100}); err != nil {
			t.Fatal(err)
		}
		tr.skus, tr.stores = append(tr.skus, sku), append(tr.stores, store)
	}
	tr.done.Add(1)
	go func() {
		defer tr.done.Done()
		for i := 0; ; i++ {
			select {
			case <-tr.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			sku, store := tr.skus[i%len(tr.skus)], tr.stores[i%len(tr.skus)]
			tr.hold.Lock()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := cl.Restock(ctx, client.StockChange{SKU: sku, Store: store, Qty: 1})
			if err == nil {
				tr.restocks.Add(1)
				_, err = cl.GetItem(ctx, sku, store)
			}
			cancel()
			tr.hold.Unlock()
			if err != nil {
				tr.mu.Lock()
				tr.errs = append(tr.errs, fmt.Errorf("%s: %w", sku, err))
				tr.mu.Unlock()
			}
		}
	}()
	return tr
}

// finish stops the traffic and checks that nothing failed and that the
// items hold every acknowledged restock.
func (tr *traffic) finish(t *testing.T) {
	t.Helper()
	close(tr.stop)
	tr.done.Wait()
	for _, err := range tr.errs {
		t.Errorf("traffic: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stock int64
	for i, sku := range tr.skus {
		it, err := tr.cl.GetItem(ctx, sku, tr.stores[i])
		if err != nil {
			t.Fatal(err)
		}
		stock += it.Stock - 100
	}
	if n := tr.restocks.Load(); stock != n || n == 0 {
		t.Errorf("items hold %d restocked units; %d restocks were acknowledged", stock, n)
	}
}

// topologyWhere polls the topology (from the given client) until cond holds.
func topologyWhere(t *testing.T, cl *client.Client, what string, cond func(protocol.Topology) bool) protocol.Topology {
	t.Helper()
	var topo protocol.Topology
	waitFor(t, what, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		topo, err = cl.Topology(ctx)
		return err == nil && cond(topo)
	})
	return topo
}

// TestMembershipAddTransferRemove grows a 3-node cluster to 4 with a node
// started with join = true, moves a leadership to it, removes another
// node, and serves reads and writes throughout; the refusals change
// nothing.
func TestMembershipAddTransferRemove(t *testing.T) {
	const shards = 4
	c := startTokenCluster(t, 3, shards)
	op := dialAs(t, c.Clients[:3], memberOperatorToken)
	tr := startTraffic(t, op, shards)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// A storefront token may not change the cluster.
	web := dialAs(t, c.Clients[:3], memberStorefrontToken)
	if _, err := web.AddNode(ctx, client.NodeSpec{ID: 4, RaftAddr: "127.0.0.1:1", ClientAddr: "127.0.0.1:2"}); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("add-node with a storefront token: %v, want unauthorized", err)
	}

	j, err := c.StartJoiner()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := op.AddNode(ctx, client.NodeSpec{ID: 4, RaftAddr: c.Rafts[j], ClientAddr: c.Clients[j]})
	if err != nil {
		t.Fatalf("add-node: %v (steps %+v)", err, steps)
	}
	if len(steps) != 4+shards { // 3 nodes and the new one learn it; one voter per shard
		t.Errorf("add-node took %d steps: %+v", len(steps), steps)
	}
	topologyWhere(t, op, "node 4 in every shard and in the node list", func(topo protocol.Topology) bool {
		for _, p := range topo.Shards {
			if !slices.Equal(p.Replicas, []uint32{1, 2, 3, 4}) {
				return false
			}
		}
		return len(topo.Nodes) == 4 && topo.Nodes[3].Addr == c.Clients[j]
	})
	waitFor(t, "node 4 to hold every shard", 30*time.Second, func() bool {
		hs, err := c.ShardHashes(j)
		if err != nil || len(hs) != shards {
			return false
		}
		for _, h := range hs {
			if !h.Member {
				return false
			}
		}
		return true
	})
	// Replicas agree once writes pause (while they run, the nodes' applied
	// indexes differ by the entries in flight).
	tr.hold.Lock()
	n, err := c.WaitConverged(60 * time.Second)
	tr.hold.Unlock()
	if err != nil || n != shards {
		t.Fatalf("after add-node: %d shards, %v", n, err)
	}
	// Adding it again changes nothing.
	if steps, err := op.AddNode(ctx, client.NodeSpec{ID: 4, RaftAddr: c.Rafts[j], ClientAddr: c.Clients[j]}); err != nil {
		t.Fatalf("add-node again: %v", err)
	} else {
		for _, s := range steps {
			if s.Index != 0 {
				t.Errorf("add-node again changed a configuration: %+v", s)
			}
		}
	}

	// Shard 3 prefers node 4 among 1..4, so the balancer keeps it there.
	if steps, err := op.TransferLeader(ctx, 4, 3); err != nil {
		t.Fatalf("transfer-leader: %v (%+v)", err, steps)
	}
	topologyWhere(t, op, "node 4 leads shard 3", func(topo protocol.Topology) bool {
		return topo.Shards[3].Leader == 4
	})
	if c.Leader(3) != j {
		t.Errorf("node %d says it leads shard 3, want node 4", c.Leader(3)+1)
	}

	// Refusals: an unknown node, a voter that is not in the peer table.
	if _, err := op.RemoveNode(ctx, 9, false); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("remove-node 9: %v, want not_found", err)
	}
	if _, err := op.TransferLeader(ctx, 9, 0); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("transfer-leader to node 9: %v, want bad_request", err)
	}
	if _, err := op.AdminAt(ctx, c.Clients[0], protocol.AdminRequest{Cmd: protocol.AdminForgetPeer, Node: 3}); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("forget a member: %v, want bad_request", err)
	}

	// Remove node 2, then stop it: the others serve on.
	steps, err = op.RemoveNode(ctx, 2, false)
	if err != nil {
		t.Fatalf("remove-node 2: %v (%+v)", err, steps)
	}
	topologyWhere(t, op, "node 2 gone from every shard and the node list", func(topo protocol.Topology) bool {
		for _, p := range topo.Shards {
			if !slices.Equal(p.Replicas, []uint32{1, 3, 4}) || p.Leader == 2 || p.Leader == 0 {
				return false
			}
		}
		return len(topo.Nodes) == 3
	})
	c.Kill(1)

	// With node 3 down, removing node 4 would leave 1 of 2 voters up: refused.
	c.Kill(2)
	_, err = op.RemoveNode(ctx, 4, false)
	if !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("remove-node 4 with node 3 down: %v, want bad_request", err)
	}
	mustStart(t, c, 2)
	topo := topologyWhere(t, op, "node 4 still in every shard", func(topo protocol.Topology) bool {
		for _, p := range topo.Shards {
			if !slices.Equal(p.Replicas, []uint32{1, 3, 4}) || p.Leader == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("topology after the changes: %+v", topo)

	tr.finish(t)
	if n, err := c.WaitConverged(60 * time.Second); err != nil || n != shards {
		t.Fatalf("at the end: %d shards, %v", n, err)
	}
	// The restarted node kept its peer table (node 4 in, node 2 out), and
	// every node's topology says so.
	for _, i := range []int{0, 2, 3} {
		topo := nodeTopology(t, c.Clients[i], memberOperatorToken)
		var ids []uint32
		for _, n := range topo.Nodes {
			ids = append(ids, n.ID)
		}
		if !slices.Equal(ids, []uint32{1, 3, 4}) {
			t.Errorf("node %d lists nodes %v, want [1 3 4]", i+1, ids)
		}
	}
}

// nodeTopology asks the node at addr itself for TOPOLOGY.
func nodeTopology(t *testing.T, addr, token string) protocol.Topology {
	t.Helper()
	wc, err := wire.DialToken(addr, token, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	if err := wc.Send(protocol.AppendTopologyRequest(nil, wc.NextID())); err != nil {
		t.Fatal(err)
	}
	f, err := wc.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.ReplyError(f); err != nil {
		t.Fatal(err)
	}
	var topo protocol.Topology
	if err := protocol.DecodeTopology(f.Payload, &topo); err != nil {
		t.Fatal(err)
	}
	return topo
}
