// End-to-end tests of a customer's rules across shards on one invd with 16
// shards (docs/adr/0072): three no-shows spread over three shards that are
// not the customer's home, or three in one such shard, block the customer
// on every shard's items (polled with a deadline: the block follows the
// third no-show through the outbox), and get_customer says so with the
// no-shows counted; an operator's unblock and block are answered once
// every shard applied them, so a reserve on each of the 16 shards right
// after the answer is served or refused with no wait. Requests go over the
// raw protocol, so nothing in a client library helps. Before the home
// owned the rule, no-shows counted per shard: the spread ones never
// blocked, and the block of three in one shard stayed there.
package main_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// customerShards is the shard count of the storefront that found the
// no-show block staying in one shard.
const customerShards = 16

// everyShardStores puts sku at one store in each shard and returns the
// stores by shard.
func everyShardStores(t *testing.T, c *wire.Conn, sku string) []string {
	t.Helper()
	stores := make([]string, customerShards)
	for sh := range stores {
		stores[sh] = storeInShard(sku, sh, customerShards)
		want(t, c, engine.OK, putItem(sku, stores[sh], 1000))
	}
	return stores
}

// noShow reserves and confirms a unit at store for cust and waits until
// its pickup deadline passes (pickup_period) and it is a no-show.
func noShow(t *testing.T, c *wire.Conn, sku, store, cust string) {
	t.Helper()
	r := want(t, c, engine.OK, reserve(sku, store, cust, 1))
	want(t, c, engine.OK, onID(engine.OpConfirm, r.ID))
	deadline := time.Now().Add(10 * time.Second)
	for do(t, c, onID(engine.OpGetReservation, r.ID)).State != engine.StateNoShow {
		if time.Now().After(deadline) {
			t.Fatalf("reservation %x of %s at %s: no no-show after 10s", r.ID, cust, store)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// blockedEverywhere polls a reserve of cust at every shard's store until
// each is refused blocked, within 10 s.
func blockedEverywhere(t *testing.T, c *wire.Conn, sku string, stores []string, cust string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for sh, store := range stores {
		for {
			r := do(t, c, reserve(sku, store, cust, 1))
			if r.Code == engine.CodeBlocked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("shard %d (store %s): %s still reserves (%s) 10s after the rule tripped", sh, store, cust, r.Code)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// everyShardAnswers checks, with no wait, that a reserve of cust at every
// shard's store gives code.
func everyShardAnswers(t *testing.T, c *wire.Conn, code engine.Code, sku string, stores []string, cust, after string) {
	t.Helper()
	for sh, store := range stores {
		if r := do(t, c, reserve(sku, store, cust, 1)); r.Code != code {
			t.Fatalf("right after %s: shard %d (store %s) answers %s for %s, want %s", after, sh, store, r.Code, cust, code)
		}
	}
}

// awayStores returns n stores of shards that are not cust's home.
func awayStores(stores []string, cust string, n int) []string {
	home := protocol.ShardOfCustomer([]byte(cust), customerShards)
	var out []string
	for sh, st := range stores {
		if sh != home && len(out) < n {
			out = append(out, st)
		}
	}
	return out
}

func checkCustomer(t *testing.T, c *wire.Conn, cust string, blocked bool, noShows int64) {
	t.Helper()
	r := want(t, c, engine.OK, engine.Command{Op: engine.OpGetCustomer, Customer: []byte(cust)})
	if cu := r.Customer; cu == nil || cu.Blocked != blocked || cu.AutoBlocked != blocked || cu.NoShows != noShows {
		t.Fatalf("customer get %s: %+v, want blocked=%v (by the no-show rule) no-shows=%d", cust, cu, blocked, noShows)
	}
}

func TestNoShowsBlockAcrossShards(t *testing.T) {
	p := startInvd(t, customerShards, "pickup_period = 1s\n")
	c := dial(t, p)
	const sku = "NS"
	stores := everyShardStores(t, c, sku)

	for i, spread := range []bool{true, false} {
		cust := fmt.Sprintf("M%04d", 100+i)
		away := awayStores(stores, cust, 3)
		for k := range 3 {
			at := away[0]
			if spread {
				at = away[k]
			}
			noShow(t, c, sku, at, cust)
		}
		blockedEverywhere(t, c, sku, stores, cust)
		checkCustomer(t, c, cust, true, 3)

		want(t, c, engine.OK, engine.Command{Op: engine.OpUnblock, Customer: []byte(cust)})
		everyShardAnswers(t, c, engine.OK, sku, stores, cust, "unblock")
		checkCustomer(t, c, cust, false, 0)
	}
}

func TestOperatorBlockAcrossShards(t *testing.T) {
	p := startInvd(t, customerShards, "")
	c := dial(t, p)
	const sku, cust = "OB", "M0200"
	stores := everyShardStores(t, c, sku)
	for round := range 3 {
		want(t, c, engine.OK, engine.Command{Op: engine.OpBlock, Customer: []byte(cust)})
		everyShardAnswers(t, c, engine.CodeBlocked, sku, stores, cust, fmt.Sprintf("block %d", round))
		want(t, c, engine.OK, engine.Command{Op: engine.OpUnblock, Customer: []byte(cust)})
		everyShardAnswers(t, c, engine.OK, sku, stores, cust, fmt.Sprintf("unblock %d", round))
	}
	want(t, c, engine.OK, engine.Command{Op: engine.OpSetTier, Customer: []byte(cust), Tier: 3})
	r := want(t, c, engine.OK, engine.Command{Op: engine.OpGetCustomer, Customer: []byte(cust)})
	if cu := r.Customer; cu == nil || cu.Tier != 3 || cu.Blocked || cu.Open != 3*customerShards {
		t.Fatalf("customer get: %+v, want tier 3, not blocked, %d open (every shard's)", cu, 3*customerShards)
	}
}
