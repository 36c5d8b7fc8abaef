// PutItems against the shared invd (4 shards; docs/adr/0121): a bulk load
// of more items than one bulk put holds, over every shard, puts every item
// (read back one by one) and is answered with its count; an item refused
// (a stock under what is held) comes back as a *BulkError naming it, with
// its typed error, and its bulk put changed nothing while the other shards'
// were applied; an item of its own reason is refused before anything is
// sent; and each item's put reaches the change feed as an item_put event
// carrying the call's reason.
package client_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestE2EPutItems(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	sku := uniq("bulk")
	n := protocol.MaxBulkItems*2 + 17 // more than one bulk put on some shard
	items := make([]client.ItemUpdate, n)
	for i := range items {
		items[i] = client.ItemSpec{SKU: fmt.Sprintf("%s-%d", sku, i/40), Store: fmt.Sprintf("BS%d", i%40), Stock: int64(1 + i%7)}.AsUpdate()
	}
	put, err := c.PutItems(ctx, items, "catalogue load")
	if err != nil || put != n {
		t.Fatalf("PutItems: %d of %d, %v", put, n, err)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		it, err := c.GetItem(ctx, items[i].SKU, items[i].Store)
		if err != nil || it.Stock != items[i].Stock {
			t.Fatalf("item %d after the load: %+v %v", i, it, err)
		}
	}
	assertBulkEvent(t, c, items[n-1])

	// A hold on one item, then a bulk put that would take its stock below it.
	held := items[5]
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: held.SKU, Store: held.Store, Customer: uniq("c"), Qty: 1}); err != nil {
		t.Fatal(err)
	}
	again := append([]client.ItemUpdate(nil), items[:80]...) // items of 40 stores: every shard
	for i := range again {
		again[i].Stock = 100
	}
	again[5].Stock = 0
	put, err = c.PutItems(ctx, again, "")
	var be *client.BulkError
	if !errors.As(err, &be) || be.Index != 5 || be.SKU != held.SKU || be.Store != held.Store || !errors.Is(err, client.ErrBelowPromised) {
		t.Fatalf("a refused item: %v", err)
	}
	shard := func(store string) int { return protocol.ShardOfStore([]byte(store), c.Shards()) }
	want := 0
	for i := range again {
		if shard(again[i].Store) != shard(held.Store) {
			want++
		}
	}
	if put != want {
		t.Fatalf("%d items put beside the refused bulk put, want the other shards' %d", put, want)
	}
	for i := range again {
		it, _ := c.GetItem(ctx, again[i].SKU, again[i].Store)
		if refused := shard(again[i].Store) == shard(held.Store); refused && it.Stock != items[i].Stock || !refused && it.Stock != 100 {
			t.Fatalf("item %d (shard %d, refused shard %d): stock %d", i, shard(again[i].Store), shard(held.Store), it.Stock)
		}
	}
	bad := []client.ItemUpdate{items[0], {SKU: "x", Store: "y", SetStock: true, Reason: "mine"}}
	if _, err := c.PutItems(ctx, bad, ""); !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, client.ErrBadRequest) {
		t.Fatalf("an item with its own reason: %v", err)
	}
}

// assertBulkEvent finds the item_put event of a bulk-put item on its
// shard's change feed, with the call's reason and the open server's actor.
func assertBulkEvent(t *testing.T, c *client.Client, u client.ItemUpdate) {
	t.Helper()
	sub, err := c.Subscribe(ctxT(t), protocol.ShardOfStore([]byte(u.Store), c.Shards()), client.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for ev := range sub.Events() {
		if ev.Kind == engine.EvItemPut && ev.SKU == u.SKU && ev.Store == u.Store {
			if ev.Reason != "catalogue load" || ev.Actor != "open" || ev.Stock != u.Stock || ev.Qty != u.Stock {
				t.Fatalf("the bulk put's event: %+v", ev)
			}
			return
		}
	}
	t.Fatalf("no event of the bulk-put item: %v", sub.Err())
}
