package engine

import (
	"encoding/binary"
	"time"
)

// Serial-number coupons (docs/adr/0106). A coupon issue is a pool of
// serials named (SKU, store) and kept in its store's shard: put_coupon_issue
// creates or changes it, take_coupon hands one serial out to a customer,
// redeem_coupon spends it once at a store's counter. A store-bound issue
// is redeemed at its own store only; a chain-wide one (CouponChainWide) at
// any store.
//
// A serial is the pair (ID, code). The ID is MakeID(shard, couponIDBit |
// n), n the shard's count of serials handed out, so that the serial alone
// routes to the shard that owns it (engine.ShardOfID, as a reservation
// id does) and never equals a reservation's id (reservation numbers stay
// far below couponIDBit). The code is an HMAC of the ID under the
// configured pickup secret, 12 digits: the same on every replica, and one
// serial does not let anyone guess another. CouponSerial prints both as
// one numeric barcode text with a check digit.
//
// Exactly once: only the issue's shard holds a serial's state, so the
// check that it was not redeemed is one shard's, in log order. A retry
// with the request's idempotency key gets the first answer; a retry
// without one, already_redeemed with where and when.
//
// A serial's life ends at its expiry: the issue's TTL after it was taken,
// capped by the issue's close (none when both are 0). An unredeemed serial
// then expires (coupon_expired); with CouponReturnOnExpiry its place goes
// back to the pool (a later take hands out a new serial) and it no longer
// counts against its customer's limit. Expired serials' records are
// dropped FinishedRetention later; redeemed ones stay with their issue,
// the invoicing record (get_coupon_issue counts them by store).

// CouponFlags are an issue's options.
type CouponFlags uint8

const (
	// CouponChainWide: any store of the chain redeems the issue's serials;
	// without it only the issue's own store does (wrong_store elsewhere).
	CouponChainWide CouponFlags = 1 << 0
	// CouponReturnOnExpiry: a serial that expires unredeemed goes back to
	// the pool.
	CouponReturnOnExpiry CouponFlags = 1 << 1
	couponFlagsValid                 = CouponChainWide | CouponReturnOnExpiry
)

// CouponState is a serial's state.
type CouponState uint8

const (
	CouponIssued   CouponState = 1 // handed out, redeemable
	CouponRedeemed CouponState = 2 // spent at a store
	CouponExpired  CouponState = 3 // its life ended unredeemed
)

var couponStateNames = [...]string{"", "issued", "redeemed", "expired"}

func (s CouponState) String() string {
	if int(s) < len(couponStateNames) && s != 0 {
		return couponStateNames[s]
	}
	return "coupon_state_" + itoa(int64(s))
}

// Limits of coupons.
const (
	// MaxCouponSerials bounds one issue's pool: a national chain's
	// limited campaign (a million serials) fits; each serial handed out
	// keeps a record of about 150 bytes in its shard.
	MaxCouponSerials = 1 << 20
	// MaxCouponIssues bounds the issues of one shard, so that a shard's
	// coupon records stay within MaxCouponIssues × MaxCouponSerials.
	MaxCouponIssues = 1024
	// MaxCouponTTL bounds a serial's life after it is taken: a year, the
	// longest a chain's coupon is honoured.
	MaxCouponTTL = 366 * 24 * time.Hour
	// MaxCouponStores bounds the stores that redeem one issue, so that its
	// report (redemptions by store) fits one reply of the default 1 MiB
	// frame even with 64-byte store ids (8192 × 73 bytes): the largest
	// chains have about 6,000 stores. The protocol's list bound,
	// MaxListStores, is above it.
	MaxCouponStores = 8192
	// couponIDBit marks a serial's number within a shard's id space:
	// reservation numbers (one per hold) never reach 2^47, so a serial's
	// ID never names a reservation, nor the other way round.
	couponIDBit = 1 << 47
)

// couponIssue is one pool of serials.
type couponIssue struct {
	sku, store string
	flags      CouponFlags
	serials    int64 // the pool's size
	out        int64 // serials not in the pool: issued, redeemed, and expired without return
	redeemed   int64
	expired    int64
	limit      int64 // serials per customer (0 = none)
	opensAt    int64
	closesAt   int64
	ttl        int64            // a serial's life after it is taken, ns (0 = until closesAt)
	perCust    map[string]int64 // serials that count against each customer's limit
	byStore    map[string]int64 // redemptions by store (the invoicing report)
}

// coupon is one serial handed out.
type coupon struct {
	id         uint64
	code       uint64 // couponCode(id), kept so that reads need not hash (they may run side by side)
	issue      string // the issue's key (couponKey)
	customer   string
	state      CouponState
	takenAt    int64
	expiresAt  int64 // 0 = never
	redeemedAt int64
	redeemedBy string // the store that redeemed it
}

