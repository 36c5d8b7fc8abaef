package client

import (
	"context"

	"github.com/invsys/inv/engine"
)

// Screening marks (docs/adr/0104): the marks a reservation got when it was
// made, fingerprints a storefront sends with a reserve, and the item rules
// that refuse marked reserves.

// ErrMarked: the reserve's screening marks hit the item's mark rule;
// ReserveMarked returns the marks with it.
var ErrMarked = sentinelSaying(engine.CodeMarked,
	"the order's screening marks hit the item's mark rule")

// Prints are a reserve's fingerprints: opaque hashes the storefront makes
// of the payment instrument, the device and the address (0 = not sent).
// The engine counts the customers behind each, per shard.
type Prints struct {
	Payment, Device, Address uint64
}

func (p Prints) wire() [engine.NumPrints]uint64 {
	var w [engine.NumPrints]uint64
	w[engine.PrintPayment], w[engine.PrintDevice], w[engine.PrintAddress] = p.Payment, p.Device, p.Address
	return w
}

// MarkedReserveRequest is a reserve with fingerprints.
type MarkedReserveRequest struct {
	ReserveRequest
	Prints Prints
}

// ReserveMarked reserves like Reserve, sending the request's fingerprints,
// and returns the reservation's screening marks. A reserve refused by the
// item's mark rule returns ErrMarked with the marks that hit it.
func (c *Client) ReserveMarked(ctx context.Context, req MarkedReserveRequest) (Result, engine.Marks, error) {
	if err := checkIDs(req.SKU, req.Store, req.Customer, req.Key); err != nil {
		return Result{}, 0, err
	}
	r := request{kind: kindOp, sku: req.SKU, store: req.Store, customer: req.Customer, key: req.Key,
		cmd: engine.Command{Op: engine.OpReserve, Qty: units(req.Qty), Window: nanos(req.Window), TTL: req.TTL,
			Prints: req.Prints.wire()}}
	res, err := c.mutate(ctx, &r)
	return res, r.res.Marks, err
}

// MarkedReservation is a reservation with its screening marks, and whether
// its item's rule holds it back for review (review.go).
type MarkedReservation struct {
	Reservation
	Marks       engine.Marks
	UnderReview bool
}

// GetReservationMarked reads a reservation with its screening marks.
func (c *Client) GetReservationMarked(ctx context.Context, id uint64, opts ...ReadOption) (MarkedReservation, error) {
	r := request{kind: kindOp, cmd: engine.Command{Op: engine.OpGetReservation, ID: id}}
	if err := c.read(ctx, &r, opts); err != nil {
		return MarkedReservation{}, err
	}
	if r.res.Reservation == nil {
		return MarkedReservation{}, errMissing("reservation")
	}
	x := r.res.Reservation
	return MarkedReservation{Reservation: reservationOf(x), Marks: x.Marks, UnderReview: x.UnderReview}, nil
}

// ListByMark lists the held and confirmed reservations carrying any of
// marks (0: any mark) in every shard, by id (operator).
func (c *Client) ListByMark(ctx context.Context, marks engine.Marks, opts ...ReadOption) ([]MarkedReservation, error) {
	r := request{kind: kindSolo, cmd: engine.Command{Op: engine.OpListByMark, Marks: marks}}
	if err := c.read(ctx, &r, opts); err != nil {
		return nil, err
	}
	out := make([]MarkedReservation, len(r.res.Reservations))
	for i := range r.res.Reservations {
		x := &r.res.Reservations[i]
		out[i] = MarkedReservation{Reservation: reservationOf(x), Marks: x.Marks, UnderReview: x.UnderReview}
	}
	return out, nil
}

// MarkRule names the screening marks that refuse an item's reserves, or
// with Action MarkHoldBack hold them back for review (0 lifts the rule).
type MarkRule struct {
	SKU, Store string
	Refuse     engine.Marks // the marks the rule acts on
	Action     MarkAction
	Key        string
}

// SetMarkRule sets an item's mark rule (operator).
func (c *Client) SetMarkRule(ctx context.Context, rule MarkRule) error {
	r := request{kind: kindOp, sku: rule.SKU, store: rule.Store, key: rule.Key,
		cmd: engine.Command{Op: engine.OpSetMarkRule, Marks: rule.ruleWord()}}
	return c.operate(ctx, &r)
}

// GetMarkRule reads the marks of an item's mark rule (operator);
// ReadMarkRule reads its action too.
func (c *Client) GetMarkRule(ctx context.Context, sku, store string, opts ...ReadOption) (engine.Marks, error) {
	r := request{kind: kindOp, sku: sku, store: store, cmd: engine.Command{Op: engine.OpGetMarkRule}}
	if err := c.read(ctx, &r, opts); err != nil {
		return 0, err
	}
	return r.res.Marks &^ engine.RuleHoldBack, errorOf(r.res.Code)
}
