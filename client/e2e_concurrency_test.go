// This test proves that one Client shared by 1,000 goroutines racing for a
// small stock sells exactly the stock against a real invd: successes equal
// stock, every other answer is ErrSoldOut, the ids are distinct, and the
// server's counts agree. Run with -race it also checks the client's
// pipelining and batching for data races under contention.
package client_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/invsys/inv/client"
)

func TestE2EThousandGoroutinesSellExactlyTheStock(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	const goroutines, stock = 1000, 37
	sku, store := uniq("flash"), "TPE0427"
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: stock})
	customers := make([]string, goroutines)
	for i := range customers {
		customers[i] = uniq("fan")
	}
	var (
		wins, soldOut atomic.Int64
		mu            sync.Mutex
		ids           = map[uint64]bool{}
		start         = make(chan struct{})
		wg            sync.WaitGroup
	)
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // every goroutine fires at the sale's opening
			res, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: customers[i]})
			switch {
			case err == nil:
				wins.Add(1)
				mu.Lock()
				dup := ids[res.ID]
				ids[res.ID] = true
				mu.Unlock()
				if dup {
					t.Errorf("id %d handed out twice", res.ID)
				}
			case errors.Is(err, client.ErrSoldOut):
				soldOut.Add(1)
			default:
				t.Errorf("customer %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != stock || soldOut.Load() != goroutines-stock {
		t.Fatalf("%d held and %d sold out, want %d and %d", wins.Load(), soldOut.Load(), stock, goroutines-stock)
	}
	it, err := c.GetItem(ctx, sku, store)
	if err != nil || it.Held != stock || it.Available != 0 {
		t.Fatalf("item after the sale: %+v, %v", it, err)
	}
}
