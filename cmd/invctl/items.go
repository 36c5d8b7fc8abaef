package main

import (
	"context"
	"fmt"

	"github.com/invsys/inv/client"
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
	key := fs.String("key", "", "idempotency key")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("sku", *sku, "store", *store); err != nil {
		return err
	}
	if *qty == 0 {
		return usagef("--qty is required")
	}
	ch := client.StockChange{SKU: *sku, Store: *store, Qty: *qty, Key: *key}
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
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("sku", *sku, "store", *store); err != nil {
		return err
	}
	sw := client.SaleWindow{SKU: *sku, Store: *store}
	var err error
	if sw.OpensAt, err = parseTime(*opens); err != nil {
		return err
	}
	if sw.ClosesAt, err = parseTime(*closes); err != nil {
		return err
	}
	return operate(e, "item sale-window", func(c context.Context, cl *client.Client) error { return cl.SetSaleWindow(c, sw) })
}

// itemLimit sets a SKU's per-customer limit, the same at every store.
func itemLimit(e *env, args []string) error {
	fs := newFlags(e, "item limit")
	sku, store := skuStoreFlags(fs)
	limit := fs.Int64("limit", -1, "units one customer may own of the SKU, at all stores together (0: none)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("sku", *sku); err != nil {
		return err
	}
	if *store != "" {
		return usagef("--store: the per-customer limit is the SKU's, the same at every store; give --sku and --limit only")
	}
	if *limit < 0 {
		return usagef("--limit is required")
	}
	l := client.LimitSpec{SKU: *sku, Limit: *limit}
	return operate(e, "item limit", func(c context.Context, cl *client.Client) error { return cl.SetLimit(c, l) })
}

func itemMemberShare(e *env, args []string) error {
	fs := newFlags(e, "item member-share")
	sku, store := skuStoreFlags(fs)
	tier := fs.Uint("tier", 1, "customers of this tier or higher may take the share")
	units := fs.Int64("units", 0, "units kept for members (0: no share)")
	cutoff := fs.String("cutoff", "", "when what is left opens to everyone")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("sku", *sku, "store", *store); err != nil {
		return err
	}
	if *tier > 255 {
		return usagef("--tier %d: too large", *tier)
	}
	at, err := parseTime(*cutoff)
	if err != nil {
		return err
	}
	m := client.MemberShare{SKU: *sku, Store: *store, Tier: uint8(*tier), Units: *units, Cutoff: at}
	return operate(e, "item member-share", func(c context.Context, cl *client.Client) error { return cl.SetMemberShare(c, m) })
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
	quota := fs.Int64("quota", -1, "units that may be collected in the window")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("sku", *sku, "store", *store, "start", *start, "end", *end); err != nil {
		return err
	}
	if *quota < 0 {
		return usagef("--quota is required")
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
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("sku", *sku, "store", *store, "start", *start); err != nil {
		return err
	}
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

func stores(e *env, args []string) error {
	fs := newFlags(e, "stores")
	sku := fs.String("sku", "", "SKU")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("sku", *sku); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	ss, err := cl.StoresWithStock(c, *sku, e.readOpts()...)
	if err != nil {
		return err
	}
	out := make([]storeJSON, len(ss))
	for i, s := range ss {
		out[i] = storeJSON{Store: s.Store, Available: s.Available}
	}
	return show(e, out, []string{"STORE", "AVAILABLE"}, func() [][]string {
		rows := make([][]string, len(out))
		for i, s := range out {
			rows[i] = []string{s.Store, num(s.Available)}
		}
		return rows
	})
}
