// What this file is: the reference model's ops (storefront, operator,
// reads), each written straight from the domain rules in the order the
// engine checks them, over the plain state of model_ref_test.go.
package engine

import (
	"fmt"
	"sort"
	"time"
)

// ---- storefront ----

func (it *refItem) window(start int64) *refWindow {
	for i := range it.windows {
		if it.windows[i].start == start {
			return &it.windows[i]
		}
	}
	return nil
}

func (it *refItem) promised() int64 { return it.held + it.confirmed + it.pickedUp }

// memberKept is what is left of the member share for members (0 after the cutoff).
func (m *refModel) memberKept(it *refItem) int64 {
	if it.memberUnits == 0 || m.now >= it.memberCutoff {
		return 0
	}
	return it.memberUnits - it.memberUsed
}

func (m *refModel) customer(id string) *refCust {
	cu := m.custs[id]
	if cu == nil {
		cu = &refCust{id: id}
		m.custs[id] = cu
	}
	return cu
}

func (m *refModel) rateAllow(cu *refCust) bool {
	interval := max(int64(float64(time.Second)/m.cfg.RatePerSecond), 1)
	tat := max(cu.rateTAT, m.now)
	if tat+interval-m.now > interval*int64(m.cfg.RateBurst) {
		return false
	}
	cu.rateTAT = tat + interval
	return true
}

func (m *refModel) reserve(c *Command) Result { return m.reserveFrom(c, false) }

// reserveFrom is reserve; fromLine is a waitlist's promotion of its head
// (model_waitlist_test.go): no rate limit, and the line does not refuse it.
func (m *refModel) reserveFrom(c *Command, fromLine bool) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || !refValidID(c.Customer) || c.Qty <= 0 || c.Qty > MaxQty ||
		c.TTL < 0 || c.TTL > m.cfg.MaxHold || c.Window < 0 {
		return refBad(CodeBadRequest)
	}
	it := m.items[refItemKey{string(c.SKU), string(c.Store)}]
	if it == nil {
		return refBad(CodeUnknownItem)
	}
	cu := m.customer(string(c.Customer))
	if cu.blocked {
		return refBad(CodeBlocked)
	}
	if m.cfg.RatePerSecond > 0 && !fromLine && !m.rateAllow(cu) {
		return refBad(CodeRateLimited)
	}
	if it.opensAt != 0 && m.now < it.opensAt {
		return refBad(CodeNotOpen)
	}
	if it.closesAt != 0 && m.now >= it.closesAt {
		return refBad(CodeClosed)
	}
	var w, sw *refWindow
	if c.Window != 0 {
		if w = it.window(c.Window); w == nil {
			return refBad(CodeUnknownWindow)
		}
		if w.end <= m.now {
			return refBad(CodeClosed)
		}
		sw = m.storeWindow(it.store, c.Window)
	} else if len(it.windows) > 0 {
		return refBad(CodeWindowRequired) // an item with windows is reserved into one
	}
	kept := m.memberKept(it)
	share := int64(0)
	if it.memberTier != 0 && cu.tier >= it.memberTier {
		share = min(c.Qty, kept)
	}
	avail := it.stock - it.promised()
	// A member takes share units from the member share, the rest from what
	// is open to everyone (nothing, when the share is larger than what is
	// available); nobody takes more than is available.
	if c.Qty > avail || c.Qty-share > max(0, avail-kept) {
		return refBad(CodeSoldOut)
	}
	if k := (refItemKey{it.sku, it.store}); !fromLine && len(m.lines[k]) > 0 {
		m.markFreed(k) // the units are the line's: its head is tried
		return refBad(CodeSoldOut)
	}
	if sw != nil && sw.used+c.Qty > sw.quota { // the store's capacity across its SKUs
		m.storeFull++
		return refBad(CodeWindowFull)
	}
	if w != nil && w.used+c.Qty > w.quota {
		return refBad(CodeWindowFull)
	}
	holdBack, code := m.markRule(it, cu)
	if code != OK {
		return refBad(code)
	}
	defer func() {
		if holdBack {
			m.heldBack++ // counted once the hold is made
		}
	}()
	ok := [2]string{cu.id, it.sku}
	limit := m.limits[it.sku]
	if limit > 0 && m.owned[ok]+c.Qty > limit {
		return refBad(CodeLimitExceeded)
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = m.cfg.DefaultHoldTTL
	}
	m.seq++
	r := &refRes{id: MakeID(m.cfg.ShardID, m.seq), sku: it.sku, store: it.store, cust: cu.id, qty: c.Qty,
		fromShare: share, state: StateHeld, window: c.Window, createdAt: m.now, updatedAt: m.now,
		expiresAt: m.now + int64(ttl), review: holdBack}
	cu.orders++
	it.held += c.Qty
	it.memberUsed += share
	if w != nil {
		w.used += c.Qty
	}
	if sw != nil {
		sw.used += c.Qty
	}
	m.owned[ok] += c.Qty
	if limit > 0 && m.owned[ok] > limit {
		m.fault = fmt.Sprintf("reserve %x accepted over the limit: customer %q owns %d of %q, limit %d", r.id, cu.id, m.owned[ok], it.sku, limit)
	}
	if sw != nil && sw.used > sw.quota {
		m.fault = fmt.Sprintf("reserve %x accepted over the store window's capacity: %+v", r.id, *sw)
	}
	m.limitChecks++
	cu.resIDs = append(cu.resIDs, r.id)
	m.res[r.id] = r
	res := refResResult(r)
	res.UnderReview = holdBack
	return res
}

