// What this file proves: a mutating command retried with the same
// idempotency key returns its first result and changes nothing; the same
// key with different contents is refused with key_conflict and changes
// nothing; a key is kept for exactly IdempotencyRetention and then the
// same key runs as a new request.
//
// How: "changes nothing" is checked on the snapshot bytes, the whole state:
// a snapshot is taken after an empty batch at the current time (so that
// nothing due is pending), the replay batch runs at the same time (time
// advanced by 0), and a second snapshot must be byte-identical.
// TestIdempotencyEveryOp does this for every mutating op (and for linked
// groups, refusals and wrong pickup codes) on a small fixed shop;
// TestIdempotencyRandom does it at random points of random runs with
// batches of replayed and altered keyed commands, compares results with the
// reference model, and fails if some mutating op was never replayed.
// TestIdempotencyRetention checks the retention boundary to the nanosecond.
package engine

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func refSnap(t testing.TB, e *Engine) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := e.Snapshot(&b); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return b.Bytes()
}

// refApply applies a batch and returns copies of its results.
func refApply(e *Engine, now int64, cmds ...Command) []Result {
	res, _ := e.Apply(now, cmds)
	return append([]Result(nil), res...)
}

// idemShop is a small shop for the fixed idempotency cases.
type idemShop struct {
	t   *testing.T
	e   *Engine
	cfg Config
	now int64
	w1  int64 // two pickup windows of A/S1: w1 open since half an hour (pickups may start), w2 later
	w2  int64
	n   int
}

func newIdemShop(t *testing.T) *idemShop {
	cfg := Config{PickupSecret: []byte("idem"), IdempotencyRetention: time.Hour, FinishedRetention: 48 * time.Hour,
		PickupPeriod: 24 * time.Hour}
	s := &idemShop{t: t, e: New(cfg), cfg: cfg.WithDefaults(), now: 1_700_000_000 * int64(time.Second)}
	s.w1, s.w2 = s.now-int64(30*time.Minute), s.now+int64(3*time.Hour)
	s.must(OK, Command{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 100})
	s.must(OK, Command{Op: OpPutItem, SKU: []byte("D"), Store: []byte("S1"), Stock: 100}) // no windows: reserved without one
	s.must(OK, Command{Op: OpPutItem, SKU: []byte("B"), Store: []byte("S1"), Stock: 1})
	s.must(OK, Command{Op: OpPutWindow, SKU: []byte("A"), Store: []byte("S1"), Window: s.w1, WindowEnd: s.w1 + int64(time.Hour), Quota: 50})
	s.must(OK, Command{Op: OpPutWindow, SKU: []byte("A"), Store: []byte("S1"), Window: s.w2, WindowEnd: s.w2 + int64(time.Hour), Quota: 50})
	return s
}

func (s *idemShop) must(code Code, c Command) Result {
	s.t.Helper()
	r := refApply(s.e, s.now, c)[0]
	if r.Code != code {
		s.t.Fatalf("%s: %v, want %v", refFmtCmd(&c), r.Code, code)
	}
	return r
}

// hold reserves 2 units of A in a window, or of D (no windows) with window 0.
func (s *idemShop) hold(window int64) uint64 {
	s.n++
	sku := []byte("A")
	if window == 0 {
		sku = []byte("D")
	}
	return s.must(OK, Command{Op: OpReserve, SKU: sku, Store: []byte("S1"),
		Customer: []byte(fmt.Sprintf("c%d", s.n%20)), Qty: 2, Window: window}).ID
}

func (s *idemShop) confirmed() (uint64, uint64) {
	r := s.must(OK, Command{Op: OpConfirm, ID: s.hold(s.w1)})
	return r.ID, r.PickupCode
}

func (s *idemShop) pickedUp() uint64 {
	id, code := s.confirmed()
	s.must(OK, Command{Op: OpPickup, ID: id, Store: []byte("S1"), PickupCode: code})
	return id
}

