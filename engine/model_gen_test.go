// What this file provides: the random batches that the model, idempotency,
// determinism and fuzz tests feed the engine (the harness that applies
// them is model_harness_test.go).
//
// How: refGen draws every command of the engine over a small contended
// universe (3 SKUs x 3 stores, 8 customers, pickup windows on a 30-minute
// grid near the current time), picking reservation ids by the state the
// model says they are in so that every path is reached: confirms of holds,
// pickups of confirmed orders with the right and wrong code, by code alone
// and at the wrong store, returns of picked-up orders. It adds fresh
// idempotency keys, replays of earlier keyed commands and groups (same and
// different contents), duplicate keys inside a group, linked groups of 2-4
// storefront lines (carts), malformed commands and unknown ops, and moves
// time by random steps: none, seconds, past TTLs, past pickup deadlines and
// retentions, days, sometimes backwards, and sometimes exactly onto (or
// 1ns before) a deadline, a retention's end, a sale window's edge or a
// member share's cutoff. Waitlist commands (joins, leaves, reads of a line)
// mostly name items without pickup windows that are sold out, and a rush
// now and then reserves every unit of such an item, so that lines form and
// their heads are promoted. Everything comes from one seed.
package engine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

const refSlot = int64(30 * time.Minute) // pickup windows sit on this grid

var (
	refSKUs   = []string{"A", "B", "4710088410014"}
	refStores = []string{"S1", "S2", "S3"}
	refCusts  = []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	refLong   = string(bytes.Repeat([]byte("x"), MaxIDBytes+1))
)

type refGen struct {
	r      *rand.Rand
	m      *refModel
	now    int64       // last time sent (may be behind the model's clock)
	keyN   int         // fresh keys issued
	ids    []uint64    // every reservation id issued, in order
	lastID uint64      // highest id seen (ids grow)
	keyed  []Command   // recent keyed standalone commands, for replays
	groups [][]Command // recent keyed groups, for replays
}

// refRandomConfig draws a configuration: short enough periods that holds
// expire, pickups lapse and records age out within a run; sometimes the
// defaults; sometimes a per-customer rate limit.
func refRandomConfig(r *rand.Rand) Config {
	pick := func(ds ...time.Duration) time.Duration { return ds[r.IntN(len(ds))] }
	cfg := Config{
		ShardID:              uint16(r.IntN(3)),
		PickupSecret:         []byte(fmt.Sprintf("secret-%d", r.IntN(100))),
		DefaultHoldTTL:       pick(0, 2*time.Minute, 5*time.Minute),
		MaxHold:              pick(0, 5*time.Minute, 20*time.Minute),
		PickupPeriod:         pick(time.Hour, 3*time.Hour, 8*time.Hour),
		PickupGrace:          pick(0, 0, 15*time.Minute),
		IdempotencyRetention: pick(20*time.Minute, time.Hour, 3*time.Hour),
		FinishedRetention:    pick(30*time.Minute, 2*time.Hour, 6*time.Hour),
		MaxPickupAttempts:    r.IntN(4),
		NoShowLimit:          []int{-1, 0, 2, 4}[r.IntN(4)],
		NoShowPeriod:         pick(0, 12*time.Hour, 3*24*time.Hour),
	}
	if r.IntN(8) == 0 { // the defaults (7-day pickups, 24 h keys, 30-day records)
		cfg.PickupPeriod, cfg.IdempotencyRetention, cfg.FinishedRetention = 0, 0, 0
	}
	if r.IntN(4) == 0 {
		cfg.RatePerSecond = []float64{0.2, 1, 3, 1e10}[r.IntN(4)]
		cfg.RateBurst = r.IntN(4)
	}
	return cfg
}

func newRefGen(r *rand.Rand, m *refModel, now int64) *refGen { return &refGen{r: r, m: m, now: now} }

func (g *refGen) chance(pct int) bool { return g.r.IntN(100) < pct }

func (g *refGen) oneOf(s []string) []byte { return []byte(s[g.r.IntN(len(s))]) }

