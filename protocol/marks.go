package protocol

import "github.com/invsys/inv/engine"

// Screening marks on the wire (docs/adr/0104).
//
// A reserve's fingerprints (request field prints): a u8 mask of the kinds
// sent (bit k: engine.Command.Prints[k]; payment 0, device 1, address 2),
// then each sent one's u64 hash, nonzero, in kind order. Only kinds with a
// nonzero hash are sent, so the mask is never 0.
//
// Replies carry marks in the result's extension (bit rExt of the result
// mask): a u16 mask of extension fields, then those fields in bit order.
// A field is present only when nonzero, as everywhere:
//
//	xMarks      u16: the reply's marks (a reserve's, also on its marked
//	            refusal; set_mark_rule's and get_mark_rule's rule)
//	xResMarks   u16: the marks of the reply's reservation (rReservation)
//	xListMarks  u16 × the reply's reservation count (rReservations)
//	xWaitlist   i64 length, i64 position: a waitlist's line and the
//	            customer's place in it (join_waitlist, leave_waitlist,
//	            get_waitlist; docs/adr/0105)
//	xCoupon     a coupon serial (take_coupon, redeem_coupon and its
//	            already_redeemed refusal, get_coupon; docs/adr/0106;
//	            the serial itself is the reply's id and pickup_code):
//	            u8 state (1 issued, 2 redeemed, 3 expired), u8 chain-wide
//	            (0 or 1), str8 sku, str8 store (the issue's), str8
//	            customer, i64 taken at, i64 redeemed at, str8 redeemed by
//	xCouponIssue a coupon issue (put_coupon_issue, get_coupon_issue):
//	            str8 sku, str8 store, u8 flags, i64 serials, available,
//	            redeemed, expired, limit, opens at, closes at, ttl (ns),
//	            then u16 count (<= MaxListStores) and (str8 store, i64
//	            redemptions) × count, by store
//	xReview     u8: bit 0 the reply's own hold is under review (a reserve
//	            a hold-back rule held back, its replay), bit 1 the reply's
//	            reservation (rReservation) is (docs/adr/0107)
//	xListReview u8 × the reply's reservation count: 1 under review, else 0
//
// A mark rule's action travels in its word (xMarks, request field marks):
// engine.RuleHoldBack, the top bit.

// Result extension bits, in encoding order.
const (
	xMarks = iota
	xResMarks
	xListMarks
	xWaitlist
	xCoupon
	xCouponIssue
	xReview
	xListReview
)

// extMaskValid: the bits this version knows.
const extMaskValid = 1<<xMarks | 1<<xResMarks | 1<<xListMarks | 1<<xWaitlist | 1<<xCoupon | 1<<xCouponIssue |
	1<<xReview | 1<<xListReview

// Bits of xReview's byte.
const (
	reviewOwn   = 1 << iota // Result.UnderReview
	reviewRes               // Result.Reservation.UnderReview
	reviewValid = reviewOwn | reviewRes
)

func reviewByte(r *engine.Result) uint8 {
	var b uint8
	if r.UnderReview {
		b |= reviewOwn
	}
	if r.Reservation != nil && r.Reservation.UnderReview {
		b |= reviewRes
	}
	return b
}

func appendPrints(dst []byte, p *[engine.NumPrints]uint64) []byte {
	var m uint8
	for k, h := range p {
		if h != 0 {
			m |= 1 << k
		}
	}
	dst = appendU8(dst, m)
	for _, h := range p {
		if h != 0 {
			dst = appendU64(dst, h)
		}
	}
	return dst
}

func decodePrints(c *cursor, p *[engine.NumPrints]uint64) {
	m := c.u8()
	if c.err == nil && (m == 0 || m>>engine.NumPrints != 0) {
		c.fail(malformed("prints: a kinds mask of 0 or of unknown kinds"))
		return
	}
	for k := range p {
		if m&(1<<k) != 0 {
			p[k] = c.u64()
			c.nonzero(p[k] != 0)
		}
	}
}

// extMask returns the mask of r's nonzero extension fields.
func extMask(r *engine.Result) uint16 {
	var m uint16
	if r.Marks != 0 {
		m |= 1 << xMarks
	}
	if r.Reservation != nil && r.Reservation.Marks != 0 {
		m |= 1 << xResMarks
	}
	for i := range r.Reservations {
		if r.Reservations[i].Marks != 0 {
			m |= 1 << xListMarks
			break
		}
	}
	if r.Waitlist != nil {
		m |= 1 << xWaitlist
	}
	if r.Coupon != nil {
		m |= 1 << xCoupon
	}
	if r.CouponIssue != nil {
		m |= 1 << xCouponIssue
	}
	if reviewByte(r) != 0 {
		m |= 1 << xReview
	}
	for i := range r.Reservations {
		if r.Reservations[i].UnderReview {
			m |= 1 << xListReview
			break
		}
	}
	return m
}

