package client

import (
	"context"
	"strconv"

	"github.com/invsys/inv/engine"
)

// The storefront's operations: the life of a reservation. Each returns the
// reservation as the call left it, and a refusal as one of the sentinel
// errors (ErrSoldOut, ErrWindowFull ...) together with whatever fields the
// refusal carried (an expired reservation's state, for instance).

// Reserve holds Qty units of an item for a customer, optionally in a pickup
// window, for TTL (the server's default when 0). The hold's id is in the
// result; its expiry is ExpiresAt.
func (c *Client) Reserve(ctx context.Context, req ReserveRequest) (Result, error) {
	if err := checkIDs(req.SKU, req.Store, req.Customer, req.Key); err != nil {
		return Result{}, err
	}
	r := request{kind: kindOp, sku: req.SKU, store: req.Store, customer: req.Customer, key: req.Key,
		cmd: engine.Command{Op: engine.OpReserve, Qty: units(req.Qty), Window: nanos(req.Window), TTL: req.TTL}}
	return c.mutate(ctx, &r)
}

// Confirm confirms a hold once payment is done: the result carries the
// pickup code and the pickup deadline (ExpiresAt).
func (c *Client) Confirm(ctx context.Context, req ConfirmRequest) (Result, error) {
	r := request{kind: kindOp, key: req.Key, cmd: engine.Command{Op: engine.OpConfirm, ID: req.ID, Qty: req.Qty}}
	return c.mutateID(ctx, &r)
}

// Extend keeps a hold until at least req.TTL from now while a payment is
// in progress (ExtendRequest says how the expiry moves); Result.ExpiresAt
// is the hold's expiry after it.
func (c *Client) Extend(ctx context.Context, req ExtendRequest) (Result, error) {
	r := request{kind: kindOp, key: req.Key, cmd: engine.Command{Op: engine.OpExtend, ID: req.ID, TTL: req.TTL}}
	return c.mutateID(ctx, &r)
}

// Cancel releases a held or confirmed reservation's units at once.
func (c *Client) Cancel(ctx context.Context, req CancelRequest) (Result, error) {
	r := request{kind: kindOp, key: req.Key, cmd: engine.Command{Op: engine.OpCancel, ID: req.ID}}
	return c.mutateID(ctx, &r)
}

// Pickup hands a confirmed order over at a store, by id and code, or by
// code alone (ID 0). A wrong code is ErrBadCode and counts an attempt;
// after too many the reservation is ErrLocked until an operator unlocks it.
func (c *Client) Pickup(ctx context.Context, req PickupRequest) (Result, error) {
	if err := checkIDs(req.Store, req.Key); err != nil {
		return Result{}, err
	}
	r := request{kind: kindOp, store: req.Store, key: req.Key,
		cmd: engine.Command{Op: engine.OpPickup, ID: req.ID, PickupCode: req.Code}}
	return c.mutate(ctx, &r)
}

// Reschedule moves a reservation to another pickup window of its item.
func (c *Client) Reschedule(ctx context.Context, req RescheduleRequest) (Result, error) {
	r := request{kind: kindOp, key: req.Key,
		cmd: engine.Command{Op: engine.OpReschedule, ID: req.ID, Window: nanos(req.Window)}}
	return c.mutateID(ctx, &r)
}

// Return takes a picked-up order back; with Restock its units go back on sale.
func (c *Client) Return(ctx context.Context, req ReturnRequest) (Result, error) {
	r := request{kind: kindOp, key: req.Key, cmd: engine.Command{Op: engine.OpReturn, ID: req.ID, Restock: req.Restock}}
	return c.mutateID(ctx, &r)
}

// Unlock lifts the lock that too many wrong pickup codes put on a reservation.
func (c *Client) Unlock(ctx context.Context, req UnlockRequest) (Result, error) {
	r := request{kind: kindOp, key: req.Key, cmd: engine.Command{Op: engine.OpUnlock, ID: req.ID}}
	return c.mutateID(ctx, &r)
}

// mutateID runs a mutating call on a reservation named by its id.
func (c *Client) mutateID(ctx context.Context, r *request) (Result, error) {
	if err := checkIDs(r.key); err != nil {
		return Result{}, err
	}
	return c.mutate(ctx, r)
}

// mutate runs a call that answers with a reservation's state.
func (c *Client) mutate(ctx context.Context, r *request) (Result, error) {
	if err := c.exec(ctx, r); err != nil {
		return Result{}, err
	}
	return resultOf(&r.res), errorOf(r.res.Code)
}

// units maps the "0 means 1" of quantities to the wire's explicit count.
func units(qty int64) int64 {
	if qty == 0 {
		return 1
	}
	return qty
}

// checkIDs refuses ids and keys over the protocol's 64 bytes before
// anything is sent: the encoder would refuse them too, by panicking.
func checkIDs(ids ...string) error {
	for _, s := range ids {
		if len(s) > engine.MaxIDBytes {
			return &ServerError{Code: engine.CodeBadRequest,
				Message: "an id or key of " + strconv.Itoa(len(s)) + " bytes (at most " +
					strconv.Itoa(engine.MaxIDBytes) + ")"}
		}
	}
	return nil
}
