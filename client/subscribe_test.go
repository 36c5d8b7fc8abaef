// These tests prove the change-feed subscription against the fake server:
// events arrive in order; when the stream breaks (the connection drops, or
// the server ends it with unavailable) the subscription reconnects and
// resumes after the last event it delivered, skipping the events of that
// entry it has already seen; a resume position the server no longer holds
// ends it with ErrFeedGap; Close ends it.
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

// feedEvent is event ordinal ord of entry pos, about reservation pos*10+ord.
func feedEvent(pos uint64, ord uint32) protocol.Event {
	return protocol.Event{Shard: 0, Position: pos, Ordinal: ord,
		Event: engine.Event{Kind: engine.EvReserved, At: 1, ID: pos*10 + uint64(ord), SKU: "A", Qty: 1}}
}

func TestSubscriptionResumesAfterBreaks(t *testing.T) {
	var mu sync.Mutex
	var froms []uint64
	f := newFake(t, 1, nil)
	f.feed = func(sub protocol.Subscribe) (uint64, []protocol.Event, bool, engine.Code) {
		mu.Lock()
		defer mu.Unlock()
		froms = append(froms, sub.From)
		switch len(froms) {
		case 1: // entries 5 and 6; the connection drops after 6:0
			return 5, []protocol.Event{feedEvent(5, 0), feedEvent(5, 1), feedEvent(6, 0)}, true, 0
		case 2: // replays entry 6 whole, then the node stops serving the shard
			return 6, []protocol.Event{feedEvent(6, 0), feedEvent(6, 1), feedEvent(7, 0)}, false, engine.CodeUnavailable
		}
		return sub.From, []protocol.Event{feedEvent(7, 0), feedEvent(8, 0)}, false, 0
	}
	c := dialFake(t, f, fastRetry)
	sub, err := c.Subscribe(context.Background(), 0, Position{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Position{{5, 0}, {5, 1}, {6, 0}, {6, 1}, {7, 0}, {8, 0}}
	for i, w := range want {
		select {
		case ev := <-sub.Events():
			if ev.Position != w || ev.ID != w.Index*10+uint64(w.Ordinal) || ev.Kind != engine.EvReserved {
				t.Fatalf("event %d: %+v, want position %+v", i, ev, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d did not come", i)
		}
	}
	if sub.Position() != want[len(want)-1] {
		t.Fatalf("position %+v", sub.Position())
	}
	sub.Close()
	if _, open := <-sub.Events(); open || sub.Err() != nil {
		t.Fatalf("after Close: open %v, err %v", open, sub.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(froms) != 3 || froms[0] != 0 || froms[1] != 6 || froms[2] != 7 {
		t.Fatalf("subscribed from %v, want [0 6 7]", froms)
	}
}

func TestSubscriptionEndsWithFeedGap(t *testing.T) {
	f := newFake(t, 1, nil)
	f.feed = func(sub protocol.Subscribe) (uint64, []protocol.Event, bool, engine.Code) {
		if sub.From != 0 && sub.From < 100 {
			return 0, nil, false, engine.CodeNotFound // older than the server keeps
		}
		return 100, []protocol.Event{feedEvent(100, 0)}, true, 0
	}
	c := dialFake(t, f, fastRetry)
	if _, err := c.Subscribe(context.Background(), 0, Position{Index: 50}); !errors.Is(err, ErrFeedGap) {
		t.Fatalf("resume from a compacted position: %v", err)
	}
	sub, err := c.Subscribe(context.Background(), 0, Position{})
	if err != nil {
		t.Fatal(err)
	}
	// The stream drops after one event; resuming from 100 works once more
	// in this script, then (from 100 again) too: drain until the test's
	// deadline would pass is not needed, the first event proves delivery.
	if ev := <-sub.Events(); ev.Position != (Position{100, 0}) {
		t.Fatalf("event %+v", ev)
	}
	sub.Close()
}
