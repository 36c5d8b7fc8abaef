// This test proves the change feed against a real invd: a subscription to
// a shard delivers an item's changes (item_put, reserved, confirmed with
// its pickup code, cancelled) in order with growing positions, and a new
// subscription after the last position seen resumes with the next change,
// repeating none.
package client_test

import (
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// nextOf returns the next event about sku, failing the test after a while.
func nextOf(t *testing.T, sub *client.Subscription, sku string, after client.Position) client.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			if !ev.Position.After(after) {
				t.Fatalf("event at %+v, not after %+v", ev.Position, after)
			}
			after = ev.Position
			if ev.SKU == sku {
				return ev
			}
		case <-timeout:
			t.Fatalf("no event about %s", sku)
		}
	}
}

func TestE2ESubscribeFollowsAndResumes(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	const shard = 1
	store := storeOnShard(c.Shards(), shard)
	sku := uniq("sub")
	sub, err := c.Subscribe(ctx, shard, client.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 3})
	h, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: "watcher", Qty: 2})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := c.Confirm(ctx, client.ConfirmRequest{ID: h.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cancel(ctx, client.CancelRequest{ID: h.ID}); err != nil {
		t.Fatal(err)
	}
	var at client.Position
	for _, want := range []engine.EventKind{engine.EvItemPut, engine.EvReserved, engine.EvConfirmed, engine.EvCancelled} {
		ev := nextOf(t, sub, sku, at)
		if ev.Kind != want || ev.Shard != shard {
			t.Fatalf("event %+v, want %s", ev, want)
		}
		switch want {
		case engine.EvItemPut:
			if ev.Stock != 3 {
				t.Fatalf("item_put with stock %d", ev.Stock)
			}
		case engine.EvReserved:
			if ev.ID != h.ID || ev.Qty != 2 || ev.Customer != "watcher" || ev.State != engine.StateHeld {
				t.Fatalf("reserved %+v", ev)
			}
		case engine.EvConfirmed:
			if ev.PickupCode != conf.PickupCode {
				t.Fatalf("confirmed with code %d, want %d", ev.PickupCode, conf.PickupCode)
			}
		}
		at = ev.Position
	}
	sub.Close()

	h2, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: "watcher"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Subscribe(ctx, shard, at)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if ev := nextOf(t, again, sku, at); ev.Kind != engine.EvReserved || ev.ID != h2.ID {
		t.Fatalf("first event after resuming: %+v", ev)
	}
}
