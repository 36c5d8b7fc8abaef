package engine

// Snapshot section of customers across shards (format 5, docs/adr/0072),
// after the stores:
//
//	customer copies: count, then (tier, block) of each customer_copy
//	  message in the outbox, by destination, oldest first
//
// The outbox section (snapshot_claims.go) writes every message's op,
// customer, id and time (a no_show needs nothing more); this one adds what
// only a copy carries. The home's records (block, tier, no-show history)
// and the other shards' copies (block, tier) are the customer records of
// the customers section. A format 4 snapshot has no such section: its
// outbox holds claim releases only.

func (s *state) snapCustomerCopies(e *enc) {
	n := 0
	for i := range s.out.to {
		for j := range s.out.to[i].msgs {
			if s.out.to[i].msgs[j].Op == OpCustomerCopy {
				n++
			}
		}
	}
	e.u(uint64(n))
	for i := range s.out.to {
		for j := range s.out.to[i].msgs {
			if m := &s.out.to[i].msgs[j]; m.Op == OpCustomerCopy {
				e.u(uint64(m.Tier))
				e.u(uint64(m.Block))
			}
		}
	}
}

// restoreCustomerCopies reads the section of a format 5 snapshot into the
// outbox's copies (restored before it); version 4 had none.
func (s *state) restoreCustomerCopies(d *dec, version byte) {
	want := 0
	for i := range s.out.to {
		for j := range s.out.to[i].msgs {
			if m := &s.out.to[i].msgs[j]; !m.Op.Message() || (version < 5 && m.Op != OpReleaseClaim) {
				d.fail()
				return
			} else if m.Op == OpCustomerCopy {
				want++
			}
		}
	}
	if version < 5 {
		return
	}
	if n := d.count(2); n != want {
		d.fail()
		return
	}
	for i := range s.out.to {
		for j := range s.out.to[i].msgs {
			if m := &s.out.to[i].msgs[j]; m.Op == OpCustomerCopy {
				m.Tier, m.Block = uint8(d.slot(MaxTier+1)), uint8(d.slot(uint32(BlockNoShows)+1))
			}
		}
	}
}
