package engine

// Review of held-back reservations (docs/adr/0107). An item whose mark rule
// carries RuleHoldBack does not refuse a reserve its marks hit: the hold is
// made as any other (stock taken, the customer's limit counted, the marks
// kept) but under review. A reservation under review cannot be confirmed
// nor extended (CodeUnderReview) until an operator releases it; it may be
// cancelled, and its hold's TTL runs as for any hold, so a review nobody
// gets to gives its units back at the hold's expiry.

// releaseReview lets a held-back hold be confirmed. Only a held hold under
// review may be released: one released already, or never held back, is
// wrong_state; an expired one is expired, as for confirm.
func (s *state) releaseReview(c *Command) Result {
	r, code := s.target(c, StateHeld)
	if code != OK {
		return s.refuse(code)
	}
	if !r.review {
		return s.refuse(CodeWrongState)
	}
	s.j.res(r)
	r.review = false // updatedAt stays: it times the state, which did not change (as unlock)
	s.resEvent(EvReviewReleased, r, int64(r.qty))
	res := resResult(r)
	res.Marks = r.marks
	return res
}