func refResResult(r *refRes) Result {
	return Result{ID: r.id, State: r.state, Qty: r.qty, Window: r.window, ExpiresAt: r.expiresAt, PickupCode: r.code}
}

// target finds the reservation of c.ID in one of the allowed states.
func (m *refModel) target(c *Command, allowed ...State) (*refRes, Code) {
	r := m.res[c.ID]
	if r == nil {
		return nil, CodeNotFound
	}
	for _, s := range allowed {
		if r.state == s {
			return r, OK
		}
	}
	if r.state == StateExpired || r.state == StateNoShow {
		return r, CodeExpired
	}
	return r, CodeWrongState
}

// release gives units of a reservation back to its item, window, member
// share (first) and the customer's count.
func (m *refModel) release(r *refRes, units int64) {
	it := m.items[refItemKey{r.sku, r.store}]
	switch r.state {
	case StateHeld:
		it.held -= units
	case StateConfirmed:
		it.confirmed -= units
	case StatePickedUp:
		it.pickedUp -= units
	}
	back := min(r.fromShare, units)
	r.fromShare -= back
	it.memberUsed -= back
	if w := it.window(r.window); r.window != 0 && w != nil {
		w.used -= units
	}
	if sw := m.storeWindow(r.store, r.window); r.window != 0 && sw != nil {
		sw.used -= units
	}
	k := [2]string{r.cust, r.sku}
	if m.owned[k] -= units; m.owned[k] == 0 {
		delete(m.owned, k)
	}
	m.markFreed(refItemKey{r.sku, r.store})
}

func (m *refModel) finish(r *refRes, to State) {
	r.state, r.review = to, false
	r.updatedAt = m.now
}

func (m *refModel) deadline(it *refItem, window int64) int64 {
	if w := it.window(window); window != 0 && w != nil {
		return w.end + int64(m.cfg.PickupGrace)
	}
	return m.now + int64(m.cfg.PickupPeriod)
}

func (m *refModel) confirm(c *Command) Result {
	if c.Qty < 0 {
		return refBad(CodeBadRequest)
	}
	r, code := m.target(c, StateHeld)
	if code != OK {
		return refBad(code)
	}
	if c.Qty > r.qty {
		return refBad(CodeBadRequest)
	}
	if r.review {
		return refBad(CodeUnderReview)
	}
	if r.window != 0 && m.deadline(m.items[refItemKey{r.sku, r.store}], r.window) <= m.now {
		return refBad(CodeClosed) // the pickup window is over: reschedule first
	}
	qty := c.Qty
	if qty == 0 {
		qty = r.qty
	}
	if rest := r.qty - qty; rest > 0 {
		m.release(r, rest)
	}
	it := m.items[refItemKey{r.sku, r.store}]
	it.held -= qty
	it.confirmed += qty
	r.qty, r.state, r.updatedAt = qty, StateConfirmed, m.now
	r.expiresAt = m.deadline(it, r.window)
	r.code = refPickupCode(m.cfg.PickupSecret, r.id)
	return refResResult(r)
}

