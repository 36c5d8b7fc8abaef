// Tests of a real 3-node cluster with 2 shard groups in one process: three
// Stores in three temp dirs, each node with its own mux listener on
// 127.0.0.1, every raft RPC over real TCP through the shard header. They
// prove that each shard elects a leader and replicates applies; that a
// follower refuses proposals naming the leader's address; that holds expire
// on every replica through the leader's timer; that after a leader is
// stopped the survivors elect a new one and go on, and the stopped node,
// restarted on its directory, catches up; and that every replica of a shard
// ends with byte-identical engine state.
package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

type testCluster struct {
	t       testing.TB
	opts    []Options
	nodes   []*Node
	keys    int // idempotency keys issued by doRetry
	retries int
}

func newTestCluster(t *testing.T, size, shards int) *testCluster {
	return newTestClusterWith(t, size, shards, nil)
}

// newTestClusterWith is newTestCluster with node i's options changed by
// tweak (nil: none) before it opens.
func newTestClusterWith(t testing.TB, size, shards int, tweak func(i int, o *Options)) *testCluster {
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
	for i := 0; i < size; i++ {
		o := testNodeOptions(t, t.TempDir())
		o.Shards = shards
		o.ID = peers[i].ID
		o.Listener = lns[i]
		o.Peers = peers
		// Elections on a busy 2-core machine under -race: some slack, so
		// that a leader is not deposed by a slow scheduler mid-test.
		o.HeartbeatTimeout, o.ElectionTimeout = 200*time.Millisecond, 200*time.Millisecond
		o.LeaderLeaseTimeout = 100 * time.Millisecond
		if tweak != nil {
			tweak(i, &o)
		}
		c.opts = append(c.opts, o)
		c.nodes = append(c.nodes, openTestNode(t, o))
	}
	t.Cleanup(c.close)
	return c
}

func (c *testCluster) close() {
	for _, n := range c.nodes {
		if n != nil {
			if err := n.Close(); err != nil {
				c.t.Errorf("close %s: %v", n.ID(), err)
			}
		}
	}
}

