package engine

import "fmt"

// checkClaims checks what spans shards (docs/adr/0070): the home's claims,
// the item shard's claimed reservations, and the outbox.
func (s *state) checkClaims() error {
	if err := s.checkHomeClaims(); err != nil {
		return err
	}
	if err := s.checkClaimHolds(); err != nil {
		return err
	}
	return s.checkOutbox()
}

// checkHomeClaims: the totals are the accepted claims' units, every pending
// claim has its entry for the sweep, every refusal its entry for ageing.
func (s *state) checkHomeClaims() error {
	t := &s.claims
	pending := make(map[due[string]]bool, len(t.pending))
	for i, d := range t.pending {
		pending[d] = true
		if p := (i - 1) / 2; i > 0 && t.pending.less(i, p) {
			return fmt.Errorf("pending claims out of heap order at %d", i)
		}
	}
	totals := map[claimSubject]int32{}
	kept := 0
	for k, c := range t.byKey {
		if k != c.key || c.units <= 0 || c.customer == "" || c.sku == "" {
			return fmt.Errorf("claim %q: key %q customer %q sku %q units %d", k, c.key, c.customer, c.sku, c.units)
		}
		switch c.phase {
		case claimPending:
			if !pending[due[string]{at: c.deadline, id: c.key}] {
				return fmt.Errorf("claim %q: pending without its entry for the sweep", k)
			}
			totals[claimSubject{c.customer, c.sku}] += c.units
		case claimAnchored:
			totals[claimSubject{c.customer, c.sku}] += c.units
		case claimRefused:
			if !resolvable(c.code) || c.code == OK {
				return fmt.Errorf("claim %q: refused with %v", k, c.code)
			}
			kept++
		case claimReleased:
			kept++
		default:
			return fmt.Errorf("claim %q: phase %d", k, c.phase)
		}
	}
	aging := 0
	for _, e := range t.answers.live() {
		if c := t.byKey[e.id]; c != nil && !c.counts() && c.at == e.at {
			aging++
		}
	}
	if aging != kept || t.answers.len() > t.answersMax {
		return fmt.Errorf("claims: %d answers kept, %d with their ageing entry, %d entries", kept, aging, t.answers.len())
	}
	if len(totals) != len(t.units) {
		return fmt.Errorf("claims: %d subjects counted, %d in the totals", len(totals), len(t.units))
	}
	for sub, n := range totals {
		if t.units[sub] != n {
			return fmt.Errorf("claims of %q/%q: total %d, claims %d", sub.customer, sub.sku, t.units[sub], n)
		}
	}
	return nil
}

// checkClaimHolds: the index names a kept reservation carrying each key,
// and every active claimed reservation is the one named by its key; a
// provisional hold is held (it cannot be confirmed) and has its entry for
// the sweep; a hold ended by its refused claim is not active.
func (s *state) checkClaimHolds() error {
	x := &s.holds
	prov := make(map[dueEntry]bool, len(x.provisional))
	for i, d := range x.provisional {
		prov[d] = true
		if p := (i - 1) / 2; i > 0 && x.provisional.less(i, p) {
			return fmt.Errorf("provisional holds out of heap order at %d", i)
		}
	}
	for k, id := range x.byKey {
		if r := s.findRes(id); r == nil || r.cl == nil || r.cl.key != k {
			return fmt.Errorf("claim index: %q names %x, which does not carry it", k, id)
		}
	}
	var err error
	s.res.each(func(r *reservation) {
		switch {
		case err != nil:
		case r.cl == nil:
			if r.claimSt != claimNone {
				err = fmt.Errorf("reservation %x: claim state %d without a claim", r.id, r.claimSt)
			}
		case r.claimSt == claimNone || r.claimSt > claimEnded || r.cl.key == "":
			err = fmt.Errorf("reservation %x: claim %q in state %d", r.id, r.cl.key, r.claimSt)
		case r.claimSt == claimProvisional && r.state.Active() && r.state != StateHeld:
			err = fmt.Errorf("reservation %x: %v while its claim is provisional", r.id, r.state)
		case r.claimSt == claimProvisional && r.state == StateHeld && !prov[dueEntry{at: r.cl.deadline, id: r.id}]:
			err = fmt.Errorf("reservation %x: provisional without its entry for the sweep", r.id)
		case r.claimSt == claimEnded && (r.state.Active() || !resolvable(r.claimCode) || r.claimCode == OK):
			err = fmt.Errorf("reservation %x: %v after its claim was refused (%v)", r.id, r.state, r.claimCode)
		case r.claimSt != claimEnded && r.claimCode != OK:
			err = fmt.Errorf("reservation %x: refusal %v kept, claim state %d", r.id, r.claimCode, r.claimSt)
		case r.state.Active() && x.byKey[r.cl.key] != r.id:
			err = fmt.Errorf("reservation %x: claim %q indexed to %x", r.id, r.cl.key, x.byKey[r.cl.key])
		}
	})
	return err
}

// checkOutbox: each destination's messages are numbered on from the last
// delivered one without a gap; nothing goes to or comes from this shard.
func (s *state) checkOutbox() error {
	o := &s.out
	if len(o.to) != len(o.marks) {
		return fmt.Errorf("outbox: %d queues, %d inbox marks", len(o.to), len(o.marks))
	}
	for i := range o.to {
		q := &o.to[i]
		if uint64(len(q.msgs)) > q.last || (i == int(s.cfg.ShardID) && (q.last != 0 || o.marks[i] != 0)) {
			return fmt.Errorf("outbox to %d: %d messages, last %d", i, len(q.msgs), q.last)
		}
		for j, m := range q.msgs {
			if m.Seq != q.delivered()+uint64(j)+1 || !m.Op.Message() || m.To != uint16(i) || !messageWhole(&m) {
				return fmt.Errorf("outbox to %d: message %d is %d (%v %q)", i, j, m.Seq, m.Op, m.Claim)
			}
		}
	}
	return nil
}

// messageWhole: a message carries what its kind needs: a claim's release
// its claim, a customer's copy or no-show its customer (customers.go).
func messageWhole(m *Message) bool {
	switch m.Op {
	case OpReleaseClaim:
		return m.Claim != ""
	case OpCustomerCopy:
		return m.Customer != "" && m.Tier <= MaxTier && m.Block <= BlockNoShows
	case OpNoShow:
		return m.Customer != "" && m.ID != 0 && m.At > 0
	}
	return false
}
