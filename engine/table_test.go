// Table tests of the engine: every operation (reads included) and every
// refusal code the engine can produce, with their edges.
//
// What they prove: for each case, starting from the same small shop (the
// fixture below), a short history of commands gets exactly the expected code,
// the expected result fields (id, state, qty, expiry or pickup deadline,
// pickup code), the expected events (kind and fields, in order) and the
// expected reads afterwards; and the whole shard satisfies CheckInvariants
// after every batch. Reads are also served through Engine.Read and must equal
// what Apply gave.
//
// How: each case is one line of steps built with `do.<op>(...)` and refined
// with modifiers (.at("10m"), .is(CodeSoldOut), .res("held id=1 qty=2
// expires=10m"), .item("stock=10 held=2 available=8"), .events(...)). Times are
// offsets from tbT0; ids are per-shard sequence numbers; the pickup code is
// recomputed independently (tbPin), so a confirmed result printing `code=ok`
// proves the documented derivation. TestEngineTableCoverage checks that the
// table names every Op and every domain refusal code, so a new op or code
// cannot go untested.
package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ---- shared helpers (also used by scenario_test.go) ----

// tbT0 is the log time every test starts from: 2025-03-01T00:00:00Z.
var tbT0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()

const tbShard = 3

var tbSecret = []byte("test-pickup-secret")

// tbPin recomputes the pickup code of the reservation with sequence number
// seq as the engine documents it: HMAC-SHA256("inv-pick" || id) under the
// secret, first 8 bytes big-endian, modulo 10^12.
func tbPin(seq uint64) uint64 { return tbPinOf(tbSecret, MakeID(tbShard, seq)) }

func tbPinOf(secret []byte, id uint64) uint64 {
	var b [16]byte
	copy(b[:8], "inv-pick")
	binary.BigEndian.PutUint64(b[8:], id)
	m := hmac.New(sha256.New, secret)
	m.Write(b[:])
	return binary.BigEndian.Uint64(m.Sum(nil)[:8]) % 1_000_000_000_000
}

// tbDur parses a duration with an optional day unit: "10m", "1d2h", "7d", "0".
func tbDur(s string) time.Duration {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var d time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			panic("bad duration " + s)
		}
		d, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	if s != "" && s != "0" {
		x, err := time.ParseDuration(s)
		if err != nil {
			panic("bad duration " + s)
		}
		d += x
	}
	if neg {
		d = -d
	}
	return d
}

// tbFmtDur is the inverse of tbDur: "1d2h", "10m", "9m59s", "0s".
func tbFmtDur(d time.Duration) string {
	if d < 0 {
		return "-" + tbFmtDur(-d)
	}
	var b strings.Builder
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.d
		}
	}
	if d > 0 {
		b.WriteString(d.String())
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// tbAt formats an absolute log time as an offset from tbT0.
func tbAt(t int64) string { return tbFmtDur(time.Duration(t - tbT0)) }

// tbAbs turns an offset into an absolute time; "none" is 0 (unbounded).
func tbAbs(off string) int64 {
	if off == "none" {
		return 0
	}
	return tbT0 + int64(tbDur(off))
}

// tbFmtResult renders a command's result the way the scenario files print it.
func tbFmtResult(r Result) string {
	if r.Code != OK {
		return "refused " + r.Code.String()
	}
	if r.State == 0 {
		return "ok"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s id=%d qty=%d", r.State, SeqOfID(r.ID), r.Qty)
	if r.Window != 0 {
		fmt.Fprintf(&b, " window=%s", tbAt(r.Window))
	}
	switch r.State {
	case StateHeld:
		fmt.Fprintf(&b, " expires=%s", tbAt(r.ExpiresAt))
	case StateConfirmed:
		fmt.Fprintf(&b, " pickup-by=%s", tbAt(r.ExpiresAt))
	}
	if r.PickupCode != 0 {
		b.WriteString(" " + tbFmtCode(r.ID, r.PickupCode))
	}
	return b.String()
}

func tbFmtCode(id, code uint64) string {
	if ShardOfID(id) == tbShard && code == tbPin(SeqOfID(id)) {
		return "code=ok"
	}
	return fmt.Sprintf("code=%012d", code)
}

func tbFmtItem(it ItemInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stock=%d", it.Stock)
	for _, f := range []struct {
		name string
		v    int64
	}{{"held", it.Held}, {"confirmed", it.Confirmed}, {"picked-up", it.PickedUp}} {
		if f.v != 0 {
			fmt.Fprintf(&b, " %s=%d", f.name, f.v)
		}
	}
	fmt.Fprintf(&b, " available=%d", it.Available)
	if it.Limit != 0 {
		fmt.Fprintf(&b, " limit=%d", it.Limit)
	}
	if it.OpensAt != 0 || it.ClosesAt != 0 {
		fmt.Fprintf(&b, " sale=%s..%s", tbTimeOrNone(it.OpensAt), tbTimeOrNone(it.ClosesAt))
	}
	if it.MemberUnits != 0 || it.MemberUsed != 0 {
		fmt.Fprintf(&b, " member-share=%d/%d", it.MemberUsed, it.MemberUnits)
		if it.MemberUnits != 0 {
			fmt.Fprintf(&b, " tier>=%d until=%s", it.MemberTier, tbAt(it.MemberCutoff))
		}
	}
	for _, w := range it.Windows {
		b.WriteString(" window[" + tbFmtWindow(w) + "]")
	}
	return b.String()
}

func tbTimeOrNone(t int64) string {
	if t == 0 {
		return "none"
	}
	return tbAt(t)
}

func tbFmtWindow(w WindowInfo) string {
	return fmt.Sprintf("%s..%s quota=%d used=%d", tbAt(w.Start), tbAt(w.End), w.Quota, w.Used)
}

func tbFmtCustomer(c CustomerInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s tier=%d", c.ID, c.Tier)
	if c.Blocked {
		b.WriteString(" blocked")
	}
	if c.AutoBlocked {
		b.WriteString(" auto-blocked")
	}
	fmt.Fprintf(&b, " no-shows=%d open=%d", c.NoShows, c.Open)
	return b.String()
}

func tbFmtReservation(r ReservationInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id=%d %s/%s %s qty=%d %s", SeqOfID(r.ID), r.SKU, r.Store, r.Customer, r.Qty, r.State)
	if r.Window != 0 {
		fmt.Fprintf(&b, " window=%s", tbAt(r.Window))
	}
	switch r.State {
	case StateHeld:
		fmt.Fprintf(&b, " expires=%s", tbAt(r.ExpiresAt))
	case StateConfirmed:
		fmt.Fprintf(&b, " pickup-by=%s", tbAt(r.ExpiresAt))
	}
	if r.PickupCode != 0 {
		b.WriteString(" " + tbFmtCode(r.ID, r.PickupCode))
	}
	if r.Attempts != 0 {
		fmt.Fprintf(&b, " attempts=%d", r.Attempts)
	}
	if r.Locked {
		b.WriteString(" locked")
	}
	return b.String()
}

// tbFmtEvent renders an event with its non-zero fields.
func tbFmtEvent(ev Event) string {
	var b strings.Builder
	b.WriteString(ev.Kind.String())
	if n := SeqOfID(ev.ID); n&couponIDBit != 0 {
		fmt.Fprintf(&b, " serial=%d", n&^couponIDBit) // a coupon serial (coupons.go)
	} else if ev.ID != 0 {
		fmt.Fprintf(&b, " id=%d", n)
	}
	if ev.SKU != "" || ev.Store != "" {
		fmt.Fprintf(&b, " %s/%s", ev.SKU, ev.Store)
	}
	if ev.Zone != "" {
		fmt.Fprintf(&b, " zone=%s", ev.Zone)
	}
	if ev.Customer != "" {
		b.WriteString(" " + ev.Customer)
	}
	if ev.Qty != 0 {
		fmt.Fprintf(&b, " qty=%d", ev.Qty)
	}
	if ev.Window != 0 {
		fmt.Fprintf(&b, " window=%s", tbAt(ev.Window))
	}
	if ev.State != 0 {
		b.WriteString(" " + ev.State.String())
	}
	if ev.PickupCode != 0 {
		b.WriteString(" " + tbFmtCode(ev.ID, ev.PickupCode))
	}
	if ev.Kind == EvItemPut || ev.Kind == EvStockChanged || ev.Kind == EvReturned {
		fmt.Fprintf(&b, " stock=%d", ev.Stock)
	}
	if ev.Actor != "" {
		b.WriteString(" by=" + ev.Actor)
	}
	if ev.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", ev.Reason)
	}
	if ev.Kind == EvCustomer {
		fmt.Fprintf(&b, " tier=%d", ev.Tier)
		if ev.Blocked {
			b.WriteString(" blocked")
		}
	}
	return b.String()
}

func tbFmtStores(ss []StoreStock) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmt.Sprintf("%s=%d", s.Store, s.Available)
	}
	return strings.Join(parts, " ")
}

// ---- the fixture ----

// Window offsets of item W@S1 in the fixture.
var tbWindows = [...][2]string{{"1h", "2h"}, {"1d", "1d2h"}, {"2d", "2d2h"}}

// tbFixture is the shop every case starts from (applied at tbT0):
//
//	A@S1 stock 10, A@S2 stock 5       plain SKU in two stores
//	L@S1, L@S2 stock 10; SKU L limit 2  per-customer limit across stores
//	W@S1 stock 10, windows w0 [1h,2h) quota 5, w1 [1d,1d2h) quota 2, w2 [2d,2d2h) quota 3
//	M@S1 stock 4, member share: 2 units for tier >= 1 until 1h
//	F@S1 stock 5, sale window [1h, 2h)
//	Z@S1 stock 1
//	customers: vip (tier 1), gold (tier 2), bad (blocked)
//
// It makes no reservation, so the first reservation of a case has id 1.
func tbFixture() []Command {
	cmds := []Command{
		do.putItem("A", "S1", 10, 0).cmd,
		do.putItem("A", "S2", 5, 0).cmd,
		do.putItem("L", "S1", 10, 0).cmd,
		do.putItem("L", "S2", 10, 0).cmd,
		do.setLimit("L", 2).cmd,
		do.putItem("W", "S1", 10, 0).cmd,
	}
	for _, w := range tbWindows {
		cmds = append(cmds, do.putWindow("W", "S1", w[0], w[1], 0).cmd)
	}
	cmds[6].Quota, cmds[7].Quota, cmds[8].Quota = 5, 2, 3
	return append(cmds,
		do.putItem("M", "S1", 4, 0).share(1, 2, "1h").cmd,
		do.putItem("F", "S1", 5, 0).sale("1h", "2h").cmd,
		do.putItem("Z", "S1", 1, 0).cmd,
		do.tier("vip", 1).cmd,
		do.tier("gold", 2).cmd,
		do.block("bad").cmd,
	)
}

// ---- steps and their builders ----

// tbStep is one command of a case, with what it must give.
type tbStep struct {
	atOff    string // offset from tbT0; "" = the previous step's time
	newBatch bool   // start a new batch even after a linked command
	same     bool   // join the previous step's batch
	cmd      Command
	code     Code
	checks   []func(e *Engine, r Result) string // each returns "" or what is wrong
	wantEv   []string                           // nil: not checked
}

type tbOps struct{}

// do builds steps: do.reserve("A", "S1", "c1", 2).at("5m").is(CodeSoldOut).
var do tbOps

func id(seq uint64) uint64 { return MakeID(tbShard, seq) }

