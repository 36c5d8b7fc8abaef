// This file holds the pages' test node: a real engine behind a fake
// server, with an in-memory change feed, so that the handlers, the book and
// the follower are tested against the engine's own answers and events
// rather than a copy of its rules. It proves nothing by itself.
package pages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
)

// testNode is one shard: an engine, its feed, a clock, and tokens.
type testNode struct {
	mu      sync.Mutex
	eng     *engine.Engine
	now     time.Time
	feed    []raftstore.FeedEvent
	floor   raftstore.Position // the oldest position kept
	index   uint64             // the last "raft index" used
	wake    chan struct{}
	tokens  map[string]Access // token → access; nil: open (every caller an operator)
	allowed int               // pickup attempts left; < 0: no bound
	pickups int               // pickup attempts spent
	foreign bool              // this node does not replicate the shard
	reads   int               // ReadEvents calls: whether anything follows the feed
}

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	n := &testNode{
		eng:     engine.New(engine.Config{ShardID: 0, PickupSecret: []byte("0123456789abcdef0123456789abcdef")}),
		now:     time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC), // 11:00 in Taipei
		wake:    make(chan struct{}),
		allowed: -1,
	}
	return n
}

func (n *testNode) clock() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.now
}

func (n *testNode) advance(d time.Duration) {
	n.mu.Lock()
	n.now = n.now.Add(d)
	n.mu.Unlock()
}

// must runs a command and fails the test unless it succeeds.
func (n *testNode) must(t *testing.T, cmd engine.Command) engine.Result {
	t.Helper()
	r, err := n.Do(context.Background(), &cmd)
	if err != nil || r.Code != engine.OK {
		t.Fatalf("%s: %v %v", cmd.Op, r.Code, err)
	}
	return r
}

// --- Backend ---

func (n *testNode) Access(token string) (Access, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tokens == nil {
		return Access{Role: RoleOperator, Caller: "open", Open: true}, true
	}
	a, ok := n.tokens[token]
	sum := sha256.Sum256([]byte(token))
	a.Caller = hex.EncodeToString(sum[:])
	return a, ok
}

func (n *testNode) Do(_ context.Context, cmd *engine.Command) (engine.Result, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if cmd.Op.ReadOnly() {
		return n.eng.Read(cmd), nil
	}
	rs, evs := n.eng.Apply(n.now.UnixNano(), []engine.Command{*cmd})
	if len(evs) > 0 {
		n.index++
		for i, ev := range evs {
			n.feed = append(n.feed, raftstore.FeedEvent{Position: raftstore.Position{Index: n.index, Ordinal: uint32(i)}, Event: ev})
		}
		close(n.wake)
		n.wake = make(chan struct{})
	}
	return rs[0], nil
}

func (n *testNode) AllowPickup(caller, store string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pickups++
	if n.allowed == 0 {
		return false
	}
	if n.allowed > 0 {
		n.allowed--
	}
	return true
}

func (n *testNode) Node() NodeStatus {
	return NodeStatus{NodeID: 1, Name: "invd", Ready: true, Shards: []ShardStatus{{Shard: 0, State: "leader", Leader: 1}}}
}

// --- Shard ---

func (n *testNode) IsMember() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.foreign
}

func (n *testNode) ReadEvents(from raftstore.Position, max int, dst []raftstore.FeedEvent) ([]raftstore.FeedEvent, raftstore.Position, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.reads++
	if from.Less(n.floor) {
		return dst, from, &raftstore.EventsPrunedError{From: from, Oldest: n.floor}
	}
	next := from
	for _, fe := range n.feed {
		if fe.Position.Less(from) || len(dst) == max {
			continue
		}
		dst = append(dst, fe)
		next = fe.Position.Next()
	}
	return dst, next, nil
}

func (n *testNode) WaitEvents(ctx context.Context, from raftstore.Position) error {
	for {
		n.mu.Lock()
		has := len(n.feed) > 0 && from.Less(n.feed[len(n.feed)-1].Position.Next()) || from.Less(n.floor)
		wake := n.wake
		n.mu.Unlock()
		if has {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (n *testNode) OldestEvent() raftstore.Position {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.floor
}

func (n *testNode) Read(cmd *engine.Command) engine.Result {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.eng.Read(cmd)
}

func (n *testNode) Stats() engine.Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.eng.Stats()
}

// prune drops the feed's events before the last one, as a retention would.
func (n *testNode) prune() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.feed) > 1 {
		n.feed = n.feed[len(n.feed)-1:]
		n.floor = n.feed[0].Position
		close(n.wake)
		n.wake = make(chan struct{})
	}
}

// shop puts two stores in Taipei, a SKU in each, and two pickup windows
// today: one open now (10:00–12:00 local) and one later (18:00–20:00).
type shop struct {
	sku            string
	tpe, khh       string
	now, later     int64 // the windows' starts
	nowEnd, latEnd int64
}

func putShop(t *testing.T, n *testNode) shop {
	t.Helper()
	s := shop{sku: "4710088412345", tpe: "TPE0427", khh: "KHH0113"}
	day := n.clock().Truncate(24 * time.Hour) // 00:00 UTC is 08:00 in Taipei
	s.now, s.nowEnd = day.Add(2*time.Hour).UnixNano(), day.Add(4*time.Hour).UnixNano()
	s.later, s.latEnd = day.Add(10*time.Hour).UnixNano(), day.Add(12*time.Hour).UnixNano()
	for _, st := range []string{s.tpe, s.khh} {
		n.must(t, engine.Command{Op: engine.OpPutStore, Store: []byte(st), Zone: []byte("Asia/Taipei")})
		n.must(t, engine.Command{Op: engine.OpPutItem, SKU: []byte(s.sku), Store: []byte(st), Stock: 40})
		for _, w := range [][2]int64{{s.now, s.nowEnd}, {s.later, s.latEnd}} {
			n.must(t, engine.Command{Op: engine.OpPutStoreWindow, Store: []byte(st), Window: w[0], WindowEnd: w[1], Quota: 25})
			n.must(t, engine.Command{Op: engine.OpPutWindow, SKU: []byte(s.sku), Store: []byte(st), Window: w[0], WindowEnd: w[1], Quota: 10})
		}
	}
	return s
}

// order reserves and confirms qty units for customer at store in window,
// and returns the reservation id and its pickup code.
func (s shop) order(t *testing.T, n *testNode, store, customer string, qty int64, window int64) (uint64, uint64) {
	t.Helper()
	r := n.must(t, engine.Command{Op: engine.OpReserve, SKU: []byte(s.sku), Store: []byte(store),
		Customer: []byte(customer), Qty: qty, Window: window})
	c := n.must(t, engine.Command{Op: engine.OpConfirm, ID: r.ID})
	return r.ID, c.PickupCode
}

// engineReserve is a reserve command.
func engineReserve(sku, store, customer string, qty, window int64) engine.Command {
	return engine.Command{Op: engine.OpReserve, SKU: []byte(sku), Store: []byte(store), Customer: []byte(customer),
		Qty: qty, Window: window}
}
