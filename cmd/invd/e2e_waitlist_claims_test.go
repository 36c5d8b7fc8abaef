// This test proves, end to end against one invd with 16 shards, that the
// customers of a limited SKU whose home is another shard than the item's
// join its sold-out line (docs/adr/0112) and that the per-customer limit
// holds across shards with them in line: six customers of six other homes
// join (places 1..6); each entry's unit counts at the customer's home at
// once (a reserve of two there is limit_exceeded, of one is held); a
// customer at its limit may not join; a cancel of the item's only hold
// promotes the head into a hold of its own, after which the head is refused
// a unit anywhere; the head's cancel promotes the next and gives the head
// its unit back at once (the cancel's reply waits for the release); a
// leave does the same. After every step no customer holds more than the
// limit over all 16 shards (list_reservations). Before, every join of such
// a customer was refused claim_required.
package main_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

const wlcLimit = 2

// wlcCustomers returns n customers whose homes differ from each other and
// from shard not.
func wlcCustomers(n, not int) []string {
	seen := map[int]bool{not: true}
	var out []string
	for i := 0; len(out) < n; i++ {
		c := fmt.Sprintf("WC%03d", i)
		if h := protocol.ShardOfCustomer([]byte(c), customerShards); !seen[h] {
			seen[h] = true
			out = append(out, c)
		}
	}
	return out
}

// wlcHeld sums a customer's active units of sku over every shard.
func wlcHeld(t *testing.T, c *wire.Conn, cust, sku string) int64 {
	t.Helper()
	r := want(t, c, engine.OK, engine.Command{Op: engine.OpListReservations, Customer: []byte(cust)})
	var n int64
	for _, res := range r.Reservations {
		if res.SKU == sku && (res.State == engine.StateHeld || res.State == engine.StateConfirmed) {
			n += res.Qty
		}
	}
	return n
}

// wlcCheckLimits checks that no customer holds more than the limit over
// every shard. A reserve refused by its claim leaves a provisional hold
// until its resolve commits (milliseconds, docs/adr/0070), which
// list_reservations does not tell apart: the count is polled until it is
// within the limit, for at most 5 s. A firm hold over the limit would stay.
func wlcCheckLimits(t *testing.T, c *wire.Conn, custs []string, sku, after string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, cu := range custs {
		for n := wlcHeld(t, c, cu, sku); n > wlcLimit; n = wlcHeld(t, c, cu, sku) {
			if time.Now().After(deadline) {
				t.Fatalf("after %s: %s holds %d units of %s, limit %d", after, cu, n, sku, wlcLimit)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func wlcPlace(t *testing.T, c *wire.Conn, sku, store, cust string) int64 {
	t.Helper()
	return want(t, c, engine.OK, waitlistCmd(engine.OpGetWaitlist, sku, store, cust)).Waitlist.Position
}

func TestWaitlistClaimsAcrossShards(t *testing.T) {
	p := startInvd(t, customerShards, "")
	c := dial(t, p)
	const sku, itemShard = "WLC", 5
	stores := everyShardStores(t, c, sku)
	store := storeInShard2(sku, itemShard, customerShards, stores[itemShard])
	want(t, c, engine.OK, engine.Command{Op: engine.OpSetLimit, SKU: []byte(sku), Limit: wlcLimit})
	want(t, c, engine.OK, putItem(sku, store, 1))
	buyer := want(t, c, engine.OK, reserve(sku, store, "WB000", 1))

	custs := wlcCustomers(6, itemShard)
	home := func(cu string) string { return stores[protocol.ShardOfCustomer([]byte(cu), customerShards)] }
	for i, cu := range custs {
		j := want(t, c, engine.OK, waitlistCmd(engine.OpJoinWaitlist, sku, store, cu))
		if w := j.Waitlist; w == nil || w.Position != int64(i+1) {
			t.Fatalf("%s joined: %+v", cu, w)
		}
		// The entry's unit counts at the home at once.
		want(t, c, engine.CodeLimitExceeded, reserve(sku, home(cu), cu, 2))
		want(t, c, engine.OK, reserve(sku, home(cu), cu, 1))
	}
	wlcCheckLimits(t, c, custs, sku, "the joins")
	if n := scrape(t, p)["inv_waitlist_join_claims_total"]; n < float64(len(custs)) {
		t.Errorf("inv_waitlist_join_claims_total = %v, want at least %d (one per join)", n, len(custs))
	}

	// A customer at its limit may not join.
	full := wlcCustomers(7, itemShard)[6]
	want(t, c, engine.OK, reserve(sku, home(full), full, wlcLimit))
	want(t, c, engine.CodeLimitExceeded, waitlistCmd(engine.OpJoinWaitlist, sku, store, full))

	// The buyer's cancel promotes the head: its own hold, and nothing more for it anywhere.
	want(t, c, engine.OK, onID(engine.OpCancel, buyer.ID))
	head := custs[0]
	if n := wlcPlace(t, c, sku, store, head); n != 0 {
		t.Fatalf("the head is still in line at %d after the cancel", n)
	}
	if n := wlcPlace(t, c, sku, store, custs[1]); n != 1 {
		t.Fatalf("the second is at %d after the cancel", n)
	}
	if n := wlcHeld(t, c, head, sku); n != wlcLimit {
		t.Fatalf("the promoted head holds %d units", n)
	}
	for _, st := range stores[:4] {
		want(t, c, engine.CodeLimitExceeded, reserve(sku, st, head, 1))
	}
	wlcCheckLimits(t, c, custs, sku, "the promotion")

	// The head cancels its promoted hold: the next is promoted, and the
	// head's unit is back at its home by the time the cancel is answered.
	var promoted uint64
	for _, res := range want(t, c, engine.OK, engine.Command{Op: engine.OpListReservations, Customer: []byte(head)}).Reservations {
		if res.Store == store && res.State == engine.StateHeld {
			promoted = res.ID
		}
	}
	if promoted == 0 {
		t.Fatalf("no promoted hold of %s at %s", head, store)
	}
	want(t, c, engine.OK, onID(engine.OpCancel, promoted))
	want(t, c, engine.OK, reserve(sku, home(head), head, 1))
	if n := wlcPlace(t, c, sku, store, custs[2]); n != 1 {
		t.Fatalf("the third is at %d after the second promotion", n)
	}
	wlcCheckLimits(t, c, custs, sku, "the second promotion")

	// A leave gives the entry's unit back at once too.
	last := custs[len(custs)-1]
	want(t, c, engine.OK, waitlistCmd(engine.OpLeaveWaitlist, sku, store, last))
	want(t, c, engine.OK, reserve(sku, home(last), last, 1))
	wlcCheckLimits(t, c, append(custs, full), sku, "the leave")
}
