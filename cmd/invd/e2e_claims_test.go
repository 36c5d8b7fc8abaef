// End-to-end tests of per-customer limits across stores on one invd with
// several shards (docs/adr/0070): the items of one SKU at three stores lie
// in three shards, none of them the customer's, and the customer's limit of
// 2 still holds over all three: the third unit is refused limit_exceeded,
// retries with the same key count once, and a cancel, a return, an expiry
// or a no-show gives a unit back (through the item shard's outbox), while a
// confirm keeps counting; a cancel's or a return's reply comes once the
// release arrived, so a reserve sent right after it gets the unit. Requests go over the raw protocol, so nothing in a client
// library helps.
package main_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// claimShop puts SKU sku with a limit of 2 at three stores, each in its
// own shard, none of them customer's shard.
func claimShop(t *testing.T, c *wire.Conn, sku, customer string, shards int) []string {
	t.Helper()
	home := protocol.ShardOfCustomer([]byte(customer), shards)
	want(t, c, engine.OK, engine.Command{Op: engine.OpSetLimit, SKU: []byte(sku), Limit: 2}) // the SKU's, on every shard
	var stores []string
	for sh := 0; sh < shards && len(stores) < 3; sh++ {
		if sh == home {
			continue
		}
		store := storeInShard(sku, sh, shards)
		want(t, c, engine.OK, putItem(sku, store, 10))
		stores = append(stores, store)
	}
	if len(stores) != 3 {
		t.Fatalf("%d stores outside the customer's shard, want 3", len(stores))
	}
	return stores
}

func keyed(cmd engine.Command, key string) engine.Command {
	cmd.Key = []byte(key)
	return cmd
}

