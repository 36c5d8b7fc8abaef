// GetItemLocal and GetReservationLocal against the shared invd: an item
// of a store in Asia/Taipei comes back with its pickup window and sale
// opening in Taipei time (the same instants GetItem gives in UTC), and so
// does a reservation's pickup window; an item of a store given no zone
// comes back in UTC.
package client_test

import (
	"testing"
	"time"

	"github.com/invsys/inv/client"
)

func TestE2EGetItemLocal(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	if _, err := time.LoadLocation("Asia/Taipei"); err != nil {
		t.Skip("no zone database:", err)
	}
	store, plain, sku := uniq("tz"), uniq("utc"), uniq("sku-local")
	if err := c.PutStore(ctx, client.StoreSpec{Store: store, Zone: "Asia/Taipei"}); err != nil {
		t.Fatal(err)
	}
	opens := time.Date(2039, 12, 1, 0, 0, 0, 0, time.UTC)
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 3, OpensAt: opens})
	putItem(t, c, client.ItemSpec{SKU: sku, Store: plain, Stock: 3})
	start := time.Date(2039, 12, 24, 2, 0, 0, 0, time.UTC)
	if err := c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: start, End: start.Add(time.Hour), Quota: 2}); err != nil {
		t.Fatal(err)
	}
	it, err := c.GetItemLocal(ctx, sku, store)
	if err != nil {
		t.Fatal(err)
	}
	if it.Location.String() != "Asia/Taipei" || len(it.Windows) != 1 ||
		it.Windows[0].Start.Format(time.RFC3339) != "2039-12-24T10:00:00+08:00" || !it.OpensAt.Equal(opens) ||
		it.OpensAt.Format(time.RFC3339) != "2039-12-01T08:00:00+08:00" {
		t.Fatalf("in the store's zone: %+v", it)
	}
	if u, err := c.GetItemLocal(ctx, sku, plain); err != nil || u.Location != time.UTC {
		t.Fatalf("a store with no zone: %v %v", u.Location, err)
	}
}

func TestE2EGetReservationLocal(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	if _, err := time.LoadLocation("Asia/Taipei"); err != nil {
		t.Skip("no zone database:", err)
	}
	store, sku := uniq("tz"), uniq("sku-res-local")
	if err := c.PutStore(ctx, client.StoreSpec{Store: store, Zone: "Asia/Taipei"}); err != nil {
		t.Fatal(err)
	}
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 3})
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour).UTC()
	if err := c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: start, End: start.Add(time.Hour), Quota: 2}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c"), Window: start})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.GetReservation(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	local, err := c.GetReservationLocal(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := start.In(local.Location).Format(time.RFC3339)
	if local.Location.String() != "Asia/Taipei" || !local.Window.Equal(plain.Window) || !local.Window.Equal(start) ||
		local.Window.Format(time.RFC3339) != want || want[len(want)-6:] != "+08:00" || !local.ExpiresAt.Equal(plain.ExpiresAt) {
		t.Fatalf("in the store's zone: %v (%v), read in UTC: %v", local.Window, local.Location, plain.Window)
	}
}
