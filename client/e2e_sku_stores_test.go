// SKUAvailability against the shared invd (docs/adr/0102): one SKU at
// stores of different shards in one call, in the order asked, with a store
// that does not carry it reported as not carried and a sold-out store as
// 0; without stores, every carrying store sorted; a store named twice, or
// more than MaxSKUStores, is ErrBadRequest before anything is sent.
package client_test

import (
	"errors"
	"testing"

	"github.com/invsys/inv/client"
)

func TestE2ESKUAvailability(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	sku := uniq("sku-at")
	n := max(c.Shards(), 1)
	s0, s1 := storeOnShard(n, 0), storeOnShard(n, n-1)
	putItem(t, c, client.ItemSpec{SKU: sku, Store: s0, Stock: 4})
	putItem(t, c, client.ItemSpec{SKU: sku, Store: s1, Stock: 1})
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: s1, Customer: "c1", Qty: 1}); err != nil {
		t.Fatal(err)
	}
	none := uniq("nowhere")
	got, err := c.SKUAvailability(ctx, sku, []string{s1, none, s0})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Store != s1 || !got[0].Carried || got[0].Available != 0 ||
		got[1].Store != none || got[1].Carried || got[2].Store != s0 || got[2].Available != 4 || got[2].Item.Stock != 4 {
		t.Fatalf("at three stores: %+v", got)
	}
	all, err := c.SKUAvailability(ctx, sku, nil)
	if err != nil || len(all) != 2 || all[0].Store > all[1].Store {
		t.Fatalf("every store: %+v %v", all, err)
	}
	many := make([]string, client.MaxSKUStores+1)
	for i := range many {
		many[i] = uniq("st")
	}
	for name, stores := range map[string][]string{"twice": {s0, s0}, "too many": many} {
		if _, err := c.SKUAvailability(ctx, sku, stores); !errors.Is(err, client.ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", name, err)
		}
	}
	if _, err := c.SKUAvailability(ctx, sku, many[:client.MaxSKUStores]); err != nil {
		t.Errorf("MaxSKUStores stores: %v", err)
	}
}
