// The short form of the 5-node fault test (make test; the long form is
// make test-faults FAULT_NODES=5). A 5-node cluster of real invd processes
// runs the load of workload_test.go (reserves, confirms, cancels and keyed
// resends from several clients, on a hot item, spread items, an item with
// pickup windows and an item with a per-customer limit) and, beside it, the
// linearizability load of linearizability_test.go on items of its own.
// Two faults, each followed, with the load stopped, by every check of
// workload_test.go (identical replica state hashes, no oversell, windows
// within quota, customers within the limit, every acknowledged operation
// present, keyed resends counted once) and by porcupine on the items'
// histories:
//
//  1. kill -9 the hot shard's leader under load; a new leader must take
//     over and serve; the node restarts and catches up;
//  2. partition a minority of two nodes, the hot shard's leader among them,
//     away from the other three; the majority must elect a leader and serve,
//     and the old leader must step down in the minority; then heal, and the
//     old leader returns as a follower and converges.
//
// The client must ride out both: an operation that fails after its
// retries fails the test.
package clustertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/protocol"
)

func TestFiveNodesLeaderKillAndMinorityPartition(t *testing.T) {
	const nodes = 5
	// Every node replicates every shard, so that a minority partition
	// leaves each shard a majority (with 3 replicas of 5 nodes, two cut
	// nodes may hold two of a shard's three).
	c := startClusterWith(t, nodes, faultShards, fmt.Sprintf("replicas = %d\n", nodes))
	w := newWorkload(t, c, 3, 6, 150, 100000, "five")
	hotShard := protocol.ShardOf([]byte(w.items[w.hot].sku), []byte(w.items[w.hot].store), faultShards)

	// newLeaderOutside waits for a leader of the hot shard on a node not in
	// out, as the nodes themselves report it.
	newLeaderOutside := func(out ...int) int {
		t.Helper()
		l := -1
		waitFor(t, "a new leader of the hot shard", 15*time.Second, func() bool {
			for i := range nodes {
				skip := false
				for _, o := range out {
					skip = skip || i == o
				}
				if hs, err := c.ShardHashes(i); !skip && err == nil && hs[hotShard].Leader {
					l = i
					return true
				}
			}
			return false
		})
		return l
	}
	progress := func(what string) {
		t.Helper()
		at := w.ops.Load()
		waitFor(t, "operations to complete "+what, 15*time.Second, func() bool { return w.ops.Load() > at+20 })
	}
	phase := func(name string, fault func()) {
		t.Helper()
		lin := startLin(t, c, "lin-"+name, 2, 2, hotShard) // where the faults strike
		stop := make(chan struct{})
		wg := w.run(3, stop)
		time.Sleep(800 * time.Millisecond)
		fault()
		time.Sleep(500 * time.Millisecond)
		close(stop)
		wg.Wait()
		lin.stop()
		if n := w.failures.Load(); n > 0 {
			t.Errorf("%s: %d operations failed after their retries", name, n)
		}
		w.check(c, name)
		lin.check(50)
	}

	phase("kill", func() {
		l := settledLeaderOf(t, c, hotShard)
		t.Logf("kill -9 node %d, leader of hot shard %d, after %d ops", l+1, hotShard, w.ops.Load())
		c.Kill(l)
		nl := newLeaderOutside(l)
		progress("under the new leader")
		t.Logf("node %d leads the hot shard; restart node %d", nl+1, l+1)
		if err := c.Start(l); err != nil {
			t.Fatal(err)
		}
	})

	w.restock(150)
	phase("partition", func() {
		old := settledLeaderOf(t, c, hotShard)
		other := (old + 1) % nodes
		t.Logf("partition nodes %d (leader of hot shard %d) and %d from the other three after %d ops", old+1, hotShard, other+1, w.ops.Load())
		if err := c.Partition(old, other); err != nil {
			t.Fatal(err)
		}
		nl := newLeaderOutside(old, other)
		waitFor(t, "the old leader to step down in the minority", 15*time.Second, func() bool {
			hs, err := c.ShardHashes(old)
			return err == nil && !hs[hotShard].Leader
		})
		progress("in the majority")
		hs, err := c.ShardHashes(nl)
		if err != nil {
			t.Fatal(err)
		}
		committed := hs[hotShard].Applied
		t.Logf("node %d leads the hot shard in the majority (applied %d); heal after %d ops", nl+1, committed, w.ops.Load())
		if err := c.Heal(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the old leader to catch up with the majority", 15*time.Second, func() bool {
			hs, err := c.ShardHashes(old)
			return err == nil && hs[hotShard].Applied >= committed
		})
	})
	if w.windowFull.Load() == 0 || w.limited.Load() == 0 {
		t.Errorf("the load never ran into a rule: %d window full, %d over limit", w.windowFull.Load(), w.limited.Load())
	}
}
