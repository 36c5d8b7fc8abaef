// This test proves that the change feed is durable and exact across a
// restart of a real invd: a consumer follows a shard, handles the events of
// a first round of reservations and goes away, remembering the position of
// the last event it handled. While it is away the server makes more
// changes, snapshots and truncates its raft log (thresholds set low) and is
// stopped and started again on the same data; then more changes. The
// consumer subscribes again after its remembered position and must receive
// every later event exactly once and in order: what it handled before and
// after, joined, equals the shard's whole feed read afresh from position 0,
// and every reservation made appears in it exactly once as reserved.
package client_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// feedSnapshotConfig makes every shard snapshot and truncate its log within
// the test, so that events older than the restored snapshot could come
// only from the durable feed, not from replaying the log.
const feedSnapshotConfig = "snapshot_threshold = 16\ntrailing_logs = 4\nsnapshot_interval = 50ms"

func TestE2ESubscribeResumesAcrossRestart(t *testing.T) {
	s := startOwn(t, 1, feedSnapshotConfig)
	defer func() { stopOwn(t, s) }()
	c := dialServer(t, s)
	ctx := ctxT(t)
	sku, store := uniq("feed-sku"), "S1"
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1000})

	reserved := map[uint64]bool{} // every reservation the test made
	reserve := func(c *client.Client, n int, round string) {
		t.Helper()
		for i := range n {
			h, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store,
				Customer: fmt.Sprintf("%s-%d", round, i), Qty: 1})
			if err != nil {
				t.Fatal(err)
			}
			reserved[h.ID] = true
		}
	}

	// Round 1, followed live; the consumer then leaves.
	sub, err := c.Subscribe(ctx, 0, client.Position{})
	if err != nil {
		t.Fatal(err)
	}
	reserve(c, 40, "r1")
	handled := collectUntil(t, sub, func(seen []client.Event) bool { return countReserved(seen) == 40 })
	last := handled[len(handled)-1].Position // what the consumer would store
	sub.Close()

	// Away: more changes, snapshots, a restart, more changes.
	reserve(c, 40, "r2")
	time.Sleep(300 * time.Millisecond) // a few snapshot intervals
	c.Close()
	if err := s.Stop(30 * time.Second); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if s, err = s.Restart(); err != nil {
		t.Fatal(err)
	}
	c = dialServer(t, s)
	reserve(c, 40, "r3")

	// Back: resume after the last handled event.
	sub, err = c.Subscribe(ctx, 0, last)
	if err != nil {
		t.Fatalf("resume after %+v: %v", last, err)
	}
	handled = append(handled, collectUntil(t, sub, func(seen []client.Event) bool {
		return countReserved(handled)+countReserved(seen) == 120
	})...)
	sub.Close()

	// The whole feed afresh, for comparison.
	all, err := c.Subscribe(ctx, 0, client.Position{})
	if err != nil {
		t.Fatal(err)
	}
	whole := collectUntil(t, all, func(seen []client.Event) bool { return countReserved(seen) == 120 })
	all.Close()

	if len(handled) != len(whole) {
		t.Fatalf("consumer handled %d events, the feed has %d", len(handled), len(whole))
	}
	for i := range whole {
		if handled[i].Position != whole[i].Position || handled[i].Kind != whole[i].Kind || handled[i].ID != whole[i].ID {
			t.Fatalf("event %d: consumer %+v, feed %+v", i, handled[i], whole[i])
		}
		if i > 0 && !whole[i].Position.After(whole[i-1].Position) {
			t.Fatalf("event %d at %+v not after %+v", i, whole[i].Position, whole[i-1].Position)
		}
	}
	once := map[uint64]int{}
	for _, ev := range handled {
		if ev.Kind == engine.EvReserved {
			once[ev.ID]++
		}
	}
	for id := range reserved {
		if once[id] != 1 {
			t.Errorf("reservation %d: %d reserved events, want 1", id, once[id])
		}
	}
}

// TestE2ESubscribePrunedPosition: a position older than the feed keeps is
// refused with not_found, which the client reports as ErrFeedGap.
func TestE2ESubscribePrunedPosition(t *testing.T) {
	// A feed that keeps 8 events per shard, pruned every 50ms.
	s := startOwn(t, 1, "feed_max_events = 8\nfeed_prune_interval = 50ms")
	defer func() { stopOwn(t, s) }()
	c := dialServer(t, s)
	ctx := ctxT(t)
	sku, store := uniq("pruned-sku"), "S1"
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1000})
	for i := range 40 {
		if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: fmt.Sprintf("p-%d", i), Qty: 1}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Subscribe(ctx, 0, client.Position{Index: 2})
		if err != nil {
			if !errors.Is(err, client.ErrFeedGap) {
				t.Fatalf("subscribe from a pruned position: %v, want ErrFeedGap", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("position 2 still served after the retention should have pruned it")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// collectUntil reads events until done says the events seen are enough.
func collectUntil(t *testing.T, sub *client.Subscription, done func([]client.Event) bool) []client.Event {
	t.Helper()
	var seen []client.Event
	timeout := time.After(20 * time.Second)
	for !done(seen) {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %d events: %v", len(seen), sub.Err())
			}
			seen = append(seen, ev)
		case <-timeout:
			t.Fatalf("only %d events (%d reserved) after 20s", len(seen), countReserved(seen))
		}
	}
	return seen
}

func countReserved(evs []client.Event) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == engine.EvReserved {
			n++
		}
	}
	return n
}
