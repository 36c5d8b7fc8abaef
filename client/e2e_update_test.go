// UpdateItem against the shared invd (docs/adr/0100): an update changes
// only the settings it names and keeps the rest; every refusal comes back
// as its typed error (ErrBadRequest for an update naming nothing or a
// share larger than the stock, ErrBelowPromised for stock under what is
// held), and a reason over MaxReasonBytes is refused before anything is
// sent; and a stock change's event on the change feed carries the actor
// (the open server's) and the reason.
package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestE2EUpdateItem(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	sku, store := uniq("sku"), "S1"
	opens := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 10, OpensAt: opens, MemberTier: 1, MemberUnits: 3, MemberCutoff: opens})
	if err := c.UpdateItem(ctx, client.ItemUpdate{SKU: sku, Store: store, SetStock: true, Stock: 25, Reason: "delivery"}); err != nil {
		t.Fatal(err)
	}
	it, err := c.GetItem(ctx, sku, store)
	if err != nil || it.Stock != 25 || !it.OpensAt.Equal(opens) || it.MemberUnits != 3 {
		t.Fatalf("after a stock update: %+v %v", it, err)
	}
	for name, u := range map[string]client.ItemUpdate{
		"naming nothing":          {SKU: sku, Store: store},
		"a share over the stock":  {SKU: sku, Store: store, SetShare: true, MemberTier: 1, MemberUnits: 26, MemberCutoff: opens},
		"a window closing before": {SKU: sku, Store: store, SetCloses: true, ClosesAt: opens.Add(-time.Minute)},
		"a reason too long":       {SKU: sku, Store: store, SetStock: true, Stock: 1, Reason: strings.Repeat("r", protocol.MaxReasonBytes+1)},
	} {
		if err := c.UpdateItem(ctx, u); !errors.Is(err, client.ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", name, err)
		}
	}
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c"), Qty: 2}); !errors.Is(err, client.ErrNotOpen) {
		t.Fatalf("reserve before the sale opens: %v", err)
	}
	if err := c.UpdateItem(ctx, client.ItemUpdate{SKU: sku, Store: store, SetOpens: true}); err != nil {
		t.Fatal(err) // opens now: the share and the stock stay
	}
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c"), Qty: 20}); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateItem(ctx, client.ItemUpdate{SKU: sku, Store: store, SetStock: true, Stock: 19}); !errors.Is(err, client.ErrBelowPromised) {
		t.Fatalf("stock under what is held: %v, want ErrBelowPromised", err)
	}
	if it, _ := c.GetItem(ctx, sku, store); it.Stock != 25 || it.MemberUnits != 3 || !it.OpensAt.IsZero() {
		t.Fatalf("after the refusals: %+v", it)
	}
	assertAuditedEvent(t, c, sku, store)
}

// assertAuditedEvent finds the update's event on the item's shard feed:
// the stock change of +15, by the open server's actor, with its reason.
func assertAuditedEvent(t *testing.T, c *client.Client, sku, store string) {
	t.Helper()
	ctx := ctxT(t)
	sub, err := c.Subscribe(ctx, protocol.ShardOfStore([]byte(store), c.Shards()), client.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for ev := range sub.Events() {
		if ev.SKU == sku && ev.Kind == engine.EvItemPut && ev.Reason == "delivery" {
			if ev.Actor != "open" || ev.Qty != 15 || ev.Stock != 25 {
				t.Fatalf("the update's event: %+v", ev)
			}
			return
		}
	}
	t.Fatalf("no event of the update: %v", sub.Err())
}
