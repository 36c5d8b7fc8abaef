package clustertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

// TestReplicationFactor starts 4 nodes with the default replication factor
// of 3: each shard lives on the 3 nodes the placement names, TOPOLOGY
// reports them (a client completes the map from nodes that hold each
// shard), writes and reads reach every shard, stale reads go to replicas
// only, and the replicas converge.
func TestReplicationFactor(t *testing.T) {
	const nodes, shards = 4, 4
	c := startCluster(t, nodes, shards)
	cl := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = "node-" + strconv.Itoa(i+1)
	}
	want := make([][]uint32, shards)
	for s := range shards {
		for _, id := range raftstore.Placement(uint16(s), ids, 3) {
			n, _ := strconv.Atoi(id[len("node-"):])
			want[s] = append(want[s], uint32(n))
		}
		slices.Sort(want[s])
	}
	topologyWhere(t, cl, "every shard on its 3 placed nodes, with a leader among them", func(topo protocol.Topology) bool {
		for s, p := range topo.Shards {
			if !slices.Equal(p.Replicas, want[s]) || !slices.Contains(want[s], p.Leader) {
				return false
			}
		}
		return len(topo.Nodes) == nodes
	})
	t.Logf("placement: %v", want)
	for i := range nodes {
		hs, err := c.ShardHashes(i)
		if err != nil {
			t.Fatal(err)
		}
		for s, h := range hs {
			if h.Member != slices.Contains(want[s], uint32(i+1)) {
				t.Errorf("node %d says member=%v of shard %d; placement %v", i+1, h.Member, s, want[s])
			}
		}
	}

	for s := range shards {
		sku, store := itemInShard(s, shards)
		if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: int64(10 + s)}); err != nil {
			t.Fatalf("shard %d: put: %v", s, err)
		}
		if err := cl.Restock(ctx, client.StockChange{SKU: sku, Store: store, Qty: 1}); err != nil {
			t.Fatalf("shard %d: restock: %v", s, err)
		}
		if it, err := cl.GetItem(ctx, sku, store); err != nil || it.Stock != int64(11+s) {
			t.Fatalf("shard %d: read: stock %d, %v", s, it.Stock, err)
		}
		for range 4 { // round-robin over the replicas, which may not have the item yet
			if _, err := cl.GetItem(ctx, sku, store, client.Stale()); err != nil && !errors.Is(err, client.ErrUnknownItem) {
				t.Fatalf("shard %d: stale read: %v", s, err)
			}
		}
		// The node the shard is not placed on has no state of it.
		for i := range nodes {
			if slices.Contains(want[s], uint32(i+1)) {
				continue
			}
			short, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := cl.GetItem(short, sku, store, client.StaleAt(c.Clients[i]))
			cancel()
			if !errors.Is(err, client.ErrNotLeader) {
				t.Errorf("shard %d: stale read at node %d, which does not hold it: %v, want not_leader", s, i+1, err)
			}
		}
	}
	if n, err := c.WaitConverged(60 * time.Second); err != nil || n != shards {
		t.Fatalf("%d shards, %v", n, err)
	}
	// Caught up, every replica answers stale reads with the last write.
	for s := range shards {
		sku, store := itemInShard(s, shards)
		for range 6 {
			it, err := cl.GetItem(ctx, sku, store, client.Stale())
			if err != nil || it.Stock != int64(11+s) {
				t.Fatalf("shard %d: stale read after convergence: stock %d, %v", s, it.Stock, err)
			}
		}
	}

	// Move shard 0's replica from one of its nodes to the node it is not
	// placed on: add there, remove from the other, for shard 0 only.
	var to, from uint32
	for i := 1; i <= nodes; i++ {
		if !slices.Contains(want[0], uint32(i)) {
			to = uint32(i)
		}
	}
	from = want[0][0]
	if steps, err := cl.AddNode(ctx, client.NodeSpec{ID: to, RaftAddr: c.Rafts[to-1], ClientAddr: c.Clients[to-1]}, 0); err != nil {
		t.Fatalf("add node %d to shard 0: %v (%+v)", to, err, steps)
	}
	if steps, err := cl.RemoveNode(ctx, from, false, 0); err != nil {
		t.Fatalf("remove node %d from shard 0: %v (%+v)", from, err, steps)
	}
	moved := slices.Sorted(slices.Values(append(slices.DeleteFunc(slices.Clone(want[0]), func(n uint32) bool { return n == from }), to)))
	topologyWhere(t, cl, fmt.Sprintf("shard 0 on %v, the others unchanged, node %d still listed", moved, from), func(topo protocol.Topology) bool {
		if !slices.Equal(topo.Shards[0].Replicas, moved) || topo.Shards[0].Leader == 0 {
			return false
		}
		for s := 1; s < shards; s++ {
			if !slices.Equal(topo.Shards[s].Replicas, want[s]) {
				return false
			}
		}
		return len(topo.Nodes) == nodes
	})
	// The topology lists the new replica once the configuration changed;
	// the node itself holds the shard once it applied that change: wait for
	// it before reading there.
	waitFor(t, fmt.Sprintf("node %d to hold shard 0 and node %d not", to, from), 30*time.Second, func() bool {
		a, err1 := c.ShardHashes(int(to - 1))
		b, err2 := c.ShardHashes(int(from - 1))
		return err1 == nil && err2 == nil && a[0].Member && !b[0].Member
	})
	sku, store := itemInShard(0, shards)
	if err := cl.Restock(ctx, client.StockChange{SKU: sku, Store: store, Qty: 1}); err != nil {
		t.Fatal(err)
	}
	if it, err := cl.GetItem(ctx, sku, store, client.StaleAt(c.Clients[to-1])); err != nil || it.Stock > 12 {
		t.Fatalf("stale read at the new replica: stock %d, %v", it.Stock, err)
	}
	if n, err := c.WaitConverged(60 * time.Second); err != nil || n != shards {
		t.Fatalf("after the move: %d shards, %v", n, err)
	}
}