// leader waits for a leader of shard among the running nodes.
func (c *testCluster) leader(shard uint16) *Node {
	c.t.Helper()
	var found *Node
	waitFor(c.t, fmt.Sprintf("a leader of shard %d", shard), 10*time.Second, func() bool {
		for _, n := range c.nodes {
			if n != nil && n.Shard(shard).IsLeader() {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

// converged waits until every running replica of shard has the leader's
// state (after a barrier, so the leader applied all it committed), and
// returns that state.
func (c *testCluster) converged(shard uint16) []byte {
	c.t.Helper()
	var want []byte
	var report string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l := c.leader(shard).Shard(shard)
		if err := l.Barrier(5 * time.Second); err != nil {
			report = fmt.Sprintf("barrier: %v", err)
			continue
		}
		want = shardState(c.t, l)
		same := true
		report = ""
		for _, n := range c.nodes {
			if n == nil {
				continue
			}
			s := n.Shard(shard)
			got := shardState(c.t, s)
			report += fmt.Sprintf("\n  %s: leader %v applied %d, %d state bytes, same %v",
				n.ID(), s.IsLeader(), s.AppliedIndex(), len(got), bytes.Equal(got, want))
			same = same && bytes.Equal(got, want)
		}
		if same {
			return want
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("shard %d replicas did not converge:%s", shard, report)
	return nil
}

// doRetry is what a client does: propose to the shard's current leader and,
// while the answer is "not the leader", "busy" or "outcome unknown" (an
// election under a loaded test machine), try again with the same
// idempotency key, so the command takes effect at most once.
func (c *testCluster) doRetry(shard uint16, cmd engine.Command) engine.Result {
	c.t.Helper()
	if cmd.Op.Mutating() && len(cmd.Key) == 0 {
		c.keys++
		cmd.Key = []byte(fmt.Sprintf("key-%d", c.keys))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := c.leader(shard).Shard(shard)
		ch := make(chan result, 1)
		err := s.Propose(cmd, func(r engine.Result, err error) { ch <- result{r: r, err: err} })
		if err == nil {
			select {
			case res := <-ch:
				if res.err == nil {
					return res.r
				}
				err = res.err
			case <-time.After(time.Minute):
				c.t.Fatalf("shard %d: %v: no answer within a minute", shard, cmd.Op)
			}
		}
		retry := errors.Is(err, ErrNotLeader) || errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrBusy)
		if !retry || time.Now().After(deadline) {
			c.t.Fatalf("shard %d: %v: %v", shard, cmd.Op, err)
		}
		c.retries++
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClusterReplicates(t *testing.T) {
	c := newTestCluster(t, 3, 2)
	for shard := uint16(0); shard < 2; shard++ {
		c.doRetry(shard, putItem("SKU", "S1", 100))
		for i := 0; i < 30; i++ {
			if r := c.doRetry(shard, reserve("SKU", "S1", fmt.Sprint("c", i), 2)); r.Code != engine.OK {
				t.Fatalf("shard %d reserve %d: %v", shard, i, r.Code)
			}
		}
		if r := c.doRetry(shard, reserve("SKU", "S1", "late", 50)); r.Code != engine.CodeSoldOut {
			t.Fatalf("oversell on shard %d: %v", shard, r.Code)
		}
		l := c.leader(shard)

		// A follower refuses and names the leader.
		for _, n := range c.nodes {
			if n == l {
				continue
			}
			err := n.Shard(shard).Propose(putItem("X", "S1", 1), func(engine.Result, error) {
				t.Error("follower resolved a refused proposal")
			})
			var nl *NotLeaderError
			if !errors.As(err, &nl) {
				t.Fatalf("follower propose: %v", err)
			}
			if nl.LeaderAddr != "" && nl.LeaderAddr != l.Addr() {
				t.Fatalf("follower names %s as leader, leader is %s", nl.LeaderAddr, l.Addr())
			}
		}
	}

	// Holds expire on every replica, driven by each shard leader's timer.
	hold := reserve("SKU", "S1", "brief", 1)
	hold.TTL = 150 * time.Millisecond
	c.doRetry(0, hold)
	for _, n := range c.nodes {
		waitFor(t, "the hold to expire on "+string(n.ID()), 5*time.Second, func() bool {
			return n.Shard(0).Stats().Outcomes[engine.StateExpired] == 1
		})
	}
	for shard := uint16(0); shard < 2; shard++ {
		c.converged(shard)
	}
	t.Logf("%d retries", c.retries)
}

func TestClusterFailover(t *testing.T) {
	c := newTestCluster(t, 3, 2)
	c.doRetry(0, putItem("SKU", "S1", 100))
	for i := 0; i < 10; i++ {
		c.doRetry(0, reserve("SKU", "S1", fmt.Sprint("before", i), 1))
	}
	c.converged(0)
	old := c.leader(0)

	// Stop the leader of shard 0; the two others elect a new one and go on.
	idx := -1
	for i, n := range c.nodes {
		if n == old {
			idx = i
		}
	}
	start := time.Now()
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("closed in %v", time.Since(start))
	c.nodes[idx] = nil
	c.leader(0)
	t.Logf("new leader after %v", time.Since(start))
	for i := 0; i < 10; i++ {
		if r := c.doRetry(0, reserve("SKU", "S1", fmt.Sprint("after", i), 1)); r.Code != engine.OK {
			t.Fatalf("reserve on the new leader: %v", r.Code)
		}
	}
	c.converged(0)

	// The old leader restarts on its directory and address, and catches up.
	o := c.opts[idx]
	o.Listener = nil
	o.BindAddr = string(old.Addr())
	c.nodes[idx] = openTestNode(t, o)
	t.Logf("reopened after %v", time.Since(start))
	state := c.converged(0)
	t.Logf("converged after %v", time.Since(start))
	c.converged(1)
	t.Logf("shard 1 converged after %v", time.Since(start))
	n := c.nodes[idx].Shard(0)
	if st := n.Stats(); st.ActiveHolds != 20 {
		t.Fatalf("restarted replica holds %d, want 20 (%d state bytes)", st.ActiveHolds, len(state))
	}
}

func TestSingleNodeClusterIsTheSameCode(t *testing.T) {
	c := newTestCluster(t, 1, 2)
	for shard := uint16(0); shard < 2; shard++ {
		if r := c.doRetry(shard, putItem("A", "S1", 1)); r.Code != engine.OK {
			t.Fatalf("shard %d: %v", shard, r.Code)
		}
	}
}