// id draws a SKU, store or customer id; now and then a malformed one.
func (g *refGen) idOf(s []string) []byte {
	switch g.r.IntN(100) {
	case 0:
		return nil
	case 1:
		return []byte(refLong)
	case 2:
		return []byte("Z")
	}
	return g.oneOf(s)
}

func (g *refGen) key() []byte {
	if g.chance(1) {
		return []byte(refLong) // over MaxKeyBytes
	}
	g.keyN++
	return []byte(fmt.Sprintf("k%d", g.keyN))
}

// clock is the time the next batch runs at (the engine never goes back).
func (g *refGen) clock() int64 { return max(g.now, g.m.now) }

func (g *refGen) advance() int64 {
	d := int64(0)
	switch p := g.r.IntN(10000); {
	case p < 1500:
	case p < 7000:
		d = g.r.Int64N(int64(3 * time.Second))
	case p < 8900:
		d = g.r.Int64N(int64(time.Minute))
	case p < 9250:
		d = g.r.Int64N(int64(20 * time.Minute)) // past TTLs
	case p < 9320:
		d = g.r.Int64N(int64(6 * time.Hour)) // past pickup deadlines and retentions
	case p < 9340:
		d = g.r.Int64N(int64(3 * 24 * time.Hour))
	case p < 9345:
		d = g.r.Int64N(int64(40 * 24 * time.Hour)) // past the default retentions
	case p < 9370:
		d = -g.r.Int64N(int64(time.Hour)) // backwards: the engine keeps its clock
	default:
		if t, ok := g.boundary(); ok {
			g.now = t
			return t
		}
	}
	g.now = g.clock() + d
	return g.now
}

// boundary returns a time where something changes, exactly or 1ns before:
// a hold's expiry, a pickup deadline, a record's or key's retention, a sale
// window's opening or closing, a member share's cutoff, a window's end.
func (g *refGen) boundary() (int64, bool) {
	var ts []int64
	for i := 0; i < 8 && len(g.ids) > 0; i++ {
		if r := g.m.res[g.ids[len(g.ids)-1-g.r.IntN(min(len(g.ids), 100))]]; r != nil {
			ts = append(ts, r.expiresAt, r.updatedAt+int64(g.m.cfg.FinishedRetention))
		}
	}
	for i := 0; i < 4 && len(g.keyed) > 0; i++ {
		if k, ok := g.m.keys[string(g.keyed[len(g.keyed)-1-g.r.IntN(len(g.keyed))].Key)]; ok {
			ts = append(ts, k.at+int64(g.m.cfg.IdempotencyRetention))
		}
	}
	for _, id := range refCusts {
		if cu := g.m.custs[id]; cu != nil {
			for _, t := range cu.noShows {
				ts = append(ts, t+int64(g.m.cfg.NoShowPeriod))
			}
		}
	}
	for _, k := range g.m.itemOrder {
		it := g.m.items[k]
		ts = append(ts, it.opensAt, it.closesAt, it.memberCutoff)
		for _, w := range it.windows {
			ts = append(ts, w.end)
		}
	}
	var later []int64
	for _, t := range ts {
		if t > g.clock() {
			later = append(later, t)
		}
	}
	if len(later) == 0 {
		return 0, false
	}
	sort.Slice(later, func(i, j int) bool { return later[i] < later[j] })
	t := later[g.r.IntN(len(later))]
	if g.chance(80) { // mostly one of the next few: big jumps have their own odds
		t = later[g.r.IntN(min(3, len(later)))]
	}
	if g.chance(30) {
		t--
	}
	return t, true
}

// windowStart is a start on the grid near now (some in the past).
func (g *refGen) windowStart() int64 {
	t := g.clock()
	return t - t%refSlot + refSlot*int64(g.r.IntN(9)-2)
}

func (g *refGen) itemRef() (sku, store []byte) { return g.idOf(refSKUs), g.idOf(refStores) }

func (g *refGen) modelItem(sku, store []byte) *refItem {
	return g.m.items[refItemKey{string(sku), string(store)}]
}

