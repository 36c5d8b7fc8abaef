// This test proves the fair waitlist (docs/adr/0105) end to end against a
// real invd over the binary protocol: an item is sold out, two customers
// join its line (places 1 and 2), a third's reserve is sold_out, the hold
// is cancelled, and at once the head holds the freed unit (a reservation
// of its own that get_reservation reads) while get_waitlist shows the
// second customer at place 1 of a line of 1. A SUBSCRIBE to the item's
// shard, opened before any of it, must deliver waitlist_joined twice, then
// cancelled, reserved and waitlist_promoted naming the new hold, in that
// order.
package main_test

import (
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func waitlistCmd(op engine.Op, sku, store, cust string) engine.Command {
	return engine.Command{Op: op, SKU: []byte(sku), Store: []byte(store), Customer: []byte(cust), Qty: 1}
}

// nextEventOf reads the subscription's frames until an event about sku,
// failing the test on anything else or after a deadline.
func nextEventOf(t *testing.T, sc *wire.Conn, id uint32, sku string, deadline time.Time) engine.Event {
	t.Helper()
	for time.Now().Before(deadline) {
		f, err := sc.Next()
		if err != nil {
			t.Fatal(err)
		}
		if f.Op != protocol.OpEvent || f.ReqID != id {
			t.Fatalf("unexpected frame %s id %d", f.Op, f.ReqID)
		}
		var ev protocol.Event
		if err := protocol.DecodeEvent(f.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event.SKU == sku {
			return ev.Event
		}
	}
	t.Fatalf("no further event about %s", sku)
	return engine.Event{}
}

func TestWaitlistPromotesOnCancel(t *testing.T) {
	const shards = 2
	p := startInvd(t, shards, "")
	c := dial(t, p)
	const sku = "WL"
	store := "WS0"
	for i := 1; protocol.ShardOfStore([]byte(store), shards) != 1; i++ {
		store = "WS" + string(rune('0'+i))
	}
	sc := dial(t, p)
	sub, subID, err := sc.Subscribe(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Shard != 1 {
		t.Fatalf("subscribed: %+v", sub)
	}

	want(t, c, engine.OK, putItem(sku, store, 1))
	// In stock: no line yet.
	want(t, c, engine.CodeWrongState, waitlistCmd(engine.OpJoinWaitlist, sku, store, "w-first"))
	h := want(t, c, engine.OK, reserve(sku, store, "w-buyer", 1))
	want(t, c, engine.CodeSoldOut, reserve(sku, store, "w-late", 1))

	first := want(t, c, engine.OK, waitlistCmd(engine.OpJoinWaitlist, sku, store, "w-first"))
	if w := first.Waitlist; w == nil || w.Length != 1 || w.Position != 1 || first.Qty != 1 || first.ExpiresAt == 0 {
		t.Fatalf("first joined: %+v %+v", first, first.Waitlist)
	}
	second := want(t, c, engine.OK, waitlistCmd(engine.OpJoinWaitlist, sku, store, "w-second"))
	if w := second.Waitlist; w == nil || w.Length != 2 || w.Position != 2 {
		t.Fatalf("second joined: %+v", second.Waitlist)
	}
	// A bad entry size changes nothing.
	bad := waitlistCmd(engine.OpJoinWaitlist, sku, store, "w-third")
	bad.Qty = engine.MaxWaitlistQty + 1
	want(t, c, engine.CodeBadRequest, bad)
	if w := want(t, c, engine.OK, engine.Command{Op: engine.OpGetWaitlist, SKU: []byte(sku), Store: []byte(store)}).Waitlist; w == nil || w.Length != 2 {
		t.Fatalf("line after a bad join: %+v", w)
	}

	want(t, c, engine.OK, onID(engine.OpCancel, h.ID))

	g := want(t, c, engine.OK, waitlistCmd(engine.OpGetWaitlist, sku, store, "w-second"))
	if w := g.Waitlist; w == nil || w.Length != 1 || w.Position != 1 {
		t.Fatalf("second after the cancel: %+v", g.Waitlist)
	}
	if w := want(t, c, engine.OK, waitlistCmd(engine.OpGetWaitlist, sku, store, "w-first")).Waitlist; w == nil || w.Position != 0 {
		t.Fatalf("first after the cancel: %+v", w)
	}
	if it := getItem(t, c, sku, store); it.Held != 1 || it.Available != 0 {
		t.Fatalf("item after the promotion: held %d available %d", it.Held, it.Available)
	}

	deadline := time.Now().Add(10 * time.Second)
	var hold uint64
	for _, k := range []engine.EventKind{engine.EvItemPut, engine.EvReserved, engine.EvWaitJoined, engine.EvWaitJoined,
		engine.EvCancelled, engine.EvReserved, engine.EvWaitPromoted} {
		ev := nextEventOf(t, sc, subID, sku, deadline)
		if ev.Kind != k {
			t.Fatalf("event %s (%+v), want %s", ev.Kind, ev, k)
		}
		if k == engine.EvReserved {
			hold = ev.ID
		}
		if k == engine.EvWaitPromoted && (ev.Customer != "w-first" || ev.ID != hold || ev.ID == h.ID || ev.Qty != 1) {
			t.Fatalf("waitlist_promoted %+v, want w-first's new hold %d", ev, hold)
		}
	}
	r := want(t, c, engine.OK, onID(engine.OpGetReservation, hold)).Reservation
	if r == nil || r.Customer != "w-first" || r.State != engine.StateHeld || r.Qty != 1 {
		t.Fatalf("the promoted hold: %+v", r)
	}
}
