// These tests prove carts (ReserveMany) against a real invd: a cart whose
// items share a shard is held whole or not at all by the engine; a cart
// across shards ends the same way through the server's compensation (the
// lines held before a refusal are cancelled, docs/adr/0050); and a cart
// repeated with its key is answered with the first outcome, not held twice.
package client_test

import (
	"errors"
	"testing"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/protocol"
)

// skusOnShards returns n new SKUs at store whose items fall in the given
// shards (one SKU per entry of shards), out of a cluster of total shards.
func skusOnShards(store string, total int, shards ...int) []string {
	out := make([]string, len(shards))
	for i, want := range shards {
		for {
			sku := uniq("cart")
			if protocol.ShardOf([]byte(sku), []byte(store), total) == want {
				out[i] = sku
				break
			}
		}
	}
	return out
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
	store := "S1"
	skus := skusOnShards(store, c.Shards(), 2, 2, 2)
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
}

func TestE2ECartAcrossShardsCompensates(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	store := "S2"
	skus := skusOnShards(store, c.Shards(), 0, 1, 3)
	putItem(t, c, client.ItemSpec{SKU: skus[0], Store: store, Stock: 5})
	putItem(t, c, client.ItemSpec{SKU: skus[1], Store: store, Stock: 5})
	putItem(t, c, client.ItemSpec{SKU: skus[2], Store: store, Stock: 0})
	lines := []client.CartLine{{SKU: skus[0]}, {SKU: skus[1]}, {SKU: skus[2]}}
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
	res, err := c.ReserveMany(ctx, client.CartRequest{Store: store, Customer: uniq("c"), Lines: lines[:2]})
	if err != nil || len(res) != 2 {
		t.Fatalf("cart %+v, %v", res, err)
	}
	for _, sku := range skus[:2] {
		if h := heldOf(t, c, sku, store); h != 1 {
			t.Fatalf("%s holds %d, want 1", sku, h)
		}
	}
}
