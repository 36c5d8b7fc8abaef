package engine

import (
	"slices"
	"sort"
)

// Snapshot section of the screening marks (format 6, docs/adr/0104), the
// last one:
//
//	refusals 32..63: the refusal counts the core's stats do not keep
//	rules: count, (item slot, marks) by slot
//	customers: count, (customer slot, orders, pickups, last no-show,
//	  count, reserve times) by slot
//	prints: count, (key, queued, count, (customer slot, seen)) by key
//	print due heap: count, (at, key) in array order
//	reservation marks: count, (id, marks) by id, for marked reservations
//
// Review (docs/adr/0107) takes no format of its own: a rule that holds back
// carries RuleHoldBack in its word, and a reservation under review carries
// resReview (review.go) in its marks' word (one held back always has marks). A
// node that predates review refuses such a snapshot rather than restore it
// without the review.
//
// Formats 4 and 5 have no such section: a restored shard has no rules, no
// history and no marks, as if marks began at the restore.

const snapVersionMarks = 6

func (s *state) snapMarks(e *enc) {
	for _, v := range s.stats.Refusals[snapCoreRefusals:] {
		e.i(v)
	}
	m := &s.marks
	slots := sortedKeys(m.rules)
	e.u(uint64(len(slots)))
	for _, k := range slots {
		e.u(uint64(k))
		e.u(uint64(m.rules[k]))
	}
	// The customers with a history, by slot.
	var n uint64
	for k := range s.customers.len() {
		if s.customers.at(k).marks != nil {
			n++
		}
	}
	e.u(n)
	for k := range s.customers.len() {
		cm := s.customers.at(k).marks
		if cm == nil {
			continue
		}
		e.u(uint64(k))
		e.i(int64(cm.orders))
		e.i(int64(cm.pickups))
		e.i(cm.lastNoShow)
		e.u(uint64(len(cm.recent)))
		for _, t := range cm.recent {
			e.i(t)
		}
	}
	keys := make([]string, 0, len(m.prints))
	for k := range m.prints {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		pe := m.prints[k]
		e.s(k)
		e.i(pe.queued)
		e.u(uint64(len(pe.custs)))
		for _, pc := range pe.custs {
			e.u(uint64(pc.cust))
			e.i(pc.seen)
		}
	}
	e.u(uint64(len(m.due)))
	for _, x := range m.due {
		e.i(x.at)
		e.s(x.id)
	}
	s.snapResMarks(e)
}

func (s *state) snapResMarks(e *enc) {
	n := 0
	s.res.each(func(r *reservation) {
		if r.marks != 0 {
			n++
		}
	})
	e.u(uint64(n))
	s.res.each(func(r *reservation) { // slot order is id order
		if r.marks != 0 { // with resReview while under review (review.go)
			e.u(r.id)
			e.u(uint64(r.marks))
		}
	})
}

func sortedKeys[V any](m map[uint32]V) []uint32 {
	out := make([]uint32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// restoreMarks reads the section of a format 6 snapshot (earlier ones have
// none). Slots must name restored items and customers, and every list
// stays within its bound.
func (s *state) restoreMarks(d *dec, version byte) {
	if version < snapVersionMarks || d.err != nil {
		return
	}
	for i := range s.stats.Refusals[snapCoreRefusals:] {
		s.stats.Refusals[snapCoreRefusals+i] = d.i()
	}
	m := &s.marks
	for n := d.count(2); n > 0 && d.err == nil; n-- {
		slot, rule := d.slot(s.items.len()), Marks(d.u())
		if _, dup := m.rules[slot]; dup || rule == 0 || !validRule(rule) {
			d.fail()
			return
		}
		m.rules[slot] = rule
	}
	for n := d.count(5); n > 0 && d.err == nil; n-- {
		s.restoreCustMarks(d)
	}
	for n := d.count(4); n > 0 && d.err == nil; n-- {
		s.restorePrint(d)
	}
	for n := d.count(3); n > 0 && d.err == nil; n-- {
		m.due = append(m.due, due[string]{at: d.i(), id: d.str(NumPrints * 9)})
	}
	s.restoreResMarks(d)
}

func (s *state) restoreCustMarks(d *dec) {
	slot := d.slot(s.customers.len())
	cm := &custMarks{orders: d.i32(0, 1<<31-1), pickups: d.i32(0, 1<<31-1), lastNoShow: d.i()}
	k := d.count(1)
	if d.err != nil || s.customers.at(slot).marks != nil || k > MaxVelocityReserves {
		d.fail()
		return
	}
	for ; k > 0; k-- {
		cm.recent = append(cm.recent, d.i())
	}
	s.customers.at(slot).marks = cm
}

func (s *state) restorePrint(d *dec) {
	key := d.str(9)
	pe := &printEntry{queued: d.i()}
	k := d.count(2)
	if _, dup := s.marks.prints[key]; dup || len(key) != 9 || int(key[0]) >= NumPrints || k > MaxPrintCustomers {
		d.fail()
		return
	}
	for ; k > 0 && d.err == nil; k-- {
		pe.custs = append(pe.custs, printCust{cust: d.slot(s.customers.len()), seen: d.i()})
	}
	s.marks.prints[key] = pe
}

func (s *state) restoreResMarks(d *dec) {
	for n := d.count(2); n > 0 && d.err == nil; n-- {
		r, w := s.findRes(d.u()), d.u()
		mk := Marks(w) &^ resReview
		if r == nil || r.marks != 0 || mk == 0 || mk&^MarksAll != 0 || w>>16 != 0 ||
			Marks(w)&resReview != 0 && r.state != StateHeld { // only a held hold is under review

			d.fail()
			return
		}
		r.marks = Marks(w)
	}
}
