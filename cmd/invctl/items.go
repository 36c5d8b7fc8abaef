package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/cli"
)

// operate runs one operator call and prints "ok" (or {"ok":true}).
func operate(e *env, what string, call func(context.Context, *client.Client) error) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	if err := call(c, cl); err != nil {
		return err
	}
	if e.json {
		return show(e, map[string]any{"ok": true, "op": what}, nil, nil)
	}
	fmt.Fprintln(e.stdout, "ok", what)
	return nil
}

func itemAdjust(e *env, args []string) error { return stockChange(e, "item adjust", args, false) }

func itemRestock(e *env, args []string) error { return stockChange(e, "item restock", args, true) }

// stockChange adds --qty units (restock: > 0) or a signed delta (adjust).
func stockChange(e *env, name string, args []string, restock bool) error {
	fs := newFlags(e, name)
	sku, store := skuStoreFlags(fs)
	qty := fs.Int64("qty", 0, "units: added (restock), or a signed change (adjust)")
	reason := fs.String("reason", "", "why, kept with the change and its author (invctl item history)")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "sku", "store", "qty")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store})
	if *qty == 0 {
		return usagef("--qty 0: want a number of units")
	}
	if restock && *qty < 0 {
		return usagef("--qty %d: restock adds units; invctl item adjust --qty %d removes them", *qty, *qty)
	}
	e.sub.key = *key
	ch := client.StockChange{SKU: *sku, Store: *store, Qty: *qty, Reason: *reason, Key: *key}
	return operate(e, name, func(c context.Context, cl *client.Client) error {
		if restock {
			return cl.Restock(c, ch)
		}
		return cl.AdjustStock(c, ch)
	})
}

func itemSaleWindow(e *env, args []string) error {
	fs := newFlags(e, "item sale-window")
	sku, store := skuStoreFlags(fs)
	opens := fs.String("opens", "", "sale opens at (empty: open already)")
	closes := fs.String("closes", "", "sale closes at (empty: never)")
	reason := fs.String("reason", "", "why, kept with the change and its author (invctl item history)")
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store})
	// Both ends, as the command always set them; the stock and the member
	// share stay (update_item, docs/adr/0100).
	u := client.ItemUpdate{SKU: *sku, Store: *store, SetOpens: true, SetCloses: true, Reason: *reason}
	var err error
	if u.OpensAt, err = parseTime(*opens); err != nil {
		return err
	}
	if u.ClosesAt, err = parseTime(*closes); err != nil {
		return err
	}
	return operate(e, "item sale-window", func(c context.Context, cl *client.Client) error { return cl.UpdateItem(c, u) })
}

// itemLimit sets a SKU's per-customer limit, the same at every store.
func itemLimit(e *env, args []string) error {
	fs := newFlags(e, "item limit")
	sku, store := skuStoreFlags(fs)
	limit := fs.Int64("limit", 0, "units one customer may own of the SKU, at all stores together (0: no limit)")
	cli.Require(fs, "sku", "limit")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku})
	if *store != "" {
		return usagef("--store: the per-customer limit is the SKU's, the same at every store; give --sku and --limit only")
	}
	if *limit < 0 {
		return usagef("--limit %d: want 0 or more units", *limit)
	}
	l := client.LimitSpec{SKU: *sku, Limit: *limit}
	return operate(e, "item limit", func(c context.Context, cl *client.Client) error { return cl.SetLimit(c, l) })
}

func itemMemberShare(e *env, args []string) error {
	fs := newFlags(e, "item member-share")
	sku, store := skuStoreFlags(fs)
	tier := fs.Uint("tier", 1, "customers of this tier or higher may take the share")
	units := fs.Int64("units", 0, "units kept for members (0: no share); at most the item's stock")
	cutoff := fs.String("cutoff", "", "when what is left opens to everyone")
	reason := fs.String("reason", "", "why, kept with the change and its author (invctl item history)")
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store})
	if *tier > 255 {
		return usagef("--tier %d: too large", *tier)
	}
	if *units < 0 {
		return usagef("--units %d: want 0 or more units", *units)
	}
	at, err := parseTime(*cutoff)
	if err != nil {
		return err
	}
	u := client.ItemUpdate{SKU: *sku, Store: *store, SetShare: true, MemberTier: uint8(*tier), MemberUnits: *units, MemberCutoff: at, Reason: *reason}
	if *units == 0 { // no share: no tier or cutoff either
		u.MemberTier, u.MemberCutoff = 0, time.Time{}
	}
	return operate(e, "item member-share", func(c context.Context, cl *client.Client) error {
		return shareRefusal(c, cl, u, cl.UpdateItem(c, u))
	})
}

// shareRefusal says why a member share was refused when the item's stock
// explains it; any other error is returned as it is.
func shareRefusal(c context.Context, cl *client.Client, u client.ItemUpdate, err error) error {
	if !errors.Is(err, client.ErrBadRequest) {
		return err
	}
	it, gerr := cl.GetItem(c, u.SKU, u.Store)
	if gerr == nil && u.MemberUnits > it.Stock {
		return usagef("--units %d: more than the stock of %s/%s (%d); a member share is part of the stock", u.MemberUnits, u.SKU, u.Store, it.Stock)
	}
	return err
}