// couponTable is the shard's coupon issues and serials.
type couponTable struct {
	issues  map[string]*couponIssue // couponKey(sku, store) -> issue
	serials map[uint64]*coupon      // by ID
	due     dueHeap[uint64]         // serials by expiry, then by record drop time
	seq     uint64                  // serials handed out so far in this shard
}

func (t *couponTable) init() {
	t.issues = make(map[string]*couponIssue)
	t.serials = make(map[uint64]*coupon)
}

func couponKey(sku, store []byte) string { return string(sku) + "\x00" + string(store) }

// couponCode derives a serial's check code: HMAC-SHA256 of its ID under
// the pickup secret (with its own prefix, so that no pickup code equals
// it), 12 decimal digits.
func (s *state) couponCode(id uint64) uint64 {
	b := s.pinBuf[:]
	copy(b[:8], "inv-cpn\x00")
	binary.BigEndian.PutUint64(b[8:], id)
	s.mac.Reset()
	s.mac.Write(b)
	sum := s.mac.Sum(s.macBuf[:0])
	return binary.BigEndian.Uint64(sum[:8]) % pickupCodeMod
}

// putCouponIssue creates an issue or changes its settings. The pool may
// not shrink below the serials already out (below_promised).
func (s *state) putCouponIssue(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) || c.Stock <= 0 || c.Stock > MaxCouponSerials ||
		c.Limit < 0 || c.Limit > MaxCouponSerials || c.TTL < 0 || c.TTL > MaxCouponTTL ||
		c.CouponFlags&^couponFlagsValid != 0 || (c.ClosesAt != 0 && c.ClosesAt <= c.OpensAt) {
		return s.refuse(CodeBadRequest)
	}
	key := couponKey(c.SKU, c.Store)
	is := s.coupons.issues[key]
	switch {
	case is == nil && len(s.coupons.issues) >= MaxCouponIssues:
		return s.refuse(CodeTooMany)
	case is == nil:
		is = &couponIssue{sku: string(c.SKU), store: string(c.Store),
			perCust: make(map[string]int64), byStore: make(map[string]int64)}
		s.coupons.issues[key] = is
	case c.Stock < is.out:
		return s.refuse(CodeBelowPromised)
	}
	is.flags, is.serials, is.limit = c.CouponFlags, c.Stock, c.Limit
	is.opensAt, is.closesAt, is.ttl = c.OpensAt, c.ClosesAt, int64(c.TTL)
	s.emit(Event{Kind: EvCouponIssuePut, SKU: is.sku, Store: is.store, Qty: is.serials, Stock: is.serials - is.out})
	return Result{CouponIssue: s.issueInfo(is)}
}

// takeCoupon hands one serial of an issue out to a customer.
func (s *state) takeCoupon(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) || !validID(c.Customer) {
		return s.refuse(CodeBadRequest)
	}
	key := couponKey(c.SKU, c.Store)
	is := s.coupons.issues[key]
	if is == nil {
		return s.refuse(CodeUnknownIssue)
	}
	if _, cu := s.findCustomer(c.Customer); cu != nil && cu.blocked {
		return s.refuse(CodeBlocked)
	}
	switch {
	case is.opensAt != 0 && s.now < is.opensAt:
		return s.refuse(CodeNotOpen)
	case is.closesAt != 0 && s.now >= is.closesAt:
		return s.refuse(CodeClosed)
	case is.out >= is.serials:
		return s.refuse(CodeSoldOut)
	case is.limit > 0 && is.perCust[string(c.Customer)] >= is.limit:
		return s.refuse(CodeLimitExceeded)
	}
	s.coupons.seq++
	id := MakeID(s.cfg.ShardID, couponIDBit|s.coupons.seq)
	cp := &coupon{id: id, code: s.couponCode(id), issue: key, customer: string(c.Customer), state: CouponIssued, takenAt: s.now, expiresAt: is.expiryFrom(s.now)}
	s.coupons.serials[cp.id] = cp
	is.out++
	is.perCust[cp.customer]++
	if cp.expiresAt != 0 {
		s.coupons.due.push(due[uint64]{at: cp.expiresAt, id: cp.id})
	}
	s.emit(Event{Kind: EvCouponTaken, ID: cp.id, SKU: is.sku, Store: is.store, Customer: cp.customer, Qty: 1})
	return s.couponResult(cp)
}

// expiryFrom returns when a serial taken at now expires: the issue's TTL
// later, capped by its close; 0 when neither is set.
func (is *couponIssue) expiryFrom(now int64) int64 {
	at := int64(0)
	if is.ttl > 0 {
		at = now + is.ttl
	}
	if is.closesAt != 0 && (at == 0 || is.closesAt < at) {
		at = is.closesAt
	}
	return at
}

// findCoupon returns the serial (id, code), or nil when there is none or
// the code is not its own. A wrong code is counted as bad_code but
// answered as not_found, so that a counter cannot tell a live ID from a
// made-up one.
func (s *state) findCoupon(id, code uint64) (*coupon, Code) {
	cp := s.coupons.serials[id]
	switch {
	case cp == nil:
		return nil, CodeNotFound
	case code != cp.code:
		return nil, CodeBadCode
	}
	return cp, OK
}

