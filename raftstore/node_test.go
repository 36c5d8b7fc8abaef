// Tests of a whole node as a single-node cluster: real Pebble in
// t.TempDir(), real hashicorp/raft, real TCP on 127.0.0.1. They prove that a
// fresh node bootstraps itself and elects itself in every shard; that
// reserves proposed concurrently through Propose come back with their own
// results and never oversell; that linked groups are all-or-nothing through
// the log; that holds expire on time with nobody proposing (the leader's
// expiry timer); and that a restart on the same directory restores exactly
// the same state, through log replay and through snapshot + replay after
// low thresholds have truncated the log (FirstIndex moved up).
package raftstore

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// testNodeOptions are options for fast tests on loopback.
func testNodeOptions(t testing.TB, dir string) Options {
	return Options{
		Dir:                dir,
		Shards:             2,
		Engine:             testEngineConfig(),
		HeartbeatTimeout:   50 * time.Millisecond,
		ElectionTimeout:    50 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		ExpiryCheck:        20 * time.Millisecond,
		Logger:             testLogger(t),
	}
}

func openTestNode(t testing.TB, o Options) *Node {
	t.Helper()
	n, err := OpenNode(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitLeaderOf(t testing.TB, n *Node) {
	t.Helper()
	for i := 0; i < n.NumShards(); i++ {
		s := n.Shard(uint16(i))
		waitFor(t, fmt.Sprintf("shard %d leader", i), 10*time.Second, s.IsLeader)
	}
}

// do proposes cmd and waits for its result.
func do(t testing.TB, s *Shard, cmd engine.Command) engine.Result {
	t.Helper()
	ch := make(chan result, 1)
	if err := s.Propose(cmd, func(r engine.Result, err error) { ch <- result{r: r, err: err} }); err != nil {
		t.Fatalf("shard %d: propose %v: %v", s.ID(), cmd.Op, err)
	}
	select {
	case res := <-ch:
		if res.err != nil {
			t.Fatalf("shard %d: %v: %v", s.ID(), cmd.Op, res.err)
		}
		return res.r
	case <-time.After(10 * time.Second):
		t.Fatalf("shard %d: %v: no result", s.ID(), cmd.Op)
		return engine.Result{}
	}
}

func shardState(t testing.TB, s *Shard) []byte { return stateBytes(t, s.FSM()) }

func TestSingleNodeProposals(t *testing.T) {
	n := openTestNode(t, testNodeOptions(t, t.TempDir()))
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(1)
	if r := do(t, s, putItem("4710088432018", "S0231", 150)); r.Code != engine.OK {
		t.Fatalf("put item: %v", r.Code)
	}

	// 40 buyers × 5 attempts for 150 units, all at once.
	var mu sync.Mutex
	codes := map[engine.Code]int{}
	ids := map[uint64]bool{}
	var wg sync.WaitGroup
	for b := 0; b < 40; b++ {
		for k := 0; k < 5; k++ {
			wg.Add(1)
			cmd := reserve("4710088432018", "S0231", fmt.Sprintf("buyer-%d", b), 1)
			err := s.Propose(cmd, func(r engine.Result, err error) {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				codes[r.Code]++
				if r.Code == engine.OK {
					if ids[r.ID] || engine.ShardOfID(r.ID) != 1 {
						t.Errorf("bad or repeated id %x", r.ID)
					}
					ids[r.ID] = true
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	if codes[engine.OK] != 150 || codes[engine.CodeSoldOut] != 50 {
		t.Fatalf("outcomes %v: want 150 ok and 50 sold out", codes)
	}
	item := s.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("4710088432018"), Store: []byte("S0231")})
	if item.Item == nil || item.Item.Held != 150 || item.Item.Available != 0 {
		t.Fatalf("item after the rush: %+v", item.Item)
	}
	if st := s.ProposerStats(); st.Entries >= st.Commands {
		t.Logf("no grouping observed this run: %+v", st)
	}

	// A cart whose second line cannot be held takes nothing.
	do(t, s, putItem("B", "S0231", 1))
	cart := []engine.Command{reserve("B", "S0231", "carter", 1), reserve("4710088432018", "S0231", "carter", 1)}
	cart[0].Linked = true
	ch := make(chan result, 1)
	if err := s.ProposeGroup(cart, func(rs []engine.Result, err error) { ch <- result{rs: rs, err: err} }); err != nil {
		t.Fatal(err)
	}
	res := within(t, ch, "the cart's answer")
	if res.err != nil || len(res.rs) != 2 || res.rs[0].Code == engine.OK || res.rs[1].Code != engine.CodeSoldOut {
		t.Fatalf("cart: %+v", res)
	}
	if b := s.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("B"), Store: []byte("S0231")}); b.Item.Available != 1 {
		t.Fatalf("failed cart kept a hold on B: %+v", b.Item)
	}

	// Other shards are other engines.
	if r := n.Shard(0).Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("B"), Store: []byte("S0231")}); r.Code != engine.CodeUnknownItem {
		t.Fatalf("shard 0 sees shard 1's item: %v", r.Code)
	}
	if n.Shard(2) != nil {
		t.Fatal("shard 2 of a 2-shard node exists")
	}
}

func TestExpiryTimer(t *testing.T) {
	n := openTestNode(t, testNodeOptions(t, t.TempDir()))
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	do(t, s, putItem("A", "S1", 5))
	hold := reserve("A", "S1", "c1", 2)
	hold.TTL = 200 * time.Millisecond
	r := do(t, s, hold)
	if r.Code != engine.OK || r.State != engine.StateHeld {
		t.Fatalf("reserve: %+v", r)
	}
	// Nobody proposes anything: only the leader's timer can expire the hold.
	waitFor(t, "the hold to expire", 5*time.Second, func() bool { return s.Stats().ActiveHolds == 0 })
	if got := s.Stats().Outcomes[engine.StateExpired]; got != 1 {
		t.Fatalf("expired outcomes %d", got)
	}
	late := time.Since(time.Unix(0, r.ExpiresAt))
	if late > 2*time.Second {
		t.Fatalf("hold expired %v after its time", late)
	}
}

func TestRestartRestoresState(t *testing.T) {
	dir := t.TempDir()
	o := testNodeOptions(t, dir)
	o.Shards = 1
	o.ID = "n1" // a node keeps its id (and address) across restarts
	o.SnapshotThreshold = 16
	o.TrailingLogs = 4
	o.SnapshotInterval = 50 * time.Millisecond

	n := openTestNode(t, o)
	waitLeaderOf(t, n)
	s := n.Shard(0)
	do(t, s, putItem("A", "S1", 1000))
	for i := 0; i < 60; i++ { // one entry each: enough to pass the threshold several times
		if r := do(t, s, reserve("A", "S1", fmt.Sprint("c", i), 1)); r.Code != engine.OK {
			t.Fatalf("reserve %d: %v", i, r.Code)
		}
	}
	waitFor(t, "a snapshot to truncate the log", 10*time.Second, func() bool {
		first, err := s.Logs().FirstIndex()
		return err == nil && first > 1
	})
	// A few entries after the snapshot, so restart needs snapshot + replay.
	for i := 0; i < 5; i++ {
		do(t, s, reserve("A", "S1", fmt.Sprint("after", i), 2))
	}
	want := shardState(t, s)
	first, _ := s.Logs().FirstIndex()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	o.BindAddr = string(n.Addr())
	n = openTestNode(t, o)
	defer n.Close()
	s = n.Shard(0)
	if got, _ := s.Logs().FirstIndex(); got < first {
		t.Fatalf("first index after restart %d, before %d", got, first)
	}
	waitLeaderOf(t, n)
	if err := s.Barrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := shardState(t, s); !bytes.Equal(got, want) {
		t.Fatalf("state after restart differs (%d vs %d bytes)", len(got), len(want))
	}
	if st := s.Stats(); st.ActiveHolds != 65 {
		t.Fatalf("active holds after restart %d", st.ActiveHolds)
	}
	// And it goes on issuing fresh ids.
	r := do(t, s, reserve("A", "S1", "new", 1))
	if r.Code != engine.OK || engine.SeqOfID(r.ID) <= 65 {
		t.Fatalf("reserve after restart: %+v", r)
	}
}

func TestNodeOptionsChecked(t *testing.T) {
	bad := []Options{
		{}, // no dir
		{Dir: t.TempDir(), Shards: MaxShards + 1},                                   // too many shards
		{Dir: t.TempDir(), BatchMaxCommands: 8},                                     // a linked group could not fit
		{Dir: t.TempDir(), Peers: []Peer{{ID: "x", Addr: "127.0.0.1:1"}}, ID: "me"}, // peers without self
	}
	for i, o := range bad {
		o.Logger = testLogger(t)
		if n, err := OpenNode(o); err == nil {
			n.Close()
			t.Errorf("options %d accepted", i)
		}
	}
}

// TestRestartOfManyShardsSharesRestoreMemory: the shards a node opens one
// after another on a goroutine read their snapshots into the same buffer
// (openShards): each still comes back exactly as it was, whatever the
// order and sizes, and once open no shard keeps the buffer for a later
// restore (a snapshot installed by a leader).
func TestRestartOfManyShardsSharesRestoreMemory(t *testing.T) {
	dir := t.TempDir()
	o := testNodeOptions(t, dir)
	o.Shards = 5 // more than GOMAXPROCS where the tests run: goroutines open several each
	o.ID = "n1"
	o.SnapshotThreshold = 16
	o.TrailingLogs = 4
	o.SnapshotInterval = 50 * time.Millisecond

	n := openTestNode(t, o)
	waitLeaderOf(t, n)
	storeOf := make([]string, o.Shards) // a store of each shard
	for i := 0; slices.Contains(storeOf, ""); i++ {
		st := fmt.Sprint("S", i)
		if k := protocol.ShardOfStore([]byte(st), o.Shards); storeOf[k] == "" {
			storeOf[k] = st
		}
	}
	for k, st := range storeOf {
		s := n.Shard(uint16(k))
		for i := range 10 * (k + 1) { // states of different sizes
			do(t, s, putItem(fmt.Sprint("sku-", i), st, 100))
		}
		for i := range 30 + 10*k {
			if r := do(t, s, reserve(fmt.Sprint("sku-", i%10), st, fmt.Sprint("c", k, "-", i), 1)); r.Code != engine.OK {
				t.Fatalf("shard %d reserve %d: %v", k, i, r.Code)
			}
		}
		waitFor(t, fmt.Sprintf("shard %d to snapshot", k), 10*time.Second, func() bool {
			first, err := s.Logs().FirstIndex()
			return err == nil && first > 1
		})
	}
	want := make([][]byte, o.Shards)
	for k := range want {
		want[k] = shardState(t, n.Shard(uint16(k)))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	o.BindAddr = string(n.Addr())
	n = openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	for k := range want {
		s := n.Shard(uint16(k))
		if err := s.Barrier(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if got := shardState(t, s); !bytes.Equal(got, want[k]) {
			t.Fatalf("shard %d: state after restart differs (%d vs %d bytes)", k, len(got), len(want[k]))
		}
		s.FSM().restoreMu.Lock()
		kept := s.FSM().restoreBuf != nil
		s.FSM().restoreMu.Unlock()
		if kept {
			t.Fatalf("shard %d keeps the restore buffer once open", k)
		}
	}
}

// TestSingleNodeLeadsWithoutWaiting: a node that is the only voter of its
// shards leads them at once, when first bootstrapped and after a restart,
// instead of waiting a heartbeat timeout for a leader that cannot exist
// (here 3 s: the test fails if it waits).
func TestSingleNodeLeadsWithoutWaiting(t *testing.T) {
	o := testNodeOptions(t, t.TempDir())
	o.ID = "n1"
	o.Shards = 4
	o.HeartbeatTimeout, o.ElectionTimeout = 3*time.Second, 3*time.Second
	for _, start := range []string{"bootstrap", "restart"} {
		began := time.Now()
		n := openTestNode(t, o)
		waitLeaderOf(t, n)
		if took := time.Since(began); took > time.Second {
			t.Errorf("%s: shards led after %v, past a second (heartbeat timeout %v)", start, took, o.HeartbeatTimeout)
		}
		if rc := n.Shard(0).raft.ReloadableConfig(); rc.HeartbeatTimeout != o.HeartbeatTimeout {
			t.Errorf("%s: heartbeat timeout left at %v, want %v", start, rc.HeartbeatTimeout, o.HeartbeatTimeout)
		}
		do(t, n.Shard(0), putItem("A", "S1", 1)) // it serves
		o.BindAddr = string(n.Addr())
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
