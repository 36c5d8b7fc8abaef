package bench

import (
	"cmp"
	"fmt"
	"slices"
)

// The invariant check run after every benchmark: a run that breaks it has
// failed, whatever its speed (WORKLOAD.md). It looks at the target's state
// alone (no oversell, windows within quota, customers within their limit) and
// at the state against what the driver was told (every acknowledged hold is
// there in the acknowledged state; nothing more is there than the requests
// whose replies were lost could explain).
//
// A request that got an error may or may not have been applied. Each such
// request moves at most one unit of one item and one window, so the check
// allows the per-item and per-window counts to differ from the acknowledged
// ones by at most the number of errors in total, as the peers' check does.

// problemsMax bounds the problems listed: the first ones say what broke.
const problemsMax = 20

// Check verifies st against the invariant and against the acknowledgements in
// r, and returns the problems found; none means the run passed.
func Check(w *Workload, st *State, r *Result) []string {
	c := &checker{w: w, cat: w.Catalog(), st: st, r: r, errors: r.Errors()}
	c.items()
	c.customers()
	c.acks()
	c.listed()
	c.counts()
	c.sellOut()
	if c.more > 0 {
		c.bad = append(c.bad, fmt.Sprintf("... and %d more problems", c.more))
	}
	return c.bad
}

type checker struct {
	w      *Workload
	cat    *Catalog
	st     *State
	r      *Result
	errors int64

	byItem map[itemKey]*ItemState
	holds  map[uint64]*HoldInfo
	bad    []string
	more   int
}

func (c *checker) addf(format string, a ...any) {
	if len(c.bad) < problemsMax {
		c.bad = append(c.bad, fmt.Sprintf(format, a...))
	} else {
		c.more++
	}
}

// items checks every catalog item and window on its own: present, stock as
// loaded, nothing oversold, no window over its quota.
func (c *checker) items() {
	c.byItem = make(map[itemKey]*ItemState, len(c.st.Items))
	for i := range c.st.Items {
		it := &c.st.Items[i]
		k := itemKey{it.SKU, it.Store}
		if c.byItem[k] != nil {
			c.addf("item %s/%s listed twice", it.SKU, it.Store)
		}
		c.byItem[k] = it
	}
	for ci := range c.cat.Items() {
		k := itemKey{string(ci.SKU), string(ci.Store)}
		it := c.byItem[k]
		if it == nil {
			c.addf("item %s/%s missing", k.sku, k.store)
			continue
		}
		if it.Stock != ci.StockUnits {
			c.addf("item %s/%s: stock %d, loaded %d", k.sku, k.store, it.Stock, ci.StockUnits)
		}
		if it.Held < 0 || it.Confirmed < 0 || it.PickedUp < 0 || it.Active() > it.Stock {
			c.addf("OVERSELL item %s/%s: held %d + confirmed %d + picked up %d > stock %d",
				k.sku, k.store, it.Held, it.Confirmed, it.PickedUp, it.Stock)
		}
		for _, cw := range ci.Windows {
			i := slices.IndexFunc(it.Windows, func(w WindowState) bool { return w.Start == cw.Start })
			if i < 0 {
				c.addf("window %s/%s@%d missing", k.sku, k.store, cw.Start)
				continue
			}
			ws := it.Windows[i]
			if ws.Quota != cw.QuotaUnits {
				c.addf("window %s/%s@%d: quota %d, loaded %d", k.sku, k.store, cw.Start, ws.Quota, cw.QuotaUnits)
			}
			if ws.Used < 0 || ws.Used > ws.Quota {
				c.addf("WINDOW over quota %s/%s@%d: used %d, quota %d", k.sku, k.store, cw.Start, ws.Used, ws.Quota)
			}
		}
	}
}