func itemList(e *env, args []string) error {
	fs := newFlags(e, "item list")
	sku := fs.String("sku", "", "only this SKU (empty: every item)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	items, err := cl.ListItems(c, *sku, e.readOpts()...)
	if err != nil {
		return err
	}
	out := make([]itemJSON, len(items))
	for i := range items {
		out[i] = itemJSONOf(items[i])
	}
	return show(e, out, []string{"SKU", "STORE", "STOCK", "AVAILABLE", "HELD", "CONFIRMED", "PICKED_UP", "LIMIT", "WINDOWS"},
		func() [][]string {
			rows := make([][]string, len(out))
			for i, it := range out {
				rows[i] = []string{it.SKU, it.Store, num(it.Stock), num(it.Available), num(it.Held),
					num(it.Confirmed), num(it.PickedUp), num(it.Limit), num(len(it.Windows))}
			}
			return rows
		})
}

func windowPut(e *env, args []string) error {
	fs := newFlags(e, "window put")
	sku, store := skuStoreFlags(fs)
	start := fs.String("start", "", "window start")
	end := fs.String("end", "", "window end")
	quota := fs.Int64("quota", 0, "units that may be collected in the window")
	cli.Require(fs, "sku", "store", "start", "end", "quota")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, window: *start})
	if *quota < 0 {
		return usagef("--quota %d: want 0 or more units", *quota)
	}
	w := client.WindowSpec{SKU: *sku, Store: *store, Quota: *quota}
	var err error
	if w.Start, err = parseTime(*start); err != nil {
		return err
	}
	if w.End, err = parseTime(*end); err != nil {
		return err
	}
	return operate(e, "window put", func(c context.Context, cl *client.Client) error { return cl.PutWindow(c, w) })
}

func windowGet(e *env, args []string) error {
	fs := newFlags(e, "window get")
	sku, store := skuStoreFlags(fs)
	start := fs.String("start", "", "window start")
	cli.Require(fs, "sku", "store", "start")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, window: *start})
	at, err := parseTime(*start)
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	w, err := cl.GetWindow(c, *sku, *store, at, e.readOpts()...)
	if err != nil {
		return err
	}
	loc := storeZone(c, cl, *store, e.readOpts())
	out := windowJSON{Start: w.Start.In(loc), End: w.End.In(loc), Quota: w.Quota, Used: w.Used}
	return show(e, out, []string{"START", "END", "QUOTA", "USED", "LEFT"}, func() [][]string {
		return [][]string{{zoneText(w.Start, loc), zoneText(w.End, loc), num(w.Quota), num(w.Used), num(w.Quota - w.Used)}}
	})
}

type storeJSON struct {
	Store     string `json:"store"`
	Available int64  `json:"available"`
}

// stores lists the stores where the SKU has units available and its sale
// has not closed. The server lists every store with units available; a
// store whose sale has closed can no longer sell them (a reserve there is
// refused closed), so invctl leaves it out, by the items' sale windows
// against this machine's clock. A sale yet to open stays: it will sell.
func stores(e *env, args []string) error {
	fs := newFlags(e, "stores")
	sku := fs.String("sku", "", "SKU")
	at := fs.String("store", "", "only these stores, comma-separated: each with its count, sold out and not carried included")
	cli.Require(fs, "sku")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	if *at != "" {
		return storesAt(e, c, cl, *sku, strings.Split(*at, ","))
	}
	ss, err := cl.StoresWithStock(c, *sku, e.readOpts()...)
	if err != nil {
		return err
	}
	items, err := cl.ListItems(c, *sku, e.readOpts()...)
	if err != nil {
		return err
	}
	closed := map[string]bool{}
	now := time.Now()
	for _, it := range items {
		if !it.ClosesAt.IsZero() && !it.ClosesAt.After(now) {
			closed[it.Store] = true
		}
	}
	out := []storeJSON{}
	for _, s := range ss {
		if !closed[s.Store] {
			out = append(out, storeJSON{Store: s.Store, Available: s.Available})
		}
	}
	return show(e, out, []string{"STORE", "AVAILABLE"}, func() [][]string {
		rows := make([][]string, len(out))
		for i, s := range out {
			rows[i] = []string{s.Store, num(s.Available)}
		}
		return rows
	})
}

type storeAtJSON struct {
	Store     string `json:"store"`
	Carried   bool   `json:"carried"`
	Available int64  `json:"available"`
}

// storesAt prints the SKU's count at each named store, in one call
// (client.SKUAvailability): 0 where sold out, "-" where not carried.
func storesAt(e *env, c context.Context, cl *client.Client, sku string, at []string) error {
	got, err := cl.SKUAvailability(c, sku, at, e.readOpts()...)
	if err != nil {
		return err
	}
	out := make([]storeAtJSON, len(got))
	for i, s := range got {
		out[i] = storeAtJSON{Store: s.Store, Carried: s.Carried, Available: s.Available}
	}
	return show(e, out, []string{"STORE", "AVAILABLE"}, func() [][]string {
		rows := make([][]string, len(out))
		for i, s := range out {
			n := num(s.Available)
			if !s.Carried {
				n = "-"
			}
			rows[i] = []string{s.Store, n}
		}
		return rows
	})
}