func appendExt(dst []byte, r *engine.Result) []byte {
	m := extMask(r)
	dst = appendU16(dst, m)
	if m&(1<<xMarks) != 0 {
		dst = appendU16(dst, uint16(r.Marks))
	}
	if m&(1<<xResMarks) != 0 {
		dst = appendU16(dst, uint16(r.Reservation.Marks))
	}
	if m&(1<<xListMarks) != 0 {
		for i := range r.Reservations {
			dst = appendU16(dst, uint16(r.Reservations[i].Marks))
		}
	}
	if m&(1<<xWaitlist) != 0 {
		dst = appendI64(dst, r.Waitlist.Length)
		dst = appendI64(dst, r.Waitlist.Position)
	}
	if m&(1<<xCoupon) != 0 {
		dst = appendCoupon(dst, r.Coupon)
	}
	if m&(1<<xCouponIssue) != 0 {
		dst = appendCouponIssue(dst, r.CouponIssue)
	}
	if m&(1<<xReview) != 0 {
		dst = appendU8(dst, reviewByte(r))
	}
	if m&(1<<xListReview) != 0 {
		for i := range r.Reservations {
			var b uint8
			if r.Reservations[i].UnderReview {
				b = 1
			}
			dst = appendU8(dst, b)
		}
	}
	return dst
}

func decodeExt(c *cursor, r *engine.Result) {
	m := c.u16()
	if c.err != nil {
		return
	}
	if m == 0 || m&^extMaskValid != 0 {
		c.fail(errReservedMask)
		return
	}
	if m&(1<<xMarks) != 0 {
		r.Marks = engine.Marks(c.u16())
		c.nonzero(r.Marks != 0)
	}
	if m&(1<<xResMarks) != 0 {
		if r.Reservation == nil {
			c.fail(malformed("reservation marks without a reservation"))
			return
		}
		r.Reservation.Marks = engine.Marks(c.u16())
		c.nonzero(r.Reservation.Marks != 0)
	}
	if m&(1<<xListMarks) != 0 {
		if len(r.Reservations) == 0 {
			c.fail(malformed("list marks without a list"))
			return
		}
		for i := range r.Reservations {
			r.Reservations[i].Marks = engine.Marks(c.u16())
		}
	}
	if m&(1<<xWaitlist) != 0 {
		r.Waitlist = &engine.WaitlistInfo{Length: c.i64(), Position: c.i64()}
		if r.Waitlist.Length < 0 || r.Waitlist.Position < 0 || r.Waitlist.Position > r.Waitlist.Length {
			c.fail(malformed("a waitlist place outside its line"))
		}
	}
	if m&(1<<xCoupon) != 0 {
		r.Coupon = decodeCoupon(c)
	}
	if m&(1<<xCouponIssue) != 0 {
		r.CouponIssue = decodeCouponIssue(c)
	}
	if m&(1<<xReview) != 0 {
		decodeReview(c, r)
	}
	if m&(1<<xListReview) != 0 {
		decodeListReview(c, r)
	}
}

func decodeReview(c *cursor, r *engine.Result) {
	b := c.u8()
	switch {
	case c.err != nil:
		return
	case b == 0 || b&^reviewValid != 0:
		c.fail(malformed("a review byte of 0 or of unknown bits"))
		return
	case b&reviewRes != 0 && r.Reservation == nil:
		c.fail(malformed("a reservation's review without a reservation"))
		return
	}
	r.UnderReview = b&reviewOwn != 0
	if b&reviewRes != 0 {
		r.Reservation.UnderReview = true
	}
}

func decodeListReview(c *cursor, r *engine.Result) {
	if len(r.Reservations) == 0 {
		c.fail(malformed("list review without a list"))
		return
	}
	for i := range r.Reservations {
		switch b := c.u8(); {
		case c.err != nil:
			return
		case b > 1:
			c.fail(malformed("a list review other than 0 or 1"))
			return
		default:
			r.Reservations[i].UnderReview = b == 1
		}
	}
}
