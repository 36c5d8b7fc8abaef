package engine

import "time"

// reserve takes Qty units of an item for a customer, or refuses with exactly
// one reason. Checks run in a fixed order: request shape, item, customer
// state, rate, sale window, pickup window (an item with windows is reserved
// into one), stock, the store window's capacity and the item window's
// quota, customer limit (or the claim that stands for it). The "... before
// ..." cases of engine/table_test.go pin each step of that order;
// docs/PROTOCOL.md lists the refusal codes.
func (s *state) reserve(c *Command) Result { return s.reserveFrom(c, nil) }

// reserveFrom is reserve; line is the entry a waitlist's promotion of its
// head reserves for (waitlist_promote.go), nil for a request: it skips the
// rate limit (the customer did not ask now) and takes units the line keeps
// from everyone else; an entry carrying a claim skips the limit too (the
// customer's home counted it) and hands its claim to the hold.
func (s *state) reserveFrom(c *Command, line *waitEntry) Result {
	fromLine := line != nil
	if !validID(c.SKU) || !validID(c.Store) || !validID(c.Customer) ||
		c.Qty <= 0 || c.Qty > MaxQty || c.TTL < 0 || c.TTL > s.cfg.MaxHold || c.Window < 0 {
		return s.refuse(CodeBadRequest)
	}
	itemSlot, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		return s.refuse(CodeUnknownItem)
	}
	custSlot, cu := s.customer(c.Customer)
	if cu.blocked {
		return s.refuse(CodeBlocked)
	}
	if s.cfg.RatePerSecond > 0 && !fromLine && !s.rateAllow(cu) {
		return s.refuse(CodeRateLimited)
	}
	if it.opensAt != 0 && s.now < it.opensAt {
		return s.refuse(CodeNotOpen)
	}
	if it.closesAt != 0 && s.now >= it.closesAt {
		return s.refuse(CodeClosed)
	}
	var w, sw *window // the item's window and its store's (stores.go)
	if c.Window != 0 {
		if w = it.window(c.Window); w == nil {
			return s.refuse(CodeUnknownWindow)
		}
		if w.end <= s.now {
			return s.refuse(CodeClosed)
		}
		sw = s.storeWindow(it, c.Window)
	} else if it.hasWindows() {
		return s.refuse(CodeWindowRequired)
	}
	qty := int32(c.Qty)
	share := s.shareFor(it, cu, qty)
	if s.stockShort(it, qty, share) {
		return s.refuse(CodeSoldOut)
	}
	if !fromLine && s.wait.waiting(itemSlot) {
		s.markFreed(itemSlot) // units may be there that no event offered the head yet (a member share's cutoff passed)
		return s.refuse(CodeSoldOut)
	}
	if sw != nil && sw.used+qty > sw.quota || w != nil && w.used+qty > w.quota {
		return s.refuse(CodeWindowFull)
	}
	marks := s.marksFor(cu, custSlot, c)
	refused, ok, holdBack := s.markRefusal(itemSlot, marks)
	if ok {
		return refused
	}
	switch {
	case fromLine && line.claim != "":
		// The entry's claim counts the units at the customer's home.
	case len(c.Claim) > 0 || c.Deadline != 0:
		// The customer's home counts the units (claim.go): the hold is
		// provisional until its claim is resolved (claimhold.go).
		if code := s.checkClaimedReserve(c); code != OK {
			return s.refuse(code)
		}
	case s.skuLimit(it) > 0 && s.claimsElsewhere(c.Customer):
		r := s.refuse(CodeClaimRequired)
		r.Qty = int64(s.skuLimit(it))
		return r
	case s.skuLimit(it) > 0 && cu.owned(it.sku)+s.claimedUnits(cu.id, it.skuName())+qty > s.skuLimit(it):
		return s.refuse(CodeLimitExceeded)
	}

	ttl := c.TTL
	if ttl == 0 {
		ttl = s.cfg.DefaultHoldTTL
	}
	r := s.newReservation()
	r.item, r.cust, r.qty, r.fromShare = itemSlot, custSlot, qty, share
	r.state, r.window, r.marks = StateHeld, c.Window, marks
	if holdBack {
		r.marks |= resReview
	}
	r.createdAt, r.updatedAt = s.now, s.now
	r.expiresAt = s.now + int64(ttl)
	if len(c.Claim) > 0 {
		s.holdProvisional(r, c)
	} else if fromLine && line.claim != "" {
		s.holdFirm(r, line.claim)
	}

	s.j.item(it)
	it.held += qty
	if share > 0 {
		it.ext.memberUsed += share
		assertShare(it)
	}
	if w != nil {
		s.j.window(w)
		w.used += qty
	}
	if sw != nil {
		s.j.window(sw)
		sw.used += qty
	}
	assertItem(it)
	assertWindow(w)
	assertWindow(sw)
	s.addOwned(custSlot, it.sku, qty)
	s.j.customer(cu)
	cu.active++
	cu.resIDs = append(cu.resIDs, r.id)
	s.due.push(dueEntry{at: r.expiresAt, id: r.id})
	s.stats.ActiveHolds++
	s.stats.Outcomes[StateHeld]++
	s.recordReserve(custSlot, c)
	s.resEvent(EvReserved, r, int64(qty))
	if holdBack {
		s.resEvent(EvHeldBack, r, int64(qty))
	}
	if r.claimSt == claimProvisional {
		return s.namingClaim(r) // the coordinator learns that the claim's answer decides the hold
	}
	res := resResult(r)
	res.Marks, res.UnderReview = marks, holdBack
	return res
}

