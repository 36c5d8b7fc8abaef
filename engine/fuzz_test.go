// What this file proves: the engine's untrusted inputs never crash it.
// FuzzRestore: any bytes given to Restore give an engine or an error, never
// a panic; an accepted snapshot holds the invariants, snapshots back to
// the same bytes, and can be read and run on (every read, a batch of
// commands on its items and reservations, expiry of everything). FuzzApply:
// any short command sequence (decoded from the fuzzer's bytes, malformed
// and extreme values included, time moving in any direction) applies
// without a panic, keeps the invariants after every batch, and snapshots,
// restores and continues like the original, and every result matches the
// reference model's (model_test.go). FuzzParseBarcode: any string
// parses or is refused without a panic, and what parses prints back to the
// same barcode.
//
// How: go test's native fuzzing. The seed corpora in testdata/fuzz/<Name>/
// (real snapshots of random runs, encoded command sequences, barcodes) run
// with every plain `go test`; explore with e.g.
//
//	go test ./engine -run XXX -fuzz FuzzRestore -fuzztime 45s
//
// INV_WRITE_FUZZ_CORPUS=1 go test ./engine -run TestWriteFuzzCorpus
// rewrites the generated seed files (after a snapshot format change).
package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ---- FuzzRestore ----

// fuzzRestoreConfig is the configuration the seed snapshots were written with.
func fuzzRestoreConfig() Config {
	return Config{ShardID: 1, PickupSecret: []byte("fuzz"), DefaultHoldTTL: 2 * time.Minute, MaxHold: 5 * time.Minute,
		PickupPeriod: time.Hour, IdempotencyRetention: 20 * time.Minute, FinishedRetention: 30 * time.Minute, NoShowLimit: 2}
}

func FuzzRestore(f *testing.F) {
	for _, s := range fuzzSnapshots(3, 12) {
		f.Add(s)
	}
	f.Add([]byte("INVSNAP\x01"))
	f.Add([]byte("INVSNAP\x02"))
	f.Add([]byte("INVSNAP\x03"))
	f.Add(fuzzClaimSnapshot())
	f.Fuzz(fuzzRestoreOne)
}

// fuzzClaimSnapshot is a snapshot with every claim section of format 4 filled:
// claims pending, anchored and refused; holds provisional, firm and ended
// by a refused claim; undelivered outbox messages and an inbox mark.
func fuzzClaimSnapshot() []byte {
	cfg := fuzzRestoreConfig()
	cfg.Shards = fuzzRestoreShards
	e := New(cfg)
	t0 := int64(1_700_000_000) * int64(time.Second)
	dl := t0 + int64(5*time.Second)
	var home, far []byte
	for i := 0; home == nil || far == nil; i++ {
		c := fmt.Appendf(nil, "c%d", i)
		if CustomerShard(c, 4) == int(cfg.ShardID) {
			home = c
		} else {
			far = c
		}
	}
	claim := func(key string, qty int64) Command {
		return Command{Op: OpClaim, Customer: home, SKU: []byte("L"), Qty: qty, Limit: 2, ItemShard: 2, Claim: []byte(key), Deadline: dl}
	}
	hold := func(key string) Command {
		return Command{Op: OpReserve, SKU: []byte("L"), Store: []byte("S1"), Customer: far, Qty: 1, Key: []byte("r" + key),
			Claim: []byte(key), Deadline: dl}
	}
	e.Apply(t0, []Command{{Op: OpPutItem, SKU: []byte("L"), Store: []byte("S1"), Stock: 9},
		{Op: OpSetLimit, SKU: []byte("L"), Limit: 3}, claim("pending", 1), claim("anchored", 1), claim("refused", 1), {Op: OpAnchorClaim, Claim: []byte("anchored")},
		{Op: OpReleaseClaim, Claim: []byte("x"), FromShard: 2, Seq: 1},
		hold("provisional"), hold("firm"), hold("ended"), hold("cancelled"),
		{Op: OpResolveClaim, Claim: []byte("firm")}, {Op: OpResolveClaim, Claim: []byte("ended"), ClaimCode: CodeLimitExceeded},
		{Op: OpCancel, ID: MakeID(1, 4)}})
	var b bytes.Buffer
	if err := e.Snapshot(&b); err != nil {
		panic(err)
	}
	if len(e.OutboxPending()) != 1 || len(e.st.claims.byKey) != 3 || len(e.ProvisionalDue(dl, 9)) != 1 || e.InboxMark(2) != 1 {
		panic("the claim seed lost its claims")
	}
	return b.Bytes()
}