func (m *refModel) extend(c *Command) Result {
	if c.TTL <= 0 {
		return refBad(CodeBadRequest)
	}
	r, code := m.target(c, StateHeld)
	if code != OK {
		return refBad(code)
	}
	if r.review {
		return refBad(CodeUnderReview)
	}
	exp := r.createdAt + int64(m.cfg.MaxHold) // the longest a hold may live
	if c.TTL < time.Duration(exp-m.now) {
		exp = m.now + int64(c.TTL)
	}
	if exp > r.expiresAt {
		r.expiresAt, r.updatedAt = exp, m.now
	}
	return refResResult(r)
}

func (m *refModel) cancel(c *Command) Result {
	r, code := m.target(c, StateHeld, StateConfirmed)
	if code != OK {
		return refBad(code)
	}
	m.release(r, r.qty)
	m.finish(r, StateCancelled)
	return refResResult(r)
}

func (m *refModel) reschedule(c *Command) Result {
	if c.Window <= 0 {
		return refBad(CodeBadRequest)
	}
	r, code := m.target(c, StateHeld, StateConfirmed)
	if code != OK {
		return refBad(code)
	}
	if r.window == c.Window {
		return refResResult(r)
	}
	it := m.items[refItemKey{r.sku, r.store}]
	to := it.window(c.Window)
	switch {
	case to == nil:
		return refBad(CodeUnknownWindow)
	case to.end <= m.now:
		return refBad(CodeClosed)
	}
	toStore := m.storeWindow(r.store, c.Window)
	if toStore != nil && toStore.used+r.qty > toStore.quota || to.used+r.qty > to.quota {
		return refBad(CodeWindowFull)
	}
	if from := it.window(r.window); from != nil {
		from.used -= r.qty
	}
	if from := m.storeWindow(r.store, r.window); r.window != 0 && from != nil {
		from.used -= r.qty
	}
	to.used += r.qty
	if toStore != nil {
		toStore.used += r.qty
	}
	r.window, r.updatedAt = c.Window, m.now
	if r.state == StateConfirmed {
		r.expiresAt = m.deadline(it, r.window)
	}
	return refResResult(r)
}

func (m *refModel) ret(c *Command) Result {
	r, code := m.target(c, StatePickedUp)
	if code != OK {
		return refBad(code)
	}
	m.release(r, r.qty)
	if !c.Restock {
		m.items[refItemKey{r.sku, r.store}].stock -= r.qty
	}
	m.finish(r, StateReturned)
	return refResResult(r)
}

func (m *refModel) pickup(c *Command) Result {
	if !refValidID(c.Store) || c.PickupCode >= 1_000_000_000_000 {
		return refBad(CodeBadRequest)
	}
	var r *refRes
	if c.ID == 0 {
		// By code alone: the confirmed reservation with that code at this
		// store (lowest id if codes collide). None is bad_code, also when
		// the code is another store's: the answer must not tell a guesser
		// that the code is real.
		for _, x := range m.res {
			if x.state == StateConfirmed && x.code == c.PickupCode && x.store == string(c.Store) &&
				(r == nil || x.id < r.id) {
				r = x
			}
		}
		if r == nil {
			return refBad(CodeBadCode)
		}
	} else {
		var code Code
		if r, code = m.target(c, StateConfirmed); code != OK {
			return refBad(code)
		}
	}
	if r.store != string(c.Store) {
		return refBad(CodeWrongStore)
	}
	if r.locked {
		return refBad(CodeLocked)
	}
	if r.window != 0 && m.now < r.window {
		return Result{Code: CodeTooEarly, Window: r.window} // before the pickup window: no attempt counted
	}
	if r.code != c.PickupCode {
		r.attempts++
		r.updatedAt = m.now
		if r.attempts >= int64(m.cfg.MaxPickupAttempts) {
			r.locked = true
			return refBad(CodeLocked)
		}
		return refBad(CodeBadCode)
	}
	it := m.items[refItemKey{r.sku, r.store}]
	it.confirmed -= r.qty
	it.pickedUp += r.qty
	r.state, r.updatedAt, r.expiresAt = StatePickedUp, m.now, 0
	m.custs[r.cust].pickups++
	return refResResult(r)
}

