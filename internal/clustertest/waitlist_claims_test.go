// A test of waitlist joins across nodes on a 3-node cluster (docs/adr/
// 0112): a limited item's shard is led by one node and the customer's
// home by another, so the join's claim, its anchor and, when the entry or
// its promoted hold ends, the outbox's release all cross nodes. The
// customer joins with a key; its entry's unit counts at its home at once
// (a reserve of the whole limit there is limit_exceeded, of the rest
// held); a retry of the join answers the same place; a cancel of the
// item's only hold promotes the customer, who then owns the limit and is
// refused a unit anywhere; cancelling the promoted hold gives the unit
// back before the cancel is answered. The limit holds over every shard
// after each step (list_reservations).
package clustertest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestWaitlistJoinAcrossNodes(t *testing.T) {
	const shards, sku, limit = 6, "WL-LIM", 2
	c := startCluster(t, 3, shards)
	waitFor(t, "leaders spread 2/2/2", 30*time.Second, func() bool { return slices.Equal(c.LeaderCounts(), []int{2, 2, 2}) })
	cl := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	limits := map[string]int64{sku: limit}
	if err := cl.SetLimit(ctx, client.LimitSpec{SKU: sku, Limit: limit}); err != nil {
		t.Fatal(err)
	}
	stores := make([]string, shards)
	for sh := range shards {
		stores[sh] = storeIn(sku, sh, shards)
		if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: stores[sh], Stock: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	// The customer's home and the line's item are led by different nodes.
	const cust = "M-waitlist-1"
	home := protocol.ShardOfCustomer([]byte(cust), shards)
	item := -1
	for sh := range shards {
		if item < 0 && c.Leader(sh) != c.Leader(home) {
			item = sh
		}
	}
	if item < 0 {
		t.Fatalf("leaders %v: no shard led away from the customer's home", c.LeaderCounts())
	}
	line := storeIn2(sku, item, shards, stores[item])
	if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: line, Stock: 1}); err != nil {
		t.Fatal(err)
	}
	buyer, err := cl.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: line, Customer: "M-buyer", Qty: 1})
	if err != nil {
		t.Fatal(err)
	}

	join := client.JoinWaitlistRequest{SKU: sku, Store: line, Customer: cust, Qty: 1, Key: "wj1"}
	if w, err := cl.JoinWaitlist(ctx, join); err != nil || w.Position != 1 {
		t.Fatalf("join: %+v %v", w, err)
	}
	if w, err := cl.JoinWaitlist(ctx, join); err != nil || w.Position != 1 {
		t.Fatalf("the join's retry: %+v %v", w, err)
	}
	reserveHome := func(qty int64) error {
		_, err := cl.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: stores[home], Customer: cust, Qty: qty})
		return err
	}
	if err := reserveHome(limit); !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("the whole limit at home beside the entry: %v, want limit_exceeded", err)
	}
	if err := reserveHome(limit - 1); err != nil {
		t.Fatal(err)
	}
	checkLimits(t, ctx, cl, limits, []string{cust})

	if _, err := cl.Cancel(ctx, client.CancelRequest{ID: buyer.ID}); err != nil {
		t.Fatal(err)
	}
	var promoted uint64
	waitFor(t, "the promoted hold", 10*time.Second, func() bool {
		list, err := cl.ListReservations(ctx, cust)
		for _, r := range list {
			if err == nil && r.Store == line && r.State == engine.StateHeld {
				promoted = r.ID
			}
		}
		return promoted != 0
	})
	if err := reserveHome(1); !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("a unit beside the promoted hold: %v, want limit_exceeded", err)
	}
	checkLimits(t, ctx, cl, limits, []string{cust})
	if _, err := cl.Cancel(ctx, client.CancelRequest{ID: promoted}); err != nil {
		t.Fatal(err)
	}
	if err := reserveHome(1); err != nil {
		t.Fatalf("a unit right after the promoted hold's cancel: %v", err)
	}
	checkLimits(t, ctx, cl, limits, []string{cust})
}

// storeIn2 returns a second store of shard, other than not.
func storeIn2(sku string, shard, shards int, not string) string {
	for i := 0; ; i++ {
		store := "U" + string(rune('A'+i%26)) + string(rune('0'+i/26%10)) + string(rune('0'+i/260))
		if store != not && protocol.ShardOf([]byte(sku), []byte(store), shards) == shard {
			return store
		}
	}
}