// fuzzRestoreShards is the cluster size of the claim seed's configuration:
// a snapshot with an outbox restores only with the shard count it was
// written with, so every input is tried with both.
const fuzzRestoreShards = 4

func fuzzRestoreOne(t *testing.T, data []byte) {
	for _, shards := range []int{0, fuzzRestoreShards} {
		cfg := fuzzRestoreConfig()
		cfg.Shards = shards
		fuzzRestoreWith(t, cfg, data)
	}
}

func fuzzRestoreWith(t *testing.T, cfg Config, data []byte) {
	e, err := Restore(cfg, bytes.NewReader(data))
	if err != nil {
		return
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatalf("restored engine breaks an invariant: %v", err)
	}
	snap := refSnap(t, e)
	e2, err := Restore(cfg, bytes.NewReader(snap))
	if err != nil {
		t.Fatalf("re-restore of the engine's own snapshot: %v", err)
	}
	if !bytes.Equal(refSnap(t, e2), snap) {
		t.Fatalf("Snapshot(Restore(Snapshot(x))) differs from Snapshot(x)")
	}
	fuzzExercise(t, e)
}

// fuzzExercise reads everything of a restored engine and runs commands on it.
func fuzzExercise(t *testing.T, e *Engine) {
	items := e.Read(&Command{Op: OpListItems})
	var cmds []Command
	for _, it := range items.Items {
		sku, store := []byte(it.SKU), []byte(it.Store)
		e.Read(&Command{Op: OpGetItem, SKU: sku, Store: store})
		e.Read(&Command{Op: OpStoresWithStock, SKU: sku})
		for _, w := range it.Windows {
			e.Read(&Command{Op: OpGetWindow, SKU: sku, Store: store, Window: w.Start})
		}
		cmds = append(cmds, Command{Op: OpReserve, SKU: sku, Store: store, Customer: []byte("fz"), Qty: 1})
		if len(it.Windows) > 0 {
			cmds = append(cmds, Command{Op: OpReserve, SKU: sku, Store: store, Customer: []byte("fz"), Qty: 1, Window: it.Windows[0].Start})
		}
		e.Read(&Command{Op: OpGetStore, Store: store})
		cmds = append(cmds, Command{Op: OpAdjustStock, SKU: sku, Store: store, Qty: -1},
			Command{Op: OpPutItem, SKU: sku, Store: store, Stock: it.Stock + 1, MemberTier: 1, MemberUnits: 1, MemberCutoff: math.MaxInt64})
	}
	var ids []uint64
	for _, cu := range fuzzCustomers(e) {
		e.Read(&Command{Op: OpGetCustomer, Customer: []byte(cu)})
		for _, r := range e.Read(&Command{Op: OpListReservations, Customer: []byte(cu)}).Reservations {
			ids = append(ids, r.ID)
			e.Read(&Command{Op: OpGetReservation, ID: r.ID})
		}
		cmds = append(cmds, Command{Op: OpUnblock, Customer: []byte(cu)})
	}
	for _, id := range ids {
		cmds = append(cmds, Command{Op: OpGetReservation, ID: id}, Command{Op: OpUnlock, ID: id},
			Command{Op: OpPickup, ID: id, Store: []byte("S1"), PickupCode: 1},
			Command{Op: OpConfirm, ID: id}, Command{Op: OpReschedule, ID: id, Window: 1},
			Command{Op: OpReturn, ID: id, Restock: true}, Command{Op: OpCancel, ID: id})
	}
	now := e.Now()
	for _, step := range []int64{0, int64(time.Hour), int64(40 * 24 * time.Hour)} {
		if now > math.MaxInt64-step {
			break
		}
		now += step
		e.Apply(now, cmds)
		if err := e.CheckInvariants(); err != nil {
			t.Fatalf("after a batch at +%v: %v", time.Duration(step), err)
		}
	}
}

