// Tests of a 3-node cluster of real invd processes started from flags
// (--node-id, --raft, --peers through the config file): they prove that
// every shard is a raft group on all three nodes; that TOPOLOGY names every
// node by its client address and each shard's leader and replicas; that a
// node asked for a shard it does not lead answers NOT_LEADER with the
// leader's id and client address (checked on the raw protocol); and that
// leaders spread evenly (shards/nodes each) after startup, move to the
// survivors when a node is killed with SIGKILL, and spread evenly again
// once it returns.
package clustertest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestClusterTopologyAndLeaderBalance(t *testing.T) {
	const shards = 6
	c := startCluster(t, 3, shards)
	balanced := func() bool { return slices.Equal(c.LeaderCounts(), []int{2, 2, 2}) }
	waitFor(t, "leaders spread 2/2/2", 30*time.Second, balanced)

	cl := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A loaded machine can lose a lease between two reads: compare the
	// topology with what the nodes say once both describe a settled map.
	settled := func() bool {
		for s, p := range topo.Shards {
			if c.Leader(s)+1 != int(p.Leader) {
				return false
			}
		}
		return true
	}
	for try := 0; try < 50 && !settled(); try++ {
		time.Sleep(100 * time.Millisecond)
		if topo, err = cl.Topology(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(topo.Nodes) != 3 || len(topo.Shards) != shards {
		t.Fatalf("topology: %d nodes, %d shards; want 3, %d", len(topo.Nodes), len(topo.Shards), shards)
	}
	for i, n := range topo.Nodes {
		if n.ID != uint32(i+1) || n.Addr != c.Clients[i] {
			t.Errorf("node %d in topology: %+v, want id %d at %s", i, n, i+1, c.Clients[i])
		}
	}
	for s, p := range topo.Shards {
		if len(p.Replicas) != 3 {
			t.Errorf("shard %d: replicas %v, want all three nodes", s, p.Replicas)
		}
		if want := c.Leader(s) + 1; int(p.Leader) != want {
			t.Errorf("shard %d: topology leader %d, nodes say %d", s, p.Leader, want)
		}
	}

	// The raw protocol: ask each node for an item of every shard; those it
	// does not lead answer NOT_LEADER naming the leader's client address.
	hints := 0
	for i := range 3 {
		for s := range shards {
			leader := c.Leader(s)
			if leader == i || leader < 0 {
				continue
			}
			sku, store := itemInShard(s, shards)
			nl := rawNotLeader(t, c.Clients[i], sku, store)
			if nl.LeaderID != uint32(leader+1) || nl.LeaderAddr != c.Clients[leader] || int(nl.Shard) != s {
				t.Errorf("node %d, shard %d: NOT_LEADER %+v; want node %d at %s", i+1, s, nl, leader+1, c.Clients[leader])
			}
			hints++
		}
	}
	if hints != 2*shards {
		t.Errorf("%d NOT_LEADER hints checked, want %d", hints, 2*shards)
	}

	// Kill node 3: its shards move to the others. Restart it: they come back.
	c.Kill(2)
	waitFor(t, "every shard led by nodes 1 and 2", 20*time.Second, func() bool {
		n := c.LeaderCounts()
		return n[0]+n[1] == shards
	})
	if err := c.Start(2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "leaders spread 2/2/2 again", 40*time.Second, balanced)
	t.Logf("leaders per node after the return: %v", c.LeaderCounts())
}

// itemInShard returns an item (a SKU at a store) in shard: items are
// placed by store, so the store decides.
func itemInShard(shard, shards int) (sku, store string) {
	for i := 0; ; i++ {
		store := fmt.Sprintf("s-%d", i)
		if protocol.ShardOfStore([]byte(store), shards) == shard {
			return "sku-" + store, store
		}
	}
}

// rawNotLeader sends HELLO and GET_ITEM(sku, store) to addr and expects a
// NOT_LEADER reply.
func rawNotLeader(t *testing.T, addr, sku, store string) protocol.NotLeader {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	out := protocol.AppendHello(nil, 1, &protocol.Hello{Version: protocol.ProtocolVersion, Client: "clustertest"})
	out = protocol.AppendRequest(out, 2, &engine.Command{Op: engine.OpGetItem, SKU: []byte(sku), Store: []byte(store)})
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		for {
			f, n, err := protocol.ReadFrame(buf, protocol.DefaultMaxFrameBytes)
			if err == protocol.ErrIncomplete {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			buf = buf[n:]
			if f.ReqID != 2 {
				continue
			}
			if f.Op != protocol.OpNotLeader {
				t.Fatalf("reply op %v, want NOT_LEADER", f.Op)
			}
			var nl protocol.NotLeader
			if err := protocol.DecodeNotLeader(f.Payload, &nl); err != nil {
				t.Fatal(err)
			}
			return nl
		}
		n, err := conn.Read(tmp)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, tmp[:n]...)
	}
}
