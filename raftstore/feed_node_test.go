// Tests of the change feed through a whole node: real Pebble in
// t.TempDir(), real hashicorp/raft (single-node groups), real TCP on
// 127.0.0.1. The expected feed of each shard is what the node's EventSink
// saw, position by position (a replay after a restart must report the same
// event at the same position). They prove that:
//   - consumers tailing every shard live (ReadEvents, then WaitEvents when
//     caught up) while requests arrive concurrently, cut off by a node close
//     in the middle and resumed from their last position on the node
//     reopened on the same directory, after snapshots truncated the log and
//     with entries after the last snapshot replayed at restart, receive
//     every event exactly once and in order; events older than the log's
//     first entry are still served, from the feed;
//   - the node's background pruner applies the retention by itself, and a
//     read from before the oldest kept position fails with ErrEventsPruned.
package raftstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// sinkFeed is the expected feed of every shard, from the node's EventSink.
type sinkFeed struct {
	t  testing.TB
	mu sync.Mutex
	by map[uint16]map[Position]engine.Event
}

func (s *sinkFeed) sink(shard uint16, index uint64, events []engine.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by[shard] == nil {
		s.by[shard] = map[Position]engine.Event{}
	}
	for i, e := range events {
		p := Position{Index: index, Ordinal: uint32(i)}
		if old, ok := s.by[shard][p]; ok && old != e {
			s.t.Errorf("shard %d: position %v replayed as %+v, was %+v", shard, p, e, old)
		}
		s.by[shard][p] = e
	}
}

func (s *sinkFeed) events(shard uint16) []FeedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []FeedEvent
	for p, e := range s.by[shard] {
		out = append(out, FeedEvent{Position: p, Event: e})
	}
	slices.SortFunc(out, func(a, b FeedEvent) int {
		if a.Position.Less(b.Position) {
			return -1
		}
		return 1
	})
	return out
}

// errBudget stops a consumer that has received as many events as it wanted.
var errBudget = errors.New("budget spent")

// tail follows one shard's feed from pos until the feed closes or got holds
// budget events (0: no budget), and returns where to resume.
func tail(s *Shard, pos Position, got *[]FeedEvent, budget int, seen *atomic.Int64) (Position, error) {
	buf := make([]FeedEvent, 0, 16)
	for {
		if budget > 0 && len(*got) >= budget {
			return pos, errBudget
		}
		evs, next, err := s.ReadEvents(pos, cap(buf), buf[:0])
		if err != nil {
			return pos, err
		}
		*got = append(*got, evs...)
		seen.Store(int64(len(*got)))
		pos = next
		if len(evs) == 0 {
			if err := s.WaitEvents(context.Background(), pos); err != nil {
				return pos, err
			}
		}
	}
}

// propose proposes cmd and waits for its result (from any goroutine).
func propose(s *Shard, cmd engine.Command) (engine.Result, error) {
	ch := make(chan result, 1)
	if err := s.Propose(cmd, func(r engine.Result, err error) { ch <- result{r: r, err: err} }); err != nil {
		return engine.Result{}, err
	}
	select {
	case res := <-ch:
		return res.r, res.err
	case <-time.After(10 * time.Second):
		return engine.Result{}, errors.New("no result")
	}
}