// fuzzCustomers returns the customer ids of the seed runs a restored engine
// knows (customers cannot be listed), and one of its own.
func fuzzCustomers(e *Engine) []string {
	var out []string
	for _, c := range refCusts {
		if e.Read(&Command{Op: OpGetCustomer, Customer: []byte(c)}).Code == OK {
			out = append(out, c)
		}
	}
	return append(out, "fz")
}

// fuzzSnapshots returns snapshots of random runs (small: the fuzzer
// mutates small inputs best), taken every few batches.
func fuzzSnapshots(runs, batches int) [][]byte {
	var out [][]byte
	for i := 0; i < runs; i++ {
		cfg := fuzzRestoreConfig()
		h := newRefRunConfig(&quietT{}, int64(1000+i), &cfg)
		for b := 0; b < batches; b++ {
			h.step()
			if b%4 == 1 {
				var buf bytes.Buffer
				h.e.Snapshot(&buf)
				out = append(out, buf.Bytes())
			}
		}
	}
	return out
}

// quietT lets the random harness run outside a test (corpus generation);
// any failure there is a bug of the harness's caller.
type quietT struct{ testing.TB }

func (quietT) Helper()                   {}
func (quietT) Name() string              { return "corpus" }
func (quietT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// ---- FuzzApply ----

// fuzzRecLen is the bytes of one encoded command (see fuzzDec).
const fuzzRecLen = 12

var fuzzOps = []Op{OpReserve, OpReserve, OpReserve, OpConfirm, OpConfirm, OpExtend, OpCancel, OpPickup, OpPickup,
	OpReschedule, OpReturn, OpExpire, OpPutItem, OpPutWindow, OpRestock, OpAdjustStock, OpSetSaleWindow, OpSetLimit,
	OpSetMemberShare, OpBlock, OpUnblock, OpSetTier, OpUnlock, OpGetItem, OpGetWindow, OpGetReservation, OpGetCustomer,
	OpListReservations, OpStoresWithStock, OpListItems, 0, 9, 13, 31, 42, 255, OpPutStore, OpPutStoreWindow, OpPutStoreWindow,
	OpGetStore, OpPutCouponIssue, OpTakeCoupon, OpTakeCoupon, OpRedeemCoupon, OpRedeemCoupon, OpGetCoupon, OpGetCouponIssue}

var fuzzZones = []string{"Asia/Taipei", "UTC", "", "Asia/Taipei ", "../x"}

var fuzzDurations = []time.Duration{0, time.Nanosecond, time.Second, time.Minute, 5 * time.Minute, 30*time.Minute + 1,
	time.Hour, 7 * 24 * time.Hour, -1, math.MaxInt64, math.MinInt64}

var fuzzInts = []int64{0, 1, -1, MaxQty, MaxQty + 1, MaxStock, MaxStock + 1, -MaxStock, -MaxStock - 1,
	math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MaxInt64, math.MinInt64}

// fuzzIDOf maps a byte to a SKU, store or customer id, malformed ones included.
func fuzzIDOf(b byte, names []string) []byte {
	switch {
	case b < 200:
		return []byte(names[int(b)%len(names)])
	case b < 210:
		return nil
	case b < 220:
		return bytes.Repeat([]byte{b}, MaxIDBytes)
	case b < 230:
		return bytes.Repeat([]byte{b}, MaxIDBytes+1)
	}
	return []byte{0, b}
}

// fuzzDec decodes batches: a header (time step, command count) then
// fuzzRecLen bytes a command. Fields are drawn from small tables so that
// commands meet: ids name issued reservations, codes are right or wrong,
// windows sit on a grid near now; one flag bit switches to extreme values.
type fuzzDec struct {
	b      []byte
	ids    []uint64
	codes  map[uint64]uint64
	now    int64
	secret []byte
	shards int // > 1: the cross-shard ops and fields are drawn too (fuzzClaim)
}

// fuzzClaimOps are the ops of rules that span shards; a command whose flag
// bit 3 is set in a cluster configuration becomes one of them (a reserve
// carrying a claim, a delivered release_claim message among them).
var fuzzClaimOps = []Op{OpClaim, OpReleaseClaim, OpAnchorClaim, OpResolveClaim, OpDelivered, OpGetClaim, OpGetClaimHold,
	OpReserve, OpReleaseClaim, OpConfirm, OpCancel}

// fuzzClaim draws a command's cross-shard fields: few claim keys (so that
// claims, holds, resolves and releases meet), deadlines around now, every
// answer a home gives and one it never gives, message numbers near the marks.
func (d *fuzzDec) fuzzClaim(c *Command, r []byte) {
	c.Op = fuzzClaimOps[int(r[0])%len(fuzzClaimOps)]
	c.Claim = []byte{'K', '0' + r[5]%6}
	if r[5] >= 250 {
		c.Claim = nil
	}
	c.Deadline = d.now + []int64{-1, 0, 1, int64(time.Second), int64(3 * time.Second), int64(time.Minute) + 1}[int(r[10])%6]
	c.ItemShard = uint16(r[9] % 4)
	c.ClaimCode = []Code{OK, OK, CodeLimitExceeded, CodeBlocked, CodeExpired, CodeSoldOut}[int(r[11])%6]
	c.FromShard, c.ToShard = uint16(r[3]%4), uint16(r[4]%4)
	if c.Op == OpDelivered || int(r[0])%len(fuzzClaimOps) == 8 {
		c.Seq = uint64(r[6] % 5)
	}
	if c.Op == OpConfirm || c.Op == OpCancel {
		c.Claim, c.Deadline = nil, 0 // on a claimed hold: claim_required, release
	}
}

func (d *fuzzDec) next() (now int64, cmds []Command, ok bool) {
	if len(d.b) < 2 {
		return 0, nil, false
	}
	dt, n := d.b[0], 1+int(d.b[1]%20)
	d.b = d.b[2:]
	switch {
	case dt == 255:
		d.now = math.MaxInt64 - int64(time.Hour)
	case dt == 254:
		d.now = 0
	case dt >= 240:
		d.now -= int64(dt-239) * int64(time.Hour) // backwards
	case dt >= 200:
		d.now += int64(dt-199) * int64(24*time.Hour)
	default:
		d.now += int64(dt) * int64(dt) * int64(time.Second) / 4
	}
	for i := 0; i < n && len(d.b) >= fuzzRecLen; i++ {
		cmds = append(cmds, d.command(d.b[:fuzzRecLen]))
		d.b = d.b[fuzzRecLen:]
	}
	return d.now, cmds, len(cmds) > 0
}

func (d *fuzzDec) command(r []byte) Command {
	op, flags := fuzzOps[int(r[0])%len(fuzzOps)], r[1]
	extreme := flags&0x80 != 0
	c := Command{Op: op, Linked: flags&1 != 0, Restock: flags&4 != 0,
		SKU: fuzzIDOf(r[2], refSKUs), Store: fuzzIDOf(r[3], refStores), Customer: fuzzIDOf(r[4], refCusts)}
	if flags&2 != 0 {
		c.Key = []byte{'k', r[5] % 16} // few keys: replays and conflicts
		if r[5] >= 250 {
			c.Key = bytes.Repeat([]byte{'k'}, MaxKeyBytes+int(r[5]-250))
		}
	}
	switch {
	case r[6] < 4:
		c.ID = []uint64{0, 1, math.MaxUint64, MakeID(1, 1<<47)}[r[6]]
	case len(d.ids) > 0:
		c.ID = d.ids[len(d.ids)-1-int(r[6])%len(d.ids)]
	}
	c.PickupCode = d.codes[c.ID]
	switch flags >> 4 & 7 {
	case 1:
		c.PickupCode = (c.PickupCode + 1) % 1_000_000_000_000
	case 2:
		c.ID = 0 // by code alone
	case 3:
		c.PickupCode = 1_000_000_000_000 + uint64(r[7])
	}
	grid := d.now - d.now%int64(30*time.Minute)
	slot := func(b byte) int64 { return grid + int64(int(b%16)-4)*int64(30*time.Minute) }
	c.Qty = int64(int8(r[7]))
	c.Window = 0
	if r[8]&0x80 != 0 {
		c.Window = slot(r[8])
	}
	c.WindowEnd = c.Window + int64(r[9]>>4)*int64(15*time.Minute)
	c.Quota = int64(r[9] & 15)
	c.TTL = fuzzDurations[int(r[10])%len(fuzzDurations)]
	c.Stock = int64(r[11])
	if op == OpSetLimit || r[11]&0x40 != 0 { // a limit on put_item is refused: now and then one
		c.Limit = int64(r[11] % 5)
	}
	if op == OpSetLimit && flags&8 == 0 {
		c.Store = nil // the SKU's limit names no store
	}
	if op == OpPutStore {
		c.Zone = []byte(fuzzZones[int(r[9])%len(fuzzZones)])
	}
	if op == OpPutCouponIssue {
		c.CouponFlags = CouponFlags(r[9] >> 5) // now and then a flag past the valid two
	}
	c.OpensAt, c.ClosesAt = 0, 0
	if r[10]&0x40 != 0 {
		c.OpensAt = slot(r[10])
	}
	if r[10]&0x80 != 0 {
		c.ClosesAt = slot(r[10] >> 2)
	}
	c.MemberTier, c.MemberUnits, c.MemberCutoff = r[11]%4, int64(r[9]&7), slot(r[8])
	c.Tier = r[11] % 17
	if d.shards > 1 && flags&0x08 != 0 {
		d.fuzzClaim(&c, r)
		return c
	}
	if extreme {
		c.Qty = fuzzInts[int(r[7])%len(fuzzInts)]
		c.Stock = fuzzInts[int(r[11])%len(fuzzInts)]
		c.Limit = fuzzInts[int(r[9])%len(fuzzInts)]
		c.Quota = fuzzInts[int(r[9]>>4)%len(fuzzInts)]
		c.Window = []int64{c.Window, -1, math.MaxInt64, math.MinInt64, 1}[int(r[8])%5]
		c.WindowEnd = []int64{c.WindowEnd, math.MaxInt64, c.Window + 1, 0}[int(r[9])%4]
		c.MemberUnits = fuzzInts[int(r[8])%len(fuzzInts)]
		c.MemberCutoff = []int64{math.MaxInt64, -1, 0, 1}[r[11]%4]
		c.OpensAt = []int64{c.OpensAt, -1, math.MaxInt64}[int(r[10])%3]
		c.ClosesAt = []int64{c.ClosesAt, math.MaxInt64, 1}[int(r[11])%3]
	}
	return c
}

// fuzzConfig picks the configuration from the first byte.
func fuzzConfig(b byte) Config {
	cfg := Config{ShardID: uint16(b & 1), PickupSecret: []byte("fuzz"), MaxPickupAttempts: int(b>>1&3) + 1,
		NoShowLimit: []int{-1, 0, 1, 2}[b>>3&3]}
	if b&0x20 != 0 {
		cfg.DefaultHoldTTL, cfg.MaxHold, cfg.PickupPeriod = time.Minute, 5*time.Minute, time.Hour
		cfg.IdempotencyRetention, cfg.FinishedRetention, cfg.PickupGrace = 10*time.Minute, 20*time.Minute, time.Minute
	}
	if b&0x40 != 0 {
		cfg.RatePerSecond, cfg.RateBurst = 2, int(b>>1&3)
	}
	if b&0x80 != 0 {
		cfg.Shards = 3 // claims, provisional holds and the outbox (the model knows one shard: not compared)
	}
	return cfg
}

func FuzzApply(f *testing.F) {
	for _, s := range fuzzApplySeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		cfg := fuzzConfig(data[0])
		e, m := New(cfg), newRefModel(cfg)
		d := &fuzzDec{b: data[1:], now: 1_700_000_000 * int64(time.Second), codes: map[uint64]uint64{}, secret: cfg.PickupSecret,
			shards: cfg.Shards}
		var copyAt int
		var twin *Engine // restored from a snapshot half-way; must behave the same
		for batch := 0; batch < 24; batch++ {
			now, cmds, ok := d.next()
			if !ok {
				break
			}
			res, ev := e.Apply(now, cmds)
			evN := len(ev)
			for _, r := range res {
				if r.Code == OK && r.ID != 0 {
					d.ids = append(d.ids, r.ID)
					if r.PickupCode != 0 {
						d.codes[r.ID] = r.PickupCode
					}
				}
			}
			want := append([]Result(nil), res...)
			if err := e.CheckInvariants(); err != nil {
				t.Fatalf("batch %d: %v", batch, err)
			}
			for i, r := range m.apply(now, cmds) {
				if cfg.Shards <= 1 && !refEqual(want[i], r) {
					t.Fatalf("batch %d at %d, command %d %s:\n engine %s\n model  %s", batch, now, i, refFmtCmd(&cmds[i]),
						refFmtResult(want[i]), refFmtResult(r))
				}
			}
			if twin != nil {
				tr, tev := twin.Apply(now, cmds)
				if len(tev) != evN {
					t.Fatalf("batch %d: restored engine gave %d events, original %d", batch, len(tev), evN)
				}
				for i := range tr {
					if !refEqual(tr[i], want[i]) {
						t.Fatalf("batch %d command %d: restored engine %s, original %s", batch, i, refFmtResult(tr[i]), refFmtResult(want[i]))
					}
				}
			}
			if batch == 2 {
				copyAt = batch
				var err error
				if twin, err = Restore(cfg, bytes.NewReader(refSnap(t, e))); err != nil {
					t.Fatalf("restore after batch %d: %v", copyAt, err)
				}
			}
		}
		if twin != nil && !bytes.Equal(refSnap(t, twin), refSnap(t, e)) {
			t.Fatalf("engine restored after batch %d ends in another state", copyAt)
		}
	})
}

