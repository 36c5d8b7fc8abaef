// StoreItems and StoreDay against the shared invd (docs/adr/0102): one
// read gives every item of a store with its availability, sorted by SKU;
// StoreDay keeps the windows of one day of the store's calendar in its
// zone; an unknown store is ErrNotFound for StoreDay and an empty list for
// StoreItems, and an id over the limit is ErrBadRequest before sending.
package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
)

func TestE2EStoreItemsAndDay(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	store := uniq("st")
	taipei, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	if err := c.PutStore(ctx, client.StoreSpec{Store: store, Zone: "Asia/Taipei"}); err != nil {
		t.Fatal(err)
	}
	for _, start := range []time.Time{time.Date(2039, 12, 24, 1, 0, 0, 0, taipei), time.Date(2039, 12, 25, 1, 0, 0, 0, taipei)} {
		if err := c.PutStoreWindow(ctx, client.StoreWindowSpec{Store: store, Start: start, End: start.Add(time.Hour), Capacity: 3}); err != nil {
			t.Fatal(err)
		}
	}
	putItem(t, c, client.ItemSpec{SKU: "B", Store: store, Stock: 2})
	putItem(t, c, client.ItemSpec{SKU: "A", Store: store, Stock: 5})
	items, err := c.StoreItems(ctx, store)
	if err != nil || len(items) != 2 || items[0].SKU != "A" || items[0].Available != 5 || items[1].Available != 2 {
		t.Fatalf("StoreItems: %+v %v", items, err)
	}
	// The 24th in Taipei, asked with a UTC date: the store's calendar counts.
	day, err := c.StoreDay(ctx, store, time.Date(2039, 12, 24, 23, 0, 0, 0, time.UTC))
	if err != nil || len(day.Windows) != 1 || !day.Windows[0].Start.Equal(time.Date(2039, 12, 24, 1, 0, 0, 0, taipei)) ||
		day.Location.String() != "Asia/Taipei" {
		t.Fatalf("StoreDay: %+v %v", day, err)
	}
	if none, err := c.StoreItems(ctx, uniq("nowhere")); err != nil || len(none) != 0 {
		t.Fatalf("StoreItems of an unknown store: %+v %v", none, err)
	}
	if _, err := c.StoreDay(ctx, uniq("nowhere"), time.Now()); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("StoreDay of an unknown store: %v", err)
	}
	if _, err := c.StoreItems(ctx, strings.Repeat("s", 65)); !errors.Is(err, client.ErrBadRequest) {
		t.Fatalf("a 65-byte store: %v", err)
	}
}