// replayUnchanged runs cmds (keys set), then replays them and altered
// copies at the same time: first results again, key conflicts, and
// byte-identical snapshots.
func (s *idemShop) replayUnchanged(name string, cmds []Command, want ...Code) {
	s.t.Helper()
	first := refApply(s.e, s.now, cmds...)
	for i, w := range want {
		if first[i].Code != w {
			s.t.Fatalf("%s: line %d first result %v, want %v", name, i, first[i].Code, w)
		}
	}
	s.e.Apply(s.now, nil) // anything due at this time goes now, not during the replay
	before := refSnap(s.t, s.e)
	again := refApply(s.e, s.now, cmds...)
	for i := range first {
		if !refEqual(again[i], refStored(first[i])) {
			s.t.Fatalf("%s: line %d replay %s, first %s", name, i, refFmtResult(again[i]), refFmtResult(first[i]))
		}
	}
	if !bytes.Equal(before, refSnap(s.t, s.e)) {
		s.t.Fatalf("%s: the replay changed the state", name)
	}
	for i := range cmds {
		alt := refCopyCmd(&cmds[i])
		refAlter(&alt)
		alt.Linked = false
		if r := refApply(s.e, s.now, alt)[0]; r.Code != CodeKeyConflict {
			s.t.Fatalf("%s: line %d with other contents: %s, want key_conflict", name, i, refFmtResult(r))
		}
	}
	if !bytes.Equal(before, refSnap(s.t, s.e)) {
		s.t.Fatalf("%s: a key conflict changed the state", name)
	}
	s.now += int64(time.Second)
}

