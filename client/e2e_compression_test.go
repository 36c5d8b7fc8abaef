// This test proves compression end to end against a real invd: with S2 or
// zstd negotiated, large list replies arrive compressed and decode to the
// same items, and large BATCH frames of concurrent reserves go out
// compressed and are served.
package client_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/protocol"
)

func TestE2ECompression(t *testing.T) {
	for _, comp := range []protocol.Compression{protocol.CompressionS2, protocol.CompressionZstd} {
		t.Run(comp.String(), func(t *testing.T) {
			c := needInvd(t, client.WithCompression(comp), client.WithConnsPerNode(1))
			ctx := ctxT(t)
			sku := uniq("zip")
			const stores = 200
			var wg sync.WaitGroup
			for i := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					store := fmt.Sprintf("STORE-%04d", i)
					if err := c.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: int64(i + 1)}); err != nil {
						t.Error(err)
						return
					}
					// Concurrent reserves fill BATCH frames past the size
					// the server asks to have compressed.
					if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c")}); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			items, err := c.ListItems(ctx, sku)
			if err != nil || len(items) != stores {
				t.Fatalf("%d items, %v", len(items), err)
			}
			for _, it := range items {
				var i int
				fmt.Sscanf(it.Store, "STORE-%04d", &i)
				if it.Stock != int64(i+1) || it.Held != 1 {
					t.Fatalf("item %+v", it)
				}
			}
			list, err := c.StoresWithStock(ctx, sku)
			if err != nil || len(list) != stores-1 { // the one-unit store is sold out
				t.Fatalf("%d stores with stock, %v", len(list), err)
			}
		})
	}
}
