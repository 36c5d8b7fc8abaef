package engine

import "sort"

// Snapshot sections of what spans shards (format 3, docs/adr/0070), after
// the idempotency entries:
//
//	claimed reservations: count, then (id, key, deadline, state, refusal, reserve's key) by id
//	accepted claims: count, then (key, customer, sku, units, phase, item shard, deadline, at) by key
//	kept answers: count, then (key, customer, sku, units, phase, code, item shard, deadline, at) oldest first
//	outbox: count (the shards), then per destination its last number, its
//	  undelivered messages' count and each (op, claim, customer, id, at)
//	inbox marks: count (the shards), then the mark of each
//
// The due heaps of pending claims and provisional holds are not written:
// restore rebuilds them from the claims and reservations (their stale
// entries change nothing a reader or a command can see).
// A format 1 snapshot has none of these sections.

func (s *state) snapClaims(e *enc) {
	s.snapClaimHolds(e)
	t := &s.claims
	keys := make([]string, 0, len(t.byKey))
	for k, c := range t.byKey {
		if c.counts() {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		c := t.byKey[k]
		snapClaim(e, c)
		e.u(uint64(c.phase))
		e.u(uint64(c.itemShard))
		e.i(c.deadline)
		e.i(c.at)
	}
	e.u(uint64(t.answers.len()))
	for _, r := range t.answers.live() {
		c := t.byKey[r.id]
		snapClaim(e, c)
		e.u(uint64(c.phase))
		e.u(uint64(c.code))
		e.u(uint64(c.itemShard))
		e.i(c.deadline)
		e.i(c.at)
	}
	s.snapOutbox(e)
}

func snapClaim(e *enc, c *claim) {
	e.s(c.key)
	e.s(c.customer)
	e.s(c.sku)
	e.i(int64(c.units))
}

func (s *state) snapClaimHolds(e *enc) {
	var n uint64
	s.res.each(func(r *reservation) {
		if r.cl != nil {
			n++
		}
	})
	e.u(n)
	s.res.each(func(r *reservation) {
		if r.cl != nil {
			e.u(r.id)
			e.s(r.cl.key)
			e.i(r.cl.deadline)
			e.u(uint64(r.claimSt))
			e.u(uint64(r.claimCode))
			e.s(r.cl.reqKey)
		}
	})
}

func (s *state) snapOutbox(e *enc) {
	e.u(uint64(len(s.out.to)))
	for i := range s.out.to {
		q := &s.out.to[i]
		e.u(q.last)
		e.u(uint64(len(q.msgs)))
		for _, m := range q.msgs {
			e.u(uint64(m.Op))
			e.s(m.Claim)
			e.s(m.Customer)
			e.u(m.ID)
			e.i(m.At)
		}
	}
	e.u(uint64(len(s.out.marks)))
	for _, m := range s.out.marks {
		e.u(m)
	}
}

// restoreClaims reads the sections; restore's full check then proves them
// consistent with each other and with the reservations.
func (s *state) restoreClaims(d *dec) {
	s.restoreClaimHolds(d)
	n := d.count(9)
	var last string
	for i := 0; i < n && d.err == nil; i++ {
		c := restoreClaim(d)
		c.phase = claimPhase(d.u())
		c.itemShard = uint16(d.slot(1 << 16))
		c.deadline, c.at = d.i(), d.i()
		if d.err != nil || c.key <= last || (c.phase != claimPending && c.phase != claimAnchored) {
			d.fail()
			return
		}
		last = c.key
		s.claims.accept(c)
	}
	n = d.count(10)
	for i := 0; i < n && d.err == nil; i++ {
		c := restoreClaim(d)
		c.phase, c.code = claimPhase(d.u()), Code(d.slot(1<<16))
		c.itemShard = uint16(d.slot(1 << 16))
		c.deadline, c.at = d.i(), d.i()
		a := &s.claims.answers
		if _, dup := s.claims.byKey[c.key]; d.err != nil || dup || n > s.claims.answersMax ||
			(c.phase != claimRefused && c.phase != claimReleased) || (a.len() > 0 && c.at < a.buf[len(a.buf)-1].at) {
			d.fail()
			return
		}
		s.claims.keep(c)
	}
	s.restoreOutbox(d)
}

func restoreClaim(d *dec) *claim {
	c := &claim{key: d.str(MaxKeyBytes), customer: d.str(MaxIDBytes), sku: d.str(MaxIDBytes)}
	c.units = d.i32(1, MaxQty)
	if c.key == "" || c.customer == "" || c.sku == "" {
		d.fail()
	}
	return c
}

func (s *state) restoreClaimHolds(d *dec) {
	n := d.count(5)
	for i := 0; i < n && d.err == nil; i++ {
		r := s.findRes(d.u())
		cl := &resClaim{key: d.str(MaxKeyBytes), deadline: d.i()}
		st, code := claimState(d.u()), Code(d.slot(1<<16))
		cl.reqKey = d.str(MaxKeyBytes)
		if d.err != nil || r == nil || r.cl != nil || cl.key == "" || st < claimProvisional || st > claimEnded ||
			(st == claimEnded) != (code != OK) || (code != OK && !resolvable(code)) {
			d.fail()
			return
		}
		r.cl, r.claimSt, r.claimCode = cl, st, code
		if prev := s.claimHold([]byte(cl.key)); prev == nil || !prev.state.Active() {
			s.holds.byKey[cl.key] = r.id // by id: the latest carrying it, unless an active one does
		}
		if st == claimProvisional && r.state == StateHeld {
			s.holds.provisional.push(dueEntry{at: cl.deadline, id: r.id})
		}
	}
}

func (s *state) restoreOutbox(d *dec) {
	if n := d.count(2); n != len(s.out.to) {
		d.fail() // the shard count is configuration: every replica has the same
		return
	}
	for i := range s.out.to {
		q := &s.out.to[i]
		q.last = d.u()
		m := d.count(5)
		if uint64(m) > q.last {
			d.fail()
			return
		}
		for j := 0; j < m && d.err == nil; j++ {
			msg := Message{Seq: q.last - uint64(m) + uint64(j) + 1, Op: Op(d.slot(256)), To: uint16(i)}
			msg.Claim, msg.Customer = d.str(MaxKeyBytes), d.str(MaxIDBytes)
			msg.ID, msg.At = d.u(), d.i()
			q.msgs = append(q.msgs, msg)
		}
	}
	if n := d.count(1); n != len(s.out.marks) {
		d.fail()
		return
	}
	for i := range s.out.marks {
		s.out.marks[i] = d.u()
	}
}
