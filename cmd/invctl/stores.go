package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/catalog"
	"github.com/invsys/inv/protocol"
)

// Stores: a store's time zone and its pickup windows, whose capacity every
// SKU of the store shares. Windows print in the store's zone; a time given
// without an offset (2026-12-24T10:00) is read in it too.

// localLayouts are the forms of a time without an offset, read in a zone.
var localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"}

// parseTimeIn is parseTime that also reads a time without an offset in loc.
func parseTimeIn(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, usagef("time %q: want RFC 3339, Unix seconds, or 2006-01-02T15:04 in the store's zone", s)
	}
	return t, nil
}

// storeZone returns the store's zone for printing its windows: UTC when the
// store has none (or is not known yet).
func storeZone(c context.Context, cl *client.Client, store string, opts []client.ReadOption) *time.Location {
	st, err := cl.GetStore(c, store, opts...)
	if err != nil {
		return time.UTC
	}
	return st.Location
}

// zoneText prints a time in a store's zone, with its offset.
func zoneText(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format(time.RFC3339)
}

// storeWindowList collects repeated --window START,END,CAPACITY flags; the
// times are parsed once the zone is known.
type storeWindowList [][3]string

func (w *storeWindowList) String() string { return fmt.Sprint(len(*w), " windows") }

func (w *storeWindowList) Set(v string) error {
	parts := strings.Split(v, ",")
	if len(parts) != 3 {
		return fmt.Errorf("window %q: want START,END,CAPACITY", v)
	}
	*w = append(*w, [3]string{parts[0], parts[1], parts[2]})
	return nil
}

func storeWindowSpec(store, start, end, capacity string, loc *time.Location) (client.StoreWindowSpec, error) {
	w := client.StoreWindowSpec{Store: store}
	var err error
	if w.Start, err = parseTimeIn(start, loc); err != nil {
		return w, err
	}
	if w.End, err = parseTimeIn(end, loc); err != nil {
		return w, err
	}
	if w.Capacity, err = strconv.ParseInt(capacity, 10, 64); err != nil || w.Capacity < 0 {
		return w, usagef("capacity %q: want units (0 or more)", capacity)
	}
	return w, nil
}

