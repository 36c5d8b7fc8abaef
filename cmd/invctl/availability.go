package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/cli"
)

// stockJSON is one SKU's availability at a store; NoItem marks a SKU asked
// for that the store does not carry.
type stockJSON struct {
	SKU       string `json:"sku"`
	Available int64  `json:"available"`
	Stock     int64  `json:"stock"`
	Held      int64  `json:"held"`
	Confirmed int64  `json:"confirmed"`
	NoItem    bool   `json:"no_item,omitempty"`
}

// storeStock prints the availability of a store's SKUs (all, or those of
// --sku) from one store_items read (docs/adr/0102).
func storeStock(e *env, args []string) error {
	fs := newFlags(e, "store stock")
	store := fs.String("store", "", "store")
	skus := fs.String("sku", "", "only these SKUs, comma-separated (empty: every SKU of the store)")
	cli.Require(fs, "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{store: *store})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	items, err := cl.StoreItems(c, *store, e.readOpts()...)
	if err != nil {
		return err
	}
	out := stockRows(items, *skus)
	return show(e, out, []string{"SKU", "AVAILABLE", "STOCK", "HELD", "CONFIRMED"}, func() [][]string {
		rows := make([][]string, len(out))
		for i, s := range out {
			if s.NoItem {
				rows[i] = []string{s.SKU, "no item", "-", "-", "-"}
				continue
			}
			rows[i] = []string{s.SKU, num(s.Available), num(s.Stock), num(s.Held), num(s.Confirmed)}
		}
		return rows
	})
}

// stockRows keeps the items of the SKUs asked for, in the order asked
// (every item, by SKU, when none is).
func stockRows(items []client.Item, skus string) []stockJSON {
	by := map[string]client.Item{}
	var order []string
	for _, it := range items {
		by[it.SKU] = it
		order = append(order, it.SKU)
	}
	if skus != "" {
		order = strings.Split(skus, ",")
	}
	out := make([]stockJSON, 0, len(order))
	for _, sku := range order {
		it, ok := by[sku]
		if !ok {
			out = append(out, stockJSON{SKU: sku, NoItem: true})
			continue
		}
		out = append(out, stockJSON{SKU: sku, Available: it.Available, Stock: it.Stock, Held: it.Held, Confirmed: it.Confirmed})
	}
	return out
}

// dayWindowJSON is one pickup window of a store's day, in its zone.
type dayWindowJSON struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Capacity int64     `json:"capacity"`
	Used     int64     `json:"used"`
	Left     int64     `json:"left"`
}

// storeDay prints a store's pickup windows of one day of its calendar, in
// its time zone, with the capacity each has left.
func storeDay(e *env, args []string) error {
	fs := newFlags(e, "store day")
	store := fs.String("store", "", "store")
	day := fs.String("day", "", "the day, YYYY-MM-DD of the store's calendar (empty: today there)")
	cli.Require(fs, "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{store: *store})
	at := time.Now()
	if *day != "" {
		d, err := time.Parse(time.DateOnly, *day)
		if err != nil {
			return usagef("--day %q: want YYYY-MM-DD", *day)
		}
		at = d
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	if *day == "" { // today as the store has it, not as this machine does
		if st, err := cl.GetStore(c, *store, e.readOpts()...); err == nil {
			at = at.In(st.Location)
		}
	}
	sd, err := cl.StoreDay(c, *store, at, e.readOpts()...)
	if err != nil {
		return err
	}
	out := struct {
		Store   string          `json:"store"`
		Zone    string          `json:"zone"`
		Day     string          `json:"day"`
		Windows []dayWindowJSON `json:"windows"`
	}{Store: sd.Store, Zone: sd.Location.String(), Day: sd.Day.Format(time.DateOnly), Windows: []dayWindowJSON{}}
	for _, w := range sd.Windows {
		out.Windows = append(out.Windows, dayWindowJSON{Start: w.Start, End: w.End, Capacity: w.Capacity, Used: w.Used,
			Left: max(0, w.Capacity-w.Used)})
	}
	if e.json {
		return show(e, out, nil, nil)
	}
	fmt.Fprintf(e.stdout, "%s %s (%s)\n", out.Store, out.Day, out.Zone)
	return table(e.stdout, []string{"START", "END", "CAPACITY", "USED", "LEFT"}, func() [][]string {
		rows := make([][]string, len(out.Windows))
		for i, w := range out.Windows {
			rows[i] = []string{w.Start.Format("15:04"), w.End.Format("15:04"), num(w.Capacity), num(w.Used), num(w.Left)}
		}
		return rows
	}())
}
