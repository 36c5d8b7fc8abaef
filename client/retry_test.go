// These tests prove the retry and routing logic against the in-process
// fake server: busy, unavailable, timeout answers, dropped connections and
// lost replies are retried with the same idempotency key until an answer
// comes (a connection silent for a whole request timeout is replaced); NOT_LEADER hints are followed and remembered; retries stop at the
// policy's attempts and at the context's end, and the error then says the
// outcome is unknown when a mutation may have been applied.
package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

var fastRetry = WithRetry(RetryPolicy{MaxAttempts: 8, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})

// keysOf returns the keys the fake received, in order.
func keysOf(f *fakeServer) []string {
	var ks []string
	for _, c := range f.received() {
		ks = append(ks, string(c.Key))
	}
	return ks
}

func sameKey(t *testing.T, keys []string, n int) {
	t.Helper()
	if len(keys) != n {
		t.Fatalf("%d attempts, want %d (%q)", len(keys), n, keys)
	}
	for _, k := range keys {
		if k == "" || k != keys[0] {
			t.Fatalf("attempts with different keys: %q", keys)
		}
	}
}

func TestRetriesBusyUnavailableAndTimeoutWithOneKey(t *testing.T) {
	for _, code := range []engine.Code{engine.CodeBusy, engine.CodeUnavailable, engine.CodeTimeout, engine.CodeInternal} {
		t.Run(code.String(), func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
				mu.Lock()
				defer mu.Unlock()
				if n++; n <= 2 {
					return fakeReply{code: code, msg: "try later"}
				}
				return fakeReply{res: engine.Result{ID: 9, State: engine.StateHeld}}
			})
			c := dialFake(t, f, fastRetry)
			res, err := c.Reserve(context.Background(), ReserveRequest{SKU: "A", Store: "S", Customer: "c"})
			if err != nil || res.ID != 9 {
				t.Fatalf("%+v %v", res, err)
			}
			sameKey(t, keysOf(f), 3)
		})
	}
}

func TestRetriesDroppedConnectionsWithOneKey(t *testing.T) {
	var mu sync.Mutex
	n := 0
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		mu.Lock()
		defer mu.Unlock()
		if n++; n <= 2 {
			return fakeReply{drop: true} // the request arrived; its reply is lost
		}
		return fakeReply{res: engine.Result{ID: 5, State: engine.StateHeld}}
	})
	c := dialFake(t, f, fastRetry)
	res, err := c.Reserve(context.Background(), ReserveRequest{SKU: "A", Store: "S", Customer: "c", Key: "k-1"})
	if err != nil || res.ID != 5 {
		t.Fatalf("%+v %v", res, err)
	}
	sameKey(t, keysOf(f), 3)
}

func TestRetriesLostRepliesAfterRequestTimeout(t *testing.T) {
	var mu sync.Mutex
	n := 0
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 1 {
			return fakeReply{silent: true}
		}
		return fakeReply{res: engine.Result{ID: 3, State: engine.StateConfirmed}}
	})
	c := dialFake(t, f, fastRetry, WithRequestTimeout(50*time.Millisecond), WithConnsPerNode(1))
	res, err := c.Confirm(context.Background(), ConfirmRequest{ID: 3})
	if err != nil || res.State != engine.StateConfirmed {
		t.Fatalf("%+v %v", res, err)
	}
	sameKey(t, keysOf(f), 2)
	// Nothing came back on the connection for the whole timeout: it was
	// taken for stalled and replaced.
	if n := len(f.helloes()); n != 2 {
		t.Fatalf("%d connections, want the stalled one replaced", n)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		if cmd.Op == engine.OpGetItem {
			return fakeReply{code: engine.CodeBusy}
		}
		return fakeReply{code: engine.CodeTimeout}
	})
	c := dialFake(t, f, WithRetry(RetryPolicy{MaxAttempts: 3, BaseBackoff: time.Millisecond}))
	_, err := c.Reserve(context.Background(), ReserveRequest{SKU: "A", Store: "S", Customer: "c"})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("err %v", err)
	}
	if len(f.received()) != 3 {
		t.Fatalf("%d attempts", len(f.received()))
	}
	_, err = c.GetItem(context.Background(), "A", "S")
	if !errors.Is(err, ErrBusy) || errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("read: %v", err)
	}
}

