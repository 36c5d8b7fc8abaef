package client

import (
	"context"
	"errors"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Operator operations: the catalogue (items, windows, stock, sale windows,
// limits, member shares), stores (time zones, pickup windows with their
// capacity) and customers (block, unblock, tier). They are
// mutating calls like the others: idempotent under retries with their key,
// refused with a sentinel error when the engine refuses them (for
// instance ErrBelowPromised for stock below what is already held).

// PutItem creates an item or replaces its settings: every setting the spec
// leaves zero is removed (UpdateItem changes only the settings it names).
// Lowering the stock below what is already promised is refused
// (ErrBelowPromised). The SKU's per-customer limit is SetLimit's.
func (c *Client) PutItem(ctx context.Context, spec ItemSpec) error {
	r := request{kind: kindOp, sku: spec.SKU, store: spec.Store, key: spec.Key,
		cmd: engine.Command{Op: engine.OpPutItem, Stock: spec.Stock,
			OpensAt: nanos(spec.OpensAt), ClosesAt: nanos(spec.ClosesAt), MemberTier: spec.MemberTier,
			MemberUnits: spec.MemberUnits, MemberCutoff: nanos(spec.MemberCutoff)}}
	return c.operate(ctx, &r)
}

// PutWindow creates a pickup window of an item, or changes its end and quota.
func (c *Client) PutWindow(ctx context.Context, spec WindowSpec) error {
	r := request{kind: kindOp, sku: spec.SKU, store: spec.Store, key: spec.Key,
		cmd: engine.Command{Op: engine.OpPutWindow, Window: nanos(spec.Start),
			WindowEnd: nanos(spec.End), Quota: spec.Quota}}
	return c.operate(ctx, &r)
}

// Restock adds Qty (> 0) units to an item's stock.
func (c *Client) Restock(ctx context.Context, ch StockChange) error {
	if err := checkReason(ch.Reason); err != nil {
		return err
	}
	r := request{kind: kindOp, sku: ch.SKU, store: ch.Store, key: ch.Key,
		cmd: engine.Command{Op: engine.OpRestock, Qty: ch.Qty, Reason: []byte(ch.Reason)}}
	return c.operate(ctx, &r)
}

// AdjustStock adds the signed Qty to an item's stock (a count correction).
func (c *Client) AdjustStock(ctx context.Context, ch StockChange) error {
	if err := checkReason(ch.Reason); err != nil {
		return err
	}
	r := request{kind: kindOp, sku: ch.SKU, store: ch.Store, key: ch.Key,
		cmd: engine.Command{Op: engine.OpAdjustStock, Qty: ch.Qty, Reason: []byte(ch.Reason)}}
	return c.operate(ctx, &r)
}

// SetSaleWindow sets when an item may be reserved.
func (c *Client) SetSaleWindow(ctx context.Context, w SaleWindow) error {
	r := request{kind: kindOp, sku: w.SKU, store: w.Store, key: w.Key,
		cmd: engine.Command{Op: engine.OpSetSaleWindow, OpensAt: nanos(w.OpensAt), ClosesAt: nanos(w.ClosesAt)}}
	return c.operate(ctx, &r)
}

// SetLimit sets the per-customer limit of a SKU, the same at every store.
// The server applies it on every shard and answers once all did; a failure
// on some shard is returned (the others may have it: call again, with the
// same key, to complete it).
func (c *Client) SetLimit(ctx context.Context, l LimitSpec) error {
	r := request{kind: kindOp, sku: l.SKU, key: l.Key,
		cmd: engine.Command{Op: engine.OpSetLimit, Limit: l.Limit}}
	return c.operate(ctx, &r)
}

// PutStore sets a store's time zone. The zone must be an IANA name this
// host's zone database knows (time.LoadLocation; not "Local"); the server
// checks it again against its own.
func (c *Client) PutStore(ctx context.Context, spec StoreSpec) error {
	if err := protocol.CheckZone(spec.Zone); err != nil {
		var pe *protocol.Error
		if errors.As(err, &pe) {
			return &ServerError{Code: pe.Code, Message: pe.Msg}
		}
		return err
	}
	r := request{kind: kindOp, store: spec.Store, key: spec.Key,
		cmd: engine.Command{Op: engine.OpPutStore, Zone: []byte(spec.Zone)}}
	return c.operate(ctx, &r)
}

// PutStoreWindow creates a store's pickup window or changes its end or
// capacity. Refused with ErrWindowConflict when it overlaps another window
// of the store, or a window of one of the store's items without
// coinciding with it, and with ErrBelowPromised below what the store's
// items already hold in it.
func (c *Client) PutStoreWindow(ctx context.Context, spec StoreWindowSpec) error {
	r := request{kind: kindOp, store: spec.Store, key: spec.Key,
		cmd: engine.Command{Op: engine.OpPutStoreWindow, Window: nanos(spec.Start), WindowEnd: nanos(spec.End),
			Quota: spec.Capacity}}
	return c.operate(ctx, &r)
}

// SetMemberShare keeps units of an item for members until a cutoff.
func (c *Client) SetMemberShare(ctx context.Context, m MemberShare) error {
	r := request{kind: kindOp, sku: m.SKU, store: m.Store, key: m.Key,
		cmd: engine.Command{Op: engine.OpSetMemberShare, MemberTier: m.Tier, MemberUnits: m.Units,
			MemberCutoff: nanos(m.Cutoff)}}
	return c.operate(ctx, &r)
}

// Block refuses every further reserve of a customer (ErrBlocked).
func (c *Client) Block(ctx context.Context, req CustomerRequest) error {
	r := request{kind: kindOp, customer: req.Customer, key: req.Key, cmd: engine.Command{Op: engine.OpBlock}}
	return c.operate(ctx, &r)
}

// Unblock lifts a block, the no-show rule's included, and clears the
// customer's no-show history.
func (c *Client) Unblock(ctx context.Context, req CustomerRequest) error {
	r := request{kind: kindOp, customer: req.Customer, key: req.Key, cmd: engine.Command{Op: engine.OpUnblock}}
	return c.operate(ctx, &r)
}

// SetTier sets a customer's tier (member shares go to tiers at or above theirs).
func (c *Client) SetTier(ctx context.Context, req TierRequest) error {
	r := request{kind: kindOp, customer: req.Customer, key: req.Key,
		cmd: engine.Command{Op: engine.OpSetTier, Tier: req.Tier}}
	return c.operate(ctx, &r)
}

// operate runs a mutating call whose answer is only its code.
func (c *Client) operate(ctx context.Context, r *request) error {
	if err := checkIDs(r.sku, r.store, r.customer, r.key); err != nil {
		return err
	}
	if err := c.exec(ctx, r); err != nil {
		return err
	}
	return errorOf(r.res.Code)
}
