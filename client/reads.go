package client

import (
	"context"
	"time"

	"github.com/invsys/inv/engine"
)

// Reads. By default they are linearizable (the shard's leader confirms its
// leadership and its applied state before answering, or the read goes
// through the log, per the server's read mode), so a read after a write
// sees it. With the Stale option any replica answers from what it has
// applied, which may lag (docs/adr/0033). Single records
// share BATCH frames with other calls; lists, whose replies can be large,
// go in frames of their own (a BATCH reply must fit one frame whole).

// GetItem reads an item (SKU at a store) with its pickup windows.
func (c *Client) GetItem(ctx context.Context, sku, store string, opts ...ReadOption) (Item, error) {
	r := request{kind: kindOp, sku: sku, store: store, cmd: engine.Command{Op: engine.OpGetItem}}
	if err := c.read(ctx, &r, opts); err != nil {
		return Item{}, err
	}
	if r.res.Item == nil {
		return Item{}, errMissing("item")
	}
	return itemOf(r.res.Item), nil
}

// GetWindow reads one pickup window of an item, named by its start.
func (c *Client) GetWindow(ctx context.Context, sku, store string, start time.Time, opts ...ReadOption) (Window, error) {
	r := request{kind: kindOp, sku: sku, store: store,
		cmd: engine.Command{Op: engine.OpGetWindow, Window: nanos(start)}}
	if err := c.read(ctx, &r, opts); err != nil {
		return Window{}, err
	}
	if r.res.WindowInfo == nil {
		return Window{}, errMissing("window")
	}
	return windowOf(r.res.WindowInfo), nil
}

// GetStore reads a store: its time zone and its pickup windows with their
// capacity and use, the windows' times in the store's zone. ErrNotFound for
// a store with no item, zone or window.
func (c *Client) GetStore(ctx context.Context, store string, opts ...ReadOption) (Store, error) {
	r := request{kind: kindOp, store: store, cmd: engine.Command{Op: engine.OpGetStore}}
	if err := c.read(ctx, &r, opts); err != nil {
		return Store{}, err
	}
	if r.res.Store == nil {
		return Store{}, errMissing("store")
	}
	return storeOf(r.res.Store), nil
}

// GetReservation reads one reservation (ErrNotFound once it has been
// forgotten, 30 days after it finished by default).
func (c *Client) GetReservation(ctx context.Context, id uint64, opts ...ReadOption) (Reservation, error) {
	r := request{kind: kindOp, cmd: engine.Command{Op: engine.OpGetReservation, ID: id}}
	if err := c.read(ctx, &r, opts); err != nil {
		return Reservation{}, err
	}
	if r.res.Reservation == nil {
		return Reservation{}, errMissing("reservation")
	}
	return reservationOf(r.res.Reservation), nil
}

// GetCustomer reads a customer: tier, block, no-shows, open reservations.
func (c *Client) GetCustomer(ctx context.Context, customer string, opts ...ReadOption) (Customer, error) {
	r := request{kind: kindOp, customer: customer, cmd: engine.Command{Op: engine.OpGetCustomer}}
	if err := c.read(ctx, &r, opts); err != nil {
		return Customer{}, err
	}
	if r.res.Customer == nil {
		return Customer{}, errMissing("customer")
	}
	return customerOf(r.res.Customer), nil
}

// ListReservations lists a customer's reservations, by id.
func (c *Client) ListReservations(ctx context.Context, customer string, opts ...ReadOption) ([]Reservation, error) {
	r := request{kind: kindSolo, customer: customer, cmd: engine.Command{Op: engine.OpListReservations}}
	if err := c.read(ctx, &r, opts); err != nil {
		return nil, err
	}
	out := make([]Reservation, len(r.res.Reservations))
	for i := range r.res.Reservations {
		out[i] = reservationOf(&r.res.Reservations[i])
	}
	return out, nil
}

// StoresWithStock lists the stores where a SKU has units available, by store.
func (c *Client) StoresWithStock(ctx context.Context, sku string, opts ...ReadOption) ([]StoreStock, error) {
	r := request{kind: kindSolo, sku: sku, cmd: engine.Command{Op: engine.OpStoresWithStock}}
	if err := c.read(ctx, &r, opts); err != nil {
		return nil, err
	}
	out := make([]StoreStock, len(r.res.Stores))
	for i, s := range r.res.Stores {
		out[i] = StoreStock{Store: s.Store, Available: s.Available}
	}
	return out, nil
}

// ListItems lists the items of a SKU in every store, or every item when
// sku is empty (at most 4096 in one reply: an export of a large catalogue
// goes SKU by SKU).
func (c *Client) ListItems(ctx context.Context, sku string, opts ...ReadOption) ([]Item, error) {
	return c.listItems(ctx, request{kind: kindSolo, sku: sku, cmd: engine.Command{Op: engine.OpListItems}}, opts)
}

// listItems runs a read whose reply is a list of items (list_items,
// store_items).
func (c *Client) listItems(ctx context.Context, r request, opts []ReadOption) ([]Item, error) {
	if err := c.read(ctx, &r, opts); err != nil {
		return nil, err
	}
	out := make([]Item, len(r.res.Items))
	for i := range r.res.Items {
		out[i] = itemOf(&r.res.Items[i])
	}
	return out, nil
}

// read runs a read-only call; a refusal comes back as its sentinel.
func (c *Client) read(ctx context.Context, r *request, opts []ReadOption) error {
	if err := checkIDs(r.sku, r.store, r.customer); err != nil {
		return err
	}
	for _, o := range opts {
		o(r)
	}
	if r.stale {
		r.kind = kindSolo // the flag is per frame: a stale read is not batched with others
	}
	if err := c.exec(ctx, r); err != nil {
		return err
	}
	return errorOf(r.res.Code)
}

// errMissing reports an OK reply without the record a read asked for.
func errMissing(what string) error {
	return &ServerError{Code: engine.CodeProtocol, Message: "reply without the " + what}
}

// ReadOption changes how one read is served.
type ReadOption func(*request)

// Stale lets any replica of the shard, leader or follower, answer the read
// from the state it has applied: cheaper and spread over the nodes, but
// possibly behind the latest writes (by a replication delay, or more on a
// node cut off from the others). It never fails for want of a leader.
// Fan-out reads (a customer's lists without a shard, every item) are served
// per the server's read mode.
func Stale() ReadOption { return func(r *request) { r.stale = true } }

// StaleAt is Stale served by the node at addr (a client address of the
// cluster): to read what one replica holds.
func StaleAt(addr string) ReadOption {
	return func(r *request) { r.stale, r.staleAt = true, addr }
}
