// Carts across stores (CartLine.Store) against the shared invd: lines at
// stores of two shards are held all or nothing: a sold-out line at one
// store leaves nothing held at the other (the node cancels what it held,
// docs/adr/0050), and a cart that fits holds every line at its own store;
// a line without a store takes the cart's, and a line with neither is
// refused before anything is sent. On the code before, every line went to
// the cart's store.
package client_test

import (
	"errors"
	"testing"

	"github.com/invsys/inv/client"
)

func TestE2ECartAcrossStores(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	near, far := storeOnShard(c.Shards(), 1), storeOnShard(c.Shards(), 3)
	sku := uniq("onigiri")
	putItem(t, c, client.ItemSpec{SKU: sku, Store: near, Stock: 2})
	putItem(t, c, client.ItemSpec{SKU: sku, Store: far, Stock: 1})
	lines := []client.CartLine{{SKU: sku, Qty: 2}, {SKU: sku, Store: far, Qty: 2}}
	_, err := c.ReserveMany(ctx, client.CartRequest{Store: near, Customer: uniq("c"), Lines: lines})
	var ce *client.CartError
	if !errors.As(err, &ce) || ce.Line != 1 || !errors.Is(err, client.ErrSoldOut) {
		t.Fatalf("a cart with a sold-out line at the far store: %v", err)
	}
	if h := heldOf(t, c, sku, near); h != 0 {
		t.Fatalf("the near store holds %d after the refused cart", h)
	}
	lines[1].Qty = 1
	res, err := c.ReserveMany(ctx, client.CartRequest{Store: near, Customer: uniq("c"), Lines: lines})
	if err != nil || len(res) != 2 {
		t.Fatalf("the cart across stores: %+v %v", res, err)
	}
	if int(res[0].ID>>48) != 1 || int(res[1].ID>>48) != 3 {
		t.Fatalf("lines held in shards %d and %d, want 1 and 3", res[0].ID>>48, res[1].ID>>48)
	}
	if heldOf(t, c, sku, near) != 2 || heldOf(t, c, sku, far) != 1 {
		t.Fatal("each store does not hold its line")
	}
	_, err = c.ReserveMany(ctx, client.CartRequest{Customer: uniq("c"), Lines: []client.CartLine{{SKU: sku, Store: far}, {SKU: sku}}})
	if !errors.As(err, &ce) || ce.Line != 1 || !errors.Is(err, client.ErrBadRequest) {
		t.Fatalf("a line with no store: %v", err)
	}
}
