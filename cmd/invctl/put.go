package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/cli"
)

// clearable are the settings --clear removes, by name, and the settings of
// the update each names (docs/adr/0100): opens, closes, share.
var clearable = map[string][]string{
	"opens":  {"opens"},
	"closes": {"closes"},
	"sale":   {"opens", "closes"},
	"share":  {"share"},
}

// itemPut creates an item or changes the settings its flags name, and
// nothing else: a restock right before a sale keeps the sale window and
// the member share (the per-customer limit is the SKU's, never a put's).
// --clear removes a setting. Then the windows, in order. Operator ops
// cannot be linked (docs/adr/0004), so a refused window leaves the item
// and the windows before it in place, and the refusal is reported.
func itemPut(e *env, args []string) error {
	fs := newFlags(e, "item put")
	sku, store := skuStoreFlags(fs)
	stock := fs.Int64("stock", 0, "units allotted to the store (not given: the stock stays)")
	limit := fs.Int64("limit", 0, "not here: the per-customer limit is the SKU's (item limit --sku S --limit N)")
	opens := fs.String("opens", "", "sale opens at (not given: stays; --clear opens: open since forever)")
	closes := fs.String("closes", "", "sale closes at (not given: stays; --clear closes: never closes)")
	clear := fs.String("clear", "", "settings to remove, comma-separated: "+strings.Join(clearNames(), ", "))
	reason := fs.String("reason", "", "why, kept with the change and its author (invctl item history)")
	key := fs.String("key", "", "idempotency key")
	var windows windowList
	fs.Var(&windows, "window", "pickup window `START,END,QUOTA` (repeatable)")
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, key: *key})
	if *limit != 0 {
		return usagef("--limit: the per-customer limit is the SKU's, the same at every store; set it with invctl item limit --sku %s --limit %d", *sku, *limit)
	}
	u, err := itemUpdateOf(fs, *stock, *opens, *closes, *clear)
	if err != nil {
		return err
	}
	if !u.SetStock && !u.SetOpens && !u.SetCloses && !u.SetShare && len(windows) == 0 {
		return usagef("item put: nothing to change; give --stock, --opens, --closes, --clear or --window")
	}
	u.SKU, u.Store, u.Reason, u.Key = *sku, *store, *reason, *key
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	if u.SetStock || u.SetOpens || u.SetCloses || u.SetShare {
		if err := cl.UpdateItem(c, u); err != nil {
			return err
		}
	}
	return putWindows(c, e, cl, *sku, *store, windows, changed(fs))
}

// itemUpdateOf reads the flags fs was given into an update; a setting both
// given and cleared, an unknown name to clear or a negative stock is a
// usage error naming the flag.
func itemUpdateOf(fs *flag.FlagSet, stock int64, opens, closes, clear string) (client.ItemUpdate, error) {
	var u client.ItemUpdate
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["stock"] {
		if stock < 0 {
			return u, usagef("--stock %d: want 0 or more units", stock)
		}
		u.SetStock, u.Stock = true, stock
	}
	for name, v := range map[string]string{"opens": opens, "closes": closes} {
		if given[name] && v == "" {
			return u, usagef("--%s \"\": give a time, or --clear %s to remove it", name, name)
		}
	}
	var err error
	if given["opens"] {
		if u.OpensAt, err = parseTime(opens); err != nil {
			return u, err
		}
		u.SetOpens = true
	}
	if given["closes"] {
		if u.ClosesAt, err = parseTime(closes); err != nil {
			return u, err
		}
		u.SetCloses = true
	}
	if clear == "" {
		return u, nil
	}
	for _, name := range strings.Split(clear, ",") {
		settings, ok := clearable[strings.TrimSpace(name)]
		if !ok {
			return u, usagef("--clear %q: want some of %s", name, strings.Join(clearNames(), ", "))
		}
		for _, set := range settings {
			if given[set] {
				return u, usagef("--clear %s and --%s: give a new value or clear it, not both", name, set)
			}
			switch set { // a named setting with a zero value is cleared
			case "opens":
				u.SetOpens = true
			case "closes":
				u.SetCloses = true
			case "share":
				u.SetShare = true
			}
		}
	}
	return u, nil
}

func clearNames() []string {
	names := make([]string, 0, len(clearable))
	for n := range clearable {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// changed lists the flags given, for the confirmation line.
func changed(fs *flag.FlagSet) []string {
	var out []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "sku", "store", "json", "key":
		case "window":
			out = append(out, "windows="+strconv.Itoa(len(*f.Value.(*windowList))))
		default:
			out = append(out, f.Name+"="+f.Value.String())
		}
	})
	return out
}

// putWindows puts each window in order and confirms what changed.
func putWindows(c context.Context, e *env, cl *client.Client, sku, store string, windows windowList, what []string) error {
	for _, w := range windows {
		w.SKU, w.Store = sku, store
		if err := cl.PutWindow(c, w); err != nil {
			return err
		}
	}
	if e.json {
		return show(e, map[string]any{"ok": true, "op": "item put", "sku": sku, "store": store, "changed": what}, nil, nil)
	}
	fmt.Fprintf(e.stdout, "ok %s/%s %s\n", sku, store, strings.Join(what, " "))
	return nil
}
