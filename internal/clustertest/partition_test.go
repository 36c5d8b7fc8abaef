// Network faults between the nodes of a 3-node cluster of real invd
// processes, through each node's raft fault layer (raftstore/faults.go,
// /debug/faults): the client ports stay reachable, only raft traffic is
// cut, delayed or dropped. Under the load of workload_test.go this proves
// that a leader partitioned away from the majority loses its shards to a
// new leader the client finds (no operation fails after its retries), that
// when the partition heals the old leader rejoins as a follower and every
// replica converges to the same state hash with every acknowledged
// operation present; and that the same holds through delayed raft traffic
// and randomly dropped raft connections.
package clustertest

import (
	"testing"
	"time"

	"github.com/invsys/inv/protocol"
)

func TestPartitionLeaderAwayAndHeal(t *testing.T) {
	c := startCluster(t, 3, faultShards)
	w := newWorkload(t, c, 4, 8, 150, 100000, "part")
	hotShard := protocol.ShardOf([]byte(w.items[w.hot].sku), []byte(w.items[w.hot].store), faultShards)

	// 1. Partition the hot shard's leader away from the majority.
	stop := make(chan struct{})
	wg := w.run(4, stop)
	time.Sleep(time.Second)
	old := c.Leader(hotShard)
	if old < 0 {
		t.Fatal("the hot shard has no leader")
	}
	t.Logf("partition node %d (leader of hot shard %d) from the others after %d ops", old+1, hotShard, w.ops.Load())
	if err := c.Partition(old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new leader of the hot shard in the majority", 15*time.Second, func() bool {
		for i := range c.Size() {
			if i == old {
				continue
			}
			if hs, err := c.ShardHashes(i); err == nil && hs[hotShard].Leader {
				return true
			}
		}
		return false
	})
	atNewLeader := w.ops.Load()
	time.Sleep(1500 * time.Millisecond)
	if w.ops.Load() <= atNewLeader {
		t.Errorf("no operation completed while the old leader was partitioned away")
	}
	t.Logf("heal after %d ops", w.ops.Load())
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if n := w.failures.Load(); n > 0 {
		t.Errorf("%d operations failed after their retries across a partition", n)
	}
	w.check(c, "after partition of the leader and heal")

	// 2. Delayed raft traffic, then dropped raft connections, on every node.
	w.restock(150)
	for _, fault := range []string{"delay=5ms", "drop=0.02"} {
		stop = make(chan struct{})
		wg = w.run(4, stop)
		time.Sleep(500 * time.Millisecond)
		t.Logf("%s on every node's raft connections after %d ops", fault, w.ops.Load())
		for i := range c.Size() {
			if err := c.Faults(i, fault); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(1500 * time.Millisecond)
		if err := c.Heal(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		close(stop)
		wg.Wait()
		if n := w.failures.Load(); n > 0 {
			t.Errorf("%d operations failed after their retries under %s", n, fault)
		}
		w.check(c, "after "+fault)
	}
}