// traffic proposes n reserves, then confirms or cancels some, concurrently,
// on shard s.
func traffic(t *testing.T, s *Shard, tag string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := propose(s, reserve("A", "S1", fmt.Sprintf("%s-%d", tag, i), 1))
			if err != nil || r.Code != engine.OK {
				t.Errorf("reserve: %v %v", r.Code, err)
				return
			}
			switch i % 3 {
			case 0:
				_, err = propose(s, engine.Command{Op: engine.OpConfirm, ID: r.ID})
			case 1:
				_, err = propose(s, engine.Command{Op: engine.OpCancel, ID: r.ID})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestNodeFeedResumesAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	expect := &sinkFeed{t: t, by: map[uint16]map[Position]engine.Event{}}
	o := testNodeOptions(t, dir)
	o.ID = "n1"
	o.SnapshotThreshold = 16
	o.TrailingLogs = 4
	o.SnapshotInterval = 50 * time.Millisecond
	o.EventSink = expect.sink

	n := openTestNode(t, o)
	waitLeaderOf(t, n)
	shards := n.NumShards()

	// Two consumers per shard from the start: one tails live, the other
	// stops after 100 events and stays away until the node has restarted.
	type consumer struct {
		shard  uint16
		budget int
		pos    Position
		got    []FeedEvent
		seen   atomic.Int64 // len(got), for the test to watch
		done   chan error
	}
	var cons []*consumer
	for i := 0; i < shards; i++ {
		cons = append(cons, &consumer{shard: uint16(i)}, &consumer{shard: uint16(i), budget: 100})
	}
	start := func(n *Node) {
		for _, c := range cons {
			c.done = make(chan error, 1)
			go func() {
				var err error
				c.pos, err = tail(n.Shard(c.shard), c.pos, &c.got, c.budget, &c.seen)
				c.done <- err
			}()
		}
	}
	start(n)

	for i := 0; i < shards; i++ {
		s := n.Shard(uint16(i))
		do(t, s, putItem("A", "S1", 100_000))
		// Rounds of concurrent requests until snapshots have truncated the log.
		deadline := time.Now().Add(10 * time.Second)
		for round := 0; ; round++ {
			if first, err := s.Logs().FirstIndex(); err == nil && first > 30 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no snapshot truncated the log")
			}
			traffic(t, s, fmt.Sprint("before-", round), 12)
		}
		// Entries after the last snapshot, replayed at restart.
		traffic(t, s, "after-snapshot", 5)
	}
	firstLog := make([]uint64, shards)
	for i := range firstLog {
		firstLog[i], _ = n.Shard(uint16(i)).Logs().FirstIndex()
	}
	// Close while the consumers are still going: they stop with ErrClosed.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cons {
		err := within(t, c.done, "a consumer's end")
		if c.budget == 0 && !errors.Is(err, ErrClosed) || c.budget > 0 && err != errBudget {
			t.Fatalf("shard %d consumer (budget %d) stopped with %v", c.shard, c.budget, err)
		}
		t.Logf("shard %d: consumer (budget %d) stopped at %v after %d events; the log starts at %d",
			c.shard, c.budget, c.pos, len(c.got), firstLog[c.shard])
		if c.budget > 0 && c.pos.Index >= firstLog[c.shard] {
			t.Fatalf("shard %d: the laggard is not behind the log's start", c.shard)
		}
	}

	o.BindAddr = string(n.Addr())
	n = openTestNode(t, o)
	defer n.Close()
	for _, c := range cons {
		c.budget = 0
	}
	start(n) // each from its last position, without a budget now
	waitLeaderOf(t, n)
	for i := 0; i < shards; i++ {
		s := n.Shard(uint16(i))
		if err := s.Barrier(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		traffic(t, s, "restarted", 20)
	}
	for _, c := range cons {
		s := n.Shard(c.shard)
		want := expect.events(c.shard)
		last := want[len(want)-1].Position
		waitFor(t, fmt.Sprintf("shard %d feed to hold every event", c.shard), 10*time.Second, func() bool {
			return s.Feed().End() == last.Next()
		})
		waitFor(t, fmt.Sprintf("shard %d consumer to catch up", c.shard), 10*time.Second, func() bool {
			return c.seen.Load() >= int64(len(want))
		})
	}
	// Wake the consumers for good and collect what they have.
	for i := 0; i < shards; i++ {
		n.Shard(uint16(i)).Feed().close()
	}
	for _, c := range cons {
		if err := within(t, c.done, "a consumer's end"); !errors.Is(err, ErrClosed) {
			t.Fatalf("shard %d consumer: %v", c.shard, err)
		}
		want := expect.events(c.shard)
		sameEvents(t, fmt.Sprintf("shard %d consumer", c.shard), c.got, want)
		t.Logf("shard %d: %d events up to %v, in order and once each", c.shard, len(want), want[len(want)-1].Position)
	}
}

func TestNodeFeedPrunerRuns(t *testing.T) {
	o := testNodeOptions(t, t.TempDir())
	o.Shards = 1
	o.FeedMaxEvents = 20
	o.FeedRetention = -1 // no age bound
	o.FeedPruneInterval = 10 * time.Millisecond
	n := openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	do(t, s, putItem("A", "S1", 1000))
	for i := 0; i < 60; i++ {
		do(t, s, reserve("A", "S1", fmt.Sprint("c", i), 1)) // one event per entry
	}
	waitFor(t, "the pruner", 5*time.Second, func() bool { return s.Feed().Count() <= 20 })
	oldest := s.OldestEvent()
	if oldest == (Position{}) {
		t.Fatal("pruned without moving the oldest position")
	}
	if _, _, err := s.ReadEvents(Position{Index: 1}, 10, nil); !errors.Is(err, ErrEventsPruned) {
		t.Fatalf("read from before the oldest: %v", err)
	}
	got, _, err := s.ReadEvents(oldest, 100, nil)
	if err != nil || len(got) != int(s.Feed().Count()) || got[len(got)-1].Event.Customer != "c59" {
		t.Fatalf("read from the oldest: %d events (count %d), %v", len(got), s.Feed().Count(), err)
	}
}
