package engine

// Expiry without scanning: every hold and every pickup deadline goes into a
// min-heap keyed by (time, id) when it is set. An entry is not removed when
// its reservation is confirmed, extended or cancelled; it goes stale, and is
// dropped when it reaches the top and no longer matches the reservation.
// A batch pops only what is due, so the cost is O(log n) per expiry and O(1)
// per batch when nothing is due. See docs/adr/0002-expiry.md.

// dueLive reports whether a heap entry still names a pending expiry.
func (s *state) dueLive(e dueEntry) bool {
	r := s.findRes(e.id)
	return r != nil && r.expiresAt == e.at && (r.state == StateHeld || r.state == StateConfirmed)
}

// expireDue expires every hold whose TTL has passed (EXPIRED) and every
// confirmed reservation whose pickup deadline has passed (NO_SHOW).
func (s *state) expireDue() {
	for len(s.due) > 0 && s.due[0].at <= s.now {
		e := s.due.pop()
		if !s.dueLive(e) {
			continue
		}
		r := s.findRes(e.id)
		s.release(r, r.qty)
		if r.state == StateHeld {
			s.finish(r, StateExpired)
			s.resEvent(EvExpired, r, int64(r.qty))
			continue
		}
		s.finish(r, StateNoShow)
		s.resEvent(EvNoShow, r, int64(r.qty))
		s.noShowAt(s.customers.at(r.cust), r.id) // counted at the customer's home (customers.go)
		s.recordNoShow(r.cust)
	}
}

// collectFinished forgets finished reservations older than the retention.
// Their units were released (or, for picked-up ones, stay counted as picked
// up in the item); only the record goes.
func (s *state) collectFinished() {
	limit := s.now - int64(s.cfg.FinishedRetention)
	for s.finished.len() > 0 && s.finished.peek().at <= limit {
		e := s.finished.pop()
		r := s.findRes(e.id)
		if r == nil || r.updatedAt != e.at || r.state == StateHeld || r.state == StateConfirmed {
			continue // gone, or changed since (a later entry will come for it)
		}
		s.forget(r)
	}
}

// forget removes a finished reservation's record, and its claim's entry
// in the claim index (a picked-up claimed one's claim stays counted on the
// home, as its units stay picked up here).
func (s *state) forget(r *reservation) {
	if r.cl != nil && s.holds.byKey[r.cl.key] == r.id {
		delete(s.holds.byKey, r.cl.key)
	}
	cu := s.customers.at(r.cust)
	for i, id := range cu.resIDs {
		if id == r.id {
			cu.resIDs = append(cu.resIDs[:i], cu.resIDs[i+1:]...)
			break
		}
	}
	s.res.remove(SeqOfID(r.id))
	s.stats.Reservations--
}
