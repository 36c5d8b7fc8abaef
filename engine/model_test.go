// What this file proves: the engine does exactly what a deliberately simple
// reference model of the domain does, for long random sequences of every
// command, and the guarantees (no oversell, window quotas, per-customer
// limits, store window capacities across SKUs, the engine's own
// invariants) hold after every batch.
//
// How: refModel (model_ref_test.go, model_ops_test.go) keeps items,
// windows, customers, reservations and idempotency keys in plain maps and
// slices, scans where the engine indexes, and runs a linked group on a deep
// copy that it keeps or drops whole. TestModelRandom drives the engine and
// the model (model_harness_test.go) with the same random batches (refGen,
// model_gen_test.go) over a small contended universe,
// compares every result field by field (reads included), reads every item
// back from the engine to check promised <= stock and used <= quota, checks
// every accepted reserve against the customer's limit, runs
// CheckInvariants after every batch and compares whole state (every kept
// reservation and customer) every few batches. Waitlist joins, leaves and
// reads, and the promotions of lines' heads (model_waitlist_test.go), are
// compared through every result, and the test fails if no run joined a
// line or promoted a head. Coupon issues, takes, redemptions and reads,
// and the serials' expiry (model_coupons_test.go), are compared likewise,
// and the test fails if no run took, redeemed or expired a serial.
//
// Every run logs its seed; a failing run replays exactly with
//
//	go test ./engine -run TestModelRandom -seed=N
//
// The full run (64 runs, >= 1,000,000 commands, in parallel) happens
// without -race; under -race (80,000) and with -short a shorter run
// happens (see race_on_test.go). The test fails at the first difference.
package engine