func (tbOps) cmd(c Command) tbStep { return tbStep{cmd: c} }
func (o tbOps) reserve(sku, store, cust string, qty int64) tbStep {
	return o.cmd(Command{Op: OpReserve, SKU: []byte(sku), Store: []byte(store), Customer: []byte(cust), Qty: qty})
}
func (o tbOps) confirm(seq uint64, qty int64) tbStep {
	return o.cmd(Command{Op: OpConfirm, ID: id(seq), Qty: qty})
}
func (o tbOps) extend(seq uint64, ttl string) tbStep {
	return o.cmd(Command{Op: OpExtend, ID: id(seq), TTL: tbDur(ttl)})
}
func (o tbOps) cancel(seq uint64) tbStep { return o.cmd(Command{Op: OpCancel, ID: id(seq)}) }
func (o tbOps) pickup(seq uint64, store string, code uint64) tbStep {
	return o.cmd(Command{Op: OpPickup, ID: id(seq), Store: []byte(store), PickupCode: code})
}
func (o tbOps) pickupByCode(store string, code uint64) tbStep {
	return o.cmd(Command{Op: OpPickup, Store: []byte(store), PickupCode: code})
}
func (o tbOps) reschedule(seq uint64, win int) tbStep {
	return o.cmd(Command{Op: OpReschedule, ID: id(seq), Window: tbAbs(tbWindows[win][0])})
}
func (o tbOps) ret(seq uint64, restock bool) tbStep {
	return o.cmd(Command{Op: OpReturn, ID: id(seq), Restock: restock})
}
func (o tbOps) expire() tbStep { return o.cmd(Command{Op: OpExpire}) }
func (o tbOps) putItem(sku, store string, stock, limit int64) tbStep {
	return o.cmd(Command{Op: OpPutItem, SKU: []byte(sku), Store: []byte(store), Stock: stock, Limit: limit})
}
func (o tbOps) update(sku, store string, set ItemSet) tbStep {
	return o.cmd(Command{Op: OpUpdateItem, SKU: []byte(sku), Store: []byte(store), Set: set})
}
func (o tbOps) putWindow(sku, store, start, end string, quota int64) tbStep {
	return o.cmd(Command{Op: OpPutWindow, SKU: []byte(sku), Store: []byte(store), Window: tbAbs(start), WindowEnd: tbAbs(end), Quota: quota})
}
func (o tbOps) restock(sku, store string, qty int64) tbStep {
	return o.cmd(Command{Op: OpRestock, SKU: []byte(sku), Store: []byte(store), Qty: qty})
}
func (o tbOps) adjust(sku, store string, delta int64) tbStep {
	return o.cmd(Command{Op: OpAdjustStock, SKU: []byte(sku), Store: []byte(store), Qty: delta})
}
func (o tbOps) saleWindow(sku, store, opens, closes string) tbStep {
	return o.cmd(Command{Op: OpSetSaleWindow, SKU: []byte(sku), Store: []byte(store), OpensAt: tbAbs(opens), ClosesAt: tbAbs(closes)})
}
func (o tbOps) setLimit(sku string, limit int64) tbStep {
	return o.cmd(Command{Op: OpSetLimit, SKU: []byte(sku), Limit: limit})
}
func (o tbOps) memberShare(sku, store string, tier uint8, units int64, cutoff string) tbStep {
	return o.cmd(Command{Op: OpSetMemberShare, SKU: []byte(sku), Store: []byte(store)}).share(tier, units, cutoff)
}
func (o tbOps) block(cust string) tbStep { return o.cmd(Command{Op: OpBlock, Customer: []byte(cust)}) }
func (o tbOps) unblock(cust string) tbStep {
	return o.cmd(Command{Op: OpUnblock, Customer: []byte(cust)})
}
func (o tbOps) tier(cust string, tier uint8) tbStep {
	return o.cmd(Command{Op: OpSetTier, Customer: []byte(cust), Tier: tier})
}
func (o tbOps) unlock(seq uint64) tbStep { return o.cmd(Command{Op: OpUnlock, ID: id(seq)}) }
func (o tbOps) getItem(sku, store string) tbStep {
	return o.cmd(Command{Op: OpGetItem, SKU: []byte(sku), Store: []byte(store)})
}
func (o tbOps) getWindow(sku, store string, win int) tbStep {
	return o.cmd(Command{Op: OpGetWindow, SKU: []byte(sku), Store: []byte(store), Window: tbAbs(tbWindows[win][0])})
}
func (o tbOps) getRes(seq uint64) tbStep { return o.cmd(Command{Op: OpGetReservation, ID: id(seq)}) }
func (o tbOps) getCust(cust string) tbStep {
	return o.cmd(Command{Op: OpGetCustomer, Customer: []byte(cust)})
}
func (o tbOps) listRes(cust string) tbStep {
	return o.cmd(Command{Op: OpListReservations, Customer: []byte(cust)})
}
func (o tbOps) stores(sku string) tbStep {
	return o.cmd(Command{Op: OpStoresWithStock, SKU: []byte(sku)})
}
func (o tbOps) listItems(sku string) tbStep {
	return o.cmd(Command{Op: OpListItems, SKU: []byte(sku)})
}

// Modifiers. Each returns a changed copy (checks are copied, never shared).

func (s tbStep) at(off string) tbStep { s.atOff = off; return s }
func (s tbStep) is(c Code) tbStep     { s.code = c; return s }
func (s tbStep) key(k string) tbStep  { s.cmd.Key = []byte(k); return s }
func (s tbStep) ttl(d string) tbStep  { s.cmd.TTL = tbDur(d); return s }
func (s tbStep) rawTTL(d time.Duration) tbStep {
	s.cmd.TTL = d
	return s
}
func (s tbStep) win(n int) tbStep        { s.cmd.Window = tbAbs(tbWindows[n][0]); return s }
func (s tbStep) window(abs int64) tbStep { s.cmd.Window = abs; return s }
func (s tbStep) rawID(v uint64) tbStep   { s.cmd.ID = v; return s }
func (s tbStep) linked() tbStep          { s.cmd.Linked = true; return s }
func (s tbStep) withSame() tbStep        { s.same = true; return s }
func (s tbStep) batch() tbStep           { s.newBatch = true; return s }
func (s tbStep) sale(opens, closes string) tbStep {
	s.cmd.OpensAt, s.cmd.ClosesAt = tbAbs(opens), tbAbs(closes)
	return s
}
func (s tbStep) share(tier uint8, units int64, cutoff string) tbStep {
	s.cmd.MemberTier, s.cmd.MemberUnits, s.cmd.MemberCutoff = tier, units, tbAbs(cutoff)
	return s
}
func (s tbStep) stock(n int64) tbStep { s.cmd.Stock = n; return s }
func (s tbStep) by(actor, reason string) tbStep {
	s.cmd.Actor, s.cmd.Reason = []byte(actor), []byte(reason)
	return s
}
func (s tbStep) events(evs ...string) tbStep {
	s.wantEv = append([]string{}, evs...)
	return s
}
func (s tbStep) chk(f func(e *Engine, r Result) string) tbStep {
	s.checks = append(s.checks[:len(s.checks):len(s.checks)], f)
	return s
}

func tbDiff(what, got, want string) string {
	if got == want {
		return ""
	}
	return fmt.Sprintf("%s:\n  got  %s\n  want %s", what, got, want)
}

// res checks the result as the scenario files print it ("held id=1 qty=2 expires=10m").
func (s tbStep) res(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string { return tbDiff("result", tbFmtResult(r), want) })
}

// item checks the item in the result (get_item, put_item, restock, ...).
func (s tbStep) item(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Item == nil {
			return "no item in the result"
		}
		return tbDiff("item", tbFmtItem(*r.Item), want)
	})
}

// wnd checks the window in the result (get_window, put_window): "1d..1d2h quota=2 used=0".
func (s tbStep) wnd(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.WindowInfo == nil {
			return "no window in the result"
		}
		return tbDiff("window", tbFmtWindow(*r.WindowInfo), want)
	})
}

func (s tbStep) cust(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Customer == nil {
			return "no customer in the result"
		}
		return tbDiff("customer", tbFmtCustomer(*r.Customer), want)
	})
}

// resv checks the reservation read (get_reservation).
func (s tbStep) resv(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Reservation == nil {
			return "no reservation in the result"
		}
		return tbDiff("reservation", tbFmtReservation(*r.Reservation), want)
	})
}

// list checks list_reservations: the reservations joined by "; ".
func (s tbStep) list(want ...string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Reservations == nil {
			return "no reservation list in the result"
		}
		got := make([]string, len(r.Reservations))
		for i, x := range r.Reservations {
			got[i] = tbFmtReservation(x)
		}
		return tbDiff("reservations", strings.Join(got, "; "), strings.Join(want, "; "))
	})
}

// storesAre checks stores_with_stock: "S1=10 S2=5".
func (s tbStep) storesAre(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Stores == nil {
			return "no store list in the result"
		}
		return tbDiff("stores", tbFmtStores(r.Stores), want)
	})
}

// itemsAre checks list_items: "A/S1 A/S2 ...".
func (s tbStep) itemsAre(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Items == nil {
			return "no item list in the result"
		}
		got := make([]string, len(r.Items))
		for i, it := range r.Items {
			got[i] = it.SKU + "/" + it.Store
		}
		return tbDiff("items", strings.Join(got, " "), want)
	})
}

// due checks Engine.NextDue after the step's batch ("none" = nothing pending).
func (s tbStep) due(want string) tbStep {
	return s.chk(func(e *Engine, _ Result) string {
		return tbDiff("next due", tbTimeOrNone(e.NextDue()), want)
	})
}

// ---- cases and the runner ----

type tbCase struct {
	name  string
	cfg   func(*Config)
	steps []tbStep
}

func tc(name string, steps ...tbStep) tbCase { return tbCase{name: name, steps: steps} }
func tcc(name string, cfg func(*Config), steps ...tbStep) tbCase {
	return tbCase{name: name, cfg: cfg, steps: steps}
}

