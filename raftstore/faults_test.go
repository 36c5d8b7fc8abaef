// Tests of the fault layer (faults.go) and of leader balancing (balance.go)
// on a 3-node cluster in one process, each node with its own Pebble folder
// and mux listener and a Faults of its own. They prove that cutting the
// leader of a shard off from the others (on every side) makes the majority
// elect a new leader that goes on committing while the old one cannot; that
// after healing, the old leader rejoins and every replica converges to the
// same engine state, with every acknowledged command applied once; and
// that BalanceLeaders hands each node its preferred shards, so that
// leaders spread evenly.
package raftstore

import (
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// newFaultCluster is newTestCluster with a fault layer on every node.
func newFaultCluster(t *testing.T, size, shards int) (*testCluster, []*Faults) {
	c := &testCluster{t: t}
	var peers []Peer
	var lns []net.Listener
	for i := 0; i < size; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		peers = append(peers, Peer{ID: fmt.Sprintf("n%d", i+1), Addr: ln.Addr().String()})
	}
	var faults []*Faults
	for i := 0; i < size; i++ {
		o := testNodeOptions(t, t.TempDir())
		o.Shards, o.ID, o.Listener, o.Peers = shards, peers[i].ID, lns[i], peers
		o.HeartbeatTimeout, o.ElectionTimeout = 200*time.Millisecond, 200*time.Millisecond
		o.LeaderLeaseTimeout = 100 * time.Millisecond
		o.Faults = NewFaults()
		faults = append(faults, o.Faults)
		c.opts = append(c.opts, o)
		c.nodes = append(c.nodes, openTestNode(t, o))
	}
	t.Cleanup(c.close)
	return c, faults
}

func TestFaultsPartitionLeaderAndHeal(t *testing.T) {
	c, faults := newFaultCluster(t, 3, 1)
	c.doRetry(0, putItem("SKU", "S1", 100))
	for i := 0; i < 10; i++ {
		c.doRetry(0, reserve("SKU", "S1", fmt.Sprint("before", i), 1))
	}
	old := c.leader(0)
	oldIdx := slices.Index(c.nodes, old)
	for i, f := range faults {
		if i == oldIdx {
			var others []string
			for j, n := range c.nodes {
				if j != i {
					others = append(others, string(n.Addr()))
				}
			}
			f.Partition(others...)
		} else {
			f.Partition(string(old.Addr()))
		}
	}
	// The majority elects another leader and commits without the old one.
	waitFor(t, "a new leader in the majority", 10*time.Second, func() bool {
		for i, n := range c.nodes {
			if i != oldIdx && n.Shard(0).IsLeader() {
				return true
			}
		}
		return false
	})
	// The majority's own view of the cluster; it goes on issuing the
	// cluster's idempotency keys.
	majority := &testCluster{t: t, keys: c.keys}
	for i, n := range c.nodes {
		if i != oldIdx {
			majority.nodes = append(majority.nodes, n)
		}
	}
	for i := 0; i < 10; i++ {
		majority.doRetry(0, reserve("SKU", "S1", fmt.Sprint("during", i), 1))
	}
	c.keys = majority.keys
	// The old leader, cut off, has stepped down and cannot commit.
	waitFor(t, "the old leader to step down", 5*time.Second, func() bool { return !old.Shard(0).IsLeader() })

	for _, f := range faults {
		f.Heal()
	}
	for i := 0; i < 10; i++ {
		c.doRetry(0, reserve("SKU", "S1", fmt.Sprint("after", i), 1))
	}
	c.converged(0)
	r := c.leader(0).Shard(0).Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("SKU"), Store: []byte("S1")})
	if r.Item == nil || r.Item.Held != 30 {
		t.Fatalf("item after heal: %+v; want 30 held (each acknowledged reserve once)", r.Item)
	}
}

func TestBalanceLeadersSpreadsShards(t *testing.T) {
	const shards = 6
	c, _ := newFaultCluster(t, 3, shards)
	for s := uint16(0); s < shards; s++ {
		c.leader(s)
	}
	members := make([]raft.ServerID, len(c.nodes))
	for i, n := range c.nodes {
		members[i] = n.ID()
	}
	stop := make(chan struct{})
	defer close(stop)
	for _, n := range c.nodes {
		go n.BalanceLeaders(BalanceOptions{Members: members, Interval: 50 * time.Millisecond, Backoff: time.Second}, stop)
	}
	waitFor(t, "every shard led by its preferred node", 20*time.Second, func() bool {
		for s := uint16(0); s < shards; s++ {
			want := PreferredLeader(members, s)
			if _, id := c.nodes[0].Shard(s).Leader(); id != want {
				return false
			}
		}
		return true
	})
	counts := c.nodes[0].LeaderCounts()
	for _, id := range members {
		if counts[id] != shards/len(members) {
			t.Errorf("leader counts %v, want %d each", counts, shards/len(members))
		}
	}
}