func (m *refModel) unlock(c *Command) Result {
	r := m.res[c.ID]
	if r == nil {
		return refBad(CodeNotFound)
	}
	r.locked, r.attempts = false, 0
	return refResResult(r)
}

// ---- operator ----

func (m *refModel) itemOf(c *Command) (*refItem, Code) {
	if !refValidID(c.SKU) || !refValidID(c.Store) {
		return nil, CodeBadRequest
	}
	it := m.items[refItemKey{string(c.SKU), string(c.Store)}]
	if it == nil {
		return nil, CodeUnknownItem
	}
	return it, OK
}

func refSaleOK(opens, closes int64) bool {
	return opens >= 0 && closes >= 0 && (opens == 0 || closes == 0 || closes > opens)
}

func refShareOK(tier uint8, units, cutoff int64) bool {
	return tier <= MaxTier && units >= 0 && units <= MaxStock && cutoff >= 0 && (units == 0 || (tier > 0 && cutoff > 0))
}

func (it *refItem) setShare(tier uint8, units, cutoff int64) {
	if units == 0 {
		tier, cutoff = 0, 0 // removed; what members took stays counted
	}
	it.memberTier, it.memberUnits, it.memberCutoff = tier, units, cutoff
}

func (m *refModel) itemResult(it *refItem) Result {
	info := m.itemInfo(it)
	return Result{Item: &info}
}

