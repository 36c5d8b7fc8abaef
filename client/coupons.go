package client

import (
	"context"
	"time"

	"github.com/invsys/inv/engine"
)

// Serial-number coupons (docs/adr/0106). An operator puts a coupon issue
// (a SKU naming the campaign, at a store: the shop that issues it online,
// or the one store where a store-bound issue is redeemed) with a pool of
// serials; the storefront takes one serial for a customer (TakeCoupon) and
// shows it as a barcode (Coupon.Serial); a store's counter redeems it once
// (RedeemCoupon), by the serial alone: it names the shard that owns it.
// A store-bound issue's serial is redeemed at its store only
// (ErrWrongStore elsewhere); a chain-wide issue's at any store. A serial
// redeemed before is ErrAlreadyRedeemed, returned with the Coupon that
// says where and when.

// Refusals of coupons.
var (
	// ErrAlreadyRedeemed: the serial was redeemed before; RedeemCoupon
	// returns, with it, the Coupon naming the store and the time.
	ErrAlreadyRedeemed = sentinelSaying(engine.CodeAlreadyRedeemed,
		"the coupon was redeemed before: the reply says where and when")
	// ErrUnknownIssue: no coupon issue with that SKU at that store.
	ErrUnknownIssue = sentinelSaying(engine.CodeUnknownIssue, "no coupon issue with that SKU at that store")
	// ErrBadSerial: a serial's printed form that is not one: not 33
	// digits, or a wrong check digit (a digit mistyped). Sent nowhere.
	ErrBadSerial = &ServerError{Code: engine.CodeBadRequest,
		Message: "not a coupon serial: 33 digits, the last a check digit (a digit may be mistyped)"}
)

// CouponState is a serial's state: issued, redeemed or expired.
type CouponState = engine.CouponState

// The serials' states.
const (
	CouponIssued   = engine.CouponIssued
	CouponRedeemed = engine.CouponRedeemed
	CouponExpired  = engine.CouponExpired
)

// CouponIssue is an issue's settings, as PutCouponIssue sets them.
type CouponIssue struct {
	SKU, Store string        // the issue's name, and its store (the only one that redeems it unless ChainWide)
	Serials    int64         // the pool: 1 to engine.MaxCouponSerials
	Limit      int64         // serials per customer; 0 = none
	OpensAt    time.Time     // zero: open since forever
	ClosesAt   time.Time     // zero: never closes; a serial's life ends here at the latest
	TTL        time.Duration // a serial's life once taken; 0 = until ClosesAt (none when both are zero)
	ChainWide  bool          // any store of the chain redeems its serials
	// ReturnOnExpiry: a serial that expires unredeemed goes back to the
	// pool, and no longer counts against its customer's limit.
	ReturnOnExpiry bool
	Key            string
}

// CouponIssueReport is a read of an issue: its settings and counts, and
// its redemptions by store, the invoicing report.
type CouponIssueReport struct {
	CouponIssue
	Available int64            // serials left to hand out
	Redeemed  int64            // serials redeemed
	Expired   int64            // serials expired unredeemed (returned to the pool or not)
	ByStore   map[string]int64 // redemptions by store
}

// Coupon is one serial.
type Coupon struct {
	Serial     string // its printed form: a barcode's text (33 digits, the last a check digit)
	ID         uint64 // the serial's id (its high 16 bits name its shard)
	Code       uint64 // its 12-digit code
	SKU, Store string // the issue's
	Customer   string // who took it
	State      CouponState
	ChainWide  bool
	TakenAt    time.Time
	ExpiresAt  time.Time // zero: never
	RedeemedAt time.Time // zero: not redeemed
	RedeemedBy string    // the store that redeemed it
}

// ParseCouponSerial reads a serial's printed form (spaces and dashes
// between digits are skipped): its id and code, or ErrBadSerial.
func ParseCouponSerial(serial string) (id, code uint64, err error) {
	id, code, err = engine.ParseCouponSerial(serial)
	if err != nil {
		return 0, 0, ErrBadSerial
	}
	return id, code, nil
}

// FormatCouponSerial prints a serial (id and code) as its barcode text.
func FormatCouponSerial(id, code uint64) string { return engine.CouponSerial(id, code) }

// PutCouponIssue creates an issue or changes its settings (operator).
// ErrBelowPromised: fewer serials than are out; ErrTooMany: the shard's
// issues are at their bound; ErrBadRequest: a setting out of range.
func (c *Client) PutCouponIssue(ctx context.Context, is CouponIssue) (CouponIssueReport, error) {
	if err := checkIDs(is.SKU, is.Store, is.Key); err != nil {
		return CouponIssueReport{}, err
	}
	var flags engine.CouponFlags
	if is.ChainWide {
		flags |= engine.CouponChainWide
	}
	if is.ReturnOnExpiry {
		flags |= engine.CouponReturnOnExpiry
	}
	r := request{kind: kindOp, sku: is.SKU, store: is.Store, key: is.Key,
		cmd: engine.Command{Op: engine.OpPutCouponIssue, Stock: is.Serials, Limit: is.Limit, OpensAt: nanos(is.OpensAt),
			ClosesAt: nanos(is.ClosesAt), TTL: is.TTL, CouponFlags: flags}}
	if err := c.exec(ctx, &r); err != nil {
		return CouponIssueReport{}, err
	}
	if err := errorOf(r.res.Code); err != nil {
		return CouponIssueReport{}, err
	}
	return issueReportOf(&r.res)
}