// tbCat joins step lists (for generated histories).
func tbCat(parts ...[]tbStep) []tbStep {
	var out []tbStep
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func tbNewEngine(t *testing.T, cfgf func(*Config)) *Engine {
	t.Helper()
	cfg := Config{ShardID: tbShard, PickupSecret: tbSecret}
	if cfgf != nil {
		cfgf(&cfg)
	}
	e := New(cfg)
	fx := tbHomed(e, &cfg, tbFixture())
	res, _ := e.Apply(tbT0, fx)
	for i, r := range res {
		if r.Code != OK {
			t.Fatalf("fixture command %d (%v): %v", i, fx[i].Op, r.Code)
		}
	}
	return e
}

// tbHomed takes out of the fixture, for a shard of a cluster, the
// customer ops of customers whose home is another shard, and gives this
// shard their copies directly (as the home's customer_copy messages would,
// customers.go), so that the cases' inbox marks start at 0.
func tbHomed(e *Engine, cfg *Config, fx []Command) []Command {
	if cfg.Shards <= 1 {
		return fx
	}
	out := fx[:0:0]
	for _, c := range fx {
		if (c.Op != OpSetTier && c.Op != OpBlock) || CustomerShard(c.Customer, cfg.Shards) == int(cfg.ShardID) {
			out = append(out, c)
			continue
		}
		_, cu := e.st.customer(c.Customer)
		if c.Op == OpBlock {
			cu.blocked = true
		} else {
			cu.tier = c.Tier
		}
	}
	return out
}

// batches groups steps: a step joins the previous batch when that one ends
// in a linked command (the chain continues) or when marked withSame.
func tbBatches(steps []tbStep) [][]tbStep {
	var out [][]tbStep
	for i, s := range steps {
		join := i > 0 && !s.newBatch && (steps[i-1].cmd.Linked || s.same)
		if join {
			out[len(out)-1] = append(out[len(out)-1], s)
		} else {
			out = append(out, []tbStep{s})
		}
	}
	return out
}

func runTableCase(t *testing.T, c tbCase) {
	e := tbNewEngine(t, c.cfg)
	at := int64(tbT0)
	clock := at // the engine's clock: never goes backwards
	for bi, b := range tbBatches(c.steps) {
		if b[0].atOff != "" {
			at = tbAbs(b[0].atOff)
		}
		clock = max(clock, at)
		cmds := make([]Command, len(b))
		for i := range b {
			cmds[i] = b[i].cmd
		}
		res0, ev0 := e.Apply(at, cmds)
		res := append([]Result(nil), res0...)
		evs := append([]Event(nil), ev0...)
		if len(res) != len(cmds) {
			t.Fatalf("batch %d: %d results for %d commands", bi, len(res), len(cmds))
		}
		var evText []string
		for _, ev := range evs {
			evText = append(evText, tbFmtEvent(ev))
			if ev.At != clock {
				t.Errorf("batch %d: event %s at %s, want the batch's time %s", bi, tbFmtEvent(ev), tbAt(ev.At), tbAt(clock))
			}
		}
		for i, s := range b {
			r := res[i]
			where := fmt.Sprintf("batch %d cmd %d (%v)", bi, i, s.cmd.Op)
			if r.Code != s.code {
				t.Errorf("%s: code %v, want %v (result %s)", where, r.Code, s.code, tbFmtResult(r))
			}
			for _, f := range s.checks {
				if msg := f(e, r); msg != "" {
					t.Errorf("%s: %s", where, msg)
				}
			}
			inChain := s.cmd.Linked || (i > 0 && b[i-1].cmd.Linked)
			if s.cmd.Op.ReadOnly() && s.cmd.Op.Valid() && !inChain {
				if got := e.Read(&s.cmd); !reflect.DeepEqual(got, r) {
					t.Errorf("%s: Read gives %+v, Apply gave %+v", where, got, r)
				}
			}
			if s.wantEv != nil {
				if d := tbDiff("events", strings.Join(evText, " | "), strings.Join(s.wantEv, " | ")); d != "" {
					t.Errorf("%s: %s", where, d)
				}
			}
		}
		if err := e.CheckInvariants(); err != nil {
			t.Fatalf("batch %d: invariants: %v", bi, err)
		}
		if e.Now() != clock {
			t.Fatalf("batch %d: engine time %s, want %s", bi, tbAt(e.Now()), tbAt(clock))
		}
	}
}

func TestEngineTable(t *testing.T) {
	for _, c := range tbTable() {
		t.Run(c.name, func(t *testing.T) { runTableCase(t, c) })
	}
}

// TestEngineTableCoverage: the table names every op and every refusal code
// the engine can produce (server/protocol codes >= 64 are not the engine's).
func TestEngineTableCoverage(t *testing.T) {
	ops := map[Op]bool{}
	codes := map[Code]bool{}
	for _, c := range tbTable() {
		for _, s := range c.steps {
			ops[s.cmd.Op] = true
			codes[s.code] = true
		}
	}
	for o := Op(0); o < 255; o++ {
		if o.Valid() && !ops[o] {
			t.Errorf("op %v has no table case", o)
		}
	}
	for _, c := range Codes() {
		if c < 64 && !codes[c] {
			t.Errorf("code %v has no table case", c)
		}
	}
	if n := len(tbTable()); n < 150 {
		t.Errorf("only %d cases", n)
	}
}

// TestEngineReadRefusesMutations: Engine.Read serves reads only.
func TestEngineReadRefusesMutations(t *testing.T) {
	e := tbNewEngine(t, nil)
	for o := Op(0); o < 64; o++ {
		if o.ReadOnly() {
			continue
		}
		c := Command{Op: o, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c1"), Qty: 1}
		if r := e.Read(&c); r.Code != CodeBadRequest {
			t.Errorf("Read(%v) = %v, want bad_request", o, r.Code)
		}
	}
	if r := e.Read(&Command{Op: OpGetItem, SKU: []byte("A"), Store: []byte("S1")}); r.Code != OK || r.Item.Available != 10 {
		t.Errorf("Read(get_item) = %+v", r)
	}
}

// TestPickupBarcode: the barcode form names the reservation and its code and parses back.
func TestPickupBarcode(t *testing.T) {
	idv, code := MakeID(tbShard, 77), uint64(42)
	bc := PickupBarcode(idv, code)
	if bc != "INV000300000000004D000000000042" {
		t.Fatalf("barcode %q", bc)
	}
	gid, gcode, err := ParseBarcode(bc)
	if err != nil || gid != idv || gcode != code {
		t.Fatalf("parse: %x %d %v", gid, gcode, err)
	}
	for _, bad := range []string{"", "INV", "X" + bc[1:], strings.ToLower(bc[:19]) + bc[19:], bc[:len(bc)-1] + "x", bc + "0"} {
		if _, _, err := ParseBarcode(bad); err == nil {
			t.Errorf("ParseBarcode(%q) accepted", bad)
		}
	}
	if FormatPickupCode(42) != "000000000042" {
		t.Errorf("FormatPickupCode(42) = %q", FormatPickupCode(42))
	}
}

// ---- the table ----

var (
	id64  = strings.Repeat("x", 64)
	id65  = strings.Repeat("x", 65)
	key65 = strings.Repeat("k", 65)
)

// tbWindowsUpTo puts n one-hour windows on A@S1 starting at 10d.
func tbWindowsUpTo(n int) []tbStep {
	out := make([]tbStep, n)
	for i := range out {
		start := tbFmtDur(10*24*time.Hour + time.Duration(i)*time.Hour)
		end := tbFmtDur(10*24*time.Hour + time.Duration(i+1)*time.Hour)
		out[i] = do.putWindow("A", "S1", start, end, 1)
	}
	return out
}

// tbCart makes a linked chain of n one-unit reserves of A@S1 (open if open is set).
func tbCart(n int, code Code, open bool) []tbStep {
	out := make([]tbStep, n)
	for i := range out {
		out[i] = do.reserve("A", "S1", fmt.Sprintf("c%d", i), 1).linked().is(code)
	}
	if !open {
		out[n-1].cmd.Linked = false
	}
	return out
}

// tbConfirmed makes cust reserve and confirm n times at "0" (ids first,
// first+1, ...), so that all become no-shows at 7d.
func tbConfirmed(cust string, n int, first uint64) []tbStep {
	var out []tbStep
	for i := 0; i < n; i++ {
		out = append(out, do.reserve("A", "S1", cust, 1), do.confirm(first+uint64(i), 0))
	}
	return out
}

func tbTable() []tbCase {
	var all []tbCase
	for _, part := range [][]tbCase{tbMainTable(), tbClaimTable(), tbStoreTable(), tbRegKeyTable(), tbCustomerTable(),
		tbMarksTable(), tbWaitlistTable(), tbCouponTable(), tbBulkTable(), tbReviewTable()} {
		all = append(all, part...)
	}
	return all
}

func tbMainTable() []tbCase {
	R := do.reserve
	return []tbCase{
		// ---- reserve: success and results ----
		tc("reserve: takes units, default TTL 10m",
			R("A", "S1", "c1", 2).res("held id=1 qty=2 expires=10m").events("reserved id=1 A/S1 c1 qty=2 held").due("10m"),
			do.getItem("A", "S1").item("stock=10 held=2 available=8")),
		tcc("reserve: TTL 0 takes the configured default", func(c *Config) { c.DefaultHoldTTL = 5 * time.Minute },
			R("A", "S1", "c1", 1).at("1m").res("held id=1 qty=1 expires=6m")),
		tc("reserve: explicit TTL", R("A", "S1", "c1", 1).ttl("3m").res("held id=1 qty=1 expires=3m")),
		tc("reserve: TTL equal to MaxHold accepted", R("A", "S1", "c1", 1).ttl("30m").res("held id=1 qty=1 expires=30m")),
		tc("reserve: TTL over MaxHold is a bad request", R("A", "S1", "c1", 1).ttl("30m1ns").is(CodeBadRequest),
			do.getItem("A", "S1").item("stock=10 available=10")),
		tc("reserve: negative TTL is a bad request", R("A", "S1", "c1", 1).rawTTL(-1).is(CodeBadRequest)),
		tc("reserve: qty 0 is a bad request", R("A", "S1", "c1", 0).is(CodeBadRequest).events()),
		tc("reserve: negative qty is a bad request", R("A", "S1", "c1", -1).is(CodeBadRequest)),
		tc("reserve: qty over MaxQty is a bad request", do.putItem("B", "S1", MaxStock, 0),
			R("B", "S1", "c1", MaxQty+1).is(CodeBadRequest), R("B", "S1", "c1", MaxQty).res("held id=1 qty=1048576 expires=10m")),
		tc("reserve: empty SKU is a bad request", R("", "S1", "c1", 1).is(CodeBadRequest)),
		tc("reserve: 65-byte SKU is a bad request", R(id65, "S1", "c1", 1).is(CodeBadRequest)),
		tc("reserve: 65-byte store is a bad request", R("A", id65, "c1", 1).is(CodeBadRequest)),
		tc("reserve: 65-byte customer is a bad request", R("A", "S1", id65, 1).is(CodeBadRequest)),
		tc("reserve: empty customer is a bad request", R("A", "S1", "", 1).is(CodeBadRequest)),
		tc("reserve: 64-byte ids accepted", do.putItem(id64, id64, 3, 0), R(id64, id64, id64, 1).res("held id=1 qty=1 expires=10m")),
		tc("reserve: negative window is a bad request", R("W", "S1", "c1", 1).window(-5).is(CodeBadRequest)),
		tc("reserve: unknown store", R("A", "S9", "c1", 1).is(CodeUnknownItem)),
		tc("reserve: unknown SKU", R("X", "S1", "c1", 1).is(CodeUnknownItem)),
		tc("reserve: bad request before unknown item", R("X", "S1", "c1", 0).is(CodeBadRequest)),
		tc("reserve: unknown item before blocked", R("X", "S1", "bad", 1).is(CodeUnknownItem)),
		tc("reserve: blocked customer refused", R("A", "S1", "bad", 1).is(CodeBlocked).events(),
			do.getItem("A", "S1").item("stock=10 available=10")),
		tc("reserve: blocked before not open", R("F", "S1", "bad", 1).is(CodeBlocked)),
		tc("reserve: rate limiting is off by default",
			R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), R("A", "S1", "c1", 1).res("held id=5 qty=1 expires=10m")),
		tcc("reserve: rate limited past the burst, allowed again after the interval",
			func(c *Config) { c.RatePerSecond, c.RateBurst = 1, 2 },
			R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), R("A", "S1", "c1", 1).is(CodeRateLimited),
			R("A", "S1", "c2", 1).res("held id=3 qty=1 expires=10m"), // per customer
			R("A", "S1", "c1", 1).at("999ms").is(CodeRateLimited), R("A", "S1", "c1", 1).at("1s").res("held id=4 qty=1 expires=10m1s")),
		tcc("reserve: blocked before rate limited", func(c *Config) { c.RatePerSecond, c.RateBurst = 1, 1 },
			R("A", "S1", "bad", 1).is(CodeBlocked), R("A", "S1", "bad", 1).is(CodeBlocked)),
		tcc("reserve: rate limited before not open (refused requests spend tokens)", func(c *Config) { c.RatePerSecond, c.RateBurst = 1, 2 },
			R("F", "S1", "c1", 1).is(CodeNotOpen), R("F", "S1", "c1", 1).is(CodeNotOpen), R("F", "S1", "c1", 1).is(CodeRateLimited)),
		tcc("reserve: default burst is the rate", func(c *Config) { c.RatePerSecond = 3 },
			R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), R("A", "S1", "c1", 1).is(CodeRateLimited)),
		tc("reserve: sale window not open yet", R("F", "S1", "c1", 1).at("59m59s").is(CodeNotOpen)),
		tc("reserve: sale window open at its start", R("F", "S1", "c1", 1).at("1h").res("held id=1 qty=1 expires=1h10m")),
		tc("reserve: sale window closed at its end", R("F", "S1", "c1", 1).at("2h").is(CodeClosed)),
		tc("reserve: not open before unknown window", R("F", "S1", "c1", 1).window(tbAbs("9d")).is(CodeNotOpen)),
		tc("reserve: closed before unknown window", R("F", "S1", "c1", 1).at("3h").window(tbAbs("9d")).is(CodeClosed)),
		tc("reserve: unknown window of an item with windows", R("W", "S1", "c1", 1).window(tbAbs("5d")).is(CodeUnknownWindow)),
		tc("reserve: window on an item without windows", R("A", "S1", "c1", 1).win(1).is(CodeUnknownWindow)),
		tc("reserve: window that has ended is closed", R("W", "S1", "c1", 1).win(0).at("2h").is(CodeClosed)),
		tc("reserve: window that started but has not ended",
			R("W", "S1", "c1", 1).win(0).at("1h59m").res("held id=1 qty=1 window=1h expires=2h9m"),
			do.getWindow("W", "S1", 0).wnd("1h..2h quota=5 used=1")),
		tc("reserve: unknown window before sold out", R("W", "S1", "c1", 11).window(tbAbs("5d")).is(CodeUnknownWindow)),
		tc("reserve: sold out", R("Z", "S1", "c1", 2).is(CodeSoldOut).events()),
		tc("reserve: last unit then sold out", R("Z", "S1", "c1", 1), R("Z", "S1", "c2", 1).is(CodeSoldOut),
			do.getItem("Z", "S1").item("stock=1 held=1 available=0")),
		tc("reserve: sold out before window full", R("W", "S1", "c1", 11).win(1).is(CodeSoldOut)),
		tc("reserve: window full while stock remains", R("W", "S1", "c1", 2).win(1), R("W", "S1", "c2", 1).win(1).is(CodeWindowFull),
			R("W", "S1", "c2", 3).win(2).res("held id=2 qty=3 window=2d expires=10m"),
			do.getItem("W", "S1").item("stock=10 held=5 available=5 window[1h..2h quota=5 used=0] window[1d..1d2h quota=2 used=2] window[2d..2d2h quota=3 used=3]")),
		tc("reserve: window full before limit exceeded", do.putWindow("L", "S1", "1d", "1d1h", 1), R("L", "S1", "c1", 3).win(1).is(CodeWindowFull)),
		tc("reserve: limit exceeded in one request", R("L", "S1", "c1", 3).is(CodeLimitExceeded)),
		tc("reserve: limit exceeded over two requests", R("L", "S1", "c1", 2), R("L", "S1", "c1", 1).is(CodeLimitExceeded),
			R("L", "S1", "c2", 2).res("held id=2 qty=2 expires=10m")),
		tc("reserve: limit counts every store of the SKU in the shard", R("L", "S1", "c1", 1), R("L", "S2", "c1", 1),
			R("L", "S2", "c1", 1).is(CodeLimitExceeded), R("L", "S1", "c1", 1).is(CodeLimitExceeded)),
		tc("reserve: limit is freed by cancel", R("L", "S1", "c1", 2), do.cancel(1), R("L", "S2", "c1", 2).res("held id=2 qty=2 expires=10m")),
		tc("reserve: limit is freed by expiry", R("L", "S1", "c1", 2), R("L", "S1", "c1", 2).at("10m").res("held id=2 qty=2 expires=20m")),
		tc("reserve: many in one batch", R("A", "S1", "c1", 4), R("A", "S1", "c2", 4).withSame(), R("A", "S1", "c3", 4).withSame().is(CodeSoldOut),
			R("A", "S1", "c3", 2).withSame().res("held id=3 qty=2 expires=10m")),

		// ---- member share ----
		tc("member share: non-member refused while members can take",
			R("M", "S1", "c1", 3).is(CodeSoldOut), R("M", "S1", "c1", 2), R("M", "S1", "c2", 1).is(CodeSoldOut),
			R("M", "S1", "vip", 2).res("held id=2 qty=2 expires=10m"),
			do.getItem("M", "S1").item("stock=4 held=4 available=0 member-share=2/2 tier>=1 until=1h")),
		tc("member share: higher tier is a member too", R("M", "S1", "gold", 4).res("held id=1 qty=4 expires=10m"),
			do.getItem("M", "S1").item("stock=4 held=4 available=0 member-share=2/2 tier>=1 until=1h")),
		tc("member share: member beyond the share takes general units", R("M", "S1", "vip", 3),
			R("M", "S1", "c1", 2).is(CodeSoldOut), R("M", "S1", "c1", 1).res("held id=2 qty=1 expires=10m"),
			do.getItem("M", "S1").item("stock=4 held=4 available=0 member-share=2/2 tier>=1 until=1h")),
		tc("member share: after the cutoff everyone can", R("M", "S1", "c1", 2).at("35m").ttl("30m"), R("M", "S1", "c2", 1).at("59m").is(CodeSoldOut),
			R("M", "S1", "c2", 2).at("1h").res("held id=2 qty=2 expires=1h10m")),
		tc("member share: set tier makes a customer a member", do.tier("c1", 1), R("M", "S1", "c1", 4).res("held id=1 qty=4 expires=10m")),
		tc("member share: cancel gives share units back to members", R("M", "S1", "vip", 2), do.cancel(1),
			R("M", "S1", "c1", 3).is(CodeSoldOut), do.getItem("M", "S1").item("stock=4 available=4 member-share=0/2 tier>=1 until=1h")),
		tc("member share: stores_with_stock hides the member share until the cutoff", do.stores("M").storesAre("S1=2"),
			do.stores("M").at("1h").storesAre("S1=4")),

		// ---- confirm ----
		tc("confirm: issues the pickup code and the pickup deadline", R("A", "S1", "c1", 2),
			do.confirm(1, 0).at("5m").res("confirmed id=1 qty=2 pickup-by=7d5m code=ok").events("confirmed id=1 A/S1 c1 qty=2 confirmed code=ok"),
			do.getItem("A", "S1").item("stock=10 confirmed=2 available=8"), do.getRes(1).resv("id=1 A/S1 c1 qty=2 confirmed pickup-by=7d5m code=ok")),
		tc("confirm: fewer units releases the rest", R("A", "S1", "c1", 3), do.confirm(1, 1).res("confirmed id=1 qty=1 pickup-by=7d code=ok"),
			do.getItem("A", "S1").item("stock=10 confirmed=1 available=9")),
		tc("confirm: partial confirm frees the customer's limit", R("L", "S1", "c1", 2), do.confirm(1, 1), R("L", "S2", "c1", 1),
			R("L", "S2", "c1", 1).is(CodeLimitExceeded)),
		tc("confirm: partial confirm frees the window quota", R("W", "S1", "c1", 2).win(1), do.confirm(1, 1),
			do.getWindow("W", "S1", 1).wnd("1d..1d2h quota=2 used=1")),
		tc("confirm: partial confirm of a member's hold returns share units", R("M", "S1", "vip", 2), do.confirm(1, 1),
			do.getItem("M", "S1").item("stock=4 confirmed=1 available=3 member-share=1/2 tier>=1 until=1h")),
		tc("confirm: qty equal to held", R("A", "S1", "c1", 2), do.confirm(1, 2).res("confirmed id=1 qty=2 pickup-by=7d code=ok")),
		tc("confirm: qty over held is a bad request", R("A", "S1", "c1", 2), do.confirm(1, 3).is(CodeBadRequest),
			do.getRes(1).res("held id=1 qty=2 expires=10m")),
		tc("confirm: negative qty is a bad request", R("A", "S1", "c1", 2), do.confirm(1, -1).is(CodeBadRequest)),
		tc("confirm: unknown id", do.confirm(9, 0).is(CodeNotFound)),
		tc("confirm: id 0", do.confirm(0, 0).rawID(0).is(CodeNotFound)),
		tc("confirm: double confirm is wrong state", R("A", "S1", "c1", 2), do.confirm(1, 0), do.confirm(1, 0).is(CodeWrongState).events()),
		tc("confirm: just before expiry", R("A", "S1", "c1", 2), do.confirm(1, 0).at("9m59s").res("confirmed id=1 qty=2 pickup-by=7d9m59s code=ok")),
		tc("confirm: after expiry", R("A", "S1", "c1", 2), do.confirm(1, 0).at("10m").is(CodeExpired).events("expired id=1 A/S1 c1 qty=2 expired"),
			do.getItem("A", "S1").item("stock=10 available=10")),
		tc("confirm: cancelled is wrong state", R("A", "S1", "c1", 2), do.cancel(1), do.confirm(1, 0).is(CodeWrongState)),
		tc("confirm: after the window ended is closed (reschedule first)", R("W", "S1", "c1", 1).win(1).at("1d1h55m"),
			do.confirm(1, 0).at("1d2h").is(CodeClosed).events(), do.getRes(1).res("held id=1 qty=1 window=1d expires=1d2h5m")),
		tc("confirm: with a window, the deadline is the window's end", R("W", "S1", "c1", 1).win(1), do.confirm(1, 0).res("confirmed id=1 qty=1 window=1d pickup-by=1d2h code=ok")),
		tcc("confirm: with a window, plus the pickup grace", func(c *Config) { c.PickupGrace = time.Hour },
			R("W", "S1", "c1", 1).win(1), do.confirm(1, 0).res("confirmed id=1 qty=1 window=1d pickup-by=1d3h code=ok")),
		tcc("confirm: without a window, the configured pickup period", func(c *Config) { c.PickupPeriod = 2 * 24 * time.Hour },
			R("A", "S1", "c1", 1).at("55m"), do.confirm(1, 0).at("1h").res("confirmed id=1 qty=1 pickup-by=2d1h code=ok"),
			do.expire().at("2d1h").events("no_show id=1 A/S1 c1 qty=1 no_show code=ok")),
		tcc("confirm: the pickup code depends on the secret", func(c *Config) { c.PickupSecret = []byte("other") },
			R("A", "S1", "c1", 1), do.confirm(1, 0).chk(func(_ *Engine, r Result) string {
				if want := tbPinOf([]byte("other"), r.ID); r.PickupCode != want || r.PickupCode == tbPin(1) {
					return fmt.Sprintf("code %d, want %d", r.PickupCode, want)
				}
				return ""
			})),

		// ---- extend ----
		tc("extend: lengthens a hold", R("A", "S1", "c1", 1), do.extend(1, "20m").at("5m").res("held id=1 qty=1 expires=25m").events("extended id=1 A/S1 c1 qty=1 held"),
			do.confirm(1, 0).at("15m").res("confirmed id=1 qty=1 pickup-by=7d15m code=ok")),
		tc("extend: clamps at creation + MaxHold", R("A", "S1", "c1", 1), do.extend(1, "30m").at("5m").res("held id=1 qty=1 expires=30m"),
			do.extend(1, "20m").at("25m").res("held id=1 qty=1 expires=30m").events(), do.getRes(1).at("30m").res("expired id=1 qty=1")),
		tc("extend: a huge TTL still clamps at MaxHold", R("A", "S1", "c1", 1), do.extend(1, "0").rawTTL(math.MaxInt64).at("5m").res("held id=1 qty=1 expires=30m")),
		tc("extend: shorter than what is left changes nothing", R("A", "S1", "c1", 1), do.extend(1, "1m").at("5m").res("held id=1 qty=1 expires=10m").events()),
		tc("extend: TTL 0 is a bad request", R("A", "S1", "c1", 1), do.extend(1, "0").is(CodeBadRequest)),
		tc("extend: negative TTL is a bad request", R("A", "S1", "c1", 1), do.extend(1, "-1m").is(CodeBadRequest)),
		tc("extend: confirmed is wrong state", R("A", "S1", "c1", 1), do.confirm(1, 0), do.extend(1, "5m").is(CodeWrongState)),
		tc("extend: expired", R("A", "S1", "c1", 1), do.extend(1, "5m").at("11m").is(CodeExpired)),
		tc("extend: unknown id", do.extend(5, "5m").is(CodeNotFound)),

		// ---- cancel ----
		tc("cancel: a hold releases its units", R("A", "S1", "c1", 3), do.cancel(1).at("1m").res("cancelled id=1 qty=3").events("cancelled id=1 A/S1 c1 qty=3 cancelled"),
			do.getItem("A", "S1").item("stock=10 available=10"), do.getCust("c1").cust("c1 tier=0 no-shows=0 open=0")),
		tc("cancel: a confirmed order; its pickup code stops working", R("A", "S1", "c1", 3), do.confirm(1, 0),
			do.cancel(1).res("cancelled id=1 qty=3 code=ok").events("cancelled id=1 A/S1 c1 qty=3 cancelled code=ok"),
			do.pickupByCode("S1", tbPin(1)).is(CodeBadCode), do.getItem("A", "S1").item("stock=10 available=10")),
		tc("cancel: releases window quota and member share", R("W", "S1", "c1", 2).win(1), R("M", "S1", "vip", 2), do.cancel(1), do.cancel(2),
			do.getWindow("W", "S1", 1).wnd("1d..1d2h quota=2 used=0"), do.getItem("M", "S1").item("stock=4 available=4 member-share=0/2 tier>=1 until=1h")),
		tc("cancel: twice is wrong state", R("A", "S1", "c1", 1), do.cancel(1), do.cancel(1).is(CodeWrongState)),
		tc("cancel: expired", R("A", "S1", "c1", 1), do.cancel(1).at("10m").is(CodeExpired)),
		tc("cancel: picked up is wrong state", R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)), do.cancel(1).is(CodeWrongState)),
		tc("cancel: unknown id", do.cancel(3).is(CodeNotFound)),

		// ---- pickup ----
		tc("pickup: by id with the right code", R("A", "S1", "c1", 2), do.confirm(1, 0),
			do.pickup(1, "S1", tbPin(1)).at("1d").res("picked_up id=1 qty=2 code=ok").events("picked_up id=1 A/S1 c1 qty=2 picked_up code=ok"),
			do.getItem("A", "S1").item("stock=10 picked-up=2 available=8"), do.getCust("c1").cust("c1 tier=0 no-shows=0 open=0")),
		tc("pickup: by code alone", R("A", "S1", "c1", 2), R("A", "S1", "c2", 1), do.confirm(1, 0), do.confirm(2, 0),
			do.pickupByCode("S1", tbPin(2)).res("picked_up id=2 qty=1 code=ok"), do.getRes(1).res("confirmed id=1 qty=2 pickup-by=7d code=ok")),
		tc("pickup: wrong store (right code) is refused and not counted", R("A", "S1", "c1", 2), do.confirm(1, 0),
			do.pickup(1, "S2", tbPin(1)).is(CodeWrongStore).events(), do.getRes(1).resv("id=1 A/S1 c1 qty=2 confirmed pickup-by=7d code=ok")),
		tc("pickup: by code alone, another store's code is answered like an unknown one and not counted", R("A", "S1", "c1", 2), do.confirm(1, 0),
			do.pickupByCode("S2", tbPin(1)).is(CodeBadCode).events(), do.getRes(1).resv("id=1 A/S1 c1 qty=2 confirmed pickup-by=7d code=ok")),
		tc("pickup: by code alone with an unknown code", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickupByCode("S1", (tbPin(1)+1)%1e12).is(CodeBadCode).events()),
		tc("pickup: wrong code counts an attempt", R("A", "S1", "c1", 2), do.confirm(1, 0),
			do.pickup(1, "S1", 1).is(CodeBadCode).events("bad_code id=1 A/S1 c1 confirmed code=ok"),
			do.getRes(1).resv("id=1 A/S1 c1 qty=2 confirmed pickup-by=7d code=ok attempts=1")),
		tc("pickup: the 5th wrong code locks", R("A", "S1", "c1", 1), do.confirm(1, 0),
			do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 2).is(CodeBadCode), do.pickup(1, "S1", 3).is(CodeBadCode), do.pickup(1, "S1", 4).is(CodeBadCode),
			do.pickup(1, "S1", 5).is(CodeLocked).events("bad_code id=1 A/S1 c1 confirmed code=ok", "locked id=1 A/S1 c1 confirmed code=ok"),
			do.pickup(1, "S1", tbPin(1)).is(CodeLocked).events(), do.pickupByCode("S1", tbPin(1)).is(CodeLocked),
			do.getRes(1).resv("id=1 A/S1 c1 qty=1 confirmed pickup-by=7d code=ok attempts=5 locked")),
		tc("pickup: unlock, then pickup works", R("A", "S1", "c1", 1), do.confirm(1, 0),
			do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeLocked),
			do.unlock(1).res("confirmed id=1 qty=1 pickup-by=7d code=ok").events("unlocked id=1 A/S1 c1 confirmed code=ok"),
			do.getRes(1).resv("id=1 A/S1 c1 qty=1 confirmed pickup-by=7d code=ok"),
			do.pickup(1, "S1", tbPin(1)).res("picked_up id=1 qty=1 code=ok")),
		tcc("pickup: MaxPickupAttempts is configurable", func(c *Config) { c.MaxPickupAttempts = 2 }, R("A", "S1", "c1", 1), do.confirm(1, 0),
			do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeLocked)),
		tc("pickup: wrong store is checked before the lock", R("A", "S1", "c1", 1), do.confirm(1, 0),
			do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeBadCode), do.pickup(1, "S1", 1).is(CodeLocked),
			do.pickup(1, "S2", tbPin(1)).is(CodeWrongStore)),
		tc("pickup: a hold is not confirmed yet", R("A", "S1", "c1", 1), do.pickup(1, "S1", 0).is(CodeWrongState)),
		tc("pickup: twice is wrong state", R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)), do.pickup(1, "S1", tbPin(1)).is(CodeWrongState),
			do.pickupByCode("S1", tbPin(1)).is(CodeBadCode)),
		tc("pickup: after the no-show", R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)).at("7d").is(CodeExpired),
			do.pickupByCode("S1", tbPin(1)).is(CodeBadCode)),
		tc("pickup: just before the deadline", R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)).at("6d23h59m").res("picked_up id=1 qty=1 code=ok")),
		tc("pickup: cancelled is wrong state", R("A", "S1", "c1", 1), do.confirm(1, 0), do.cancel(1), do.pickup(1, "S1", tbPin(1)).is(CodeWrongState)),
		tc("pickup: unknown id", do.pickup(4, "S1", 1).is(CodeNotFound)),
		tc("pickup: empty store is a bad request", R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "", tbPin(1)).is(CodeBadRequest)),
		tc("pickup: 65-byte store is a bad request", do.pickup(1, id65, 1).is(CodeBadRequest)),
		tc("pickup: code of 13 digits is a bad request", R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "S1", 1e12).is(CodeBadRequest),
			do.getRes(1).resv("id=1 A/S1 c1 qty=1 confirmed pickup-by=7d code=ok")),

		// ---- reschedule ----
		tc("reschedule: a hold to another window", R("W", "S1", "c1", 2).win(1),
			do.reschedule(1, 2).res("held id=1 qty=2 window=2d expires=10m").events("rescheduled id=1 W/S1 c1 qty=2 window=2d held"),
			do.getWindow("W", "S1", 1).wnd("1d..1d2h quota=2 used=0"), do.getWindow("W", "S1", 2).wnd("2d..2d2h quota=3 used=2")),
		tc("reschedule: a confirmed order moves its deadline", R("W", "S1", "c1", 1).win(1), do.confirm(1, 0),
			do.reschedule(1, 2).res("confirmed id=1 qty=1 window=2d pickup-by=2d2h code=ok"), do.pickup(1, "S1", tbPin(1)).at("1d3h").is(CodeTooEarly),
			do.pickup(1, "S1", tbPin(1)).at("2d").res("picked_up id=1 qty=1 window=2d code=ok")),
		tc("reschedule: a reservation without a window into one (made before the item had windows)", R("A", "S1", "c1", 2),
			do.putWindow("A", "S1", "1d", "1d2h", 2), do.reschedule(1, 1).res("held id=1 qty=2 window=1d expires=10m"),
			do.getWindow("A", "S1", 1).wnd("1d..1d2h quota=2 used=2")),
		tc("reschedule: to a full window", R("W", "S1", "c1", 2).win(1), R("W", "S1", "c2", 2).win(2), do.reschedule(2, 1).is(CodeWindowFull),
			do.getRes(2).res("held id=2 qty=2 window=2d expires=10m")),
		tc("reschedule: to an unknown window", R("W", "S1", "c1", 1).win(1), do.cmd(Command{Op: OpReschedule, ID: id(1), Window: tbAbs("5d")}).is(CodeUnknownWindow)),
		tc("reschedule: to the same window changes nothing", R("W", "S1", "c1", 2).win(1), do.reschedule(1, 1).res("held id=1 qty=2 window=1d expires=10m").events(),
			do.getWindow("W", "S1", 1).wnd("1d..1d2h quota=2 used=2")),
		tc("reschedule: to a window that has ended", R("W", "S1", "c1", 1).win(1), do.confirm(1, 0), do.reschedule(1, 0).at("2h").is(CodeClosed)),
		tc("reschedule: window 0 is a bad request", R("W", "S1", "c1", 1).win(1), do.cmd(Command{Op: OpReschedule, ID: id(1)}).is(CodeBadRequest)),
		tc("reschedule: picked up is wrong state", R("W", "S1", "c1", 1).win(1), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)).at("1d"), do.reschedule(1, 2).is(CodeWrongState)),
		tc("reschedule: expired", R("W", "S1", "c1", 1).win(1), do.reschedule(1, 2).at("10m").is(CodeExpired)),
		tc("reschedule: unknown id", do.reschedule(7, 1).is(CodeNotFound)),

		// ---- return ----
		tc("return: before pickup is wrong state", R("A", "S1", "c1", 2), do.confirm(1, 0), do.ret(1, true).is(CodeWrongState)),
		tc("return: with restock puts the units back", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)),
			do.ret(1, true).at("1d").res("returned id=1 qty=2 code=ok").events("returned id=1 A/S1 c1 qty=2 returned stock=10"),
			do.getItem("A", "S1").item("stock=10 available=10")),
		tc("return: without restock the units leave the store", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)),
			do.ret(1, false).res("returned id=1 qty=2 code=ok").events("returned id=1 A/S1 c1 qty=2 returned stock=8"),
			do.getItem("A", "S1").item("stock=8 available=8")),
		tc("return: frees the customer's limit", R("L", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)),
			R("L", "S1", "c1", 1).is(CodeLimitExceeded), do.ret(1, true), R("L", "S1", "c1", 2).res("held id=2 qty=2 expires=10m")),
		tc("return: twice is wrong state", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)), do.ret(1, true), do.ret(1, true).is(CodeWrongState)),
		tc("return: of a hold is wrong state", R("A", "S1", "c1", 2), do.ret(1, true).is(CodeWrongState)),
		tc("return: of a no-show is expired", R("A", "S1", "c1", 2), do.confirm(1, 0), do.ret(1, true).at("8d").is(CodeExpired)),
		tc("return: unknown id", do.ret(1, true).is(CodeNotFound)),
		tc("return: after the finished retention the record is gone", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)),
			do.ret(1, true).at("30d").is(CodeNotFound), do.getItem("A", "S1").item("stock=10 picked-up=2 available=8")),

		// ---- expiry ----
		tc("expire: a hold expires at its TTL", R("A", "S1", "c1", 2), do.expire().at("9m59s").events(),
			do.expire().at("10m").res("ok").events("expired id=1 A/S1 c1 qty=2 expired").due("none"),
			do.getRes(1).resv("id=1 A/S1 c1 qty=2 expired"), do.getItem("A", "S1").item("stock=10 available=10")),
		tc("expire: a confirmed order becomes a no-show at its deadline", R("A", "S1", "c1", 2), do.confirm(1, 0),
			do.expire().at("7d").events("no_show id=1 A/S1 c1 qty=2 no_show code=ok"),
			do.getCust("c1").cust("c1 tier=0 no-shows=1 open=0"), do.getItem("A", "S1").item("stock=10 available=10")),
		tc("expire: any batch expires what is due first", R("Z", "S1", "c1", 1), R("Z", "S1", "c2", 1).at("10m").res("held id=2 qty=1 expires=20m").events(
			"expired id=1 Z/S1 c1 qty=1 expired", "reserved id=2 Z/S1 c2 qty=1 held")),
		tc("expire: time going backwards is clamped; holds do not un-expire", R("A", "S1", "c1", 2), do.expire().at("10m"),
			do.getRes(1).at("5m").res("expired id=1 qty=2"), R("A", "S1", "c1", 1).res("held id=2 qty=1 expires=20m"),
			do.confirm(1, 0).at("1m").is(CodeExpired)),
		tc("expire: time going backwards does not expire early", R("A", "S1", "c1", 1).at("5m"), do.confirm(1, 0).at("1m").res("confirmed id=1 qty=1 pickup-by=7d5m code=ok")),
		tc("expire: finished records are forgotten after the retention", R("A", "S1", "c1", 1), do.cancel(1),
			do.getRes(1).at("29d23h").res("cancelled id=1 qty=1"), do.getRes(1).at("30d").is(CodeNotFound), do.listRes("c1").list()),
		tc("expire: NextDue follows the earliest pending expiry", R("A", "S1", "c1", 1).ttl("5m").due("5m"), R("A", "S1", "c1", 1).ttl("2m").due("2m"),
			do.expire().at("2m").due("5m"), do.expire().at("5m").due("none")),

		// ---- no-show rule ----
		tc("no-show rule: 3 no-shows within the period block the customer", tbCat(tbConfirmed("c1", 3, 1), []tbStep{
			do.expire().at("7d").events("no_show id=1 A/S1 c1 qty=1 no_show code=ok", "no_show id=2 A/S1 c1 qty=1 no_show code=ok",
				"no_show id=3 A/S1 c1 qty=1 no_show code=ok", "customer c1 tier=0 blocked"),
			do.getCust("c1").cust("c1 tier=0 blocked auto-blocked no-shows=3 open=0"),
			R("A", "S1", "c1", 1).is(CodeBlocked)})...),
		tc("no-show rule: unblock lifts it and clears the count", tbCat(tbConfirmed("c1", 3, 1), []tbStep{
			do.unblock("c1").at("7d").cust("c1 tier=0 no-shows=0 open=0").events("no_show id=1 A/S1 c1 qty=1 no_show code=ok", "no_show id=2 A/S1 c1 qty=1 no_show code=ok",
				"no_show id=3 A/S1 c1 qty=1 no_show code=ok", "customer c1 tier=0 blocked", "customer c1 tier=0"),
			R("A", "S1", "c1", 1).res("held id=4 qty=1 expires=7d10m"), do.confirm(4, 0), do.expire().at("14d10m"),
			do.getCust("c1").cust("c1 tier=0 no-shows=1 open=0")})...),
		tc("no-show rule: two no-shows do not block", tbCat(tbConfirmed("c1", 2, 1), []tbStep{
			do.getCust("c1").at("7d").cust("c1 tier=0 no-shows=2 open=0"), R("A", "S1", "c1", 1).res("held id=3 qty=1 expires=7d10m")})...),
		tcc("no-show rule: no-shows older than the period do not count", func(c *Config) { c.NoShowPeriod = 10 * 24 * time.Hour },
			R("A", "S1", "c1", 1), do.confirm(1, 0), R("A", "S1", "c1", 1).at("6d"), do.confirm(2, 0),
			do.expire().at("7d"), do.expire().at("13d"), R("A", "S1", "c1", 1).at("14d"), do.confirm(3, 0),
			do.getCust("c1").at("21d").cust("c1 tier=0 no-shows=2 open=0"), R("A", "S1", "c1", 1).res("held id=4 qty=1 expires=21d10m")),
		tcc("no-show rule: a limit of 1", func(c *Config) { c.NoShowLimit = 1 }, R("A", "S1", "c1", 1), do.confirm(1, 0),
			R("A", "S1", "c1", 1).at("7d").is(CodeBlocked)),
		tcc("no-show rule: off when the limit is negative", func(c *Config) { c.NoShowLimit = -1 }, tbCat(tbConfirmed("c1", 3, 1), []tbStep{
			R("A", "S1", "c1", 1).at("7d").res("held id=4 qty=1 expires=7d10m"), do.getCust("c1").cust("c1 tier=0 no-shows=0 open=1")})...),
		tc("no-show rule: a manually blocked customer is not marked auto-blocked", tbCat(tbConfirmed("c1", 3, 1), []tbStep{do.block("c1"),
			do.getCust("c1").at("7d").cust("c1 tier=0 blocked no-shows=3 open=0")})...),

		// ---- put_item ----
		tc("put_item: creates an item", do.putItem("N", "S1", 7, 0).sale("1h", "none").item("stock=7 available=7 sale=1h..none").events("item_put N/S1 qty=7 stock=7"),
			do.getItem("N", "S1").item("stock=7 available=7 sale=1h..none")),
		tc("put_item: changes stock, sale window and member share", do.setLimit("A", 5), do.putItem("A", "S1", 20, 0).sale("none", "3h").share(2, 4, "1h").
			item("stock=20 available=20 limit=5 sale=none..3h member-share=0/4 tier>=2 until=1h"),
			R("A", "S1", "vip", 17).is(CodeSoldOut), R("A", "S1", "gold", 17).is(CodeLimitExceeded), R("A", "S1", "gold", 5).res("held id=1 qty=5 expires=10m")),
		tc("put_item: stock below what is promised is refused", R("A", "S1", "c1", 4), do.confirm(1, 0), R("A", "S1", "c2", 3),
			do.putItem("A", "S1", 6, 0).is(CodeBelowPromised).events(), do.putItem("A", "S1", 7, 0).item("stock=7 held=3 confirmed=4 available=0")),
		tc("put_item: member units below what members took is refused", R("M", "S1", "vip", 2),
			do.putItem("M", "S1", 4, 0).share(1, 1, "1h").is(CodeBelowPromised), do.putItem("M", "S1", 4, 0).share(1, 2, "2h").item("stock=4 held=2 available=2 member-share=2/2 tier>=1 until=2h")),
		tc("put_item: negative stock is a bad request", do.putItem("A", "S1", -1, 0).is(CodeBadRequest)),
		tc("put_item: stock over MaxStock is a bad request", do.putItem("A", "S1", MaxStock+1, 0).is(CodeBadRequest), do.putItem("A", "S1", MaxStock, 0).item("stock=1073741824 available=1073741824")),
		tc("put_item: negative limit is a bad request", do.putItem("A", "S1", 1, -1).is(CodeBadRequest)),
		tc("put_item: sale window closing before it opens", do.putItem("A", "S1", 1, 0).sale("2h", "1h").is(CodeBadRequest)),
		tc("put_item: sale window closing when it opens", do.putItem("A", "S1", 1, 0).sale("2h", "2h").is(CodeBadRequest)),
		tc("put_item: negative sale time", do.putItem("A", "S1", 1, 0).is(CodeBadRequest).withCmd(func(c *Command) { c.OpensAt = -1 })),
		tc("put_item: member share without a tier", do.putItem("A", "S1", 5, 0).share(0, 2, "1h").is(CodeBadRequest)),
		tc("put_item: member share without a cutoff", do.putItem("A", "S1", 5, 0).share(1, 2, "none").is(CodeBadRequest)),
		tc("put_item: member tier over MaxTier", do.putItem("A", "S1", 5, 0).share(16, 2, "1h").is(CodeBadRequest)),
		tc("put_item: negative member units", do.putItem("A", "S1", 5, 0).share(1, -1, "1h").is(CodeBadRequest)),
		tc("put_item: 65-byte SKU", do.putItem(id65, "S1", 5, 0).is(CodeBadRequest)),
		tc("put_item: empty store", do.putItem("A", "", 5, 0).is(CodeBadRequest)),
		tc("put_item: 64-byte SKU and store", do.putItem(id64, id64, 5, 0).item("stock=5 available=5")),

		tc("put_item: a member share larger than the stock is a bad request", do.putItem("A", "S1", 3, 0).share(1, 4, "1h").is(CodeBadRequest).events(),
			do.putItem("A", "S1", 4, 0).share(1, 4, "1h").item("stock=4 available=4 member-share=0/4 tier>=1 until=1h")),
		tc("put_item: records who and why", do.putItem("A", "S1", 12, 0).by("alice", "recount").events(`item_put A/S1 qty=2 stock=12 by=alice reason="recount"`)),

		// ---- update_item (docs/adr/0100) ----
		tc("update_item: stock alone keeps the member share, sale window and limit",
			do.update("M", "S1", SetStock).stock(9).by("alice", "delivery 4711").item("stock=9 available=9 member-share=0/2 tier>=1 until=1h").
				events(`item_put M/S1 qty=5 stock=9 by=alice reason="delivery 4711"`),
			do.update("F", "S1", SetStock).stock(8).item("stock=8 available=8 sale=1h..2h"),
			do.update("L", "S1", SetStock).stock(3).item("stock=3 available=3 limit=2")),
		tc("update_item: put_item, by contrast, replaces every setting", do.putItem("M", "S1", 9, 0).item("stock=9 available=9"),
			do.putItem("F", "S1", 8, 0).item("stock=8 available=8")),
		tc("update_item: sale window alone keeps the stock", do.update("F", "S1", SetSaleWindow).sale("none", "3h").item("stock=5 available=5 sale=none..3h").
			events("item_put F/S1 stock=5")),
		tc("update_item: one end of the sale window keeps the other", do.update("F", "S1", SetClosesAt).sale("none", "3h").item("stock=5 available=5 sale=1h..3h"),
			do.update("F", "S1", SetOpensAt).sale("30m", "none").item("stock=5 available=5 sale=30m..3h"),
			do.update("F", "S1", SetOpensAt).sale("3h", "none").is(CodeBadRequest).events(), do.update("F", "S1", SetClosesAt).item("stock=5 available=5 sale=30m..none")),
		tc("update_item: a named setting without values is cleared", do.update("M", "S1", SetMemberShare).item("stock=4 available=4"),
			do.update("F", "S1", SetSaleWindow).item("stock=5 available=5"), do.update("A", "S1", SetStock).item("stock=0 available=0")),
		tc("update_item: every setting at once", do.update("A", "S1", ItemSetAll).stock(6).sale("none", "3h").share(2, 6, "1h").
			item("stock=6 available=6 sale=none..3h member-share=0/6 tier>=2 until=1h")),
		tc("update_item: creates a new item with stock 0 unless named", do.update("N", "S1", SetSaleWindow).sale("1h", "none").item("stock=0 available=0 sale=1h..none"),
			do.update("P", "S1", SetStock).stock(3).item("stock=3 available=3")),
		tc("update_item: naming nothing, or an unknown setting, is a bad request", do.update("A", "S1", 0).is(CodeBadRequest).events(),
			do.update("A", "S1", ItemSetAll+1).stock(1).is(CodeBadRequest), do.getItem("A", "S1").item("stock=10 available=10")),
		tc("update_item: a field of a setting it does not name is a bad request", do.update("A", "S1", SetSaleWindow).stock(3).is(CodeBadRequest),
			do.update("A", "S1", SetStock).stock(3).sale("1h", "2h").is(CodeBadRequest), do.update("A", "S1", SetStock).stock(3).share(1, 1, "1h").is(CodeBadRequest),
			do.update("A", "S1", SetStock).stock(3).withCmd(func(c *Command) { c.Limit = 2 }).is(CodeBadRequest), do.getItem("A", "S1").item("stock=10 available=10")),
		tc("update_item: bad values are bad requests", do.update("A", "S1", SetStock).stock(-1).is(CodeBadRequest),
			do.update("A", "S1", SetStock).stock(MaxStock+1).is(CodeBadRequest), do.update("A", "S1", SetSaleWindow).sale("2h", "1h").is(CodeBadRequest),
			do.update("A", "S1", SetMemberShare).share(0, 2, "1h").is(CodeBadRequest), do.update(id65, "S1", SetStock).stock(1).is(CodeBadRequest),
			do.update("A", "S1", SetStock).stock(MaxStock).item("stock=1073741824 available=1073741824")),
		tc("update_item: stock below what is promised is refused", R("A", "S1", "c1", 4), do.update("A", "S1", SetStock).stock(3).is(CodeBelowPromised).events(),
			do.update("A", "S1", SetStock).stock(4).item("stock=4 held=4 available=0")),
		tc("update_item: a member share larger than the stock is a bad request, whichever changes",
			do.update("M", "S1", SetMemberShare).share(1, 5, "1h").is(CodeBadRequest), do.update("M", "S1", SetStock).stock(1).is(CodeBadRequest),
			do.update("M", "S1", SetStock|SetMemberShare).stock(1).share(1, 1, "1h").item("stock=1 available=1 member-share=0/1 tier>=1 until=1h")),
		tc("update_item: member units below what members took is refused", R("M", "S1", "vip", 2),
			do.update("M", "S1", SetMemberShare).share(1, 1, "1h").is(CodeBelowPromised), do.update("M", "S1", SetMemberShare).share(1, 3, "2h").item("stock=4 held=2 available=2 member-share=2/3 tier>=1 until=2h")),
		tc("update_item: a reason of MaxReasonBytes, and one byte more",
			do.update("A", "S1", SetStock).stock(11).by("bob", strings.Repeat("r", MaxReasonBytes)).item("stock=11 available=11"),
			do.update("A", "S1", SetStock).stock(12).by("bob", strings.Repeat("r", MaxReasonBytes+1)).is(CodeBadRequest).events()),

		// ---- put_window ----
		tc("put_window: creates a window", do.putWindow("A", "S1", "3d", "3d1h", 4).wnd("3d..3d1h quota=4 used=0").events("window_put A/S1 qty=4 window=3d"),
			R("A", "S1", "c1", 1).window(tbAbs("3d")).res("held id=1 qty=1 window=3d expires=10m")),
		tc("put_window: overlapping the start of another", do.putWindow("W", "S1", "1d1h", "1d3h", 1).is(CodeWindowConflict)),
		tc("put_window: inside another", do.putWindow("W", "S1", "1d30m", "1d1h", 1).is(CodeWindowConflict)),
		tc("put_window: around another", do.putWindow("W", "S1", "23h", "1d3h", 1).is(CodeWindowConflict)),
		tc("put_window: changing an end to overlap the next", do.putWindow("W", "S1", "1d", "2d1h", 1).is(CodeWindowConflict)),
		tc("put_window: touching windows are fine", do.putWindow("W", "S1", "1d2h", "2d", 1).wnd("1d2h..2d quota=1 used=0"),
			do.putWindow("W", "S1", "2h", "1d", 1).wnd("2h..1d quota=1 used=0")),
		tc("put_window: ending before it starts", do.putWindow("A", "S1", "3d", "2d", 1).is(CodeBadRequest)),
		tc("put_window: ending when it starts", do.putWindow("A", "S1", "3d", "3d", 1).is(CodeBadRequest)),
		tc("put_window: start 0", do.cmd(Command{Op: OpPutWindow, SKU: []byte("A"), Store: []byte("S1"), Window: 0, WindowEnd: 5}).is(CodeBadRequest)),
		tc("put_window: negative quota", do.putWindow("A", "S1", "3d", "4d", -1).is(CodeBadRequest)),
		tc("put_window: unknown item", do.putWindow("X", "S1", "3d", "4d", 1).is(CodeUnknownItem)),
		tc("put_window: changes quota and end", R("W", "S1", "c1", 2).win(1), do.putWindow("W", "S1", "1d", "1d4h", 3).wnd("1d..1d4h quota=3 used=2"),
			R("W", "S1", "c2", 1).win(1).res("held id=2 qty=1 window=1d expires=10m")),
		tc("put_window: quota below what is used is refused", R("W", "S1", "c1", 2).win(1), do.putWindow("W", "S1", "1d", "1d2h", 1).is(CodeBelowPromised),
			do.putWindow("W", "S1", "1d", "1d2h", 2).wnd("1d..1d2h quota=2 used=2")),
		tc("put_window: MaxWindowsPerItem", append(tbWindowsUpTo(MaxWindowsPerItem),
			do.putWindow("A", "S1", "20d", "21d", 1).is(CodeTooMany), do.putWindow("A", "S1", "10d", "10d1h", 5).wnd("10d..10d1h quota=5 used=0"))...),

		// ---- restock / adjust_stock ----
		tc("restock: adds units", R("A", "S1", "c1", 10), do.restock("A", "S1", 5).item("stock=15 held=10 available=5").events("stock_changed A/S1 qty=5 stock=15")),
		tc("restock: records who and why", do.restock("A", "S1", 5).by("bob", "delivery").events(`stock_changed A/S1 qty=5 stock=15 by=bob reason="delivery"`),
			do.adjust("A", "S1", -2).by("bob", "2 broken").events(`stock_changed A/S1 qty=-2 stock=13 by=bob reason="2 broken"`),
			do.restock("A", "S1", 1).by("bob", strings.Repeat("r", MaxReasonBytes+1)).is(CodeBadRequest),
			do.adjust("A", "S1", 1).by("bob", strings.Repeat("r", MaxReasonBytes+1)).is(CodeBadRequest).events()),
		tc("restock: qty 0 is a bad request", do.restock("A", "S1", 0).is(CodeBadRequest)),
		tc("restock: negative qty is a bad request", do.restock("A", "S1", -1).is(CodeBadRequest)),
		tc("restock: qty over MaxQty is a bad request", do.restock("A", "S1", MaxQty+1).is(CodeBadRequest)),
		tc("restock: past MaxStock is a bad request", do.putItem("A", "S1", MaxStock, 0), do.restock("A", "S1", 1).is(CodeBadRequest)),
		tc("restock: unknown item", do.restock("A", "S3", 1).is(CodeUnknownItem)),
		tc("restock: 65-byte SKU", do.restock(id65, "S1", 1).is(CodeBadRequest)),
		tc("adjust_stock: down", do.adjust("A", "S1", -3).item("stock=7 available=7").events("stock_changed A/S1 qty=-3 stock=7")),
		tc("adjust_stock: up", do.adjust("A", "S1", 3).item("stock=13 available=13")),
		tc("adjust_stock: zero changes nothing", do.adjust("A", "S1", 0).item("stock=10 available=10")),
		tc("adjust_stock: below what is promised is refused", R("A", "S1", "c1", 6), do.adjust("A", "S1", -5).is(CodeBelowPromised).events(),
			do.adjust("A", "S1", -4).item("stock=6 held=6 available=0")),
		tc("adjust_stock: below zero is refused", do.adjust("A", "S1", -11).is(CodeBelowPromised)),
		tc("adjust_stock: delta beyond MaxStock is a bad request", do.adjust("A", "S1", MaxStock+1).is(CodeBadRequest), do.adjust("A", "S1", -MaxStock-1).is(CodeBadRequest)),
		tc("adjust_stock: result past MaxStock is a bad request", do.adjust("A", "S1", MaxStock).is(CodeBadRequest)),
		tc("adjust_stock: unknown item", do.adjust("Q", "S1", 1).is(CodeUnknownItem)),

		// ---- set_sale_window / set_limit / set_member_share ----
		tc("set_sale_window: closes an item", do.saleWindow("A", "S1", "none", "1h").item("stock=10 available=10 sale=none..1h").events("item_put A/S1 stock=10"),
			R("A", "S1", "c1", 1).at("1h").is(CodeClosed)),
		tc("set_sale_window: opens a closed item", do.saleWindow("F", "S1", "none", "none").item("stock=5 available=5"), R("F", "S1", "c1", 1).res("held id=1 qty=1 expires=10m")),
		tc("set_sale_window: closing before opening", do.saleWindow("A", "S1", "2h", "1h").is(CodeBadRequest)),
		tc("set_sale_window: unknown item", do.saleWindow("A", "S7", "1h", "2h").is(CodeUnknownItem)),
		tc("set_limit: sets the SKU's limit at every store", do.setLimit("A", 1).res("ok").events("limit_set A/ qty=1"),
			do.getItem("A", "S2").item("stock=5 available=5 limit=1"), R("A", "S1", "c1", 2).is(CodeLimitExceeded),
			R("A", "S1", "c1", 1), R("A", "S2", "c1", 1).is(CodeLimitExceeded)),
		tc("set_limit: lowered below what a customer owns: kept, no more", R("L", "S1", "c1", 2), do.setLimit("L", 1),
			R("L", "S2", "c1", 1).is(CodeLimitExceeded), do.getRes(1).res("held id=1 qty=2 expires=10m")),
		tc("set_limit: 0 removes it", do.setLimit("L", 0).events("limit_set L/"), R("L", "S1", "c1", 5).res("held id=1 qty=5 expires=10m")),
		tc("set_limit: negative, past MaxStock, no SKU, or with a store is a bad request", do.setLimit("L", -1).is(CodeBadRequest),
			do.setLimit("L", MaxStock+1).is(CodeBadRequest), do.setLimit("", 1).is(CodeBadRequest),
			do.setLimit("L", 1).withCmd(func(c *Command) { c.Store = []byte("S1") }).is(CodeBadRequest).events(),
			do.getItem("L", "S1").item("stock=10 available=10 limit=2")),
		tc("set_limit: a SKU with no item here yet keeps it for the items to come", do.setLimit("N", 1).events("limit_set N/ qty=1"),
			do.putItem("N", "S1", 5, 0).item("stock=5 available=5 limit=1"), R("N", "S1", "c1", 2).is(CodeLimitExceeded)),
		tc("put_item: a limit is refused (set_limit sets it)", do.putItem("A", "S1", 10, 2).is(CodeBadRequest).events(),
			do.putItem("Q", "S1", 10, 1).is(CodeBadRequest), do.getItem("Q", "S1").is(CodeUnknownItem)),
		tc("put_item: keeps the SKU's limit", do.putItem("L", "S1", 20, 0).item("stock=20 available=20 limit=2")),
		tc("set_member_share: a share larger than the stock is a bad request", do.memberShare("A", "S1", 1, 11, "1h").is(CodeBadRequest).events(),
			do.memberShare("A", "S1", 1, 10, "1h").item("stock=10 available=10 member-share=0/10 tier>=1 until=1h")),
		tc("set_member_share: keeps units for members", do.memberShare("A", "S1", 1, 8, "1h").item("stock=10 available=10 member-share=0/8 tier>=1 until=1h").events("item_put A/S1 stock=10"),
			R("A", "S1", "c1", 3).is(CodeSoldOut), R("A", "S1", "vip", 10).res("held id=1 qty=10 expires=10m")),
		tc("set_member_share: 0 units removes it", do.memberShare("M", "S1", 0, 0, "none").item("stock=4 available=4"), R("M", "S1", "c1", 4).res("held id=1 qty=4 expires=10m")),
		tc("set_member_share: below what members took", R("M", "S1", "vip", 2), do.memberShare("M", "S1", 1, 1, "1h").is(CodeBelowPromised)),
		tc("set_member_share: units without a tier", do.memberShare("A", "S1", 0, 1, "1h").is(CodeBadRequest)),
		tc("set_member_share: unknown item", do.memberShare("A", "S4", 1, 1, "1h").is(CodeUnknownItem)),

		// ---- customers ----
		tc("block: refuses the customer's reserves", do.block("c1").cust("c1 tier=0 blocked no-shows=0 open=0").events("customer c1 tier=0 blocked"),
			R("A", "S1", "c1", 1).is(CodeBlocked)),
		tc("block: keeps existing reservations", R("A", "S1", "c1", 1), do.block("c1"), do.confirm(1, 0).res("confirmed id=1 qty=1 pickup-by=7d code=ok")),
		tc("unblock: allows again", do.unblock("bad").cust("bad tier=0 no-shows=0 open=0").events("customer bad tier=0"),
			R("A", "S1", "bad", 1).res("held id=1 qty=1 expires=10m")),
		tc("block: 65-byte customer is a bad request", do.block(id65).is(CodeBadRequest)),
		tc("unblock: empty customer is a bad request", do.unblock("").is(CodeBadRequest)),
		tc("set_tier: sets a tier", do.tier("c1", 15).cust("c1 tier=15 no-shows=0 open=0").events("customer c1 tier=15")),
		tc("set_tier: over MaxTier is a bad request", do.tier("c1", 16).is(CodeBadRequest), do.getCust("c1").is(CodeNotFound)),

		// ---- unlock ----
		tc("unlock: without a lock changes nothing", R("A", "S1", "c1", 1), do.confirm(1, 0), do.unlock(1).res("confirmed id=1 qty=1 pickup-by=7d code=ok").events()),
		tc("unlock: clears wrong attempts", R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "S1", 1).is(CodeBadCode), do.unlock(1).events("unlocked id=1 A/S1 c1 confirmed code=ok"),
			do.getRes(1).resv("id=1 A/S1 c1 qty=1 confirmed pickup-by=7d code=ok")),
		tc("unlock: unknown id", do.unlock(1).is(CodeNotFound)),

		// ---- reads ----
		tc("get_item: fixture", do.getItem("W", "S1").item("stock=10 available=10 window[1h..2h quota=5 used=0] window[1d..1d2h quota=2 used=0] window[2d..2d2h quota=3 used=0]")),
		tc("get_item: unknown", do.getItem("A", "S3").is(CodeUnknownItem)),
		tc("get_item: empty SKU", do.getItem("", "S1").is(CodeBadRequest)),
		tc("get_window: a window", R("W", "S1", "c1", 1).win(2), do.getWindow("W", "S1", 2).wnd("2d..2d2h quota=3 used=1")),
		tc("get_window: unknown window", do.getWindow("A", "S1", 1).is(CodeUnknownWindow)),
		tc("get_window: unknown item", do.getWindow("A", "S9", 1).is(CodeUnknownItem)),
		tc("get_window: 65-byte store", do.getWindow("A", id65, 1).is(CodeBadRequest)),
		tc("get_reservation: a hold", R("W", "S1", "c1", 2).win(1).at("1m"), do.getRes(1).res("held id=1 qty=2 window=1d expires=11m").resv("id=1 W/S1 c1 qty=2 held window=1d expires=11m").
			chk(func(_ *Engine, r Result) string {
				x := r.Reservation
				if x.CreatedAt != tbAbs("1m") || x.UpdatedAt != tbAbs("1m") {
					return fmt.Sprintf("created %s updated %s", tbAt(x.CreatedAt), tbAt(x.UpdatedAt))
				}
				return ""
			})),
		tc("get_reservation: unknown", do.getRes(1).is(CodeNotFound)),
		tc("get_customer: counts open reservations", R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), do.confirm(2, 0), R("A", "S1", "c1", 1), do.cancel(3),
			do.getCust("c1").cust("c1 tier=0 no-shows=0 open=2")),
		tc("get_customer: unknown", do.getCust("nobody").is(CodeNotFound)),
		tc("get_customer: 65 bytes", do.getCust(id65).is(CodeBadRequest)),
		tc("list_reservations: a customer's reservations, oldest first", R("A", "S1", "c1", 1), R("A", "S2", "c2", 1), R("W", "S1", "c1", 2).win(2), do.confirm(3, 0),
			do.listRes("c1").list("id=1 A/S1 c1 qty=1 held expires=10m", "id=3 W/S1 c1 qty=2 confirmed window=2d pickup-by=2d2h code=ok")),
		tc("list_reservations: unknown customer gives an empty list", do.listRes("nobody").list()),
		tc("list_reservations: empty customer", do.listRes("").is(CodeBadRequest)),
		tc("stores_with_stock: stores with available units, by store", do.stores("A").storesAre("S1=10 S2=5"),
			R("A", "S2", "c1", 5), do.stores("A").storesAre("S1=10")),
		tc("stores_with_stock: unknown SKU gives an empty list", do.stores("Q").storesAre("")),
		tc("stores_with_stock: 65-byte SKU", do.stores(id65).is(CodeBadRequest)),
		tc("list_items: all items of the shard", do.listItems("").itemsAre("A/S1 A/S2 L/S1 L/S2 W/S1 M/S1 F/S1 Z/S1")),
		tc("list_items: one SKU", do.listItems("L").itemsAre("L/S1 L/S2")),
		tc("list_items: unknown SKU", do.listItems("Q").itemsAre("")),
		tc("list_items: 65-byte SKU", do.listItems(id65).is(CodeBadRequest)),
		tc("store_items: every item of a store, by SKU, with its availability", R("A", "S1", "c1", 3),
			do.cmd(Command{Op: OpStoreItems, Store: []byte("S1")}).itemsAre("A/S1 F/S1 L/S1 M/S1 W/S1 Z/S1").
				chk(func(_ *Engine, r Result) string {
					if a := r.Items[0]; a.Available != 7 || a.Held != 3 {
						return fmt.Sprintf("A/S1: %+v, want 3 held and 7 available", a)
					}
					return ""
				}),
			do.cmd(Command{Op: OpStoreItems, Store: []byte("S2")}).itemsAre("A/S2 L/S2")),
		tc("store_items: a store never seen has none", do.cmd(Command{Op: OpStoreItems, Store: []byte("S9")}).itemsAre("")),
		tc("store_items: no store or a 65-byte one is a bad request", do.cmd(Command{Op: OpStoreItems}).is(CodeBadRequest),
			do.cmd(Command{Op: OpStoreItems, Store: []byte(id65)}).is(CodeBadRequest)),
		tc("reads: ignore idempotency keys", do.getItem("A", "S1").key("k1"), do.getItem("A", "S1").key("k1"), do.getItem("A", "S1").key(key65).item("stock=10 available=10")),

		// ---- unknown ops ----
		tc("unknown op 0", do.cmd(Command{Op: 0}).is(CodeBadRequest)),
		tc("unknown op 15", do.cmd(Command{Op: 15, Key: []byte("k")}).is(CodeBadRequest)),
		tc("unknown op 42 (read range)", do.cmd(Command{Op: 42}).is(CodeBadRequest)),
		tc("expire: a batch of only an expire is fine", do.expire().res("ok").events()),

		// ---- idempotency ----
		tc("idempotency: a retried reserve returns the first result and takes units once",
			R("A", "S1", "c1", 2).key("k1"), R("A", "S1", "c1", 2).key("k1").at("1m").res("held id=1 qty=2 expires=10m").events(),
			do.getItem("A", "S1").item("stock=10 held=2 available=8")),
		tc("idempotency: same key, different qty", R("A", "S1", "c1", 2).key("k1"), R("A", "S1", "c1", 3).key("k1").is(CodeKeyConflict)),
		tc("idempotency: same key, different op", R("A", "S1", "c1", 2).key("k1"), do.cancel(1).key("k1").is(CodeKeyConflict), do.getRes(1).res("held id=1 qty=2 expires=10m")),
		tc("idempotency: same key, different store", R("A", "S1", "c1", 2).key("k1"), R("A", "S2", "c1", 2).key("k1").is(CodeKeyConflict)),
		tc("idempotency: same key, different TTL", R("A", "S1", "c1", 2).key("k1"), R("A", "S1", "c1", 2).ttl("5m").key("k1").is(CodeKeyConflict)),
		tc("idempotency: a refusal is replayed too", R("Z", "S1", "c1", 2).key("k1").is(CodeSoldOut), do.restock("Z", "S1", 5), R("Z", "S1", "c1", 2).key("k1").is(CodeSoldOut)),
		tc("idempotency: retried confirm returns the same pickup code", R("A", "S1", "c1", 2), do.confirm(1, 0).key("kc"),
			do.confirm(1, 0).key("kc").res("confirmed id=1 qty=2 pickup-by=7d code=ok").events()),
		tc("idempotency: retried cancel", R("A", "S1", "c1", 2), do.cancel(1).key("kx"), do.cancel(1).key("kx").res("cancelled id=1 qty=2")),
		tc("idempotency: retried pickup", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)).key("kp"),
			do.pickup(1, "S1", tbPin(1)).key("kp").res("picked_up id=1 qty=2 code=ok"), do.pickup(1, "S1", tbPin(1)).is(CodeWrongState)),
		tc("idempotency: a retried wrong code is not counted twice", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", 1).key("kp").is(CodeBadCode),
			do.pickup(1, "S1", 1).key("kp").is(CodeBadCode).events(), do.getRes(1).resv("id=1 A/S1 c1 qty=2 confirmed pickup-by=7d code=ok attempts=1")),
		tc("idempotency: 64-byte key accepted", R("A", "S1", "c1", 1).key(id64), R("A", "S1", "c1", 1).key(id64).res("held id=1 qty=1 expires=10m")),
		tc("idempotency: 65-byte key is a bad request", R("A", "S1", "c1", 1).key(key65).is(CodeBadRequest), do.getItem("A", "S1").item("stock=10 available=10")),
		tcc("idempotency: keys are forgotten after the retention", func(c *Config) { c.IdempotencyRetention = time.Hour },
			R("A", "S1", "c1", 1).key("k1"), R("A", "S1", "c1", 2).key("k1").at("59m").is(CodeKeyConflict),
			R("A", "S1", "c1", 2).key("k1").at("1h").res("held id=2 qty=2 expires=1h10m")),
		tc("idempotency: operator ops with a reused key and other contents conflict", do.putItem("N", "S1", 5, 0).key("op1"),
			do.putItem("N", "S1", 9, 0).key("op1").is(CodeKeyConflict), do.getItem("N", "S1").item("stock=5 available=5")),
		tc("idempotency: retried operator op is applied once", do.restock("A", "S1", 5).key("op1"), do.restock("A", "S1", 5).key("op1"),
			do.getItem("A", "S1").item("stock=15 available=15")),

		// ---- linked groups ----
		tc("linked: a cart is held all together", R("A", "S1", "c1", 1).linked().res("held id=1 qty=1 expires=10m"), R("L", "S1", "c1", 2).res("held id=2 qty=2 expires=10m").
			events("reserved id=1 A/S1 c1 qty=1 held", "reserved id=2 L/S1 c1 qty=2 held"), do.getItem("L", "S1").item("stock=10 held=2 available=8 limit=2")),
		tc("linked: one line fails, nothing is held", R("A", "S1", "new", 1).linked().is(CodeLinkFailed), R("Z", "S1", "new", 2).is(CodeSoldOut).events(),
			do.getItem("A", "S1").item("stock=10 available=10"), do.getCust("new").is(CodeNotFound), do.listRes("new").list(),
			R("A", "S1", "c1", 1).res("held id=1 qty=1 expires=10m")),
		tc("linked: the first line fails", R("Z", "S1", "c1", 2).linked().is(CodeSoldOut), R("A", "S1", "c1", 1).is(CodeLinkFailed)),
		tc("linked: failure rolls back the customer's limit", R("L", "S1", "c1", 1), R("L", "S2", "c1", 1).linked().is(CodeLinkFailed), R("Z", "S1", "c1", 5).is(CodeSoldOut),
			R("L", "S2", "c1", 1).res("held id=2 qty=1 expires=10m"), R("L", "S2", "c1", 1).is(CodeLimitExceeded)),
		tc("linked: failure rolls back windows and member share", R("W", "S1", "vip", 2).win(1).linked().is(CodeLinkFailed), R("M", "S1", "vip", 2).linked().is(CodeLinkFailed),
			R("Z", "S1", "vip", 2).is(CodeSoldOut),
			do.getWindow("W", "S1", 1).wnd("1d..1d2h quota=2 used=0"), do.getItem("M", "S1").item("stock=4 available=4 member-share=0/2 tier>=1 until=1h"),
			do.getCust("vip").cust("vip tier=1 no-shows=0 open=0")),
		tc("linked: failure rolls back confirm, cancel, extend, reschedule", R("A", "S1", "c1", 1), R("A", "S1", "c1", 2), R("W", "S1", "c1", 1).win(1),
			do.confirm(1, 0).linked().is(CodeLinkFailed), do.extend(2, "20m").linked().is(CodeLinkFailed), do.reschedule(3, 2).linked().is(CodeLinkFailed),
			do.cancel(2).linked().is(CodeLinkFailed), R("Z", "S1", "c1", 9).is(CodeSoldOut).events(),
			do.getRes(1).res("held id=1 qty=1 expires=10m"), do.getRes(2).res("held id=2 qty=2 expires=10m"), do.getRes(3).res("held id=3 qty=1 window=1d expires=10m"),
			do.pickupByCode("S1", tbPin(1)).is(CodeBadCode), do.getItem("A", "S1").item("stock=10 held=3 available=7"),
			do.getWindow("W", "S1", 2).wnd("2d..2d2h quota=3 used=0")),
		tc("linked: failure rolls back a return", R("A", "S1", "c1", 2), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)),
			do.ret(1, false).linked().is(CodeLinkFailed), R("Z", "S1", "c1", 9).is(CodeSoldOut),
			do.getItem("A", "S1").item("stock=10 picked-up=2 available=8"), do.getRes(1).res("picked_up id=1 qty=2 code=ok")),
		tc("linked: ids are not used up by a failed group", R("A", "S1", "c1", 1).linked().is(CodeLinkFailed), R("A", "S1", "c1", 1).linked().is(CodeLinkFailed), R("Z", "S1", "c1", 2).is(CodeSoldOut),
			R("A", "S1", "c2", 1).res("held id=1 qty=1 expires=10m")),
		tc("linked: confirm and cancel together", R("A", "S1", "c1", 1), R("A", "S1", "c1", 1), do.confirm(1, 0).linked().res("confirmed id=1 qty=1 pickup-by=7d code=ok"), do.cancel(2).res("cancelled id=2 qty=1")),
		tc("linked: a chain still open at the end of the batch is a bad request", R("A", "S1", "c1", 1).linked().is(CodeBadRequest), R("A", "S1", "c1", 1).linked().is(CodeBadRequest).events(),
			do.getItem("A", "S1").batch().item("stock=10 available=10")),
		tc("linked: exactly MaxLinked commands", tbCat([]tbStep{do.putItem("A", "S1", 100, 0)}, tbCart(MaxLinked, OK, false),
			[]tbStep{do.getItem("A", "S1").item("stock=100 held=64 available=36")})...),
		tc("linked: more than MaxLinked is too many", tbCat([]tbStep{do.putItem("A", "S1", 100, 0)}, tbCart(MaxLinked+1, CodeTooMany, false),
			[]tbStep{do.getItem("A", "S1").item("stock=100 available=100")})...),
		tc("linked: pickup is not linkable", R("A", "S1", "c1", 1), do.confirm(1, 0), R("A", "S1", "c1", 1).linked().is(CodeBadRequest), do.pickup(1, "S1", tbPin(1)).is(CodeBadRequest),
			do.getRes(1).res("confirmed id=1 qty=1 pickup-by=7d code=ok"), do.getItem("A", "S1").item("stock=10 confirmed=1 available=9")),
		tc("linked: operator ops are not linkable", R("A", "S1", "c1", 1).linked().is(CodeBadRequest), do.restock("A", "S1", 1).linked().is(CodeBadRequest),
			do.getItem("A", "S1").is(CodeBadRequest), do.getItem("A", "S1").item("stock=10 available=10")),
		tc("linked: a chain followed by a lone command in the same batch", R("A", "S1", "c1", 1).linked().is(CodeLinkFailed), R("Z", "S1", "c1", 2).is(CodeSoldOut),
			R("A", "S1", "c1", 1).withSame().res("held id=1 qty=1 expires=10m")),
		tc("linked: a retried cart returns the first results", R("A", "S1", "c1", 1).key("l1").linked(), R("L", "S1", "c1", 2).key("l2"),
			R("A", "S1", "c1", 1).key("l1").linked().res("held id=1 qty=1 expires=10m"), R("L", "S1", "c1", 2).key("l2").res("held id=2 qty=2 expires=10m").events(),
			do.getItem("A", "S1").item("stock=10 held=1 available=9")),
		tc("linked: a retried failed cart fails the same way", R("A", "S1", "c1", 1).key("l1").linked().is(CodeLinkFailed), R("Z", "S1", "c1", 2).key("l2").is(CodeSoldOut),
			do.restock("Z", "S1", 5),
			R("A", "S1", "c1", 1).key("l1").linked().is(CodeLinkFailed), R("Z", "S1", "c1", 2).key("l2").is(CodeSoldOut)),
		tc("linked: a key conflict inside a group fails the group", R("A", "S1", "c1", 1).key("k1"),
			R("A", "S1", "c1", 1).linked().is(CodeLinkFailed), R("A", "S1", "c1", 5).key("k1").is(CodeKeyConflict),
			do.getItem("A", "S1").item("stock=10 held=1 available=9")),
		tc("linked: an oversize key inside a group fails the group", R("A", "S1", "c1", 1).linked().is(CodeLinkFailed), R("A", "S1", "c1", 1).key(key65).is(CodeBadRequest),
			do.getItem("A", "S1").item("stock=10 available=10")),
		tc("linked: a replayed refusal fails the group (no partial cart on retry)", R("Z", "S1", "c1", 2).key("z").linked().is(CodeSoldOut), R("A", "S1", "c1", 1).is(CodeLinkFailed),
			do.restock("Z", "S1", 5),
			R("Z", "S1", "c1", 2).key("z").linked().is(CodeSoldOut), R("A", "S1", "c1", 1).is(CodeLinkFailed), do.getItem("A", "S1").item("stock=10 available=10")),
		tc("linked: the same key twice in a group takes units once", R("A", "S1", "c1", 2).key("d").linked().res("held id=1 qty=2 expires=10m"),
			R("A", "S1", "c1", 2).key("d").res("held id=1 qty=2 expires=10m"), do.getItem("A", "S1").item("stock=10 held=2 available=8")),
	}
}

