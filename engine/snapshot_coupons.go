package engine

import (
	"fmt"
	"slices"
	"strings"
)

// Snapshot section of the coupons (format 7, docs/adr/0106), the last:
//
//	seq (serials handed out so far),
//	issues: count, then for each by key: sku, store, flags, serials, out,
//	  redeemed, expired, limit, opens at, closes at, ttl, the customers'
//	  counts (count, then customer, n by customer), the redemptions by
//	  store (count, then store, n by store),
//	serials: count, then for each by id: id, code, sku, store (its issue),
//	  customer, state, taken at, expires at, redeemed at, redeemed by,
//	due heap of the serials (array order)
//
// A snapshot of an older format has no coupons.

// snapVersionCoupons is the first format with the coupons.
const snapVersionCoupons = 7

func (s *state) snapCoupons(e *enc) {
	t := &s.coupons
	e.u(t.seq)
	keys := make([]string, 0, len(t.issues))
	for k := range t.issues {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		is := t.issues[k]
		e.s(is.sku)
		e.s(is.store)
		e.u(uint64(is.flags))
		for _, v := range []int64{is.serials, is.out, is.redeemed, is.expired, is.limit, is.opensAt, is.closesAt, is.ttl} {
			e.i(v)
		}
		snapCounts(e, is.perCust)
		snapCounts(e, is.byStore)
	}
	ids := make([]uint64, 0, len(t.serials))
	for id := range t.serials {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	e.u(uint64(len(ids)))
	for _, id := range ids {
		cp := t.serials[id]
		is := t.issues[cp.issue]
		e.u(cp.id)
		e.u(cp.code)
		e.s(is.sku)
		e.s(is.store)
		e.s(cp.customer)
		e.u(uint64(cp.state))
		e.i(cp.takenAt)
		e.i(cp.expiresAt)
		e.i(cp.redeemedAt)
		e.s(cp.redeemedBy)
	}
	snapDue(e, t.due)
}

// snapCounts writes a map of counts by its sorted keys.
func snapCounts(e *enc, m map[string]int64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		e.s(k)
		e.i(m[k])
	}
}

func restoreCounts(d *dec) map[string]int64 {
	n := d.count(3)
	m := make(map[string]int64, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str(MaxIDBytes)
		if _, dup := m[k]; dup {
			d.fail()
		}
		m[k] = d.i()
	}
	return m
}

// restoreCoupons reads the section; checkCoupons then checks what the
// reads alone cannot.
func (s *state) restoreCoupons(d *dec, version byte) {
	if version < snapVersionCoupons {
		return
	}
	t := &s.coupons
	t.seq = d.u()
	n := d.count(12)
	for i := 0; i < n && d.err == nil; i++ {
		is := &couponIssue{sku: d.str(MaxIDBytes), store: d.str(MaxIDBytes), flags: CouponFlags(d.u())}
		for _, v := range []*int64{&is.serials, &is.out, &is.redeemed, &is.expired, &is.limit, &is.opensAt, &is.closesAt, &is.ttl} {
			*v = d.i()
		}
		is.perCust, is.byStore = restoreCounts(d), restoreCounts(d)
		key := is.sku + "\x00" + is.store
		if _, dup := t.issues[key]; dup {
			d.fail()
			return
		}
		t.issues[key] = is
	}
	m := d.count(10)
	for i := 0; i < m && d.err == nil; i++ {
		cp := &coupon{id: d.u(), code: d.u()}
		sku, store := d.str(MaxIDBytes), d.str(MaxIDBytes)
		cp.issue = sku + "\x00" + store
		cp.customer, cp.state = d.str(MaxIDBytes), CouponState(d.u())
		cp.takenAt, cp.expiresAt, cp.redeemedAt, cp.redeemedBy = d.i(), d.i(), d.i(), d.str(MaxIDBytes)
		if _, dup := t.serials[cp.id]; dup || t.issues[cp.issue] == nil {
			d.fail()
			return
		}
		t.serials[cp.id] = cp
	}
	t.due = restoreDue(d)
}

// checkCoupons checks the issues and serials: flags and bounds, the
// counts against the records, every issued serial with an expiry in the
// due heap, and the heap's order.
func (s *state) checkCoupons() error {
	t := &s.coupons
	due := make(map[dueEntry]bool, len(t.due))
	for i, d := range t.due {
		due[d] = true
		if p := (i - 1) / 2; i > 0 && t.due.less(i, p) {
			return fmt.Errorf("coupon due heap out of order at %d", i)
		}
	}
	if len(t.issues) > MaxCouponIssues {
		return fmt.Errorf("coupons: %d issues", len(t.issues))
	}
	redeemed := map[string]int64{}
	for id, cp := range t.serials {
		is := t.issues[cp.issue]
		switch {
		case is == nil || cp.id != id || SeqOfID(cp.id)&couponIDBit == 0:
			return fmt.Errorf("coupon %d: no issue, or not a serial's id", id)
		case cp.state < CouponIssued || cp.state > CouponExpired:
			return fmt.Errorf("coupon %d: state %d", id, cp.state)
		case cp.state == CouponIssued && cp.expiresAt != 0 && !due[dueEntry{at: cp.expiresAt, id: id}]:
			return fmt.Errorf("coupon %d: no due entry for its expiry", id)
		case (cp.state == CouponRedeemed) != (cp.redeemedBy != ""):
			return fmt.Errorf("coupon %d: %v, redeemed by %q", id, cp.state, cp.redeemedBy)
		}
		if cp.state == CouponRedeemed {
			redeemed[cp.issue]++
		}
	}
	for key, is := range t.issues {
		if err := checkIssue(is, redeemed[key]); err != nil {
			return fmt.Errorf("coupon issue %q: %w", strings.ReplaceAll(key, "\x00", "@"), err)
		}
	}
	return nil
}

// checkIssue checks one issue's counts: redeemed (its records' count, and
// the sum by store), what is out against the pool and the customers'
// counts.
func checkIssue(is *couponIssue, redeemed int64) error {
	var byStore, perCust int64
	for _, n := range is.byStore {
		byStore += n
	}
	for _, n := range is.perCust {
		if n <= 0 {
			return fmt.Errorf("a customer counted %d", n)
		}
		perCust += n
	}
	switch {
	case is.flags&^couponFlagsValid != 0 || is.serials <= 0 || is.serials > MaxCouponSerials:
		return fmt.Errorf("flags %d, serials %d", is.flags, is.serials)
	case len(is.byStore) > MaxCouponStores:
		return fmt.Errorf("redeemed at %d stores", len(is.byStore))
	case is.redeemed != redeemed || byStore != redeemed:
		return fmt.Errorf("redeemed %d, %d records, %d by store", is.redeemed, redeemed, byStore)
	case is.out < is.redeemed || is.out > is.serials:
		return fmt.Errorf("out %d of %d, redeemed %d", is.out, is.serials, is.redeemed)
	case perCust != is.out:
		return fmt.Errorf("out %d, customers count %d", is.out, perCust)
	}
	return nil
}