import (
	"flag"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

var refSeedFlag = flag.Int64("seed", 0, "replay one randomized engine run (TestModelRandom, TestIdempotencyRandom, TestDeterminism*) with this seed")

// ---- comparing ----

// refNorm makes empty and nil slices alike, so that results compare by content.
func refNorm(r Result) Result {
	// The model computes no screening marks: table_marks_test.go checks
	// them, and the determinism tests compare engines with each other.
	r.Marks = 0
	if r.Reservation != nil && r.Reservation.Marks != 0 {
		x := *r.Reservation
		x.Marks = 0
		r.Reservation = &x
	}
	if len(r.Reservations) == 0 {
		r.Reservations = nil
	} else {
		list := append([]ReservationInfo(nil), r.Reservations...)
		for i := range list {
			list[i].Marks = 0
		}
		r.Reservations = list
	}
	if len(r.Stores) == 0 {
		r.Stores = nil
	}
	if len(r.Items) == 0 {
		r.Items = nil
	} else {
		items := append([]ItemInfo(nil), r.Items...)
		for i := range items {
			if len(items[i].Windows) == 0 {
				items[i].Windows = nil
			}
		}
		r.Items = items
	}
	if r.Item != nil && len(r.Item.Windows) == 0 {
		x := *r.Item
		x.Windows = nil
		r.Item = &x
	}
	return r
}

func refEqual(a, b Result) bool { return reflect.DeepEqual(refNorm(a), refNorm(b)) }

func refFmtResult(r Result) string {
	s := fmt.Sprintf("{%v id=%x state=%v qty=%d window=%d expires=%d code=%d", r.Code, r.ID, r.State, r.Qty, r.Window, r.ExpiresAt, r.PickupCode)
	if r.Item != nil {
		s += fmt.Sprintf(" item=%+v", *r.Item)
	}
	if r.WindowInfo != nil {
		s += fmt.Sprintf(" window=%+v", *r.WindowInfo)
	}
	if r.Reservation != nil {
		s += fmt.Sprintf(" res=%+v", *r.Reservation)
	}
	if r.Waitlist != nil {
		s += fmt.Sprintf(" waitlist=%+v", *r.Waitlist)
	}
	if r.Customer != nil {
		s += fmt.Sprintf(" cust=%+v", *r.Customer)
	}
	if r.Reservations != nil {
		s += fmt.Sprintf(" list=%+v", r.Reservations)
	}
	if r.Stores != nil {
		s += fmt.Sprintf(" stores=%+v", r.Stores)
	}
	if r.Items != nil {
		s += fmt.Sprintf(" items=%+v", r.Items)
	}
	if r.Store != nil {
		s += fmt.Sprintf(" store=%+v", *r.Store)
	}
	return s + "}"
}

func refFmtCmd(c *Command) string {
	s := fmt.Sprintf("%v", c.Op)
	add := func(name string, v any, set bool) {
		if set {
			s += fmt.Sprintf(" %s=%v", name, v)
		}
	}
	add("linked", c.Linked, c.Linked)
	add("sku", fmt.Sprintf("%q", c.SKU), c.SKU != nil)
	add("store", fmt.Sprintf("%q", c.Store), c.Store != nil)
	add("cust", fmt.Sprintf("%q", c.Customer), c.Customer != nil)
	add("key", fmt.Sprintf("%q", c.Key), c.Key != nil)
	add("id", fmt.Sprintf("%x", c.ID), c.ID != 0)
	add("qty", c.Qty, c.Qty != 0)
	add("window", c.Window, c.Window != 0)
	add("window_end", c.WindowEnd, c.WindowEnd != 0)
	add("quota", c.Quota, c.Quota != 0)
	add("ttl", c.TTL, c.TTL != 0)
	add("code", c.PickupCode, c.PickupCode != 0)
	add("restock", c.Restock, c.Restock)
	add("stock", c.Stock, c.Stock != 0)
	add("limit", c.Limit, c.Limit != 0)
	add("opens", c.OpensAt, c.OpensAt != 0)
	add("closes", c.ClosesAt, c.ClosesAt != 0)
	add("member_tier", c.MemberTier, c.MemberTier != 0)
	add("member_units", c.MemberUnits, c.MemberUnits != 0)
	add("member_cutoff", c.MemberCutoff, c.MemberCutoff != 0)
	add("tier", c.Tier, c.Tier != 0)
	add("zone", fmt.Sprintf("%q", c.Zone), c.Zone != nil)
	add("claim", fmt.Sprintf("%q", c.Claim), c.Claim != nil)
	add("deadline", c.Deadline, c.Deadline != 0)
	add("item_shard", c.ItemShard, c.ItemShard != 0)
	add("claim_code", c.ClaimCode, c.ClaimCode != OK)
	add("from", c.FromShard, c.FromShard != 0)
	add("to", c.ToShard, c.ToShard != 0)
	add("seq", c.Seq, c.Seq != 0)
	return s
}

// ---- the test ----

// refRunsPlan returns how many runs of how many commands TestModelRandom makes.
func refRunsPlan() (runs, cmdsPerRun int) {
	switch {
	case testRaceEnabled:
		return 8, 10_000 // 80,000 commands: -race is ~10x slower
	case testing.Short():
		return 8, 10_000
	}
	return 64, 16_500 // 1,056,000 commands
}

func TestModelRandom(t *testing.T) {
	runs, per := refRunsPlan()
	if *refSeedFlag != 0 {
		h := newRefRun(t, *refSeedFlag)
		h.runCommands(per)
		t.Logf("seed %d: %d batches, %d commands, %d accepted reserves checked against limits, %d refused by a store window, "+
			"%d waitlist joins, %d promotions, %d held back, %d released", *refSeedFlag, h.batches, h.cmds, h.m.limitChecks, h.m.storeFull,
			h.m.joined, h.m.promoted, h.m.heldBack, h.m.released)
		return
	}
	base := time.Now().UnixNano()
	t.Logf("master seed %d: %d runs of %d commands (replay one run with -seed=<its seed>)", base, runs, per)
	var total, batches, storeFull, joined, promoted, heldBack, released atomic.Int64
	var taken, redeemed, expired atomic.Int64 // coupon serials (model_coupons_test.go)
	start := time.Now()
	// Each path counted below is rare in some runs: a short run (-race)
	// may miss one by chance. So another round of as many seeds runs while
	// one is still missing, up to four rounds, before that is a failure:
	// a path the generator no longer reaches is missing from every round.
	reached := func() bool {
		return joined.Load() > 0 && promoted.Load() > 0 && taken.Load() > 0 && redeemed.Load() > 0 &&
			expired.Load() > 0 && heldBack.Load() > 0 && released.Load() > 0 && storeFull.Load() > 0
	}
	for round := 0; round < 4 && !t.Failed() && (round == 0 || !reached()); round++ {
		if round > 0 {
			t.Logf("round %d: joined %d, promoted %d, coupon serials taken %d, redeemed %d, expired %d, held back %d, released %d, store windows full %d",
				round, joined.Load(), promoted.Load(), taken.Load(), redeemed.Load(), expired.Load(), heldBack.Load(), released.Load(), storeFull.Load())
		}
		t.Run(fmt.Sprintf("runs%d", round), func(t *testing.T) {
			for i := 0; i < runs; i++ {
				seed := base + int64(round*runs+i)
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					t.Parallel()
					h := newRefRun(t, seed)
					h.runCommands(per)
					total.Add(int64(h.cmds))
					batches.Add(int64(h.batches))
					storeFull.Add(int64(h.m.storeFull))
					joined.Add(int64(h.m.joined))
					promoted.Add(int64(h.m.promoted))
					taken.Add(int64(h.m.taken))
					redeemed.Add(int64(h.m.redeemed))
					expired.Add(int64(h.m.expired))
					heldBack.Add(int64(h.m.heldBack))
					released.Add(int64(h.m.released))
				})
			}
		})
	}
	t.Logf("%d commands in %d batches, %v; %d reserves refused by a store window's capacity; %d waitlist joins, %d promotions; %d held back, %d released",
		total.Load(), batches.Load(), time.Since(start).Round(time.Millisecond), storeFull.Load(), joined.Load(), promoted.Load(), heldBack.Load(), released.Load())
	if !t.Failed() && (joined.Load() == 0 || promoted.Load() == 0) {
		t.Errorf("no run joined a waitlist (%d) or promoted a head (%d): the generator no longer reaches them", joined.Load(), promoted.Load())
	}
	t.Logf("coupon serials: %d taken, %d redeemed, %d expired", taken.Load(), redeemed.Load(), expired.Load())
	if !t.Failed() && (taken.Load() == 0 || redeemed.Load() == 0 || expired.Load() == 0) {
		t.Errorf("no run took (%d), redeemed (%d) or expired (%d) a coupon serial: the generator no longer reaches them",
			taken.Load(), redeemed.Load(), expired.Load())
	}
	if !t.Failed() && (heldBack.Load() == 0 || released.Load() == 0) {
		t.Errorf("no run held back a reserve (%d) or released one (%d): the generator no longer reaches review", heldBack.Load(), released.Load())
	}
	if storeFull.Load() == 0 {
		t.Errorf("no reserve met a full store window: the runs do not exercise store capacity")
	}
}
