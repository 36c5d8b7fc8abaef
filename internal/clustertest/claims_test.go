// Tests of per-customer limits across stores on a 3-node cluster (docs/adr/
// 0070): the items of a limited SKU at different stores lie in shards led
// by different nodes, and the customer's counters in a shard led by yet
// another; the limit holds across them all, retries count once, and a
// cancel gives a unit back at once (its reply waits for the release, sent
// from one node's outbox to another's shard). Then a workload of limited
// reserves, confirms and cancels from several clients runs while the
// leader of a busy customer's shard is killed (SIGKILL) and later
// restarted; once the sweeps have settled what the killed coordinations
// left, no customer owns more units of a SKU than its limit, counted over
// every shard (list_reservations, served by any node), and every replica
// of every shard has the same state.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/router"
)

// storeIn returns a store in shard (items are placed by store; every SKU
// of the store is there).
func storeIn(sku string, shard, shards int) string {
	for i := 0; ; i++ {
		store := fmt.Sprintf("T%03d", i)
		if protocol.ShardOf([]byte(sku), []byte(store), shards) == shard {
			return store
		}
	}
}

func TestLimitsAcrossShardsInCluster(t *testing.T) {
	const shards = 6
	c := startCluster(t, 3, shards)
	waitFor(t, "leaders spread 2/2/2", 30*time.Second, func() bool { return slices.Equal(c.LeaderCounts(), []int{2, 2, 2}) })
	cl := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	limits := map[string]int64{"LIM-A": 2, "LIM-B": 3}
	stores := map[string][]string{} // per SKU, one store in each shard
	for sku, limit := range limits {
		if err := cl.SetLimit(ctx, client.LimitSpec{SKU: sku, Limit: limit}); err != nil {
			t.Fatal(err)
		}
		for sh := range shards {
			st := storeIn(sku, sh, shards)
			if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: st, Stock: 1000}); err != nil {
				t.Fatal(err)
			}
			stores[sku] = append(stores[sku], st)
		}
	}

	// Through different nodes: three stores whose shards are led by the
	// two nodes that do not lead the customer's shard.
	const cust = "M-cluster-1"
	home := protocol.ShardOfCustomer([]byte(cust), shards)
	var far []string
	for sh := range shards {
		if sh != home && c.Leader(sh) != c.Leader(home) && len(far) < 3 {
			far = append(far, stores["LIM-A"][sh])
		}
	}
	if len(far) != 3 {
		t.Fatalf("leaders %v: found %d shards led away from the customer's", c.LeaderCounts(), len(far))
	}
	res := func(store, key string) (client.Result, error) {
		return cl.Reserve(ctx, client.ReserveRequest{SKU: "LIM-A", Store: store, Customer: cust, Qty: 1, Key: key})
	}
	first, err := res(far[0], "a1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res(far[1], "a2"); err != nil {
		t.Fatal(err)
	}
	if _, err := res(far[2], "a3"); !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("third unit across stores: %v, want limit_exceeded", err)
	}
	if again, err := res(far[0], "a1"); err != nil || again.ID != first.ID {
		t.Fatalf("retry: %+v %v, want id %x", again, err, first.ID)
	}
	if _, err := res(far[2], "a4"); !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("after a retry: %v, want limit_exceeded", err)
	}
	if _, err := cl.Cancel(ctx, client.CancelRequest{ID: first.ID}); err != nil {
		t.Fatal(err)
	}
	// The cancel's reply came once its claim's release reached the
	// customer's home: the unit is back at once.
	if _, err := res(far[2], "a5"); err != nil {
		t.Fatalf("a reserve right after a cancel: %v, want the unit", err)
	}
	checkLimits(t, ctx, cl, limits, []string{cust})
	cartAcrossNodes(t, ctx, c, cl, shards)

	// The workload, and a kill of the busiest customer's shard leader.
	customers := []string{"W0", "W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9"}
	victim := c.Leader(protocol.ShardOfCustomer([]byte(customers[0]), shards))
	if victim < 0 {
		t.Fatal("no leader for the customer's shard")
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var ok, over atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for n := 0; !stop.Load(); n++ {
				cust := customers[0]
				if r.IntN(2) == 0 {
					cust = customers[r.IntN(len(customers))]
				}
				sku := "LIM-A"
				if r.IntN(3) == 0 {
					sku = "LIM-B"
				}
				rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
				got, err := cl.Reserve(rctx, client.ReserveRequest{SKU: sku, Store: stores[sku][r.IntN(shards)], Customer: cust,
					Qty: 1, TTL: time.Duration(1+r.IntN(3)) * time.Second, Key: fmt.Sprintf("w%d-%d", w, n)})
				switch {
				case err == nil:
					ok.Add(1)
					switch r.IntN(8) { // confirmed units count for good; cancels and expiries give units back
					case 0:
						_, _ = cl.Confirm(rctx, client.ConfirmRequest{ID: got.ID, Key: fmt.Sprintf("w%d-%d-c", w, n)})
					case 1, 2, 3, 4:
						_, _ = cl.Cancel(rctx, client.CancelRequest{ID: got.ID, Key: fmt.Sprintf("w%d-%d-x", w, n)})
					}
				case errors.Is(err, client.ErrLimitExceeded):
					over.Add(1)
				}
				rcancel()
			}
		}()
	}
	time.Sleep(2 * time.Second)
	c.Kill(victim)
	t.Logf("killed node %d, the leader of customer %s's shard", victim+1, customers[0])
	time.Sleep(4 * time.Second)
	if err := c.Start(victim); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("workload: %d holds taken, %d refused limit_exceeded", ok.Load(), over.Load())
	if ok.Load() == 0 || over.Load() == 0 {
		t.Fatalf("the workload took %d holds and met the limit %d times: it tested nothing", ok.Load(), over.Load())
	}
	// A hold counted over the wire may still be provisional (its claim's
	// answer lost with the killed node): no reply tells, and none is the
	// customer's until resolved. The sweeps resolve every one within the
	// claim window, the clock margin and a sweep interval or two.
	time.Sleep(router.DefaultClaimWindow + engine.ClaimMargin + 2*router.DefaultSweepInterval)
	checkLimits(t, ctx, cl, limits, append(customers, cust))
	if _, err := c.WaitConverged(60 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// checkLimits counts, for every customer and limited SKU, the units held,
// confirmed or picked up over every shard, and fails over the limit.
func checkLimits(t *testing.T, ctx context.Context, cl *client.Client, limits map[string]int64, customers []string) {
	t.Helper()
	for _, cust := range customers {
		var list []client.Reservation
		var err error
		for try := 0; try < 50; try++ {
			if list, err = cl.ListReservations(ctx, cust); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("list_reservations of %s: %v", cust, err)
		}
		owned := map[string]int64{}
		for _, r := range list {
			if r.State == engine.StateHeld || r.State == engine.StateConfirmed || r.State == engine.StatePickedUp {
				owned[r.SKU] += r.Qty
			}
		}
		for sku, n := range owned {
			if n > limits[sku] {
				t.Errorf("customer %s owns %d units of %s across shards, limit %d", cust, n, sku, limits[sku])
			}
		}
	}
}

// cartAcrossNodes: a cart (one store, three SKUs: in the store's shard)
// with one limited line, for a customer whose counters are in another shard
// led by another node. The cart is held in the store's shard and its
// limited line claimed on the customer's; over the limit nothing stays
// held.
func cartAcrossNodes(t *testing.T, ctx context.Context, c *invdtest.Cluster, cl *client.Client, shards int) {
	t.Helper()
	const cust = "M-cluster-cart"
	home := protocol.ShardOfCustomer([]byte(cust), shards)
	store := "CART-S"
	for i := 0; protocol.ShardOfStore([]byte(store), shards) == home || c.Leader(protocol.ShardOfStore([]byte(store), shards)) == c.Leader(home); i++ {
		store = fmt.Sprintf("CART-S%d", i) // the cart outside the customer's shard, on another node
	}
	b := protocol.ShardOfStore([]byte(store), shards)
	free1, free2 := "FREE1", "FREE2"
	for _, it := range []client.ItemSpec{{SKU: "LIM-A", Store: store, Stock: 100},
		{SKU: free1, Store: store, Stock: 100}, {SKU: free2, Store: store, Stock: 100}} {
		if err := cl.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	// Two units of LIM-A elsewhere: the limit is full.
	var elsewhere []client.Result
	for i, sh := 0, 0; len(elsewhere) < 2; sh++ {
		if sh == home || sh == b {
			continue
		}
		r, err := cl.Reserve(ctx, client.ReserveRequest{SKU: "LIM-A", Store: storeIn("LIM-A", sh, shards), Customer: cust,
			Qty: 1, Key: fmt.Sprintf("cart-pre-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		elsewhere = append(elsewhere, r)
		i++
	}
	lines := []client.CartLine{{SKU: free1}, {SKU: "LIM-A"}, {SKU: free2}}
	_, err := cl.ReserveMany(ctx, client.CartRequest{Store: store, Customer: cust, Lines: lines, Key: "cart-over"})
	var ce *client.CartError
	if !errors.As(err, &ce) || ce.Line != 1 || !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("a cart over the limit: %v", err)
	}
	for _, sku := range []string{free1, free2} {
		if it, err := cl.GetItem(ctx, sku, store); err != nil || it.Held != 0 {
			t.Fatalf("%s after a refused cart: %+v %v", sku, it, err)
		}
	}
	if _, err := cl.Cancel(ctx, client.CancelRequest{ID: elsewhere[0].ID}); err != nil {
		t.Fatal(err)
	}
	var res []client.Result
	try := 0
	waitFor(t, "the cart within the limit", 15*time.Second, func() bool {
		try++ // a refusal is kept for its key: each try has its own
		res, err = cl.ReserveMany(ctx, client.CartRequest{Store: store, Customer: cust, Lines: lines, Key: fmt.Sprint("cart-ok-", try)})
		return err == nil
	})
	again, err := cl.ReserveMany(ctx, client.CartRequest{Store: store, Customer: cust, Lines: lines, Key: fmt.Sprint("cart-ok-", try)})
	if err != nil || again[0].ID != res[0].ID || again[2].ID != res[2].ID {
		t.Fatalf("the cart again: %+v %v", again, err)
	}
	if _, err := cl.ReserveMany(ctx, client.CartRequest{Store: store, Customer: cust, Lines: lines, Key: "cart-over"}); !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("the refused cart again: %v, want its first answer", err)
	}
	if len(res) != 3 {
		t.Fatalf("cart results %+v", res)
	}
	for _, sku := range []string{free1, free2, "LIM-A"} {
		if it, err := cl.GetItem(ctx, sku, store); err != nil || it.Held != 1 {
			t.Fatalf("%s after the cart: %+v %v", sku, it, err)
		}
	}
}
