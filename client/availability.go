package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// StoreItems reads every item of a store, sorted by SKU, in one request:
// the availability of a store's whole shelf (docs/adr/0102). A store with
// no items gives an empty list.
func (c *Client) StoreItems(ctx context.Context, store string, opts ...ReadOption) ([]Item, error) {
	return c.listItems(ctx, request{kind: kindSolo, store: store, cmd: engine.Command{Op: engine.OpStoreItems}}, opts)
}

// StoreDay is a store's pickup windows that start on one day of the
// store's own calendar, in its zone.
type StoreDay struct {
	Store    string
	Location *time.Location // the store's zone; UTC when none is set
	Day      time.Time      // midnight that starts the day, in Location
	Windows  []StoreWindow  // by start; capacity left is Capacity - Used
}

// StoreDay reads a store and keeps the windows that start on the calendar
// day of day as the store's zone has it (day's own zone does not matter:
// 2026-12-24 is the store's 24 December). ErrNotFound for an unknown store.
func (c *Client) StoreDay(ctx context.Context, store string, day time.Time, opts ...ReadOption) (StoreDay, error) {
	st, err := c.GetStore(ctx, store, opts...)
	if err != nil {
		return StoreDay{}, err
	}
	y, m, d := day.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, st.Location)
	end := start.AddDate(0, 0, 1) // 23 or 25 hours on a day the clocks change
	out := StoreDay{Store: st.Store, Location: st.Location, Day: start, Windows: []StoreWindow{}}
	for _, w := range st.Windows {
		if !w.Start.Before(start) && w.Start.Before(end) {
			out.Windows = append(out.Windows, w)
		}
	}
	return out, nil
}

// MaxSKUStores bounds the stores SKUAvailability names: a list_items reply
// holds at most protocol.MaxListItems items, so more stores than that
// could not all be answered.
const MaxSKUStores = protocol.MaxListItems

// StoreAvailability is a SKU's availability at one store.
type StoreAvailability struct {
	Store     string
	Carried   bool  // the store has the item; false: the SKU is not sold there
	Available int64 // the item's available units, as GetItem (0 when not carried); members-only units kept until the cutoff are in it: Item's member fields say how many
	Item      Item  // the whole read (zero when not carried)
}

// SKUAvailability reads one SKU at many stores in one call: a single
// list_items request, which the node answers by reading each shard once
// (docs/adr/0102). With stores, the answer has one entry per store, in the
// order given, Carried false where the SKU is not sold; without, every
// store that carries the SKU, sorted by store. Stores must be named once
// each, at most MaxSKUStores.
func (c *Client) SKUAvailability(ctx context.Context, sku string, stores []string, opts ...ReadOption) ([]StoreAvailability, error) {
	if sku == "" || len(stores) > MaxSKUStores {
		return nil, &ServerError{Code: engine.CodeBadRequest,
			Message: fmt.Sprintf("a SKU (got %q) at up to %d stores (got %d)", sku, MaxSKUStores, len(stores))}
	}
	want := make(map[string]bool, len(stores))
	for _, st := range stores {
		if err := checkIDs(st); err != nil {
			return nil, err
		}
		if st == "" || want[st] {
			return nil, &ServerError{Code: engine.CodeBadRequest, Message: fmt.Sprintf("store %q: empty or named twice", st)}
		}
		want[st] = true
	}
	items, err := c.ListItems(ctx, sku, opts...)
	if err != nil {
		return nil, err
	}
	byStore := make(map[string]Item, len(items))
	for _, it := range items {
		byStore[it.Store] = it
	}
	if len(stores) == 0 {
		for st := range byStore {
			stores = append(stores, st)
		}
		slices.Sort(stores)
	}
	out := make([]StoreAvailability, len(stores))
	for i, st := range stores {
		it, ok := byStore[st]
		out[i] = StoreAvailability{Store: st, Carried: ok, Item: it}
		if ok {
			out[i].Available = it.Available
		}
	}
	return out, nil
}

// GetItemLocal reads an item with its times in its store's zone (Item.In):
// GetItem and GetStore, two reads of the store's shard. A store given no
// zone (or none put at all) is UTC.
func (c *Client) GetItemLocal(ctx context.Context, sku, store string, opts ...ReadOption) (Item, error) {
	it, err := c.GetItem(ctx, sku, store, opts...)
	if err != nil {
		return Item{}, err
	}
	loc, err := c.storeLocation(ctx, store, opts)
	if err != nil {
		return Item{}, err
	}
	return it.In(loc), nil
}

// GetReservationLocal reads a reservation (GetReservation) and gives its
// times in its store's zone (Reservation.In): UTC for a store given no
// zone. It costs a second read, of the store.
func (c *Client) GetReservationLocal(ctx context.Context, id uint64, opts ...ReadOption) (Reservation, error) {
	r, err := c.GetReservation(ctx, id, opts...)
	if err != nil {
		return Reservation{}, err
	}
	loc, err := c.storeLocation(ctx, r.Store, opts)
	if err != nil {
		return Reservation{}, err
	}
	return r.In(loc), nil
}

// storeLocation is the store's zone, UTC for a store the node has not
// been given one.
func (c *Client) storeLocation(ctx context.Context, store string, opts []ReadOption) (*time.Location, error) {
	switch st, err := c.GetStore(ctx, store, opts...); {
	case err == nil:
		return st.Location, nil
	case errors.Is(err, ErrNotFound):
		return time.UTC, nil
	default:
		return nil, err
	}
}