// stockShort reports whether qty units (share of them from the member
// share) are more than the item has for the customer: the share's units
// come out of the member share, the rest out of what is open to everyone,
// which is nothing while the share is larger than what is available
// (members may still take what is there).
func (s *state) stockShort(it *item, qty, share int32) bool {
	avail := it.available()
	return qty > avail || qty-share > max(0, avail-s.memberReserved(it))
}

// memberReserved is the part of the item's member share still kept for
// members (0 once the cutoff has passed).
func (s *state) memberReserved(it *item) int32 {
	x := it.ext
	if x == nil || x.memberUnits == 0 || s.now >= x.memberCutoff {
		return 0
	}
	return x.memberUnits - x.memberUsed
}

// shareFor returns how many of qty units a member takes out of the member share.
func (s *state) shareFor(it *item, cu *customer, qty int32) int32 {
	x := it.ext
	if x == nil || cu.tier < x.memberTier || x.memberTier == 0 {
		return 0
	}
	return min(qty, s.memberReserved(it))
}

// rateAllow runs the customer's token bucket (GCRA on log time, integer
// arithmetic so every replica agrees).
func (s *state) rateAllow(cu *customer) bool {
	interval := int64(float64(time.Second) / s.cfg.RatePerSecond)
	if interval < 1 {
		interval = 1
	}
	tau := interval * int64(s.cfg.RateBurst)
	tat := max(cu.rateTAT, s.now)
	if tat+interval-s.now > tau { // a whole token must be left: at most RateBurst requests at once, then one per interval
		return false
	}
	s.j.customer(cu)
	cu.rateTAT = tat + interval
	return true
}

// newReservation stores a reservation with the next id.
func (s *state) newReservation() *reservation {
	s.seq++
	r := s.res.add(s.seq)
	r.id = MakeID(s.cfg.ShardID, s.seq)
	s.stats.Reservations++
	s.j.newRes(s.seq)
	return r
}

func resResult(r *reservation) Result {
	return Result{ID: r.id, State: r.state, Qty: int64(r.qty), Window: r.window,
		ExpiresAt: r.expiresAt, PickupCode: r.code}
}

// target finds the reservation a command is about and refuses the common
// cases: unknown, expired, not in one of the allowed states.
func (s *state) target(c *Command, allowed ...State) (*reservation, Code) {
	r := s.findRes(c.ID)
	if r == nil {
		return nil, CodeNotFound
	}
	for _, st := range allowed {
		if r.state == st {
			return r, OK
		}
	}
	if r.state == StateExpired || r.state == StateNoShow {
		return r, CodeExpired
	}
	return r, CodeWrongState
}

