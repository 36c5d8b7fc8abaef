package engine

// Promotion: the head of a line takes what was freed (waitlist.go,
// docs/adr/0105).

// promoteFreed promotes the heads of the lines whose units the command just
// applied freed. It runs between commands, never inside a linked group (a
// group that fails leaves nothing freed: its rollback drops its marks).
func (s *state) promoteFreed() {
	for len(s.wait.freed) > 0 {
		n := len(s.wait.freed) - 1
		item := s.wait.freed[n]
		s.wait.freed = s.wait.freed[:n]
		s.promoteLine(item)
	}
}

// promoteLine turns the heads of an item's line into holds while the units
// are there. A head that must wait (sold_out, not_open) ends the round; one
// refused for a reason waiting cannot mend leaves the line.
func (s *state) promoteLine(item uint32) {
	for s.wait.waiting(item) {
		head := s.wait.lines[item][0]
		if head.expiresAt <= s.now { // its due entry has not surfaced yet in this batch
			s.wait.remove(item, 0)
			s.waitEvent(EvWaitExpired, item, head.cust, int64(head.qty))
			s.entryEnded(&head)
			continue
		}
		r := s.promote(item, &head)
		switch r.Code {
		case CodeSoldOut, CodeNotOpen:
			return
		case OK:
			s.wait.remove(item, 0) // its claim, if any, is the hold's now
			ev := Event{Kind: EvWaitPromoted, ID: r.ID, Qty: r.Qty, State: StateHeld}
			s.fillWaitEvent(&ev, item, head.cust)
			s.emit(ev)
		default:
			s.wait.remove(item, 0)
			s.waitEvent(EvWaitDropped, item, head.cust, int64(head.qty))
			s.entryEnded(&head)
		}
	}
}

// promote reserves the entry's units for its customer by the reserve path
// (every check of a reserve but the rate limit and the line itself), as a
// hold of WaitlistHoldTTL. An entry carrying a claim skips the limit (its
// home counted the units) and its hold carries the claim, firm. A refusal
// here is the line's, not a customer's request: it is not counted among
// the refusals.
func (s *state) promote(item uint32, e *waitEntry) Result {
	it := s.items.at(item)
	c := Command{Op: OpReserve, SKU: []byte(it.skuName()), Store: []byte(it.storeName()),
		Customer: []byte(s.customers.at(e.cust).id), Qty: int64(e.qty), TTL: s.cfg.WaitlistHoldTTL}
	counted := s.stats.Refusals
	r := s.reserveFrom(&c, e)
	if r.Code != OK {
		s.stats.Refusals = counted
	}
	return r
}

// fillWaitEvent names the item and the customer of a line's event.
func (s *state) fillWaitEvent(ev *Event, item, cust uint32) {
	it := s.items.at(item)
	ev.SKU, ev.Store, ev.Customer = it.skuName(), it.storeName(), s.customers.at(cust).id
}