// redeemCoupon spends a serial at a store, once.
func (s *state) redeemCoupon(c *Command) Result {
	if c.ID == 0 || c.PickupCode == 0 || c.PickupCode >= pickupCodeMod || !validID(c.Store) {
		return s.refuse(CodeBadRequest)
	}
	cp, code := s.findCoupon(c.ID, c.PickupCode)
	if code == CodeBadCode {
		return s.refuseAs(CodeBadCode, CodeNotFound)
	}
	if cp == nil {
		return s.refuse(code)
	}
	is := s.coupons.issues[cp.issue]
	switch {
	case cp.state == CouponRedeemed:
		r := s.refuse(CodeAlreadyRedeemed)
		r.ID, r.Coupon = cp.id, s.couponInfo(cp)
		return r
	case cp.state == CouponExpired:
		return s.refuse(CodeExpired)
	case is.flags&CouponChainWide == 0 && string(c.Store) != is.store:
		return s.refuse(CodeWrongStore)
	case is.opensAt != 0 && s.now < is.opensAt:
		return s.refuse(CodeNotOpen)
	case len(is.byStore) >= MaxCouponStores && is.byStore[string(c.Store)] == 0:
		return s.refuse(CodeTooMany)
	}
	cp.state, cp.redeemedAt, cp.redeemedBy = CouponRedeemed, s.now, string(c.Store)
	is.redeemed++
	is.byStore[cp.redeemedBy]++
	s.emit(Event{Kind: EvCouponRedeemed, ID: cp.id, SKU: is.sku, Store: cp.redeemedBy, Customer: cp.customer, Qty: 1})
	return s.couponResult(cp)
}

// getCoupon reads a serial: a counter's check before it redeems one.
func (s *state) getCoupon(c *Command) Result {
	if c.ID == 0 || c.PickupCode == 0 || c.PickupCode >= pickupCodeMod {
		return Result{Code: CodeBadRequest}
	}
	if cp, _ := s.findCoupon(c.ID, c.PickupCode); cp != nil {
		return s.couponResult(cp)
	}
	return Result{Code: CodeNotFound} // a wrong code reads as an unknown serial (findCoupon)
}

// getCouponIssue reads an issue: its counts and redemptions by store.
func (s *state) getCouponIssue(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) {
		return Result{Code: CodeBadRequest}
	}
	is := s.coupons.issues[couponKey(c.SKU, c.Store)]
	if is == nil {
		return Result{Code: CodeUnknownIssue}
	}
	return Result{CouponIssue: s.issueInfo(is)}
}

// couponResult is the answer about a serial: ID and PickupCode the serial,
// ExpiresAt its expiry, Coupon the rest.
func (s *state) couponResult(cp *coupon) Result {
	return Result{ID: cp.id, PickupCode: cp.code, ExpiresAt: cp.expiresAt, Coupon: s.couponInfo(cp)}
}

// couponReplay is a replayed take's or redeem's answer: the stored
// result with the serial as it stands now (the stored record keeps no
// read view).
func (s *state) couponReplay(c *Command, res Result) Result {
	if c.Op == OpPutCouponIssue && res.Code == OK {
		if is := s.coupons.issues[couponKey(c.SKU, c.Store)]; is != nil {
			res.CouponIssue = s.issueInfo(is)
		}
		return res
	}
	if cp := s.coupons.serials[res.ID]; cp != nil && res.ID != 0 {
		res.Coupon = s.couponInfo(cp)
	}
	return res
}

// expireCoupons ends the serials whose life has passed, and drops the
// records of those that expired FinishedRetention ago.
func (s *state) expireCoupons() {
	t := &s.coupons
	for len(t.due) > 0 && t.due[0].at <= s.now {
		e := t.due.pop()
		cp := t.serials[e.id]
		switch {
		case cp == nil:
		case cp.state == CouponIssued && cp.expiresAt == e.at:
			s.expireCoupon(cp)
		case cp.state == CouponExpired && cp.expiresAt+int64(s.cfg.FinishedRetention) == e.at:
			delete(t.serials, cp.id)
		}
	}
}

// expireCoupon ends one serial's life unredeemed.
func (s *state) expireCoupon(cp *coupon) {
	is := s.coupons.issues[cp.issue]
	cp.state = CouponExpired
	is.expired++
	var back int64
	if is.flags&CouponReturnOnExpiry != 0 {
		is.out--
		if is.perCust[cp.customer]--; is.perCust[cp.customer] <= 0 {
			delete(is.perCust, cp.customer)
		}
		back = 1
	}
	s.coupons.due.push(due[uint64]{at: cp.expiresAt + int64(s.cfg.FinishedRetention), id: cp.id})
	s.emit(Event{Kind: EvCouponExpired, ID: cp.id, SKU: is.sku, Store: is.store, Customer: cp.customer, Qty: back})
}