// release gives a reservation's units back (all of them, or part on a
// partial confirm) and moves it out of its active state.
func (s *state) release(r *reservation, units int32) {
	it := s.items.at(r.item)
	s.j.item(it)
	switch r.state {
	case StateHeld:
		it.held -= units
	case StateConfirmed:
		it.confirmed -= units
	case StatePickedUp:
		it.pickedUp -= units
	}
	if r.fromShare > 0 {
		back := min(r.fromShare, units)
		s.j.res(r)
		r.fromShare -= back
		it.ext.memberUsed -= back
		assertShare(it)
	}
	if r.window != 0 {
		if w := it.window(r.window); w != nil {
			s.j.window(w)
			w.used -= units
			assertWindow(w)
		}
		if sw := s.storeWindow(it, r.window); sw != nil {
			s.j.window(sw)
			sw.used -= units
			assertWindow(sw)
		}
	}
	assertItem(it)
	s.addOwned(r.cust, it.sku, -units)
	s.markFreed(r.item)
}

// finish moves a reservation to a terminal state after its units were released.
func (s *state) finish(r *reservation, to State) {
	open := r.state == StateHeld || r.state == StateConfirmed
	s.leave(r)
	s.j.res(r)
	r.state = to
	r.updatedAt = s.now
	r.marks &^= resReview // an ended hold is under no review: nothing is left to release
	if open {
		cu := s.customers.at(r.cust)
		s.j.customer(cu)
		cu.active--
		assertCount(cu.active, "a customer's open reservations")
	}
	s.stats.Outcomes[to]++
	s.finished.push(dueEntry{at: s.now, id: r.id})
	if r.cl != nil {
		s.claimHoldEnded(r)
	}
}

// leave updates counts and indexes for a reservation leaving its current state.
func (s *state) leave(r *reservation) {
	switch r.state {
	case StateHeld:
		s.stats.ActiveHolds--
	case StateConfirmed:
		s.stats.AwaitingPickup--
		s.unindexPIN(r)
	}
}

func (s *state) confirm(c *Command) Result {
	if c.Qty < 0 {
		return s.refuse(CodeBadRequest)
	}
	r, code := s.target(c, StateHeld)
	if code != OK {
		return s.refuse(code)
	}
	qty := int32(c.Qty)
	if qty == 0 {
		qty = r.qty
	}
	if c.Qty > int64(r.qty) {
		return s.refuse(CodeBadRequest)
	}
	if r.underReview() {
		return s.refuse(CodeUnderReview)
	}
	if r.claimSt == claimProvisional {
		return s.claimRequired(r)
	}
	it := s.items.at(r.item)
	if r.window != 0 && s.pickupDeadline(it, r.window) <= s.now {
		// The window is over: an order confirmed now would be a no-show at
		// once and count against the customer. Reschedule first.
		return s.refuse(CodeClosed)
	}
	if rest := r.qty - qty; rest > 0 {
		s.release(r, rest)
	}
	s.j.item(it)
	it.held -= qty
	it.confirmed += qty
	assertItem(it)
	s.leave(r)
	s.j.res(r)
	r.qty = qty
	r.state = StateConfirmed
	r.updatedAt = s.now
	r.expiresAt = s.pickupDeadline(it, r.window)
	r.code = s.pickupCode(r.id)
	s.indexPIN(r)
	s.stats.AwaitingPickup++
	s.stats.Outcomes[StateConfirmed]++
	s.due.push(dueEntry{at: r.expiresAt, id: r.id})
	s.resEvent(EvConfirmed, r, int64(qty))
	return resResult(r)
}

// pickupDeadline is the end of the window (plus grace) or the pickup period after now.
func (s *state) pickupDeadline(it *item, start int64) int64 {
	if start != 0 {
		if w := it.window(start); w != nil {
			return w.end + int64(s.cfg.PickupGrace)
		}
	}
	return s.now + int64(s.cfg.PickupPeriod)
}