// windowFor picks a pickup window for an item: mostly one it has when it
// has some (it is then reserved into one), else mostly none; now and then a
// random grid time (often unknown), a negative one, or none for an item with
// windows (window_required).
func (g *refGen) windowFor(it *refItem) int64 {
	has := it != nil && len(it.windows) > 0
	p := g.r.IntN(100)
	switch {
	case has && p < 88:
		// mostly one still open: the item keeps its past windows
		ws := it.windows
		for i := range ws {
			if ws[i].end > g.clock() && g.chance(80) {
				ws = ws[i:]
				break
			}
		}
		return ws[g.r.IntN(len(ws))].start
	case has && p < 94, !has && p < 10:
		return g.windowStart()
	case has && p < 95, !has && p < 11:
		return -1
	}
	return 0
}

// pick returns a reservation id, preferably one the model holds in one of the states.
func (g *refGen) pick(want ...State) uint64 {
	if len(g.ids) == 0 || g.chance(2) {
		return []uint64{0, 1, MakeID(g.m.cfg.ShardID, 1<<40), g.r.Uint64()}[g.r.IntN(4)]
	}
	for try := 0; try < 16; try++ {
		id := g.ids[len(g.ids)-1-g.r.IntN(min(len(g.ids), 200))]
		if r := g.m.res[id]; r != nil {
			for _, s := range want {
				if r.state == s {
					return id
				}
			}
		}
	}
	return g.ids[len(g.ids)-1-g.r.IntN(min(len(g.ids), 400))]
}

func (g *refGen) qty() int64 {
	switch p := g.r.IntN(100); {
	case p < 75:
		return 1
	case p < 91:
		return 2
	case p < 97:
		return 3
	case p < 98:
		return 20
	case p < 99:
		return []int64{0, -1, MaxQty + 1}[g.r.IntN(3)]
	}
	return 4
}

func (g *refGen) ttl() time.Duration {
	maxHold := g.m.cfg.MaxHold
	switch p := g.r.IntN(100); {
	case p < 50:
		return 0
	case p < 98:
		return time.Duration(1 + g.r.Int64N(int64(maxHold)))
	case p < 99:
		return maxHold + 1
	}
	return -1
}

func (g *refGen) reserve() Command {
	sku, store := g.itemRef()
	return Command{Op: OpReserve, SKU: sku, Store: store, Customer: g.idOf(refCusts), Qty: g.qty(),
		Window: g.windowFor(g.modelItem(sku, store)), TTL: g.ttl()}
}

func (g *refGen) confirm() Command {
	c := Command{Op: OpConfirm, ID: g.pick(StateHeld)}
	switch p := g.r.IntN(100); {
	case p < 60:
	case p < 90:
		if r := g.m.res[c.ID]; r != nil {
			c.Qty = 1 + g.r.Int64N(r.qty)
		}
	case p < 95:
		if r := g.m.res[c.ID]; r != nil {
			c.Qty = r.qty + 1
		}
	default:
		c.Qty = -1
	}
	return c
}

func (g *refGen) extend() Command {
	c := Command{Op: OpExtend, ID: g.pick(StateHeld)}
	switch p := g.r.IntN(100); {
	case p < 80:
		c.TTL = time.Duration(1 + g.r.Int64N(int64(40*time.Minute)))
	case p < 85:
		c.TTL = 0
	case p < 90:
		c.TTL = -1
	case p < 95:
		c.TTL = math.MaxInt64
	default:
		c.TTL = time.Duration(math.MaxInt64 - g.r.Int64N(int64(time.Hour)))
	}
	return c
}

func (g *refGen) pickup() Command {
	c := Command{Op: OpPickup, ID: g.pick(StateConfirmed)}
	r := g.m.res[c.ID]
	c.Store = g.oneOf(refStores)
	if r != nil {
		c.Store, c.PickupCode = []byte(r.store), r.code
	}
	other := []byte(refStores[(g.r.IntN(len(refStores)-1)+1+indexOf(refStores, string(c.Store)))%len(refStores)])
	switch p := g.r.IntN(100); {
	case p < 40: // by id, right code
	case p < 55: // by id, wrong code
		c.PickupCode = (c.PickupCode + 1 + g.r.Uint64N(1000)) % 1_000_000_000_000
	case p < 70: // by code alone
		c.ID = 0
	case p < 75: // by code alone at another store
		c.ID, c.Store = 0, other
	case p < 80: // by id at another store
		c.Store = other
	case p < 85: // a random code alone
		c.ID, c.PickupCode = 0, g.r.Uint64N(1_000_000_000_000)
	case p < 88:
		c.PickupCode = 1_000_000_000_000 + g.r.Uint64N(10)
	case p < 90:
		c.Store = nil
	default: // by id, right code, whatever the state
		c.ID = g.pick()
		if r := g.m.res[c.ID]; r != nil {
			c.Store, c.PickupCode = []byte(r.store), r.code
		}
	}
	return c
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return 0
}