// customers checks the per-customer limit, on the target's own counters if it
// has them and on the units of the holds listed.
func (c *checker) customers() {
	listed := map[CustomerSKU]int64{}
	for i := range c.st.Holds {
		if h := &c.st.Holds[i]; h.State.Active() {
			listed[CustomerSKU{h.Customer, h.SKU}] += h.Qty
		}
	}
	limit := int64(c.w.LimitUnits)
	for _, owned := range []map[CustomerSKU]int64{c.st.Owned, listed} {
		for _, k := range sortedKeys(owned, func(n int64) bool { return n > limit }) {
			c.addf("LIMIT customer %s owns %d of %s, limit %d", k.Customer, owned[k], k.SKU, limit)
		}
	}
	if c.st.Owned == nil || !c.st.AllHolds {
		return
	}
	// With every hold listed, the target's counters must agree with them.
	drift := map[CustomerSKU]int64{}
	for k, n := range c.st.Owned {
		if n != listed[k] {
			drift[k] = n
		}
	}
	for k, n := range listed {
		if _, ok := c.st.Owned[k]; !ok && n != 0 {
			drift[k] = 0
		}
	}
	for _, k := range sortedKeys(drift, nil) {
		c.addf("customer %s/%s: counter %d, active holds %d units", k.Customer, k.SKU, drift[k], listed[k])
	}
}

// acks checks every acknowledged hold one by one: present, in the state the
// driver was told (or the one a lost follow-up may have set), and belonging to
// the order it was acknowledged for.
func (c *checker) acks() {
	c.holds = make(map[uint64]*HoldInfo, len(c.st.Holds))
	for i := range c.st.Holds {
		h := &c.st.Holds[i]
		if c.holds[h.ID] != nil {
			c.addf("hold %d listed twice", h.ID)
		}
		c.holds[h.ID] = h
	}
	owner := make(map[uint64]int, c.r.Counts[KindReserve][OutcomeOK])
	var buf []byte
	for i, a := range c.r.Acks {
		if a.ID == 0 {
			continue
		}
		if j, dup := owner[a.ID]; dup {
			c.addf("hold %d acknowledged to orders %d and %d", a.ID, j, i)
		}
		owner[a.ID] = i
		h := c.holds[a.ID]
		if h == nil {
			if a.State != HoldCancelled && a.Maybe != HoldCancelled {
				c.addf("LOST hold %d of order %d: acknowledged %s, not found", a.ID, i, a.State)
			}
			continue
		}
		if h.State != a.State && (a.Maybe == 0 || h.State != a.Maybe) {
			c.addf("hold %d of order %d: state %s, acknowledged %s", a.ID, i, h.State, a.State)
		}
		o := c.w.Orders[i]
		buf = AppendCustomerID(buf[:0], int64(i))
		if h.SKU != string(c.cat.SKU(o.SKU)) || h.Store != string(c.cat.Store(o.Store)) ||
			h.Customer != string(buf) || h.Window != WindowStart(int(o.Win)) {
			c.addf("hold %d is %s/%s for %s window %d, but was acknowledged to order %d (%s/%s for %s)",
				a.ID, h.SKU, h.Store, h.Customer, h.Window, i, c.cat.SKU(o.SKU), c.cat.Store(o.Store), buf)
		}
	}
	if !c.st.AllHolds {
		return
	}
	// Active holds the driver was never told about can only come from
	// requests whose reply was lost.
	var unknown int64
	for i := range c.st.Holds {
		h := &c.st.Holds[i]
		if !h.State.Active() {
			continue
		}
		if j, ok := owner[h.ID]; !ok || !c.r.Acks[j].State.Active() && !c.r.Acks[j].Maybe.Active() {
			unknown++
		}
	}
	if unknown > c.errors {
		c.addf("%d active holds the driver was not told about, more than the %d errors", unknown, c.errors)
	}
}

