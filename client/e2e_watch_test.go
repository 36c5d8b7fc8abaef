// End-to-end test of WatchAvailability (docs/adr/0108) against a real invd
// of 2 shards: two items at stores of different shards are watched; the
// first update of each is a fresh read; a reserve, its cancel and a
// restock change the counts the watch delivers, in order; a change of an
// item nobody watches sends nothing. Then invd is stopped and started
// again on its data: the watch's feeds resume by themselves, and a reserve
// made after the restart (by another client) arrives as the new count.
// Bad input (no items, an item named twice, an unknown item) is the call's
// error.
package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/invsys/inv/client"
)

// nextUpdate waits for the watch's next update, with a deadline.
func nextUpdate(t *testing.T, w *client.AvailabilityWatch) client.AvailabilityUpdate {
	t.Helper()
	select {
	case u, ok := <-w.Updates():
		if !ok {
			t.Fatalf("the watch ended: %v", w.Err())
		}
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("no update within 20s")
	}
	return client.AvailabilityUpdate{}
}

func wantUpdate(t *testing.T, w *client.AvailabilityWatch, sku string, avail int64) {
	t.Helper()
	if u := nextUpdate(t, w); u.SKU != sku || u.Available != avail {
		t.Fatalf("update %s available %d, want %s available %d", u.SKU, u.Available, sku, avail)
	}
}

func TestE2EWatchAvailability(t *testing.T) {
	s := startOwn(t, 2)
	defer func() { stopOwn(t, s) }()
	c := dialServer(t, s)
	ctx := ctxT(t)
	a, b, other := uniq("watch-a"), uniq("watch-b"), uniq("watch-x")
	s0, s1 := storeOnShard(2, 0), storeOnShard(2, 1)
	putItem(t, c, client.ItemSpec{SKU: a, Store: s0, Stock: 10})
	putItem(t, c, client.ItemSpec{SKU: b, Store: s1, Stock: 5})
	putItem(t, c, client.ItemSpec{SKU: other, Store: s0, Stock: 5})

	for name, items := range map[string][]client.ItemRef{
		"no items":    nil,
		"named twice": {{SKU: a, Store: s0}, {SKU: a, Store: s0}},
		"unknown":     {{SKU: a, Store: s0}, {SKU: "nope", Store: s1}},
	} {
		if _, err := c.WatchAvailability(ctx, items); err == nil {
			t.Errorf("%s: watched", name)
		} else if name == "unknown" && !errors.Is(err, client.ErrUnknownItem) {
			t.Errorf("unknown item: %v, want ErrUnknownItem", err)
		}
	}

	w, err := c.WatchAvailability(ctx, []client.ItemRef{{SKU: a, Store: s0}, {SKU: b, Store: s1}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first := map[string]int64{}
	for range 2 {
		u := nextUpdate(t, w)
		first[u.SKU] = u.Available
	}
	if first[a] != 10 || first[b] != 5 {
		t.Fatalf("first reads: %v", first)
	}

	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: other, Store: s0, Customer: "x", Qty: 1}); err != nil {
		t.Fatal(err)
	}
	h, err := c.Reserve(ctx, client.ReserveRequest{SKU: a, Store: s0, Customer: "c1", Qty: 3})
	if err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, w, a, 7) // the unwatched item's reserve came first and sent nothing
	if _, err := c.Cancel(ctx, client.CancelRequest{ID: h.ID}); err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, w, a, 10)
	if err := c.Restock(ctx, client.StockChange{SKU: b, Store: s1, Qty: 2}); err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, w, b, 7)

	if err := s.Stop(30 * time.Second); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if s, err = s.Restart(); err != nil {
		t.Fatal(err)
	}
	c2 := dialServer(t, s)
	if _, err := c2.Reserve(ctx, client.ReserveRequest{SKU: a, Store: s0, Customer: "c2", Qty: 4}); err != nil {
		t.Fatal(err)
	}
	wantUpdate(t, w, a, 6)
}