// storePut sets a store's time zone, then its windows in order (times
// without an offset in that zone).
func storePut(e *env, args []string) error {
	fs := newFlags(e, "store put")
	store := fs.String("store", "", "store")
	zone := fs.String("zone", "", "time zone, an IANA name (Asia/Taipei)")
	var windows storeWindowList
	fs.Var(&windows, "window", "pickup window START,END,CAPACITY across every SKU of the store (repeatable)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("store", *store, "zone", *zone); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*zone)
	if err != nil || *zone == "Local" {
		return usagef("--zone %q: not a time zone of the IANA database (e.g. Asia/Taipei)", *zone)
	}
	specs := make([]client.StoreWindowSpec, len(windows))
	for i, w := range windows {
		if specs[i], err = storeWindowSpec(*store, w[0], w[1], w[2], loc); err != nil {
			return err
		}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	if err := cl.PutStore(c, client.StoreSpec{Store: *store, Zone: *zone}); err != nil {
		return err
	}
	for _, w := range specs {
		if err := cl.PutStoreWindow(c, w); err != nil {
			return err
		}
	}
	if e.json {
		return show(e, map[string]any{"ok": true, "op": "store put", "store": *store, "zone": *zone, "windows": len(specs)}, nil, nil)
	}
	fmt.Fprintf(e.stdout, "ok %s zone=%s windows=%d\n", *store, *zone, len(specs))
	return nil
}

// storeWindow creates or changes one window of a store.
func storeWindow(e *env, args []string) error {
	fs := newFlags(e, "store window")
	store := fs.String("store", "", "store")
	start := fs.String("start", "", "window start (without an offset: in the store's zone)")
	end := fs.String("end", "", "window end")
	capacity := fs.String("capacity", "", "units across every SKU of the store that may be collected in the window")
	key := fs.String("key", "", "idempotency key")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("store", *store, "start", *start, "end", *end, "capacity", *capacity); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	w, err := storeWindowSpec(*store, *start, *end, *capacity, storeZone(c, cl, *store, nil))
	if err != nil {
		return err
	}
	w.Key = *key
	return operate(e, "store window", func(c context.Context, cl *client.Client) error { return cl.PutStoreWindow(c, w) })
}

type storeInfoJSON struct {
	Store   string            `json:"store"`
	Zone    string            `json:"zone"`
	Windows []storeWindowJSON `json:"windows,omitempty"`
}

type storeWindowJSON struct {
	Start    time.Time `json:"start"` // in the store's zone
	End      time.Time `json:"end"`
	Capacity int64     `json:"capacity"`
	Used     int64     `json:"used"`
}

// storeGet prints a store's zone and its windows in that zone.
func storeGet(e *env, args []string) error {
	fs := newFlags(e, "store get")
	store := fs.String("store", "", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := required("store", *store); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	st, err := cl.GetStore(c, *store, e.readOpts()...)
	if err != nil {
		return err
	}
	out := storeInfoJSON{Store: st.Store, Zone: st.Zone}
	for _, w := range st.Windows {
		out.Windows = append(out.Windows, storeWindowJSON{Start: w.Start, End: w.End, Capacity: w.Capacity, Used: w.Used})
	}
	if e.json {
		return show(e, out, nil, nil)
	}
	zone := st.Zone
	if zone == "" {
		zone = "none (UTC)"
	}
	fmt.Fprintf(e.stdout, "%s zone=%s\n", st.Store, zone)
	if len(st.Windows) == 0 {
		return nil
	}
	return show(e, out, []string{"START", "END", "CAPACITY", "USED", "LEFT"}, func() [][]string {
		rows := make([][]string, len(st.Windows))
		for i, w := range st.Windows {
			rows[i] = []string{zoneText(w.Start, st.Location), zoneText(w.End, st.Location), num(w.Capacity), num(w.Used),
				num(w.Capacity - w.Used)}
		}
		return rows
	})
}

// storeImport checks a whole stores file (every bad row is listed, then
// nothing is loaded), then puts each store's zone and windows in order.
func storeImport(e *env, args []string) error {
	fs := newFlags(e, "store import")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return usagef("store import: %v", err)
	}
	rows, bad := catalog.ParseStores(f)
	f.Close()
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(e.stderr, b.Error())
		}
		return badRowsError{bad: len(bad)}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	var refused []string
	for _, r := range rows {
		c, cancel := context.WithTimeout(context.Background(), commandTimeout)
		err := loadStore(c, cl, r)
		cancel()
		if code, ok := client.CodeOf(err); err != nil && ok && code < engine.CodeUnauthorized {
			refused = append(refused, fmt.Sprintf("line %d: %s: %s", r.Line, r.Store, code))
		} else if err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
	}
	for _, r := range refused {
		fmt.Fprintln(e.stderr, r)
	}
	fmt.Fprintf(e.stdout, "imported %d of %d stores\n", len(rows)-len(refused), len(rows))
	if len(refused) > 0 {
		return badRowsError{bad: len(refused)}
	}
	return nil
}

func loadStore(c context.Context, cl *client.Client, r catalog.StoreRow) error {
	if r.Zone != "" {
		if err := cl.PutStore(c, client.StoreSpec{Store: r.Store, Zone: r.Zone}); err != nil {
			return err
		}
	}
	for _, w := range r.Windows {
		err := cl.PutStoreWindow(c, client.StoreWindowSpec{Store: r.Store, Start: at(w.Start), End: at(w.End), Capacity: w.Quota})
		if err != nil {
			return err
		}
	}
	return nil
}

// storeExport writes the stores of every item (or of --store) in the
// stores format. The server lists items, not stores: a store with a zone
// or windows and no item yet is exported only when named.
func storeExport(e *env, args []string) error {
	fs := newFlags(e, "store export")
	out := fs.String("out", "", "file to write (default: stdout)")
	var named storeNames
	fs.Var(&named, "store", "only this store (repeatable)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	names := []string(named)
	if len(names) == 0 {
		items, err := cl.ListItems(c, "", e.readOpts()...)
		if err != nil {
			return err
		}
		if len(items) >= protocol.MaxListItems {
			return fmt.Errorf("store export: %d or more items, more than one reply holds: name the stores with --store", len(items))
		}
		seen := map[string]bool{}
		for _, it := range items {
			if !seen[it.Store] {
				seen[it.Store] = true
				names = append(names, it.Store)
			}
		}
	}
	var infos []engine.StoreInfo
	for _, name := range names {
		st, err := cl.GetStore(c, name, e.readOpts()...)
		if errors.Is(err, client.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		info := engine.StoreInfo{Store: st.Store, Zone: st.Zone}
		for _, w := range st.Windows {
			info.Windows = append(info.Windows, engine.WindowInfo{Start: nanos(w.Start), End: nanos(w.End), Quota: w.Capacity, Used: w.Used})
		}
		infos = append(infos, info)
	}
	w := e.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := catalog.WriteStores(w, infos); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stderr, "exported %d stores to %s\n", len(infos), *out)
	}
	return nil
}

// storeNames collects repeated --store flags.
type storeNames []string

func (s *storeNames) String() string     { return strings.Join(*s, ",") }
func (s *storeNames) Set(v string) error { *s = append(*s, v); return nil }