// listed compares, when the target lists every hold it has, each item's
// and window's counters with the units of those holds: a counter that
// drifted from the holds (a unit taken with no hold for it, a hold whose
// unit was given back) is a broken state whatever replies were lost. This
// is the peers' "stock - avail = live holds" and "used = live holds".
func (c *checker) listed() {
	if !c.st.AllHolds {
		return
	}
	active, confirmed := map[itemKey]int64{}, map[itemKey]int64{}
	used := map[windowKey]int64{}
	for i := range c.st.Holds {
		h := &c.st.Holds[i]
		if !h.State.Active() {
			continue
		}
		k := itemKey{h.SKU, h.Store}
		active[k] += h.Qty
		if h.State != HoldHeld {
			confirmed[k] += h.Qty
		}
		if h.Window != 0 {
			used[windowKey{k, h.Window}] += h.Qty
		}
	}
	for i := range c.st.Items {
		it := &c.st.Items[i]
		k := itemKey{it.SKU, it.Store}
		if it.Active() != active[k] || it.Confirmed+it.PickedUp != confirmed[k] {
			c.addf("item %s/%s: counters say %d units taken (%d confirmed or picked up), its holds %d (%d)",
				k.sku, k.store, it.Active(), it.Confirmed+it.PickedUp, active[k], confirmed[k])
		}
		for _, ws := range it.Windows {
			if n := used[windowKey{k, ws.Start}]; ws.Used != n {
				c.addf("window %s/%s@%d: used %d, its holds %d", k.sku, k.store, ws.Start, ws.Used, n)
			}
		}
	}
}

// counts compares each item's and window's counters with the holds the
// driver was told about. The differences, summed, must stay within the errors.
func (c *checker) counts() {
	active := map[itemKey]int64{}
	confirmed := map[itemKey]int64{}
	used := map[windowKey]int64{}
	for i, a := range c.r.Acks {
		if !a.State.Active() {
			continue
		}
		o := c.w.Orders[i]
		k := c.cat.itemKey(o)
		active[k]++
		if a.State == HoldConfirmed {
			confirmed[k]++
		}
		if o.Win >= 0 {
			used[windowKey{k, WindowStart(int(o.Win))}]++
		}
	}
	var dActive, dConfirmed, dUsed int64
	var first []string
	for i := range c.st.Items {
		it := &c.st.Items[i]
		k := itemKey{it.SKU, it.Store}
		dActive += abs(it.Active() - active[k])
		dConfirmed += abs(it.Confirmed + it.PickedUp - confirmed[k])
		if it.Active() != active[k] && len(first) < 3 {
			first = append(first, fmt.Sprintf("%s/%s has %d, acknowledged %d", k.sku, k.store, it.Active(), active[k]))
		}
		for _, ws := range it.Windows {
			dUsed += abs(ws.Used - used[windowKey{k, ws.Start}])
		}
	}
	// Acknowledged units on items the target did not list are off by all of them.
	for k, n := range active {
		if c.byItem[k] == nil {
			dActive += n
		}
	}
	if dActive > c.errors {
		c.addf("items hold %d units more or less than acknowledged, more than the %d errors (%v)", dActive, c.errors, first)
	}
	if dConfirmed > c.errors {
		c.addf("items have %d confirmed units more or less than acknowledged, more than the %d errors", dConfirmed, c.errors)
	}
	if dUsed > c.errors {
		c.addf("windows use %d units more or less than acknowledged, more than the %d errors", dUsed, c.errors)
	}
}

// sellOut checks flash-hot's promise: exactly the stock is sold. Only a
// complete run must sell all of it, and each lost reply may hide one sale.
func (c *checker) sellOut() {
	if !c.w.SellOut {
		return
	}
	reserved, stock := c.r.Counts[KindReserve][OutcomeOK], int64(c.w.TotalStock)
	if reserved > stock {
		c.addf("OVERSELL: %d reserves succeeded, stock %d", reserved, stock)
	} else if c.r.Complete && reserved+c.errors < stock {
		c.addf("flash-hot: %d reserves succeeded (%d errors), stock %d: not sold out", reserved, c.errors, stock)
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// sortedKeys returns the keys of m whose value passes keep (all if keep is
// nil), in order, so that problems come out the same way every time. It
// filters before sorting: a clean map of millions of customers is not sorted.
func sortedKeys(m map[CustomerSKU]int64, keep func(int64) bool) []CustomerSKU {
	var keys []CustomerSKU
	for k, n := range m {
		if keep == nil || keep(n) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b CustomerSKU) int {
		return cmp.Or(cmp.Compare(a.Customer, b.Customer), cmp.Compare(a.SKU, b.SKU))
	})
	return keys
}