func TestFinalErrorsAreNotRetried(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		return fakeReply{code: engine.CodeUnauthorized, msg: "role may not put items"}
	})
	c := dialFake(t, f, fastRetry)
	err := c.PutItem(context.Background(), ItemSpec{SKU: "A", Store: "S", Stock: 1})
	if !errors.Is(err, ErrUnauthorized) || len(f.received()) != 1 {
		t.Fatalf("%v after %d attempts", err, len(f.received()))
	}
}

// TestFollowsNotLeaderHints: node a thinks it leads shard 0 but says b
// does; the call goes on to b with the same key, and the next call goes
// to b directly.
func TestFollowsNotLeaderHints(t *testing.T) {
	b := newFakeNode(t, 2, 1, nil, false)
	a := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		return fakeReply{notLeader: &protocol.NotLeader{Shard: 0, LeaderID: 2, LeaderAddr: b.addr}}
	})
	c := dialFake(t, a, fastRetry)
	ctx := context.Background()
	for i := range 2 {
		if _, err := c.Reserve(ctx, ReserveRequest{SKU: "A", Store: "S", Customer: "c", Key: "k"}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if len(a.received()) != 1 || len(b.received()) != 2 {
		t.Fatalf("a got %d, b got %d", len(a.received()), len(b.received()))
	}
	if string(a.received()[0].Key) != "k" || string(b.received()[0].Key) != "k" {
		t.Fatal("the hinted retry changed the key")
	}
}

// TestRoutesByShardToLeaders: a two-node map; item calls go to the leader
// of the item's shard, reservation calls to the leader of the id's shard.
func TestRoutesByShardToLeaders(t *testing.T) {
	a := newFake(t, 2, nil)
	b := newFakeNode(t, 2, 2, nil, false)
	topo := protocol.Topology{Version: 7, Hash: protocol.HashName,
		Nodes:  []protocol.Node{{ID: 1, Addr: a.addr}, {ID: 2, Addr: b.addr}},
		Shards: []protocol.ShardPlacement{{Leader: 1}, {Leader: 2}}}
	a.setTopology(topo)
	b.setTopology(topo)
	c := dialFake(t, a)
	ctx := context.Background()
	var storeOn [2]string // items are placed by store
	for i := 0; storeOn[0] == "" || storeOn[1] == ""; i++ {
		store := string(rune('A' + i))
		storeOn[protocol.ShardOfStore([]byte(store), 2)] = store
	}
	for shard, store := range storeOn {
		if _, err := c.Reserve(ctx, ReserveRequest{SKU: "A", Store: store, Customer: "c"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Cancel(ctx, CancelRequest{ID: engine.MakeID(uint16(shard), 1)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []*fakeServer{a, b} {
		got := f.received()
		if len(got) != 2 || got[0].Op != engine.OpReserve || got[1].Op != engine.OpCancel {
			t.Fatalf("node %d got %+v", f.nodeID, got)
		}
	}
}

// TestReconnectsAfterTheServerDropsEverything: every connection of the
// node closes at once; the next calls dial again by themselves.
func TestReconnectsAfterTheServerDropsEverything(t *testing.T) {
	f := newFake(t, 1, nil)
	c := dialFake(t, f, fastRetry)
	ctx := context.Background()
	for round := range 3 {
		if _, err := c.Reserve(ctx, ReserveRequest{SKU: "A", Store: "S", Customer: "c"}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		f.dropAll()
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}
	for attempt := 1; attempt < 40; attempt++ {
		d := backoff(&p, attempt)
		full := min(p.BaseBackoff<<min(attempt-1, 20), p.MaxBackoff)
		if d < full/2 || d > full {
			t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, full/2, full)
		}
	}
}

// TestRetriesStopAtTheDeadline: a call that keeps meeting busy retries
// until its context's deadline, not past it, and says both why.
func TestRetriesStopAtTheDeadline(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply { return fakeReply{code: engine.CodeBusy} })
	c := dialFake(t, f, WithRetry(RetryPolicy{MaxAttempts: 1000, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetItem(ctx, "A", "S")
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("gave up after %s, past the 150ms deadline", d)
	}
	if n := len(f.received()); n < 3 {
		t.Fatalf("%d attempts before the deadline", n)
	}
}
