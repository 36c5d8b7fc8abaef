// Fault tests of a 3-node cluster of real invd processes under load from
// several clients (workload_test.go says what the load does and what is
// checked). The short form, run by make test: kill -9 the leader of the
// hot item's shard under load and restart it; then kill -9 every node at
// once and restart them all together; after each, with the load stopped,
// the replicas are compared by state hash and every acknowledged operation
// is looked up. The client must ride out each fault: an operation that
// fails after its retries fails the test, so errors reach the caller only
// as retry delays.
//
// The long form (make test-faults, or INV_FAULTS=5m go test -run
// TestFaultsLong) injects random faults every few seconds for the given
// time (kill -9 of the hot leader or of any node, kill -9 of every node,
// graceful restarts, partitions of a node from the others, delayed and
// dropped raft traffic; on 5 nodes or more, partitions of a minority that
// holds the hot shard's leader) and prints each fault and each check: the
// checks of workload_test.go and porcupine on the histories of
// linearizability_test.go's load, run beside it each round.
// INV_FAULT_NODES=5 runs it on 5 nodes.
package clustertest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/invsys/inv/protocol"
)

const faultShards = 4

func TestFailoverKillLeaderAndRestartAll(t *testing.T) {
	c := startCluster(t, 3, faultShards)
	w := newWorkload(t, c, 4, 8, 150, 100000, "short")
	hotShard := protocol.ShardOf([]byte(w.items[w.hot].sku), []byte(w.items[w.hot].store), faultShards)

	// 1. Kill -9 the hot shard's leader under load, restart it.
	stop := make(chan struct{})
	wg := w.run(4, stop)
	time.Sleep(time.Second)
	leader := c.Leader(hotShard)
	if leader < 0 {
		t.Fatal("the hot shard has no leader")
	}
	before := w.ops.Load()
	t.Logf("kill -9 node %d, leader of hot shard %d, after %d ops", leader+1, hotShard, before)
	c.Kill(leader)
	time.Sleep(2 * time.Second)
	if err := c.Start(leader); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if w.ops.Load() <= before {
		t.Errorf("no operation completed after the leader was killed")
	}
	if n := w.failures.Load(); n > 0 {
		t.Errorf("%d operations failed after their retries across a leader kill", n)
	}
	w.check(c, "after leader kill")

	// 2. Kill -9 every node at once under load, restart them all.
	w.restock(150)
	stop = make(chan struct{})
	wg = w.run(4, stop)
	time.Sleep(time.Second)
	t.Logf("kill -9 all nodes after %d ops", w.ops.Load())
	c.KillAll()
	if err := c.Start(0, 1, 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if n := w.failures.Load(); n > 0 {
		t.Errorf("%d operations failed after their retries across a restart of every node", n)
	}
	w.check(c, "after restart of every node")
}

// TestFaultsLong runs random faults for INV_FAULTS (a duration, e.g. 5m);
// it skips when that is unset.
func TestFaultsLong(t *testing.T) {
	spec := os.Getenv("INV_FAULTS")
	if spec == "" {
		t.Skip("long fault run: set INV_FAULTS=5m (make test-faults)")
	}
	total, err := time.ParseDuration(spec)
	if err != nil {
		t.Fatalf("INV_FAULTS: %v", err)
	}
	say := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		fmt.Printf("%s faults: %s\n", time.Now().Format("15:04:05.000"), msg)
	}
	nodes := 3
	if s := os.Getenv("INV_FAULT_NODES"); s != "" {
		if nodes, err = strconv.Atoi(s); err != nil || nodes < 3 {
			t.Fatalf("INV_FAULT_NODES=%q: want 3 or more", s)
		}
	}
	// Every node replicates every shard: the faults cut any minority.
	c := startClusterWith(t, nodes, faultShards, fmt.Sprintf("replicas = %d\n", nodes))
	all := make([]int, nodes)
	for i := range all {
		all[i] = i
	}
	say("%d nodes, %d shards, for %s", nodes, faultShards, total)
	w := newWorkload(t, c, 6, 16, 300, 1000000, "long")
	hotShard := protocol.ShardOf([]byte(w.items[w.hot].sku), []byte(w.items[w.hot].store), faultShards)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	injected := map[string]int{}
	end := time.Now().Add(total)
	for round := 1; time.Now().Before(end); round++ {
		w.restock(300)
		lin := startLin(t, c, fmt.Sprintf("lin-r%d", round), 2, 2, hotShard)
		stop := make(chan struct{})
		wg := w.run(4, stop)
		// A few faults, a few seconds apart, then a check with the load stopped.
		for range 1 + rng.IntN(3) {
			time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
			switch f := rng.IntN(7); f {
			case 0: // kill the hot shard's leader, restart it after a while
				l := c.Leader(hotShard)
				if l < 0 {
					continue
				}
				say("round %d: kill -9 node %d (leader of hot shard %d)", round, l+1, hotShard)
				injected["kill hot leader"]++
				c.Kill(l)
				time.Sleep(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
				mustStart(t, c, l)
			case 1: // kill a random node
				n := rng.IntN(c.Size())
				say("round %d: kill -9 node %d", round, n+1)
				injected["kill random node"]++
				c.Kill(n)
				time.Sleep(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
				mustStart(t, c, n)
			case 2: // every node at once
				say("round %d: kill -9 every node, restart all", round)
				injected["kill all"]++
				c.KillAll()
				mustStart(t, c, all...)
			case 3: // graceful restart of a node (SIGTERM)
				n := rng.IntN(c.Size())
				say("round %d: SIGTERM node %d, restart", round, n+1)
				injected["graceful restart"]++
				if p := c.Proc(n); p != nil {
					_ = p.Stop(30 * time.Second)
				}
				c.Kill(n) // forget the stopped process
				mustStart(t, c, n)
			case 4: // partition the hot shard's leader (or a random node) away, heal
				n := c.Leader(hotShard)
				if n < 0 || rng.IntN(2) == 0 {
					n = rng.IntN(c.Size())
				}
				say("round %d: partition node %d from the others", round, n+1)
				injected["partition"]++
				if err := c.Partition(n); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
				if err := c.Heal(); err != nil {
					t.Fatal(err)
				}
			case 5: // slow or lossy raft traffic on every node
				fault := []string{"delay=5ms", "delay=20ms", "drop=0.01", "drop=0.05"}[rng.IntN(4)]
				say("round %d: %s on every node", round, fault)
				injected[fault]++
				for i := range c.Size() {
					if err := c.Faults(i, fault); err != nil {
						t.Fatal(err)
					}
				}
				time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
				if err := c.Heal(); err != nil {
					t.Fatal(err)
				}
			case 6: // a minority with the hot shard's leader cut off from the rest
				l := c.Leader(hotShard)
				if nodes < 5 || l < 0 {
					continue
				}
				group := []int{l}
				for k := 1; len(group) < (nodes-1)/2; k++ {
					group = append(group, (l+k)%nodes)
				}
				say("round %d: partition a minority %v (node %d leads hot shard %d) from the other %d nodes",
					round, plusOne(group), l+1, hotShard, nodes-len(group))
				injected["partition minority"]++
				if err := c.Partition(group...); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(1500+rng.IntN(3000)) * time.Millisecond)
				if err := c.Heal(); err != nil {
					t.Fatal(err)
				}
			}
		}
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		lin.stop()
		w.check(c, fmt.Sprintf("round %d", round))
		lin.check(1)
		say("round %d checked: replicas identical on %d nodes, no oversell, windows within quota, customers within the limit, "+
			"every acknowledged op present (%d ops, %d reservations, %d failed after retries); porcupine on %d ops: %s",
			round, nodes, w.ops.Load(), len(w.resvs), w.failures.Load(), len(lin.hist), okOrFailed(t))
		if t.Failed() {
			break
		}
	}
	say("injected %v; %d operations, %d reservations checked after every round", injected, w.ops.Load(), len(w.resvs))
	if n := w.failures.Load(); n > 0 {
		t.Errorf("%d operations failed after their retries", n)
	}
}

// plusOne turns 0-based node indexes into node ids.
func plusOne(ix []int) []int {
	out := make([]int, len(ix))
	for i, v := range ix {
		out[i] = v + 1
	}
	return out
}

func okOrFailed(t *testing.T) string {
	if t.Failed() {
		return "FAILED"
	}
	return "ok"
}

func mustStart(t *testing.T, c interface{ Start(...int) error }, nodes ...int) {
	t.Helper()
	if err := c.Start(nodes...); err != nil {
		t.Fatal(err)
	}
}
