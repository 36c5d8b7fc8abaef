package engine

import "fmt"

// CheckInvariants walks the whole shard and reports the first broken
// invariant: no oversell (promised <= stock), window quotas, store window
// capacities and use (stores.go), counts that
// must agree with the reservations, and every pending reservation having a
// live expiry entry. It is O(state): tests call it after every batch, and a
// build with the "invariants" tag runs it inside Apply.
func (e *Engine) CheckInvariants() error { return e.st.check() }

func (s *state) check() error {
	type counts struct{ held, confirmed, pickedUp, share int32 }
	perItem := make([]counts, s.items.len())
	winUsed := map[[2]uint64]int32{}
	open := make([]int32, s.customers.len())
	var holds, awaiting, kept int64
	// Which reservations have an expiry entry of their own (their expiry,
	// their id) in the due heap, which may also hold stale ones: a bit per
	// slot of the reservation table, found from the heap's side.
	resBase := s.res.first * resChunkLen
	hasDue := make([]uint64, (len(s.res.chunks)*resChunkLen+63)/64)
	for _, d := range s.due {
		if r := s.findRes(d.id); r != nil && r.expiresAt == d.at {
			i := SeqOfID(r.id) - 1 - resBase
			hasDue[i/64] |= 1 << (i % 64)
		}
	}
	var err error
	s.res.each(func(r *reservation) {
		if err != nil {
			return
		}
		kept++
		if s.findRes(r.id) != r {
			err = fmt.Errorf("reservation %x: not found by its id", r.id)
			return
		}
		if r.item >= s.items.len() || r.cust >= s.customers.len() || r.qty <= 0 {
			err = fmt.Errorf("reservation %x: bad item, customer or qty", r.id)
			return
		}
		if r.underReview() && (r.state != StateHeld || r.markSet() == 0) {
			err = fmt.Errorf("reservation %x: under review but %v with marks %v", r.id, r.state, r.marks)
			return
		}
		c := &perItem[r.item]
		switch r.state {
		case StateHeld:
			c.held += r.qty
			holds++
		case StateConfirmed:
			c.confirmed += r.qty
			awaiting++
			if got, _ := s.byPIN(r.code, []byte(s.items.at(r.item).storeName())); got == nil {
				err = fmt.Errorf("reservation %x: confirmed but not found by its pickup code", r.id)
				return
			}
		case StatePickedUp:
			c.pickedUp += r.qty
		}
		if r.state.Active() {
			c.share += r.fromShare
			if r.window != 0 {
				winUsed[[2]uint64{uint64(r.item), uint64(r.window)}] += r.qty
			}
		}
		if r.state == StateHeld || r.state == StateConfirmed {
			open[r.cust]++
			if i := SeqOfID(r.id) - 1 - resBase; hasDue[i/64]&(1<<(i%64)) == 0 {
				err = fmt.Errorf("reservation %x: pending without an expiry entry", r.id)
			}
		}
	})
	if err != nil {
		return err
	}
	if holds != s.stats.ActiveHolds || awaiting != s.stats.AwaitingPickup || kept != s.stats.Reservations {
		return fmt.Errorf("stats: holds %d/%d awaiting %d/%d kept %d/%d", s.stats.ActiveHolds, holds,
			s.stats.AwaitingPickup, awaiting, s.stats.Reservations, kept)
	}
	for i := uint32(0); i < s.items.len(); i++ {
		it, c := s.items.at(i), perItem[i]
		// Picked-up records are forgotten after the retention while their
		// units stay picked up, so those counts may only exceed the records.
		if it.held != c.held || it.confirmed != c.confirmed || it.pickedUp < c.pickedUp {
			return fmt.Errorf("item %q/%q: counts %d/%d/%d, reservations say %d/%d/%d", it.skuName(), it.storeName(),
				it.held, it.confirmed, it.pickedUp, c.held, c.confirmed, c.pickedUp)
		}
		if it.held < 0 || it.confirmed < 0 || it.pickedUp < 0 || it.promised() > it.stock {
			return fmt.Errorf("item %q/%q: oversold: stock %d promised %d", it.skuName(), it.storeName(), it.stock, it.promised())
		}
		if x := it.ext; x != nil {
			if x.memberUsed < c.share || x.memberUsed < 0 {
				return fmt.Errorf("item %q/%q: member share used %d, reservations %d", it.skuName(), it.storeName(), x.memberUsed, c.share)
			}
			for j, w := range x.windows {
				if j > 0 && x.windows[j-1].end > w.start {
					return fmt.Errorf("item %q/%q: windows overlap", it.skuName(), it.storeName())
				}
				if w.used > w.quota || w.used < winUsed[[2]uint64{uint64(i), uint64(w.start)}] {
					return fmt.Errorf("item %q/%q window %d: used %d quota %d reservations %d", it.skuName(), it.storeName(),
						w.start, w.used, w.quota, winUsed[[2]uint64{uint64(i), uint64(w.start)}])
				}
			}
		}
	}
	var listed int64
	var units []own // one customer's units in active reservations, by SKU
	for i := uint32(0); i < s.customers.len(); i++ {
		cu := s.customers.at(i)
		if cu.active != open[i] {
			return fmt.Errorf("customer %q: open %d, reservations %d", cu.id, cu.active, open[i])
		}
		// Reads list these: each must be a kept reservation of the
		// customer, oldest first, and every kept one listed once (with
		// the count check below), so the units the customer owns can be
		// summed from its list.
		units = units[:0]
		for j, id := range cu.resIDs {
			r := s.findRes(id)
			if r == nil || r.cust != i || (j > 0 && id <= cu.resIDs[j-1]) {
				return fmt.Errorf("customer %q: lists reservation %x, not one of its own in order", cu.id, id)
			}
			if r.state.Active() {
				units = addUnits(units, s.items.at(r.item).sku, r.qty)
			}
		}
		for _, u := range units {
			if got := cu.owned(u.sku); got < u.units {
				return fmt.Errorf("customer %q sku %q: owns %d, reservations %d", cu.id, s.skus[u.sku].name, got, u.units)
			}
		}
		listed += int64(len(cu.resIDs))
		for _, o := range cu.owns {
			if o.units < 0 || o.sku >= uint32(len(s.skus)) {
				return fmt.Errorf("customer %q: owns %d of sku %d", cu.id, o.units, o.sku)
			}
		}
	}
	if listed != kept { // a reservation in no list was not summed above either
		return fmt.Errorf("customers list %d reservations, %d kept", listed, kept)
	}
	for i := range s.due {
		if p := (i - 1) / 2; i > 0 && s.due.less(i, p) {
			return fmt.Errorf("due heap out of order at %d", i)
		}
	}
	if err := s.checkStores(); err != nil {
		return err
	}
	if err := s.checkWaitlists(); err != nil {
		return err
	}
	if err := s.checkCoupons(); err != nil {
		return err
	}
	return s.checkClaims()
}

// addUnits adds n units of SKU sku to a customer's few per-SKU sums.
func addUnits(units []own, sku uint32, n int32) []own {
	for k := range units {
		if units[k].sku == sku {
			units[k].units += n
			return units
		}
	}
	return append(units, own{sku: sku, units: n})
}