func (g *refGen) reschedule() Command {
	c := Command{Op: OpReschedule, ID: g.pick(StateHeld, StateConfirmed)}
	var it *refItem
	if r := g.m.res[c.ID]; r != nil {
		it = g.m.items[refItemKey{r.sku, r.store}]
	}
	for c.Window == 0 && g.chance(90) {
		c.Window = g.windowFor(it)
	}
	return c
}

func (g *refGen) saleWindow() (opens, closes int64) {
	t := g.clock()
	switch p := g.r.IntN(100); {
	case p < 50:
		return 0, 0
	case p < 70:
		return t + g.r.Int64N(int64(20*time.Minute)) - int64(10*time.Minute), 0
	case p < 85:
		return 0, t + g.r.Int64N(int64(4*time.Hour)) - int64(5*time.Minute)
	case p < 97:
		o := t + g.r.Int64N(int64(20*time.Minute)) - int64(10*time.Minute)
		return o, o + 1 + g.r.Int64N(int64(3*time.Hour))
	}
	return t, t - 1 // closes before it opens
}

func (g *refGen) memberShare() (tier uint8, units, cutoff int64) {
	switch p := g.r.IntN(100); {
	case p < 35:
		return 0, 0, 0
	case p < 97:
		return uint8(1 + g.r.IntN(3)), 1 + g.r.Int64N(8), g.clock() + g.r.Int64N(int64(2*time.Hour))
	case p < 98:
		return MaxTier + 1, 1, g.clock()
	}
	return 0, 3, g.clock() // a share without a tier
}

func (g *refGen) putItem() Command {
	sku, store := g.itemRef()
	c := Command{Op: OpPutItem, SKU: sku, Store: store, Stock: g.r.Int64N(26)}
	if it := g.modelItem(sku, store); it != nil && g.chance(60) {
		c.Stock = max(0, it.stock+g.r.Int64N(7)-2) // near what it has, so that it mostly passes
	}
	if g.chance(2) {
		c.Limit = 1 + g.r.Int64N(4) // refused: the limit is the SKU's (set_limit)
	}
	if g.chance(30) {
		c.OpensAt, c.ClosesAt = g.saleWindow()
	}
	if g.chance(30) {
		c.MemberTier, c.MemberUnits, c.MemberCutoff = g.memberShare()
	}
	if g.chance(2) {
		c.Stock = -1
	}
	return c
}

// updateItem names a random set of settings (none: refused), mostly with
// values that pass, now and then a field of a setting it does not name or
// a reason over its bound (both refused).
func (g *refGen) updateItem() Command {
	sku, store := g.itemRef()
	c := Command{Op: OpUpdateItem, SKU: sku, Store: store, Set: ItemSet(g.r.IntN(16))}
	if c.Set&SetStock != 0 {
		c.Stock = g.r.Int64N(26)
		if it := g.modelItem(sku, store); it != nil && g.chance(60) {
			c.Stock = max(0, it.stock+g.r.Int64N(7)-2)
		}
	}
	if c.Set&SetSaleWindow != 0 && g.chance(70) {
		c.OpensAt, c.ClosesAt = g.saleWindow()
		if c.Set&SetOpensAt == 0 { // only the ends it names
			c.OpensAt = 0
		}
		if c.Set&SetClosesAt == 0 {
			c.ClosesAt = 0
		}
	}
	if c.Set&SetMemberShare != 0 {
		c.MemberTier, c.MemberUnits, c.MemberCutoff = g.memberShare()
	}
	if g.chance(2) {
		c.Stock, c.Set = 1+c.Stock, c.Set&^SetStock // a stock it does not name: refused
	}
	if g.chance(20) {
		c.Reason = []byte("count")
	}
	if g.chance(1) {
		c.Reason = make([]byte, MaxReasonBytes+1)
	}
	return c
}

