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
	if !r.underReview() {
		return s.refuse(CodeWrongState)
	}
	s.j.res(r)
	r.marks &^= resReview // updatedAt stays: it times the state, which did not change (as unlock)
	s.resEvent(EvReviewReleased, r, int64(r.qty))
	res := resResult(r)
	res.Marks = r.markSet()
	return res
}

// resReview flags a reservation under review in its marks' word: the top
// bit, which no mark uses (marks append from the bottom). Kept there, the
// review costs the reservation no byte of its own (its fields fill 88 bytes
// to the last), and the snapshot carries it with the marks.
const resReview = RuleHoldBack

func (r *reservation) underReview() bool { return r.marks&resReview != 0 }

// markSet is the reservation's screening marks, without the review flag.
func (r *reservation) markSet() Marks { return r.marks &^ resReview }