// eventually sends cmd with key-0, key-1 ... until it gives code (the
// release of a claim follows its reservation's end by a few hundred
// milliseconds; a refusal is kept for its key, so each try has its own).
func eventually(t *testing.T, c *wire.Conn, code engine.Code, cmd engine.Command, key string) engine.Result {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		cmd.Key = fmt.Appendf(nil, "%s-%d", key, i)
		r := do(t, c, cmd)
		if r.Code == code || time.Now().After(deadline) {
			if r.Code != code {
				t.Fatalf("%s %s/%s: still %s after 10s, want %s", cmd.Op, cmd.SKU, cmd.Store, r.Code, code)
			}
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestLimitAcrossShards(t *testing.T) {
	const shards = 4
	p := startInvd(t, shards, "")
	c := dial(t, p)
	const sku, cust = "LIM", "M0042"
	st := claimShop(t, c, sku, cust, shards)

	a := want(t, c, engine.OK, keyed(reserve(sku, st[0], cust, 1), "ka"))
	shortHold := keyed(reserve(sku, st[1], cust, 1), "kb")
	shortHold.TTL = 2 * time.Second
	b := want(t, c, engine.OK, shortHold)
	want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[2], cust, 1), "kc"))
	if b.ExpiresAt == 0 || a.State != engine.StateHeld {
		t.Fatalf("holds: %+v %+v", a, b)
	}

	// Retries with the same keys return the first holds and count once.
	if r := want(t, c, engine.OK, keyed(reserve(sku, st[0], cust, 1), "ka")); r.ID != a.ID {
		t.Fatalf("retry of ka: id %x, want %x", r.ID, a.ID)
	}
	if r := want(t, c, engine.OK, shortHold); r.ID != b.ID {
		t.Fatalf("retry of kb: id %x, want %x", r.ID, b.ID)
	}
	want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[2], cust, 1), "kc2"))
	// The same key for another store is another request: key_conflict
	// whichever shard it lands on (docs/adr/0073), before any claim.
	want(t, c, engine.CodeKeyConflict, keyed(reserve(sku, st[2], cust, 1), "ka"))

	// The short hold expires: its unit comes back.
	cr := eventually(t, c, engine.OK, reserve(sku, st[2], cust, 1), "kc3")
	if it := getItem(t, c, sku, st[1]); it.Held != 0 {
		t.Fatalf("the expired hold still holds %d", it.Held)
	}
	want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[1], cust, 1), "kb2"))

	// A confirm keeps counting; a cancel gives the unit back.
	if r := want(t, c, engine.OK, onID(engine.OpConfirm, cr.ID)); r.State != engine.StateConfirmed || r.PickupCode == 0 {
		t.Fatalf("confirm of a claimed hold: %+v", r)
	}
	want(t, c, engine.OK, onID(engine.OpCancel, a.ID))
	// A refusal stays the answer for its key, though a unit is free now
	// (the cancel's reply came once its claim's release arrived).
	want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[1], cust, 1), "kb2"))
	d := want(t, c, engine.OK, keyed(reserve(sku, st[1], cust, 1), "kb3"))
	want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[0], cust, 1), "ka2"))

	// An extend of a claimed hold extends its claim first.
	ext := onID(engine.OpExtend, d.ID)
	ext.TTL = 20 * time.Minute
	if r := want(t, c, engine.OK, ext); r.ExpiresAt <= d.ExpiresAt {
		t.Fatalf("extend: expires %d, was %d", r.ExpiresAt, d.ExpiresAt)
	}

	// Every item's counts agree: one confirmed at st[2], one held at st[1].
	held, confirmed := int64(0), int64(0)
	for _, s := range st {
		it := getItem(t, c, sku, s)
		held, confirmed = held+it.Held, confirmed+it.Confirmed
	}
	if held != 1 || confirmed != 1 {
		t.Fatalf("across the stores: %d held, %d confirmed; want 1 and 1", held, confirmed)
	}

	// In a BATCH the same: the limit is full, a cart line on an unlimited
	// item beside a claimed line fails with it, and a cancel frees a unit.
	free := "FREE"
	for i := 0; protocol.ShardOf([]byte(free), []byte(st[0]), shards) != protocol.ShardOf([]byte(sku), []byte(st[0]), shards); i++ {
		free = fmt.Sprintf("FREE%d", i) // a cart lies in one shard
	}
	want(t, c, engine.OK, putItem(free, st[0], 10))
	batchCodes := func(try string) []engine.Code {
		cart := []engine.Command{keyed(reserve(free, st[0], cust, 1), "cart1"+try), keyed(reserve(sku, st[0], cust, 1), "cart2"+try)}
		cart[0].Linked = true
		brs, err := c.Batch(append([]engine.Command{keyed(reserve(sku, st[0], cust, 1), "kz"+try)}, cart...))
		if err != nil {
			t.Fatal(err)
		}
		var codes []engine.Code
		for _, br := range brs {
			codes = append(codes, br.Result.Code)
		}
		return codes
	}
	if got := batchCodes("first"); got[0] != engine.CodeLimitExceeded || got[1] != engine.CodeLinkFailed || got[2] != engine.CodeLimitExceeded {
		t.Fatalf("a BATCH over the limit: %v", got)
	}
	want(t, c, engine.OK, onID(engine.OpCancel, d.ID))
	// One unit is free: the lone reserve or the cart takes it, not both.
	deadline := time.Now().Add(10 * time.Second)
	try := 0
	got := batchCodes("0")
	for ; got[0] != engine.OK && got[2] != engine.OK; got = batchCodes(fmt.Sprint(try)) {
		try++
		if time.Now().After(deadline) {
			t.Fatalf("the BATCH after a cancel: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	loneWon := []engine.Code{engine.OK, engine.CodeLinkFailed, engine.CodeLimitExceeded}
	cartWon := []engine.Code{engine.CodeLimitExceeded, engine.OK, engine.OK}
	if fmt.Sprint(got) != fmt.Sprint(loneWon) && fmt.Sprint(got) != fmt.Sprint(cartWon) {
		t.Fatalf("the BATCH after a cancel: %v, want %v or %v", got, loneWon, cartWon)
	}
	if again := batchCodes(fmt.Sprint(try)); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Fatalf("the BATCH again (every line a retry): %v, first %v", again, got)
	}

	// A client may not send claims, resolves, outbox messages, or their
	// fields on a storefront op: unauthorized, whatever its role.
	forged := reserve(sku, st[0], cust, 1)
	forged.Claim, forged.Deadline = []byte("k"), time.Now().Add(time.Second).UnixNano()
	deadlineOnly := reserve(sku, st[0], cust, 1)
	deadlineOnly.Deadline = time.Now().Add(time.Second).UnixNano()
	for _, cmd := range []engine.Command{forged, deadlineOnly,
		{Op: engine.OpClaim, Customer: []byte(cust), SKU: []byte(sku), Qty: 1, Limit: 9, Claim: []byte("k"), Deadline: 1},
		{Op: engine.OpReleaseClaim, Claim: []byte("k"), FromShard: 1, Seq: 1},
		{Op: engine.OpAnchorClaim, Claim: []byte("k")},
		{Op: engine.OpResolveClaim, Claim: []byte("k")},
		{Op: engine.OpDelivered, ToShard: 1, Seq: 1},
		{Op: engine.OpGetClaim, Claim: []byte("k")},
		{Op: engine.OpGetClaimHold, Claim: []byte("k")},
	} {
		if _, err := c.Do(&cmd); wire.CodeOf(err) != engine.CodeUnauthorized {
			t.Fatalf("%v from a client (claim %q, deadline %d): %v, want unauthorized", cmd.Op, cmd.Claim, cmd.Deadline, err)
		}
	}
}

// TestCartAcrossShardsWithLimits: a cart (one BATCH chain) whose limited
// lines lie in three shards, none the customer's, is held all or nothing:
// over the limit it is refused limit_exceeded and nothing stays held or
// claimed; with a sold-out line the same; within the limit every line is
// held, and the limit then counts them.
func TestCartAcrossShardsWithLimits(t *testing.T) {
	const shards = 4
	p := startInvd(t, shards, "")
	c := dial(t, p)
	const sku, cust = "CART", "M0077"
	st := claimShop(t, c, sku, cust, shards)
	cart := func(key string, stores ...string) []engine.Code {
		t.Helper()
		var cmds []engine.Command
		for i, s := range stores {
			cmd := keyed(reserve(sku, s, cust, 1), fmt.Sprintf("%s/%d", key, i))
			cmd.Linked = i < len(stores)-1
			cmds = append(cmds, cmd)
		}
		brs, err := c.Batch(cmds)
		if err != nil {
			t.Fatal(err)
		}
		var codes []engine.Code
		for _, br := range brs {
			if br.Op == protocol.OpError || br.Op == protocol.OpNotLeader {
				t.Fatalf("cart entry: %v %+v", br.Op, br.Err)
			}
			codes = append(codes, br.Result.Code)
		}
		return codes
	}
	nothingHeld := func() {
		t.Helper()
		for _, s := range st {
			if it := getItem(t, c, sku, s); it.Held != 0 {
				t.Fatalf("%s/%s holds %d after a refused cart", sku, s, it.Held)
			}
		}
	}
	if got := cart("over", st[0], st[1], st[2]); fmt.Sprint(got) != fmt.Sprint([]engine.Code{engine.CodeLinkFailed, engine.CodeLinkFailed, engine.CodeLimitExceeded}) {
		t.Fatalf("a cart over the limit: %v", got)
	}
	nothingHeld()
	soldOut := putItem(sku, st[2], 0)
	want(t, c, engine.OK, soldOut)
	// The refused cart's claims go with its cancelled lines' releases,
	// within moments.
	deadline := time.Now().Add(10 * time.Second)
	try := 0
	for got := cart("sold0", st[0], st[2]); got[1] != engine.CodeSoldOut || got[0] != engine.CodeLinkFailed; got = cart(fmt.Sprint("sold", try), st[0], st[2]) {
		try++
		if got[0] != engine.CodeLimitExceeded || time.Now().After(deadline) {
			t.Fatalf("a cart with a sold-out line: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	nothingHeld()
	// The refused carts gave their claims back: two units fit.
	try = 0
	got := cart("ok0", st[0], st[1])
	for ; got[0] != engine.OK || got[1] != engine.OK; got = cart(fmt.Sprint("ok", try), st[0], st[1]) {
		try++
		if got[1] != engine.CodeLimitExceeded || time.Now().After(deadline) {
			t.Fatalf("a cart within the limit: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if again := cart(fmt.Sprint("ok", try), st[0], st[1]); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Fatalf("the cart again: %v, first %v", again, got)
	}
	restock := putItem(sku, st[2], 10)
	want(t, c, engine.OK, restock)
	want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[2], cust, 1), "after"))
}

// TestReserveRightAfterCancel: with the limit full, a cancel (or a return)
// and a reserve sent right after its reply, again and again: the reserve
// gets the unit every time, because the reply waited for the claim's
// release to reach the customer's home. The limit still holds after.
func TestReserveRightAfterCancel(t *testing.T) {
	const shards = 4
	p := startInvd(t, shards, "")
	c := dial(t, p)
	const sku, cust = "RAC", "M0099"
	st := claimShop(t, c, sku, cust, shards)
	type hold struct {
		id    uint64
		store string
	}
	held := []hold{
		{want(t, c, engine.OK, keyed(reserve(sku, st[0], cust, 1), "r0")).ID, st[0]},
		{want(t, c, engine.OK, keyed(reserve(sku, st[1], cust, 1), "r1")).ID, st[1]},
	}
	for i := range 20 {
		want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[2], cust, 1), fmt.Sprintf("over-%d", i)))
		gone := held[0]
		if i%4 == 3 { // a return after pickup, restocked
			conf := want(t, c, engine.OK, onID(engine.OpConfirm, gone.id))
			pick := onID(engine.OpPickup, gone.id)
			pick.Store, pick.PickupCode = []byte(gone.store), conf.PickupCode
			want(t, c, engine.OK, pick)
			ret := onID(engine.OpReturn, gone.id)
			ret.Restock = true
			want(t, c, engine.OK, ret)
		} else {
			want(t, c, engine.OK, onID(engine.OpCancel, gone.id))
		}
		store := st[(i+2)%3]
		next := want(t, c, engine.OK, keyed(reserve(sku, store, cust, 1), fmt.Sprintf("after-%d", i)))
		held = []hold{held[1], {next.ID, store}}
	}
	want(t, c, engine.CodeLimitExceeded, keyed(reserve(sku, st[2], cust, 1), "over-last"))
}
