package engine

import "sort"

// Snapshot sections of claims (version 2 of the format, claim.go), after
// the idempotency entries:
//
//	claimed reservations: count, then (id, key, claim expiry) by id
//	claims: count, then (key, customer, sku, units, created, expires) by key
//	pending releases: count, then (reservation id, customer, key) in order
//
// A version 1 snapshot has none of them: no claims, no releases.

func (s *state) snapClaims(e *enc) {
	var n uint64
	s.res.each(func(r *reservation) {
		if r.claim != "" {
			n++
		}
	})
	e.u(n)
	s.res.each(func(r *reservation) {
		if r.claim != "" {
			e.u(r.id)
			e.s(r.claim)
			e.i(r.claimUntil)
		}
	})
	keys := make([]string, 0, len(s.claims.byKey))
	for k := range s.claims.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		c := s.claims.byKey[k]
		e.s(c.key)
		e.s(c.customer)
		e.s(c.sku)
		e.i(int64(c.units))
		e.i(c.createdAt)
		e.i(c.expiresAt)
	}
	e.u(uint64(len(s.releases)))
	for _, r := range s.releases {
		e.u(r.ID)
		e.s(r.Customer)
		e.s(r.Key)
	}
}

func (s *state) restoreClaims(d *dec) {
	n := d.count(3)
	for i := 0; i < n && d.err == nil; i++ {
		r := s.findRes(d.u())
		key := d.str(MaxKeyBytes)
		until := d.i()
		if r == nil || key == "" || r.claim != "" || until < 0 {
			d.fail()
			return
		}
		r.claim, r.claimUntil = key, until
	}
	n = d.count(6)
	var last string
	for i := 0; i < n && d.err == nil; i++ {
		c := &claim{key: d.str(MaxKeyBytes), customer: d.str(MaxIDBytes), sku: d.str(MaxIDBytes)}
		c.units = d.i32(1, MaxQty)
		c.createdAt, c.expiresAt = d.i(), d.i()
		if d.err != nil || c.key == "" || c.key <= last || c.customer == "" || c.sku == "" || c.expiresAt < 0 {
			d.fail()
			return
		}
		last = c.key
		s.claims.add(c)
	}
	n = d.count(3)
	for i := 0; i < n && d.err == nil; i++ {
		r := ClaimRelease{ID: d.u(), Customer: d.str(MaxIDBytes), Key: d.str(MaxKeyBytes)}
		if r.ID == 0 || r.Customer == "" || r.Key == "" {
			d.fail()
			return
		}
		s.releases = append(s.releases, r)
	}
}