func (g *refGen) putWindow() Command {
	sku, store := g.itemRef()
	start := g.windowStart()
	c := Command{Op: OpPutWindow, SKU: sku, Store: store, Window: start,
		WindowEnd: start + refSlot*int64(1+g.r.IntN(2)), Quota: g.r.Int64N(7)}
	if it := g.modelItem(sku, store); it != nil && len(it.windows) > 0 && g.chance(10) {
		// touching a neighbour: starting at its end, or 1ns before it
		w := it.windows[g.r.IntN(len(it.windows))]
		c.Window = w.end - g.r.Int64N(2)
		c.WindowEnd = c.Window + refSlot
		if g.chance(50) {
			c.Window, c.WindowEnd = w.start-refSlot, w.start+g.r.Int64N(2)
		}
	}
	switch g.r.IntN(30) {
	case 0:
		c.WindowEnd = start + g.r.Int64N(3*refSlot) - refSlot/2 // off the grid, maybe before the start
	case 1:
		c.Quota = -1
	case 2:
		c.Window = 0
	}
	return c
}

// operator draws one operator command.
func (g *refGen) operator() Command {
	sku, store := g.itemRef()
	switch g.r.IntN(17) {
	case 0:
		return g.putItem()
	case 1:
		return g.updateItem()
	case 2, 3, 13:
		return g.putWindow()
	case 4:
		q := 1 + g.r.Int64N(5)
		if g.chance(4) {
			q = []int64{0, MaxQty + 1, MaxStock}[g.r.IntN(3)]
		}
		return Command{Op: OpRestock, SKU: sku, Store: store, Qty: q}
	case 5:
		q := g.r.Int64N(11) - 5
		if g.chance(3) {
			q = []int64{MaxStock + 1, -MaxStock - 1, MaxStock}[g.r.IntN(3)]
		}
		return Command{Op: OpAdjustStock, SKU: sku, Store: store, Qty: q}
	case 6:
		o, c := g.saleWindow()
		return Command{Op: OpSetSaleWindow, SKU: sku, Store: store, OpensAt: o, ClosesAt: c}
	case 7:
		l := g.r.Int64N(5)
		if g.chance(3) {
			l = -1
		}
		c := Command{Op: OpSetLimit, SKU: sku, Limit: l}
		if g.chance(3) {
			c.Store = store // refused: the limit is the SKU's, at every store
		}
		return c
	case 8:
		t, u, c := g.memberShare()
		return Command{Op: OpSetMemberShare, SKU: sku, Store: store, MemberTier: t, MemberUnits: u, MemberCutoff: c}
	case 9:
		if g.chance(40) {
			return Command{Op: OpBlock, Customer: g.idOf(refCusts)}
		}
		return Command{Op: OpUnblock, Customer: g.idOf(refCusts)}
	case 10, 14:
		return Command{Op: OpUnblock, Customer: g.idOf(refCusts)}
	case 15, 16:
		if g.chance(30) {
			return g.putStore()
		}
		return g.putStoreWindow()
	case 11:
		t := uint8(g.r.IntN(4))
		if g.chance(3) {
			t = MaxTier + 1
		}
		return Command{Op: OpSetTier, Customer: g.idOf(refCusts), Tier: t}
	}
	return Command{Op: OpUnlock, ID: g.pick(StateConfirmed)}
}

func (g *refGen) read() Command {
	sku, store := g.itemRef()
	switch g.r.IntN(8) {
	case 7:
		return Command{Op: OpGetStore, Store: store}
	case 0:
		return Command{Op: OpGetItem, SKU: sku, Store: store}
	case 1:
		return Command{Op: OpGetWindow, SKU: sku, Store: store, Window: g.windowFor(g.modelItem(sku, store))}
	case 2:
		return Command{Op: OpGetReservation, ID: g.pick()}
	case 3:
		return Command{Op: OpGetCustomer, Customer: g.idOf(refCusts)}
	case 4:
		return Command{Op: OpListReservations, Customer: g.idOf(refCusts)}
	case 5:
		return Command{Op: OpStoresWithStock, SKU: sku}
	}
	if g.chance(50) {
		sku = nil
	}
	return Command{Op: OpListItems, SKU: sku}
}

