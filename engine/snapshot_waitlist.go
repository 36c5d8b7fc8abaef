package engine

import (
	"fmt"
	"slices"
)

// Snapshot section of the waitlists (format 6, docs/adr/0105), the last:
//
//	seq (the last entry id given),
//	lines: count, then for each line by item slot: item slot, entries:
//	  count, then (id, customer slot, qty word, joined at, expires at
//	  [, claim key]), head first,
//	due heap of the entries (array order)
//
// The qty word is the entry's units, with snapWaitClaimed set when the
// entry carries a claim (docs/adr/0112), whose key then follows. Format 6
// wrote the units alone (1..MaxWaitlistQty, the bit clear), so an entry
// without a claim is written as before and a format 6 snapshot reads as
// it did: the claims extend the section under the flag, no new format.
// The indexes by entry id and by claim key and the per-customer counts
// are rebuilt. A snapshot of an older format has no waitlists.

// snapVersionWaitlists is the first format with the waitlists.
const snapVersionWaitlists = 6

// snapWaitClaimed flags an entry's qty word: a claim key follows. Above
// every qty an entry may have (MaxWaitlistQty).
const snapWaitClaimed = 1 << 8

func (s *state) snapWaitlists(e *enc) {
	t := &s.wait
	e.u(t.seq)
	items := make([]uint32, 0, len(t.lines))
	for it := range t.lines {
		items = append(items, it)
	}
	slices.Sort(items)
	e.u(uint64(len(items)))
	for _, it := range items {
		line := t.lines[it]
		e.u(uint64(it))
		e.u(uint64(len(line)))
		for _, w := range line {
			e.u(w.id)
			e.u(uint64(w.cust))
			if w.claim == "" {
				e.i(int64(w.qty))
			} else {
				e.i(int64(w.qty) | snapWaitClaimed)
			}
			e.i(w.joinedAt)
			e.i(w.expiresAt)
			if w.claim != "" {
				e.s(w.claim)
			}
		}
	}
	snapDue(e, t.due)
}

// restoreWaitlists reads the section; the invariants (checkWaitlists)
// then check what the counts alone cannot.
func (s *state) restoreWaitlists(d *dec, version byte) {
	if version < snapVersionWaitlists {
		return
	}
	t := &s.wait
	t.seq = d.u()
	n := d.count(2)
	for i := 0; i < n && d.err == nil; i++ {
		it := d.slot(s.items.len())
		if _, dup := t.lines[it]; dup {
			d.fail()
			return
		}
		m := d.count(5)
		if m == 0 || m > MaxWaitlistPerItem {
			d.fail()
			return
		}
		for j := 0; j < m && d.err == nil; j++ {
			w := s.restoreWaitEntry(d)
			if _, dup := t.byID[w.id]; dup || w.id == 0 || w.id > t.seq {
				d.fail()
				return
			}
			if _, dup := t.byClaim[w.claim]; w.claim != "" && dup {
				d.fail()
				return
			}
			t.lines[it] = append(t.lines[it], w)
			t.byID[w.id] = it
			if w.claim != "" {
				t.byClaim[w.claim] = w.id
			}
			t.perCust[w.cust]++
		}
	}
	t.due = restoreDue(d)
}

// restoreWaitEntry reads one entry: its qty word says whether a claim
// key follows (snapWaitClaimed).
func (s *state) restoreWaitEntry(d *dec) waitEntry {
	w := waitEntry{id: d.u(), cust: d.slot(s.customers.len())}
	q := d.i()
	w.joinedAt, w.expiresAt = d.i(), d.i()
	if q&snapWaitClaimed != 0 {
		q &^= snapWaitClaimed
		if w.claim = d.str(MaxKeyBytes); w.claim == "" {
			d.fail()
		}
	}
	if q < 1 || q > MaxWaitlistQty {
		d.fail()
	}
	w.qty = int32(q)
	return w
}

// checkWaitlists checks the lines: entries known by their id, a customer
// once per line, the per-customer counts, the bounds, a live due entry for
// every entry, and the heap's order.
func (s *state) checkWaitlists() error {
	t := &s.wait
	due := make(map[dueEntry]bool, len(t.due))
	for i, d := range t.due {
		due[d] = true
		if p := (i - 1) / 2; i > 0 && t.due.less(i, p) {
			return fmt.Errorf("waitlist due heap out of order at %d", i)
		}
	}
	perCust := map[uint32]int32{}
	entries, claims := 0, 0
	for it, line := range t.lines {
		if len(line) == 0 || len(line) > MaxWaitlistPerItem || it >= s.items.len() {
			return fmt.Errorf("waitlist of item %d: %d entries", it, len(line))
		}
		seen := map[uint32]bool{}
		for _, w := range line {
			switch {
			case seen[w.cust]:
				return fmt.Errorf("waitlist of item %d: customer %d twice", it, w.cust)
			case t.byID[w.id] != it || w.id > t.seq:
				return fmt.Errorf("waitlist entry %d: not indexed by its id", w.id)
			case w.qty <= 0 || w.qty > MaxWaitlistQty || w.cust >= s.customers.len():
				return fmt.Errorf("waitlist entry %d: bad qty or customer", w.id)
			case !due[dueEntry{at: w.expiresAt, id: w.id}]:
				return fmt.Errorf("waitlist entry %d: no due entry for its expiry", w.id)
			case w.claim != "" && t.byClaim[w.claim] != w.id:
				return fmt.Errorf("waitlist entry %d: its claim is not indexed", w.id)
			case w.claim != "" && s.claimHold([]byte(w.claim)) != nil:
				return fmt.Errorf("waitlist entry %d: its claim is a reservation's too", w.id)
			}
			if w.claim != "" {
				claims++
			}
			seen[w.cust] = true
			perCust[w.cust]++
			entries++
		}
	}
	if entries != len(t.byID) || claims != len(t.byClaim) {
		return fmt.Errorf("waitlists: %d entries, %d indexed; %d claims, %d indexed", entries, len(t.byID), claims, len(t.byClaim))
	}
	for c, n := range perCust {
		if n > MaxWaitlistPerCustomer || t.perCust[c] != n {
			return fmt.Errorf("waitlists: customer %d stands in %d lines, counted %d", c, n, t.perCust[c])
		}
	}
	if len(perCust) != len(t.perCust) {
		return fmt.Errorf("waitlists: %d customers in line, %d counted", len(perCust), len(t.perCust))
	}
	return nil
}