// withCmd edits the step's command directly (for values the builders do not make).
func (s tbStep) withCmd(f func(*Command)) tbStep {
	f(&s.cmd)
	return s
}

// TestPickupAnotherStoresCode: at a counter, a pickup by code alone with a
// real code of another store gets exactly the answer an unknown code gets
// (bad_code, no fields, no events, nothing counted against the
// reservation), so the answer cannot tell a guesser the code is real; the
// engine's refusal counts keep the reason for the operators.
func TestPickupAnotherStoresCode(t *testing.T) {
	e := tbNewEngine(t, nil)
	apply := func(cmds ...tbStep) ([]Result, []Event) {
		t.Helper()
		batch := make([]Command, len(cmds))
		for i, s := range cmds {
			batch[i] = s.cmd
		}
		res, ev := e.Apply(tbAbs("0"), batch)
		return slices.Clone(res), slices.Clone(ev)
	}
	apply(do.reserve("A", "S1", "c1", 1))
	apply(do.confirm(1, 0))
	before := e.Stats()
	other, otherEv := apply(do.pickupByCode("S2", tbPin(1)))
	unknown, unknownEv := apply(do.pickupByCode("S2", (tbPin(1)+1)%1e12))
	if !reflect.DeepEqual(other[0], Result{Code: CodeBadCode}) || !reflect.DeepEqual(other[0], unknown[0]) ||
		len(otherEv) != 0 || len(unknownEv) != 0 {
		t.Fatalf("another store's code: %+v %v; an unknown code: %+v %v; want the same bad_code, no events",
			other[0], otherEv, unknown[0], unknownEv)
	}
	read := do.getRes(1).cmd
	got := e.Read(&read)
	if got.Reservation == nil || got.Reservation.Attempts != 0 || got.Reservation.Locked {
		t.Fatalf("the reservation changed: %+v", got.Reservation)
	}
	after := e.Stats()
	if d := after.Refusals[CodeWrongStore] - before.Refusals[CodeWrongStore]; d != 1 {
		t.Errorf("wrong_store refusals counted %d, want 1", d)
	}
	if d := after.Refusals[CodeBadCode] - before.Refusals[CodeBadCode]; d != 1 {
		t.Errorf("bad_code refusals counted %d, want 1 (the unknown code)", d)
	}
}