// GetCouponIssue reads an issue: its counts and redemptions by store.
// ErrUnknownIssue when there is none.
func (c *Client) GetCouponIssue(ctx context.Context, sku, store string, opts ...ReadOption) (CouponIssueReport, error) {
	r := request{kind: kindOp, sku: sku, store: store, cmd: engine.Command{Op: engine.OpGetCouponIssue}}
	if err := c.read(ctx, &r, opts); err != nil {
		return CouponIssueReport{}, err
	}
	return issueReportOf(&r.res)
}

// TakeCouponRequest hands one serial of an issue to a customer.
type TakeCouponRequest struct {
	SKU, Store, Customer string
	Key                  string
}

// TakeCoupon hands one serial of an issue to a customer: Coupon.Serial is
// what the customer shows. Refusals: ErrUnknownIssue, ErrSoldOut (the pool
// is empty), ErrLimitExceeded (the issue's per-customer limit), ErrBlocked,
// ErrNotOpen, ErrClosed. A retry with the same Key gets the same serial.
func (c *Client) TakeCoupon(ctx context.Context, req TakeCouponRequest) (Coupon, error) {
	if err := checkIDs(req.SKU, req.Store, req.Customer, req.Key); err != nil {
		return Coupon{}, err
	}
	r := request{kind: kindOp, sku: req.SKU, store: req.Store, customer: req.Customer, key: req.Key,
		cmd: engine.Command{Op: engine.OpTakeCoupon}}
	return c.couponCall(ctx, &r, nil)
}

// RedeemCouponRequest redeems a serial at a store: Serial is its printed
// form (as scanned or keyed in).
type RedeemCouponRequest struct {
	Serial string
	Store  string // the counter's store
	Key    string
}

// RedeemCoupon redeems a serial once, across the chain. Refusals:
// ErrAlreadyRedeemed (with the Coupon saying where and when),
// ErrWrongStore (a store-bound issue's serial at another store),
// ErrExpired, ErrNotFound (no such serial: a wrong code reads the same),
// ErrNotOpen, ErrBadSerial (not a serial: sent nowhere). A retry with the
// same Key gets the first answer, not ErrAlreadyRedeemed.
func (c *Client) RedeemCoupon(ctx context.Context, req RedeemCouponRequest) (Coupon, error) {
	id, code, err := ParseCouponSerial(req.Serial)
	if err != nil {
		return Coupon{}, err
	}
	if err := checkIDs(req.Store, req.Key); err != nil {
		return Coupon{}, err
	}
	r := request{kind: kindOp, store: req.Store, key: req.Key,
		cmd: engine.Command{Op: engine.OpRedeemCoupon, ID: id, PickupCode: code}}
	return c.couponCall(ctx, &r, &code)
}

// GetCoupon reads a serial by its printed form: a counter's check before
// it redeems. ErrNotFound for an unknown serial or a wrong code.
func (c *Client) GetCoupon(ctx context.Context, serial string, opts ...ReadOption) (Coupon, error) {
	id, code, err := ParseCouponSerial(serial)
	if err != nil {
		return Coupon{}, err
	}
	r := request{kind: kindOp, cmd: engine.Command{Op: engine.OpGetCoupon, ID: id, PickupCode: code}}
	if err := c.read(ctx, &r, opts); err != nil {
		return Coupon{}, err
	}
	if r.res.Coupon == nil {
		return Coupon{}, errMissing("coupon")
	}
	return couponOf(&r.res, code), nil
}

// couponCall runs a take or a redeem: a refusal comes back as its
// sentinel, with the coupon when the reply carries one (already_redeemed).
// code is the serial's code the caller sent (a redeem's reply may leave it
// out); nil for a take, whose reply carries it.
func (c *Client) couponCall(ctx context.Context, r *request, code *uint64) (Coupon, error) {
	if err := c.exec(ctx, r); err != nil {
		return Coupon{}, err
	}
	cd := r.res.PickupCode
	if code != nil {
		cd = *code
	}
	var cp Coupon
	if r.res.Coupon != nil {
		cp = couponOf(&r.res, cd)
	}
	if err := errorOf(r.res.Code); err != nil {
		return cp, err
	}
	if r.res.Coupon == nil || cd == 0 {
		return Coupon{}, errMissing("coupon")
	}
	return cp, nil
}

func couponOf(r *engine.Result, code uint64) Coupon {
	x := r.Coupon
	return Coupon{Serial: engine.CouponSerial(r.ID, code), ID: r.ID, Code: code, SKU: x.SKU, Store: x.Store,
		Customer: x.Customer, State: x.State, ChainWide: x.ChainWide, TakenAt: fromNanos(x.TakenAt),
		ExpiresAt: fromNanos(r.ExpiresAt), RedeemedAt: fromNanos(x.RedeemedAt), RedeemedBy: x.RedeemedBy}
}

func issueReportOf(r *engine.Result) (CouponIssueReport, error) {
	x := r.CouponIssue
	if x == nil {
		return CouponIssueReport{}, errMissing("coupon issue")
	}
	rep := CouponIssueReport{CouponIssue: CouponIssue{SKU: x.SKU, Store: x.Store, Serials: x.Serials, Limit: x.Limit,
		OpensAt: fromNanos(x.OpensAt), ClosesAt: fromNanos(x.ClosesAt), TTL: x.TTL,
		ChainWide: x.Flags&engine.CouponChainWide != 0, ReturnOnExpiry: x.Flags&engine.CouponReturnOnExpiry != 0},
		Available: x.Available, Redeemed: x.Redeemed, Expired: x.Expired, ByStore: map[string]int64{}}
	for _, b := range x.ByStore {
		rep.ByStore[b.Store] = b.Count
	}
	return rep, nil
}