func (m *refModel) putItem(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || c.Stock < 0 || c.Stock > MaxStock || c.Limit != 0 ||
		!refSaleOK(c.OpensAt, c.ClosesAt) || !refShareOK(c.MemberTier, c.MemberUnits, c.MemberCutoff) ||
		c.MemberUnits > c.Stock || len(c.Reason) > MaxReasonBytes {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	it := m.items[k]
	if it == nil {
		it = &refItem{sku: k.sku, store: k.store}
		m.items[k] = it
		m.itemOrder = append(m.itemOrder, k)
	} else if c.Stock < it.promised() || (c.MemberUnits > 0 && c.MemberUnits < it.memberUsed) {
		return refBad(CodeBelowPromised)
	}
	it.stock, it.opensAt, it.closesAt = c.Stock, c.OpensAt, c.ClosesAt
	it.setShare(c.MemberTier, c.MemberUnits, c.MemberCutoff)
	return m.itemResult(it)
}

func (m *refModel) putWindow(c *Command) Result {
	if c.Window <= 0 || c.WindowEnd <= c.Window || c.Quota < 0 || c.Quota > MaxStock {
		return refBad(CodeBadRequest)
	}
	it, code := m.itemOf(c)
	if code != OK {
		return refBad(code)
	}
	for _, w := range it.windows {
		if w.start != c.Window && w.start < c.WindowEnd && c.Window < w.end {
			return refBad(CodeWindowConflict)
		}
	}
	if st := m.stores[it.store]; st != nil {
		for _, sw := range st.windows {
			if refApart(c.Window, c.WindowEnd, sw) {
				return refBad(CodeWindowConflict)
			}
		}
	}
	w := it.window(c.Window)
	switch {
	case w != nil && c.Quota < w.used:
		return refBad(CodeBelowPromised)
	case w != nil:
		w.end, w.quota = c.WindowEnd, c.Quota
	case len(it.windows) >= MaxWindowsPerItem:
		return refBad(CodeTooMany)
	default:
		it.windows = append(it.windows, refWindow{start: c.Window, end: c.WindowEnd, quota: c.Quota})
		sort.Slice(it.windows, func(i, j int) bool { return it.windows[i].start < it.windows[j].start })
		w = it.window(c.Window)
	}
	return Result{WindowInfo: &WindowInfo{Start: w.start, End: w.end, Quota: w.quota, Used: w.used}}
}

func (m *refModel) restock(c *Command) Result {
	if c.Qty <= 0 || c.Qty > MaxQty {
		return refBad(CodeBadRequest)
	}
	it, code := m.itemOf(c)
	if code != OK {
		return refBad(code)
	}
	if it.stock+c.Qty > MaxStock {
		return refBad(CodeBadRequest)
	}
	it.stock += c.Qty
	m.markFreed(refItemKey{it.sku, it.store})
	return m.itemResult(it)
}

func (m *refModel) adjust(c *Command) Result {
	if c.Qty < -MaxStock || c.Qty > MaxStock {
		return refBad(CodeBadRequest)
	}
	it, code := m.itemOf(c)
	if code != OK {
		return refBad(code)
	}
	n := it.stock + c.Qty
	if n > MaxStock {
		return refBad(CodeBadRequest)
	}
	if n < it.promised() {
		return refBad(CodeBelowPromised)
	}
	it.stock = n
	if c.Qty > 0 {
		m.markFreed(refItemKey{it.sku, it.store})
	}
	return m.itemResult(it)
}

func (m *refModel) saleWindow(c *Command) Result {
	if !refSaleOK(c.OpensAt, c.ClosesAt) {
		return refBad(CodeBadRequest)
	}
	it, code := m.itemOf(c)
	if code != OK {
		return refBad(code)
	}
	it.opensAt, it.closesAt = c.OpensAt, c.ClosesAt
	return m.itemResult(it)
}

func (m *refModel) memberShare(c *Command) Result {
	if !refShareOK(c.MemberTier, c.MemberUnits, c.MemberCutoff) {
		return refBad(CodeBadRequest)
	}
	it, code := m.itemOf(c)
	if code != OK {
		return refBad(code)
	}
	if c.MemberUnits > 0 && c.MemberUnits < it.memberUsed {
		return refBad(CodeBelowPromised)
	}
	if c.MemberUnits > it.stock {
		return refBad(CodeBadRequest)
	}
	it.setShare(c.MemberTier, c.MemberUnits, c.MemberCutoff)
	return m.itemResult(it)
}

// updateItem changes only the settings c.Set names (docs/adr/0100).
func (m *refModel) updateItem(c *Command) Result {
	named := func(s ItemSet) bool { return c.Set&s != 0 }
	if !refValidID(c.SKU) || !refValidID(c.Store) || c.Set == 0 || c.Set&^ItemSetAll != 0 || c.Limit != 0 ||
		!named(SetStock) && c.Stock != 0 || !named(SetOpensAt) && c.OpensAt != 0 || !named(SetClosesAt) && c.ClosesAt != 0 ||
		!named(SetMemberShare) && (c.MemberTier != 0 || c.MemberUnits != 0 || c.MemberCutoff != 0) ||
		c.Stock < 0 || c.Stock > MaxStock ||
		!refShareOK(c.MemberTier, c.MemberUnits, c.MemberCutoff) || len(c.Reason) > MaxReasonBytes {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	it := m.items[k]
	var stock, units, opens, closes int64
	if it != nil {
		stock, units, opens, closes = it.stock, it.memberUnits, it.opensAt, it.closesAt
	}
	if named(SetStock) {
		stock = c.Stock
	}
	if named(SetMemberShare) {
		units = c.MemberUnits
	}
	if named(SetOpensAt) {
		opens = c.OpensAt
	}
	if named(SetClosesAt) {
		closes = c.ClosesAt
	}
	if units > stock || !refSaleOK(opens, closes) {
		return refBad(CodeBadRequest)
	}
	if it == nil {
		it = &refItem{sku: k.sku, store: k.store}
		m.items[k] = it
		m.itemOrder = append(m.itemOrder, k)
	} else if stock < it.promised() || units > 0 && units < it.memberUsed {
		return refBad(CodeBelowPromised)
	}
	it.stock, it.opensAt, it.closesAt = stock, opens, closes
	if named(SetMemberShare) {
		it.setShare(c.MemberTier, c.MemberUnits, c.MemberCutoff)
	}
	return m.itemResult(it)
}

func (m *refModel) customerOp(c *Command) Result {
	if !refValidID(c.Customer) || (c.Op == OpSetTier && c.Tier > MaxTier) {
		return refBad(CodeBadRequest)
	}
	cu := m.customer(string(c.Customer))
	switch c.Op {
	case OpBlock:
		cu.blocked = true
	case OpUnblock:
		cu.blocked, cu.autoBlocked, cu.noShows = false, false, nil
	case OpSetTier:
		cu.tier = c.Tier
	}
	info := m.custInfo(cu)
	return Result{Customer: &info}
}

// ---- reads ----

func (m *refModel) read(c *Command) Result {
	switch c.Op {
	case OpGetItem:
		it, code := m.itemOf(c)
		if code != OK {
			return refBad(code)
		}
		return m.itemResult(it)
	case OpGetWindow:
		it, code := m.itemOf(c)
		if code != OK {
			return refBad(code)
		}
		w := it.window(c.Window)
		if w == nil {
			return refBad(CodeUnknownWindow)
		}
		return Result{WindowInfo: &WindowInfo{Start: w.start, End: w.end, Quota: w.quota, Used: w.used}}
	case OpGetReservation:
		r := m.res[c.ID]
		if r == nil {
			return refBad(CodeNotFound)
		}
		out := refResResult(r)
		info := m.resInfo(r)
		out.Reservation = &info
		return out
	case OpGetCustomer:
		if !refValidID(c.Customer) {
			return refBad(CodeBadRequest)
		}
		cu := m.custs[string(c.Customer)]
		if cu == nil {
			return refBad(CodeNotFound)
		}
		info := m.custInfo(cu)
		return Result{Customer: &info}
	case OpListReservations:
		if !refValidID(c.Customer) {
			return refBad(CodeBadRequest)
		}
		var out []ReservationInfo
		if cu := m.custs[string(c.Customer)]; cu != nil {
			for _, id := range cu.resIDs {
				out = append(out, m.resInfo(m.res[id]))
			}
		}
		return Result{Reservations: out}
	case OpStoresWithStock:
		if !refValidID(c.SKU) {
			return refBad(CodeBadRequest)
		}
		var out []StoreStock
		for _, k := range m.itemOrder {
			it := m.items[k]
			if a := it.stock - it.promised() - m.memberKept(it); it.sku == string(c.SKU) && a > 0 {
				out = append(out, StoreStock{Store: it.store, Available: a})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Store < out[j].Store })
		return Result{Stores: out}
	case OpListItems:
		if len(c.SKU) > MaxIDBytes {
			return refBad(CodeBadRequest)
		}
		var out []ItemInfo
		for _, k := range m.itemOrder {
			if len(c.SKU) == 0 || k.sku == string(c.SKU) {
				out = append(out, m.itemInfo(m.items[k]))
			}
		}
		return Result{Items: out}
	}
	return refBad(CodeBadRequest)
}

func (m *refModel) itemInfo(it *refItem) ItemInfo {
	info := ItemInfo{SKU: it.sku, Store: it.store, Stock: it.stock, Held: it.held, Confirmed: it.confirmed,
		PickedUp: it.pickedUp, Available: it.stock - it.promised(), Limit: m.limits[it.sku], OpensAt: it.opensAt,
		ClosesAt: it.closesAt, MemberTier: it.memberTier, MemberUnits: it.memberUnits, MemberUsed: it.memberUsed,
		MemberCutoff: it.memberCutoff}
	for _, w := range it.windows {
		info.Windows = append(info.Windows, WindowInfo{Start: w.start, End: w.end, Quota: w.quota, Used: w.used})
	}
	return info
}

func (m *refModel) resInfo(r *refRes) ReservationInfo {
	return ReservationInfo{ID: r.id, SKU: r.sku, Store: r.store, Customer: r.cust, Qty: r.qty, Window: r.window,
		State: r.state, CreatedAt: r.createdAt, ExpiresAt: r.expiresAt, UpdatedAt: r.updatedAt, PickupCode: r.code,
		Attempts: r.attempts, Locked: r.locked, UnderReview: r.review}
}

func (m *refModel) custInfo(cu *refCust) CustomerInfo {
	info := CustomerInfo{ID: cu.id, Tier: cu.tier, Blocked: cu.blocked, AutoBlocked: cu.autoBlocked}
	for _, t := range cu.noShows {
		if t > m.now-int64(m.cfg.NoShowPeriod) {
			info.NoShows++
		}
	}
	for _, id := range cu.resIDs {
		if s := m.res[id].state; s == StateHeld || s == StateConfirmed {
			info.Open++
		}
	}
	return info
}