// TestEngineStats: the running counts for metrics agree with what happened.
func TestEngineStats(t *testing.T) {
	e := tbNewEngine(t, func(c *Config) { c.IdempotencyRetention = time.Hour })
	run := func(at string, cmds ...tbStep) {
		t.Helper()
		batch := make([]Command, len(cmds))
		for i, s := range cmds {
			batch[i] = s.cmd
		}
		res, _ := e.Apply(tbAbs(at), batch)
		for i, s := range cmds {
			if res[i].Code != s.code {
				t.Fatalf("%v at %s: %v, want %v", s.cmd.Op, at, res[i].Code, s.code)
			}
		}
	}
	run("0", do.reserve("A", "S1", "c1", 1).key("k1"), do.reserve("A", "S1", "c2", 1).key("k2"), do.reserve("Z", "S1", "c3", 5).is(CodeSoldOut),
		do.confirm(2, 0), do.reserve("A", "S1", "c1", 1).linked().key("k3"), do.reserve("L", "S1", "c1", 1).key("k4"))
	st := e.Stats()
	want := Stats{Items: 8, Customers: 6, ActiveHolds: 3, AwaitingPickup: 1, Reservations: 4, IdempotencyKeys: 4}
	want.Outcomes[StateHeld], want.Outcomes[StateConfirmed] = 4, 1
	want.Refusals[CodeSoldOut] = 1
	if st != want {
		t.Fatalf("stats\n got %+v\nwant %+v", st, want)
	}
	run("1h") // every hold expired, every key aged out
	st = e.Stats()
	want.ActiveHolds, want.Outcomes[StateExpired], want.IdempotencyKeys = 0, 3, 0
	if st != want {
		t.Fatalf("stats after an hour\n got %+v\nwant %+v", st, want)
	}
}