// fuzzApplySeeds encodes a few command sequences that reach deep states:
// carts, confirms, pickups with right and wrong codes, returns, expiry,
// store windows.
func fuzzApplySeeds() [][]byte {
	rec := func(op Op, flags, sku, store, cust, key, id, qty, win, wq, ttl, stock byte) []byte {
		i := 0
		for fuzzOps[i] != op {
			i++
		}
		return []byte{byte(i), flags, sku, store, cust, key, id, qty, win, wq, ttl, stock}
	}
	batch := func(dt byte, recs ...[]byte) []byte {
		return append([]byte{dt, byte(len(recs) - 1)}, bytes.Join(recs, nil)...)
	}
	// The window of A@S1 and of S1 (slot 3: from half an hour ago, an hour
	// long) is open now, so its orders can be picked up.
	setup := batch(1,
		rec(OpPutItem, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5),
		rec(OpPutItem, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9),
		rec(OpPutWindow, 0, 0, 0, 0, 0, 0, 0, 0x83, 0x43, 0, 0),
		rec(OpPutStoreWindow, 0, 0, 0, 0, 0, 0, 0, 0x83, 0x43, 0, 0),
		rec(OpPutStore, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		rec(OpSetLimit, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2),
		rec(OpSetTier, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1))
	life := batch(4,
		rec(OpReserve, 2, 0, 0, 1, 1, 0, 2, 0x83, 0, 0, 0),
		rec(OpReserve, 1, 0, 0, 2, 0, 0, 1, 0x83, 0, 0, 0),
		rec(OpReserve, 0, 1, 0, 2, 0, 0, 1, 0, 0, 0, 0),
		rec(OpReserve, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0, 0),
		rec(OpConfirm, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0))
	pickup := batch(8,
		rec(OpPickup, 0x10, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0),
		rec(OpPickup, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0),
		rec(OpReturn, 4, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0),
		rec(OpExtend, 0, 0, 0, 0, 0, 5, 0, 0, 0, 3, 0))
	expire := batch(100, rec(OpExpire, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		rec(OpListItems, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	extreme := batch(255, rec(OpReserve, 0x80, 0, 0, 1, 0, 0, 3, 2, 0, 0, 0),
		rec(OpPutWindow, 0x80, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0),
		rec(OpConfirm, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0))
	seeds := [][]byte{
		append([]byte{0x20}, bytes.Join([][]byte{setup, life, pickup, expire}, nil)...),
		append([]byte{0x05}, bytes.Join([][]byte{setup, life, life, pickup, pickup, expire, life}, nil)...),
		append([]byte{0x62}, bytes.Join([][]byte{setup, life, extreme, pickup}, nil)...),
		append([]byte{0xa0}, bytes.Join([][]byte{setup, fuzzClaimSeed(), life, fuzzClaimSeed(), expire}, nil)...),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3; i++ {
		b := make([]byte, 1+2+fuzzRecLen*12)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		seeds = append(seeds, append(append([]byte{0x21}, setup...), b...))
	}
	return seeds
}

// fuzzClaimSeed encodes claims, claimed reserves, resolves, cancels,
// deliveries and trims of a few claim keys (config 0xa0: a cluster).
func fuzzClaimSeed() []byte {
	var recs [][]byte
	for i := byte(0); i < 12; i++ {
		// flags 0x08: cross-shard; op index, key, deadline, answer and message numbers vary.
		recs = append(recs, []byte{i, 0x08, i % 2, i % 3, i % 4, i % 3, i % 5, 1, 0, i, 3 + i%2, i})
	}
	return append([]byte{2, byte(len(recs) - 1)}, bytes.Join(recs, nil)...)
}

// ---- FuzzParseBarcode ----

func FuzzParseBarcode(f *testing.F) {
	for _, s := range []string{PickupBarcode(MakeID(3, 12345), 1), PickupBarcode(math.MaxUint64, 999_999_999_999),
		PickupBarcode(0, 0), "INV", "", "INV0000000000000001000000000001x", "inv00000000000000010000000000010",
		"INV000000000000000a000000000001", "INV00000000000000１00000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, code, err := ParseBarcode(s)
		if err != nil {
			if id != 0 || code != 0 {
				t.Fatalf("%q refused but gave id %x code %d", s, id, code)
			}
			return
		}
		if code >= 1_000_000_000_000 {
			t.Fatalf("%q: code %d has more than %d digits", s, code, PickupCodeDigits)
		}
		if back := PickupBarcode(id, code); back != s {
			t.Fatalf("%q parses to (%x, %d), which prints as %q", s, id, code, back)
		}
	})
}

// ---- corpus files ----

// TestWriteFuzzCorpus writes the generated seeds into testdata/fuzz in the
// format of go test's corpus (run with INV_WRITE_FUZZ_CORPUS=1).
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("INV_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set INV_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(name string, i int, literal string) {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
		if err := os.WriteFile(file, []byte("go test fuzz v1\n"+literal+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snaps := fuzzSnapshots(3, 12)
	// Damaged copies of a real snapshot: truncated, a byte changed, a length made huge.
	if len(snaps) > 0 {
		s := snaps[len(snaps)/2]
		trunc := append([]byte(nil), s[:len(s)/2]...)
		flip := append([]byte(nil), s...)
		flip[len(flip)/3] ^= 0x5a
		huge := append(append([]byte(nil), s[:len(snapMagic)+4]...), binary.AppendUvarint(nil, 1<<40)...)
		huge = append(huge, s[len(snapMagic)+4:]...)
		snaps = append(snaps, trunc, flip, huge)
	}
	snaps = append(snaps, fuzzClaimSnapshot())
	for i, s := range snaps {
		write("FuzzRestore", i, fmt.Sprintf("[]byte(%q)", s))
	}
	for i, s := range fuzzApplySeeds() {
		write("FuzzApply", i, fmt.Sprintf("[]byte(%q)", s))
	}
	for i, s := range []string{PickupBarcode(MakeID(1, 42), 123456789012), "INV0123456789ABCDEF000000000000",
		"INV0123456789abcdef000000000000", strings.Repeat("9", 31)} {
		write("FuzzParseBarcode", i, fmt.Sprintf("string(%q)", s))
	}
}