// storefront draws one command of the reservation path (linkable).
func (g *refGen) storefront() Command {
	switch p := g.r.IntN(100); {
	case p < 45:
		return g.reserve()
	case p < 65:
		return g.confirm()
	case p < 72:
		return g.extend()
	case p < 82:
		return Command{Op: OpCancel, ID: g.pick(StateHeld, StateConfirmed)}
	case p < 90:
		return g.reschedule()
	}
	return Command{Op: OpReturn, ID: g.pick(StatePickedUp), Restock: g.chance(50)}
}

// waitlist draws a join, a leave or a read of a sold-out item's line
// (docs/adr/0105); now and then a malformed one.
func (g *refGen) waitlist() Command {
	if g.chance(30) {
		if c, ok := g.rush(); ok {
			return c
		}
	}
	sku, store := g.lineItem()
	c := Command{SKU: sku, Store: store, Customer: g.idOf(refCusts)}
	switch p := g.r.IntN(100); {
	case p < 55:
		c.Op, c.Qty = OpJoinWaitlist, g.qty()
		if g.chance(2) {
			c.Qty = MaxWaitlistQty + 1
		}
		switch q := g.r.IntN(100); {
		case q < 40: // the default: an hour
		case q < 97:
			c.TTL = time.Duration(1 + g.r.Int64N(int64(30*time.Minute)))
		case q < 98:
			c.TTL = MaxWaitlistTTL + 1
		case q < 99:
			c.TTL = -1
		default:
			c.Window = g.windowStart()
		}
	case p < 80:
		c.Op = OpLeaveWaitlist
	default:
		c.Op = OpGetWaitlist
		if g.chance(20) {
			c.Customer = nil
		}
	}
	return c
}

// rush is a reserve of every available unit of an item without pickup
// windows (a flash sale's first wave): it sells the item out, so that
// waitlist joins are accepted.
func (g *refGen) rush() (Command, bool) {
	var keys []refItemKey
	for k, it := range g.m.items {
		if len(it.windows) == 0 && it.stock-it.promised() > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return Command{}, false
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].sku < keys[j].sku || keys[i].sku == keys[j].sku && keys[i].store < keys[j].store
	})
	k := keys[g.r.IntN(len(keys))]
	it := g.m.items[k]
	return Command{Op: OpReserve, SKU: []byte(k.sku), Store: []byte(k.store), Customer: g.oneOf(refCusts),
		Qty: min(it.stock-it.promised(), MaxQty)}, true
}