func TestIdempotencyEveryOp(t *testing.T) {
	s := newIdemShop(t)
	key := func(name string) []byte { return []byte("key-" + name) }
	A, S1 := []byte("A"), []byte("S1")
	type tc struct {
		name string
		cmd  func() Command
		want Code
	}
	cases := []tc{
		{"reserve", func() Command {
			return Command{Op: OpReserve, SKU: A, Store: S1, Customer: []byte("r1"), Qty: 3, Window: s.w1, TTL: time.Minute}
		}, OK},
		{"reserve-sold-out", func() Command { // a refusal is the first result too, even after a restock
			return Command{Op: OpReserve, SKU: []byte("B"), Store: S1, Customer: []byte("r2"), Qty: 2}
		}, CodeSoldOut},
		{"confirm", func() Command { return Command{Op: OpConfirm, ID: s.hold(0)} }, OK},
		{"confirm-partial", func() Command { return Command{Op: OpConfirm, ID: s.hold(s.w1), Qty: 1} }, OK},
		{"extend", func() Command { return Command{Op: OpExtend, ID: s.hold(0), TTL: 20 * time.Minute} }, OK},
		{"cancel-held", func() Command { return Command{Op: OpCancel, ID: s.hold(s.w2)} }, OK},
		{"cancel-confirmed", func() Command { id, _ := s.confirmed(); return Command{Op: OpCancel, ID: id} }, OK},
		{"pickup", func() Command {
			id, code := s.confirmed()
			return Command{Op: OpPickup, ID: id, Store: S1, PickupCode: code}
		}, OK},
		{"pickup-by-code", func() Command {
			_, code := s.confirmed()
			return Command{Op: OpPickup, Store: S1, PickupCode: code}
		}, OK},
		{"pickup-wrong-code", func() Command { // a replay must not count another attempt
			id, code := s.confirmed()
			return Command{Op: OpPickup, ID: id, Store: S1, PickupCode: (code + 1) % 1_000_000_000_000}
		}, CodeBadCode},
		{"reschedule", func() Command { return Command{Op: OpReschedule, ID: s.hold(s.w1), Window: s.w2} }, OK},
		{"return-restock", func() Command { return Command{Op: OpReturn, ID: s.pickedUp(), Restock: true} }, OK},
		{"return-discard", func() Command { return Command{Op: OpReturn, ID: s.pickedUp()} }, OK},
		{"put-item", func() Command {
			return Command{Op: OpPutItem, SKU: []byte("C"), Store: S1, Stock: 7, OpensAt: s.now - 1,
				MemberTier: 1, MemberUnits: 2, MemberCutoff: s.now + int64(time.Hour)}
		}, OK},
		{"put-window", func() Command {
			w := s.w2 + int64(2*time.Hour)
			return Command{Op: OpPutWindow, SKU: A, Store: S1, Window: w, WindowEnd: w + int64(time.Hour), Quota: 3}
		}, OK},
		{"restock", func() Command { return Command{Op: OpRestock, SKU: []byte("B"), Store: S1, Qty: 5} }, OK},
		{"adjust", func() Command { return Command{Op: OpAdjustStock, SKU: A, Store: S1, Qty: -1} }, OK},
		{"sale-window", func() Command {
			return Command{Op: OpSetSaleWindow, SKU: []byte("B"), Store: S1, OpensAt: s.now - 1, ClosesAt: s.now + int64(48*time.Hour)}
		}, OK},
		{"limit", func() Command { return Command{Op: OpSetLimit, SKU: []byte("B"), Limit: 3} }, OK},
		{"put-store", func() Command { return Command{Op: OpPutStore, Store: S1, Zone: []byte("Asia/Taipei")} }, OK},
		{"put-store-window", func() Command {
			return Command{Op: OpPutStoreWindow, Store: S1, Window: s.w2, WindowEnd: s.w2 + int64(time.Hour), Quota: 80}
		}, OK},
		{"pickup-too-early", func() Command { // no attempt counted, and none by the replay
			r := s.must(OK, Command{Op: OpConfirm, ID: s.hold(s.w2)})
			return Command{Op: OpPickup, ID: r.ID, Store: S1, PickupCode: r.PickupCode}
		}, CodeTooEarly},
		{"reserve-without-window", func() Command {
			return Command{Op: OpReserve, SKU: A, Store: S1, Customer: []byte("r3"), Qty: 1}
		}, CodeWindowRequired},
		{"member-share", func() Command {
			return Command{Op: OpSetMemberShare, SKU: A, Store: S1, MemberTier: 2, MemberUnits: 4, MemberCutoff: s.now + int64(time.Hour)}
		}, OK},
		{"block", func() Command { return Command{Op: OpBlock, Customer: []byte("bad")} }, OK},
		{"unblock", func() Command { return Command{Op: OpUnblock, Customer: []byte("bad")} }, OK},
		{"tier", func() Command { return Command{Op: OpSetTier, Customer: []byte("vip"), Tier: 2} }, OK},
		{"unlock", func() Command {
			id, code := s.confirmed()
			s.must(CodeBadCode, Command{Op: OpPickup, ID: id, Store: S1, PickupCode: (code + 7) % 1_000_000_000_000})
			return Command{Op: OpUnlock, ID: id}
		}, OK},
		{"unknown-reservation", func() Command { return Command{Op: OpCancel, ID: MakeID(0, 1<<40)} }, CodeNotFound},
	}
	seen := map[Op]bool{}
	for _, c := range cases {
		cmd := c.cmd()
		cmd.Key = key(c.name)
		seen[cmd.Op] = true
		s.replayUnchanged(c.name, []Command{cmd}, c.want)
	}
	// The refused reserve stays refused for the key's retention, though B
	// was restocked meanwhile.
	if r := refApply(s.e, s.now, Command{Op: OpReserve, SKU: []byte("B"), Store: S1, Customer: []byte("r2"), Qty: 2,
		Key: key("reserve-sold-out")})[0]; r.Code != CodeSoldOut {
		t.Fatalf("replayed refusal after a restock: %v, want sold_out", r.Code)
	}
	for op := OpReserve; op <= OpUnlock; op++ {
		if op.Valid() && op.Mutating() && !seen[op] {
			t.Errorf("no idempotency case for %v", op)
		}
	}

	// Linked groups: a cart that held, a cart that failed, a chain left
	// open (refused whole, keys not kept).
	cart := func(name string, qtyB int64) []Command {
		return []Command{
			{Op: OpReserve, SKU: A, Store: S1, Customer: []byte("cart"), Qty: 1, Window: s.w1, Linked: true, Key: key(name + "-1")},
			{Op: OpReserve, SKU: []byte("B"), Store: S1, Customer: []byte("cart"), Qty: qtyB, Key: key(name + "-2")},
		}
	}
	s.replayUnchanged("cart", cart("cart", 1), OK, OK)
	s.replayUnchanged("cart-failed", cart("cart-failed", 1000), CodeLinkFailed, CodeSoldOut)
	s.replayUnchanged("cart-confirm", []Command{
		{Op: OpConfirm, ID: s.hold(0), Linked: true, Key: key("cc-1")},
		{Op: OpConfirm, ID: s.hold(s.w1), Key: key("cc-2")},
	}, OK, OK)
	if err := s.e.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestIdempotencyRetention: a key replays until IdempotencyRetention has
// passed since it was stored, to the nanosecond, and then runs as new.
func TestIdempotencyRetention(t *testing.T) {
	s := newIdemShop(t)
	ret := int64(s.cfg.IdempotencyRetention)
	t0 := s.now
	res := func(qty int64) Command {
		return Command{Op: OpReserve, SKU: []byte("D"), Store: []byte("S1"), Customer: []byte("ret"), Qty: qty, Key: []byte("k-ret")}
	}
	first := s.must(OK, res(1))
	s.now = t0 + ret - 1
	if r := s.must(OK, res(1)); r.ID != first.ID || r.State != StateHeld || r.ExpiresAt != first.ExpiresAt {
		t.Fatalf("1ns before the retention: %s, want the first result %s", refFmtResult(r), refFmtResult(first))
	}
	s.must(CodeKeyConflict, res(2))
	s.now = t0 + ret
	second := s.must(OK, res(2)) // other contents: no conflict once the key is gone
	if second.ID == first.ID || second.Qty != 2 {
		t.Fatalf("after the retention: %s, want a new reservation", refFmtResult(second))
	}
	// The key is stored again, with the new request.
	if r := s.must(OK, res(2)); r.ID != second.ID {
		t.Fatalf("replay of the renewed key: %s, want %s", refFmtResult(r), refFmtResult(second))
	}
	s.now += ret
	if r := s.must(OK, res(2)); r.ID == second.ID {
		t.Fatalf("the renewed key did not age out")
	}
}

// TestIdempotencyRandom replays and alters keyed commands and groups at
// random points of random runs.
func TestIdempotencyRandom(t *testing.T) {
	seeds, per := 8, 6_000
	if testRaceEnabled || testing.Short() {
		seeds, per = 2, 3_000
	}
	base := time.Now().UnixNano()
	if *refSeedFlag != 0 {
		base, seeds = *refSeedFlag, 1
	}
	replayed := map[Op]int{}
	var probes, conflicts int
	for i := 0; i < seeds; i++ {
		h := newRefRun(t, base+int64(i))
		for h.cmds < per {
			h.step()
			if h.batches%7 != 0 {
				continue
			}
			p, c := idemProbe(h, replayed)
			probes += p
			conflicts += c
		}
	}
	t.Logf("seeds %d..%d: %d replays, %d key conflicts, every op: %v", base, base+int64(seeds)-1, probes, conflicts, replayed)
	if testing.Short() || testRaceEnabled {
		return
	}
	for op := OpReserve; op <= OpUnlock; op++ {
		if op.Valid() && op.Mutating() && replayed[op] == 0 {
			t.Errorf("%v was never replayed: the generator lost it", op)
		}
	}
}

// idemProbe replays live keys (and altered copies of them) at the engine's
// current time and checks that the state did not change.
func idemProbe(h *refRun, replayed map[Op]int) (probes, conflicts int) {
	h.t.Helper()
	now := h.e.Now()
	h.apply(now, nil)
	before := refSnap(h.t, h.e)
	var batch []Command
	seen := map[string]bool{}
	for i := len(h.g.keyed) - 1; i >= 0 && len(batch) < 12; i-- {
		c := h.g.keyed[i]
		k, live := h.m.keys[string(c.Key)]
		if !live || seen[string(c.Key)] || !refSame(&k.cmd, &c) {
			continue
		}
		seen[string(c.Key)] = true
		batch = append(batch, refCopyCmd(&c))
		replayed[c.Op]++
		probes++
		if h.g.chance(30) {
			alt := refCopyCmd(&c)
			refAlter(&alt)
			batch = append(batch, alt)
			conflicts++
		}
	}
	if n := len(h.g.groups); n > 0 { // a whole group whose keys are all kept
		grp := h.g.groups[n-1-h.g.r.IntN(min(n, 8))]
		all := true
		for _, c := range grp {
			_, live := h.m.keys[string(c.Key)]
			all = all && live
		}
		if all {
			for i := range grp {
				c := refCopyCmd(&grp[i])
				c.Linked = i < len(grp)-1
				batch = append(batch, c)
			}
			probes++
		}
	}
	want := make([]Result, len(batch))
	for i := range batch { // a replay returns the kept result, an alteration conflicts
		if k, ok := h.m.keys[string(batch[i].Key)]; ok && refSame(&k.cmd, &batch[i]) {
			want[i] = k.res
			if op := batch[i].Op; op.WaitlistChange() && k.res.Code == OK {
				want[i] = h.m.waitReplay(&batch[i], k.res) // with the line as it stands now
			} else {
				want[i] = h.m.reviewReplay(&batch[i], k.res) // a reserve with its hold's review as it stands now
			}
			if batch[i].Op.CouponChange() {
				want[i] = h.m.couponReplay(&batch[i], k.res) // with the serial or the issue as it stands now
			}
		} else {
			want[i] = Result{Code: CodeKeyConflict}
		}
	}
	got := h.apply(now, batch)
	for i := range batch {
		if batch[i].Linked || (i > 0 && batch[i-1].Linked) {
			continue // group lines: the model's word (compared in apply) is the reference
		}
		if !refEqual(got[i], want[i]) {
			h.fail("replay %s: %s, want %s", refFmtCmd(&batch[i]), refFmtResult(got[i]), refFmtResult(want[i]))
		}
	}
	if !bytes.Equal(before, refSnap(h.t, h.e)) {
		h.fail("a batch of replays and key conflicts changed the state")
	}
	return probes, conflicts
}
