package client

import (
	"context"
	"time"

	"github.com/invsys/inv/engine"
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
