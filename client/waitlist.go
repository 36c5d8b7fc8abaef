package client

import (
	"context"
	"time"

	"github.com/invsys/inv/engine"
)

// A sold-out item's fair waitlist (docs/adr/0105). A customer joins the
// line of an item (SKU at a store, without pickup windows) that is sold
// out for it; entries stand first come, first served, until their TTL
// ends. A unit freed while the line is not empty goes to the head: the
// server turns the head's entry into a hold of its own (TTL: the server's
// waitlist_hold_ttl), announced in the change feed by a reserved event
// then a waitlist_promoted event naming the hold (Subscribe to the shard of
// the item's store, protocol.ShardOfStore). While the line is not empty every other reserve of the
// item is ErrSoldOut.

// JoinWaitlistRequest puts Customer in the line of an item (SKU at Store).
type JoinWaitlistRequest struct {
	SKU, Store, Customer string
	Qty                  int64         // units wanted, 1..engine.MaxWaitlistQty (8); 0 means 1
	TTL                  time.Duration // how long the entry stands; 0 = the server's default (1 h), at most 24 h
	Key                  string
}

// LeaveWaitlistRequest takes Customer out of the line of an item.
type LeaveWaitlistRequest struct {
	SKU, Store, Customer string
	Key                  string
}

// Waitlist is a read of an item's line and of one customer's entry in it.
type Waitlist struct {
	Length    int64     // entries in line
	Position  int64     // the customer's place from 1 (the head); 0 = not in line
	Qty       int64     // the customer's entry's units (LeaveWaitlist: the units of the entry that left)
	ExpiresAt time.Time // when the customer's entry ends; zero when not in line
}

// JoinWaitlist puts a customer in an item's line and returns its place.
// Joining a line the customer already stands in changes nothing and
// returns its place. Refusals: ErrWrongState when the item has the units
// (reserve them instead), ErrUnknownItem, ErrWindowRequired (an item with
// pickup windows has no line), ErrBlocked, ErrNotOpen, ErrClosed,
// ErrLimitExceeded, ErrTooMany (a full line, or a customer in too many
// lines), ErrBadRequest (Qty or TTL out of range: sent nowhere). A limited
// SKU's entry counts against the customer's limit from the join on, at
// every shard (docs/adr/0112): a customer whose home is another shard than
// the item's joins too, its node taking the claim at that home first
// (ErrLimitExceeded, ErrBlocked, or ErrExpired when that took too long);
// leaving gives the units back before LeaveWaitlist returns.
func (c *Client) JoinWaitlist(ctx context.Context, req JoinWaitlistRequest) (Waitlist, error) {
	if err := checkIDs(req.SKU, req.Store, req.Customer, req.Key); err != nil {
		return Waitlist{}, err
	}
	qty := units(req.Qty)
	if qty < 1 || qty > engine.MaxWaitlistQty {
		return Waitlist{}, &ServerError{Code: engine.CodeBadRequest,
			Message: "a waitlist entry asks for 1 to 8 units"}
	}
	if req.TTL < 0 || req.TTL > engine.MaxWaitlistTTL {
		return Waitlist{}, &ServerError{Code: engine.CodeBadRequest,
			Message: "a waitlist entry's TTL is 0 (the default) up to " + engine.MaxWaitlistTTL.String()}
	}
	r := request{kind: kindOp, sku: req.SKU, store: req.Store, customer: req.Customer, key: req.Key,
		cmd: engine.Command{Op: engine.OpJoinWaitlist, Qty: qty, TTL: req.TTL}}
	return c.waitlistCall(ctx, &r)
}

// LeaveWaitlist takes a customer out of an item's line; ErrNotFound when it
// does not stand in it. The result's Length is the line's after it, and
// its Qty the units the entry asked for. When the head leaves, the next
// entry may be promoted at once.
func (c *Client) LeaveWaitlist(ctx context.Context, req LeaveWaitlistRequest) (Waitlist, error) {
	if err := checkIDs(req.SKU, req.Store, req.Customer, req.Key); err != nil {
		return Waitlist{}, err
	}
	r := request{kind: kindOp, sku: req.SKU, store: req.Store, customer: req.Customer, key: req.Key,
		cmd: engine.Command{Op: engine.OpLeaveWaitlist}}
	return c.waitlistCall(ctx, &r)
}

// GetWaitlist reads an item's line: its length, and where customer stands
// in it (customer may be empty: the length alone). ErrUnknownItem for an
// item that does not exist.
func (c *Client) GetWaitlist(ctx context.Context, sku, store, customer string, opts ...ReadOption) (Waitlist, error) {
	r := request{kind: kindOp, sku: sku, store: store, customer: customer, cmd: engine.Command{Op: engine.OpGetWaitlist}}
	if err := c.read(ctx, &r, opts); err != nil {
		return Waitlist{}, err
	}
	if r.res.Waitlist == nil {
		return Waitlist{}, errMissing("waitlist")
	}
	return waitlistOf(&r.res), nil
}

// waitlistCall runs a join or a leave: a refusal comes back as its sentinel.
func (c *Client) waitlistCall(ctx context.Context, r *request) (Waitlist, error) {
	if err := c.exec(ctx, r); err != nil {
		return Waitlist{}, err
	}
	if err := errorOf(r.res.Code); err != nil {
		return Waitlist{}, err
	}
	if r.res.Waitlist == nil {
		return Waitlist{}, errMissing("waitlist")
	}
	return waitlistOf(&r.res), nil
}

func waitlistOf(r *engine.Result) Waitlist {
	return Waitlist{Length: r.Waitlist.Length, Position: r.Waitlist.Position, Qty: r.Qty,
		ExpiresAt: fromNanos(r.ExpiresAt)}
}