// lineItem draws an item for a waitlist command: mostly one the model says
// has no pickup windows and is sold out or has a line (where a join is
// accepted), else any.
func (g *refGen) lineItem() (sku, store []byte) {
	if g.chance(80) {
		var keys []refItemKey
		for k, it := range g.m.items {
			if len(it.windows) == 0 && (it.stock-it.promised() <= 0 || len(g.m.lines[k]) > 0) {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			sort.Slice(keys, func(i, j int) bool { // map order is random: keep runs replayable
				return keys[i].sku < keys[j].sku || keys[i].sku == keys[j].sku && keys[i].store < keys[j].store
			})
			k := keys[g.r.IntN(len(keys))]
			return []byte(k.sku), []byte(k.store)
		}
	}
	return g.itemRef()
}

// command draws one standalone command.
func (g *refGen) command() Command {
	var c Command
	switch p := g.r.IntN(1000); {
	case p < 500:
		c = g.storefront()
	case p < 520:
		c = g.coupon() // model_coupons_test.go
	case p < 560:
		c = g.waitlist()
	case p < 680:
		c = g.pickup()
	case p < 800:
		c = g.operator()
	case p < 815:
		c = g.review() // mark rules and releases (model_review_test.go), out of the reads' share
	case p < 900:
		return g.read()
	case p < 910:
		return Command{Op: OpExpire}
	case p < 913:
		return Command{Op: []Op{0, 9, 15, 13, 31, 42, 200}[g.r.IntN(7)], Key: g.maybeKey()}
	default:
		return g.replay()
	}
	if g.chance(35) {
		c.Key = g.key()
		if len(c.Key) <= MaxKeyBytes {
			g.remember(c)
		}
	}
	return c
}

func (g *refGen) maybeKey() []byte {
	if g.chance(30) {
		return g.key()
	}
	return nil
}

func (g *refGen) remember(c Command) {
	g.keyed = append(g.keyed, refCopyCmd(&c))
	if len(g.keyed) > 256 {
		g.keyed = g.keyed[128:]
	}
}

// replay resends an earlier keyed command: mostly the same, sometimes with
// different contents (a key conflict while the key is kept).
func (g *refGen) replay() Command {
	if len(g.keyed) == 0 {
		return g.reserve()
	}
	c := refCopyCmd(&g.keyed[len(g.keyed)-1-g.r.IntN(min(len(g.keyed), 64))])
	if g.chance(30) {
		refAlter(&c)
	}
	return c
}

// refAlter changes one field that makes the request of c's op.
func refAlter(c *Command) {
	switch c.Op {
	case OpReserve, OpRestock, OpAdjustStock, OpConfirm, OpJoinWaitlist:
		c.Qty++
	case OpLeaveWaitlist:
		c.Customer = append(c.Customer, 'x')
	case OpExtend:
		c.TTL += time.Second
	case OpPickup:
		c.PickupCode ^= 1
	case OpReschedule:
		c.Window += refSlot
	case OpReturn:
		c.Restock = !c.Restock
	case OpPutItem:
		c.Stock++
	case OpUpdateItem:
		c.Set ^= SetSaleWindow
	case OpPutWindow:
		c.Quota++
	case OpSetSaleWindow:
		c.ClosesAt++
	case OpSetLimit:
		c.Limit++
	case OpPutStore:
		c.Zone = append(c.Zone, 'x')
	case OpPutStoreWindow:
		c.Quota++
	case OpSetMemberShare:
		c.MemberUnits++
	case OpSetTier:
		c.Tier ^= 1
	case OpBlock:
		c.Op = OpUnblock
	case OpUnblock:
		c.Op = OpBlock
	default:
		c.ID++
	}
}

// group draws a linked group of n lines: a cart of reserves in one store,
// or mixed storefront lines; sometimes keyed, with a duplicate key, with a
// line that may not be linked.
func (g *refGen) group(n int) []Command {
	out := make([]Command, n)
	cust, store := g.idOf(refCusts), g.oneOf(refStores)
	cart := g.chance(60)
	for i := range out {
		if cart {
			sku := g.oneOf(refSKUs)
			out[i] = Command{Op: OpReserve, SKU: sku, Store: store, Customer: cust, Qty: 1 + g.r.Int64N(2),
				Window: g.windowFor(g.modelItem(sku, store)), TTL: g.ttl()}
			if g.chance(3) {
				out[i].Qty = 30
			}
		} else {
			out[i] = g.storefront()
		}
	}
	if g.chance(3) {
		out[g.r.IntN(n)] = []Command{g.pickup(), g.putItem(), g.read(), {Op: OpExpire}}[g.r.IntN(4)]
	}
	if g.chance(50) {
		for i := range out {
			out[i].Key = g.key()
		}
		if g.chance(6) { // the same key twice in the group
			i, j := g.r.IntN(n-1), 0
			j = i + 1 + g.r.IntN(n-1-i)
			out[j] = refCopyCmd(&out[i])
			if g.chance(50) {
				refAlter(&out[j])
			}
		}
		cp := make([]Command, n)
		for i := range out {
			cp[i] = refCopyCmd(&out[i])
		}
		g.groups = append(g.groups, cp)
		if len(g.groups) > 64 {
			g.groups = g.groups[32:]
		}
	}
	for i := range out {
		out[i].Linked = i < n-1
	}
	return out
}

// groupReplay resends an earlier keyed group, sometimes with one line changed.
func (g *refGen) groupReplay() []Command {
	src := g.groups[len(g.groups)-1-g.r.IntN(min(len(g.groups), 16))]
	out := make([]Command, len(src))
	for i := range src {
		out[i] = refCopyCmd(&src[i])
		out[i].Linked = i < len(src)-1
	}
	if g.chance(25) {
		refAlter(&out[g.r.IntN(len(out))])
	}
	return out
}

// next returns the next batch and its time.
func (g *refGen) next() (int64, []Command) {
	now := g.advance()
	n := 1 + g.r.IntN(20)
	cmds := make([]Command, 0, n)
	for len(cmds) < n {
		switch p := g.r.IntN(1000); {
		case p < 70 && n-len(cmds) >= 2:
			cmds = append(cmds, g.group(min(2+g.r.IntN(3), n-len(cmds)))...)
		case p < 85 && len(g.groups) > 0 && n-len(cmds) >= 4:
			cmds = append(cmds, g.groupReplay()...)
		default:
			cmds = append(cmds, g.command())
		}
	}
	if last := &cmds[len(cmds)-1]; g.chance(1) && refLinkable(last.Op) {
		last.Linked = true // a chain left open at the end of the batch
	}
	if g.r.IntN(2000) == 0 { // a chain over MaxLinked
		for i := 0; i <= MaxLinked; i++ {
			c := g.reserve()
			c.Linked = i < MaxLinked
			cmds = append(cmds, c)
		}
	}
	return now, cmds
}

// observe learns the ids the batch issued.
func (g *refGen) observe(results []Result) {
	for _, r := range results {
		if r.Code == OK && r.ID != 0 && SeqOfID(r.ID) > SeqOfID(g.lastID) {
			g.lastID = r.ID
			g.ids = append(g.ids, r.ID)
		}
	}
}

// setup is the first batch: most items with stock, limits and windows.
func (g *refGen) setup() []Command {
	var cmds []Command
	for _, sku := range refSKUs {
		for _, store := range refStores {
			if g.chance(15) {
				continue
			}
			c := Command{Op: OpPutItem, SKU: []byte(sku), Store: []byte(store), Stock: 2 + g.r.Int64N(12)}
			cmds = append(cmds, c)
			if g.chance(30) {
				continue // an item without windows: reserved without one
			}
			for i := 0; i < 3; i++ {
				w := g.windowStart()
				cmds = append(cmds, Command{Op: OpPutWindow, SKU: []byte(sku), Store: []byte(store), Window: w,
					WindowEnd: w + refSlot, Quota: 1 + g.r.Int64N(5)})
			}
		}
	}
	for _, sku := range refSKUs {
		if g.chance(40) {
			cmds = append(cmds, Command{Op: OpSetLimit, SKU: []byte(sku), Limit: 1 + g.r.Int64N(3)})
		}
	}
	for range 12 { // store windows on the items' grid: most coincide with item windows, some are refused
		cmds = append(cmds, g.putStoreWindow())
	}
	for i, c := range refCusts {
		cmds = append(cmds, Command{Op: OpSetTier, Customer: []byte(c), Tier: uint8(i % 3)})
	}
	return cmds
}

var refZones = []string{"Asia/Taipei", "UTC", "America/Argentina/Buenos_Aires", "", "Asia/Taipei ", "../x"}

func (g *refGen) putStore() Command {
	z := refZones[g.r.IntN(3)]
	if g.chance(10) {
		z = refZones[3+g.r.IntN(3)]
	}
	return Command{Op: OpPutStore, Store: g.idOf(refStores), Zone: []byte(z)}
}

// putStoreWindow draws a store window on the grid: one slot long (like the
// items' windows, so mostly coinciding with them), sometimes two (across
// them: refused), with a small capacity so that two SKUs compete for it.
func (g *refGen) putStoreWindow() Command {
	start := g.windowStart()
	c := Command{Op: OpPutStoreWindow, Store: g.idOf(refStores), Window: start, WindowEnd: start + refSlot, Quota: g.r.Int64N(5)}
	switch g.r.IntN(20) {
	case 0:
		c.WindowEnd += refSlot
	case 1:
		c.Quota = -1
	case 2:
		c.WindowEnd = start
	}
	return c
}
