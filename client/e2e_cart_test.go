// These tests prove carts (ReserveMany) against a real invd: a cart's lines
// are SKUs of one store, so they lie in the store's shard (items are placed
// by store, docs/adr/0071) and the engine holds them whole or not at all;
// and a cart repeated with its key is answered with the first outcome, not
// held twice. (A chain of reserves across shards, which a cart can no
// longer be, is the server's: cmd/invd's e2e tests drive it.)
package client_test

import (
	"errors"
	"testing"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/protocol"
)

// storeOnShard returns a store, new to the test, whose items fall in
// shard (items are placed by store) out of a cluster of total shards.
func storeOnShard(total, shard int) string {
	for {
		store := uniq("st")
		if protocol.ShardOfStore([]byte(store), total) == shard {
			return store
		}
	}
}

func heldOf(t *testing.T, c *client.Client, sku, store string) int64 {
	t.Helper()
	it, err := c.GetItem(ctxT(t), sku, store)
	if err != nil {
		t.Fatal(err)
	}
	return it.Held
}

func TestE2ECartInOneShardIsAtomic(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	store := storeOnShard(c.Shards(), 2)
	skus := []string{uniq("cart"), uniq("cart"), uniq("cart")}
	for i, sku := range skus {
		putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: int64(2 - i/2)}) // the last has 1 unit
	}
	lines := []client.CartLine{{SKU: skus[0]}, {SKU: skus[1], Qty: 2}, {SKU: skus[2], Qty: 2}}
	_, err := c.ReserveMany(ctx, client.CartRequest{Store: store, Customer: uniq("c"), Lines: lines})
	var ce *client.CartError
	if !errors.As(err, &ce) || ce.Line != 2 || !errors.Is(err, client.ErrSoldOut) {
		t.Fatalf("cart with a sold-out line: %v", err)
	}
	for _, sku := range skus {
		if h := heldOf(t, c, sku, store); h != 0 {
			t.Fatalf("%s holds %d after a refused cart", sku, h)
		}
	}
	lines[2].Qty = 1
	key := c.NewKey()
	res, err := c.ReserveMany(ctx, client.CartRequest{Store: store, Customer: "shopper", Lines: lines, Key: key})
	if err != nil || len(res) != 3 || res[1].Qty != 2 {
		t.Fatalf("cart %+v, %v", res, err)
	}
	again, err := c.ReserveMany(ctx, client.CartRequest{Store: store, Customer: "shopper", Lines: lines, Key: key})
	if err != nil || again[0].ID != res[0].ID || again[2].ID != res[2].ID {
		t.Fatalf("the same cart again: %+v, %v", again, err)
	}
	if h := heldOf(t, c, skus[1], store); h != 2 {
		t.Fatalf("held %d after the cart and its repeat, want 2", h)
	}
	for _, r := range res { // every line in the store's shard
		if shard := int(r.ID >> 48); shard != 2 {
			t.Fatalf("a line of the cart held in shard %d, the store's is 2", shard)
		}
	}
}