func (s *state) extend(c *Command) Result {
	if c.TTL <= 0 {
		return s.refuse(CodeBadRequest)
	}
	r, code := s.target(c, StateHeld)
	if code != OK {
		return s.refuse(code)
	}
	if r.underReview() {
		return s.refuse(CodeUnderReview) // the hold's TTL bounds how long a review keeps units (docs/adr/0107)
	}
	if r.claimSt == claimProvisional {
		return s.claimRequired(r)
	}
	// TTL is clamped to MaxHold first, so that a huge TTL cannot overflow now+TTL.
	exp := min(s.now+int64(min(c.TTL, s.cfg.MaxHold)), r.createdAt+int64(s.cfg.MaxHold))
	if exp > r.expiresAt {
		s.j.res(r)
		r.expiresAt = exp
		r.updatedAt = s.now
		s.due.push(dueEntry{at: exp, id: r.id})
		s.resEvent(EvExtended, r, int64(r.qty))
	}
	return resResult(r)
}

func (s *state) cancel(c *Command) Result {
	r, code := s.target(c, StateHeld, StateConfirmed)
	if code != OK {
		return s.refuse(code)
	}
	s.release(r, r.qty)
	s.finish(r, StateCancelled)
	s.resEvent(EvCancelled, r, int64(r.qty))
	res := resResult(r)
	res.Sent = s.sent // its claim's release, if it had one
	return res
}

func (s *state) reschedule(c *Command) Result {
	if c.Window <= 0 {
		return s.refuse(CodeBadRequest)
	}
	r, code := s.target(c, StateHeld, StateConfirmed)
	if code != OK {
		return s.refuse(code)
	}
	if r.claimSt == claimProvisional {
		return s.claimRequired(r)
	}
	if r.window == c.Window {
		return resResult(r)
	}
	it := s.items.at(r.item)
	to := it.window(c.Window)
	if to == nil {
		return s.refuse(CodeUnknownWindow)
	}
	if to.end <= s.now {
		return s.refuse(CodeClosed)
	}
	toStore := s.storeWindow(it, c.Window)
	if toStore != nil && toStore.used+r.qty > toStore.quota || to.used+r.qty > to.quota {
		return s.refuse(CodeWindowFull)
	}
	if r.window != 0 {
		if from := it.window(r.window); from != nil {
			s.j.window(from)
			from.used -= r.qty
			assertWindow(from)
		}
		if from := s.storeWindow(it, r.window); from != nil {
			s.j.window(from)
			from.used -= r.qty
			assertWindow(from)
		}
	}
	s.j.window(to)
	to.used += r.qty
	assertWindow(to)
	if toStore != nil {
		s.j.window(toStore)
		toStore.used += r.qty
		assertWindow(toStore)
	}
	s.j.res(r)
	r.window = c.Window
	r.updatedAt = s.now
	if r.state == StateConfirmed {
		r.expiresAt = s.pickupDeadline(it, r.window)
		s.due.push(dueEntry{at: r.expiresAt, id: r.id})
	}
	s.resEvent(EvRescheduled, r, int64(r.qty))
	return resResult(r)
}

func (s *state) returnRes(c *Command) Result {
	r, code := s.target(c, StatePickedUp)
	if code != OK {
		return s.refuse(code)
	}
	it := s.items.at(r.item)
	s.release(r, r.qty)
	if !c.Restock {
		it.stock -= r.qty // the units leave the store (damaged, discarded)
		assertItem(it)
	}
	s.finish(r, StateReturned)
	ev := Event{Kind: EvReturned, ID: r.id, SKU: it.skuName(), Store: it.storeName(),
		Customer: s.customers.at(r.cust).id, Qty: int64(r.qty), Window: r.window, State: r.state, Stock: int64(it.stock)}
	s.emit(ev)
	res := resResult(r)
	res.Sent = s.sent // its claim's release, if it had one
	return res
}

func (s *state) unlock(c *Command) Result {
	r := s.findRes(c.ID)
	if r == nil {
		return s.refuse(CodeNotFound)
	}
	if r.locked || r.attempts > 0 {
		s.j.res(r)
		r.locked = false
		r.attempts = 0 // updatedAt stays: it times the state, which did not change
		s.resEvent(EvUnlocked, r, 0)
	}
	return resResult(r)
}
