package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/cli"
)

// newFlags returns a flag set whose errors come back as usage errors, with
// --json (also a global flag) on every command.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&e.json, "json", e.json, "print JSON")
	e.fs = fs
	return fs
}

// parse reads flags and positional arguments in any order (invctl
// confirm 12 --qty 1, as well as invctl confirm --qty 1 12); fs.Arg then
// returns the positional ones.
func parse(fs *flag.FlagSet, args []string, positional int) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return helpRequest{commandHelp(fs)}
			}
			return usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != positional {
		return usagef("%s: want %d argument(s), got %d", fs.Name(), positional, len(pos))
	}
	if err := cli.MissingError(fs); err != nil {
		return usageError{err.Error()}
	}
	_ = fs.Parse(append([]string{"--"}, pos...)) // fs.Arg(i) is now pos[i]
	return nil
}

// parseTime reads RFC 3339 or Unix seconds; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("time %q: want RFC 3339 or Unix seconds", s)
	}
	return t, nil
}

// windowList collects repeated --window START,END,QUOTA flags.
type windowList []client.WindowSpec

func (w *windowList) String() string { return fmt.Sprint(len(*w), " windows") }

func (w *windowList) Set(v string) error {
	parts := strings.Split(v, ",")
	if len(parts) != 3 {
		return fmt.Errorf("window %q: want START,END,QUOTA", v)
	}
	start, err := parseTime(parts[0])
	if err != nil {
		return err
	}
	end, err := parseTime(parts[1])
	if err != nil {
		return err
	}
	quota, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return fmt.Errorf("window quota %q: %v", parts[2], err)
	}
	*w = append(*w, client.WindowSpec{Start: start, End: end, Quota: quota})
	return nil
}

// itemJSON is an item's JSON form.
type itemJSON struct {
	SKU          string       `json:"sku"`
	Store        string       `json:"store"`
	Stock        int64        `json:"stock"`
	Available    int64        `json:"available"`
	Held         int64        `json:"held"`
	Confirmed    int64        `json:"confirmed"`
	PickedUp     int64        `json:"picked_up"`
	Limit        int64        `json:"limit"`
	OpensAt      *time.Time   `json:"opens_at,omitempty"`
	ClosesAt     *time.Time   `json:"closes_at,omitempty"`
	MemberTier   uint8        `json:"member_tier,omitempty"`
	MemberUnits  int64        `json:"member_units,omitempty"`
	MemberUsed   int64        `json:"member_used,omitempty"`
	MemberCutoff *time.Time   `json:"member_cutoff,omitempty"`
	Windows      []windowJSON `json:"windows,omitempty"`
}

type windowJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Quota int64     `json:"quota"`
	Used  int64     `json:"used"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func itemJSONOf(it client.Item) itemJSON {
	out := itemJSON{SKU: it.SKU, Store: it.Store, Stock: it.Stock, Available: it.Available, Held: it.Held,
		Confirmed: it.Confirmed, PickedUp: it.PickedUp, Limit: it.Limit, OpensAt: optTime(it.OpensAt),
		ClosesAt: optTime(it.ClosesAt), MemberTier: it.MemberTier, MemberUnits: it.MemberUnits,
		MemberUsed: it.MemberUsed, MemberCutoff: optTime(it.MemberCutoff)}
	for _, w := range it.Windows {
		out.Windows = append(out.Windows, windowJSON{Start: w.Start, End: w.End, Quota: w.Quota, Used: w.Used})
	}
	return out
}

// skuStoreFlags adds the --sku and --store every item command takes.
func skuStoreFlags(fs *flag.FlagSet) (sku, store *string) {
	return fs.String("sku", "", "SKU"), fs.String("store", "", "store")
}

func itemGet(e *env, args []string) error {
	fs := newFlags(e, "item get")
	sku, store := skuStoreFlags(fs)
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	it, err := cl.GetItemLocal(c, *sku, *store, e.readOpts()...) // every time in the store's zone
	if err != nil {
		return err
	}
	out := itemJSONOf(it)
	if e.json {
		return show(e, out, nil, nil)
	}
	fmt.Fprintf(e.stdout, "%s/%s stock=%d available=%d held=%d confirmed=%d picked_up=%d limit=%d\n",
		out.SKU, out.Store, out.Stock, out.Available, out.Held, out.Confirmed, out.PickedUp, out.Limit)
	if !it.OpensAt.IsZero() || !it.ClosesAt.IsZero() {
		fmt.Fprintf(e.stdout, "  sale %s..%s\n", zoneText(it.OpensAt, it.Location), zoneText(it.ClosesAt, it.Location))
	}
	if it.MemberUnits > 0 {
		fmt.Fprintf(e.stdout, "  member share tier>=%d units=%d used=%d until %s\n",
			it.MemberTier, it.MemberUnits, it.MemberUsed, zoneText(it.MemberCutoff, it.Location))
	}
	for _, w := range out.Windows {
		fmt.Fprintf(e.stdout, "  window %s..%s quota=%d used=%d\n",
			w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), w.Quota, w.Used)
	}
	return nil
}

func reserve(e *env, args []string) error {
	fs := newFlags(e, "reserve")
	sku, store := skuStoreFlags(fs)
	customer := fs.String("customer", "", "customer id")
	qty := fs.Int64("qty", 1, "units")
	window := fs.String("window", "", "pickup window start (RFC 3339 or Unix seconds)")
	ttl := fs.Duration("ttl", 0, "hold time (0: the server's default)")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "sku", "store", "customer")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, customer: *customer, key: *key, window: *window})
	if *qty < 1 {
		// The client reads 0 as 1 unit: a 0 typed here is a mistake, not a default.
		return usagef("--qty %d: want 1 or more units", *qty)
	}
	if *ttl < 0 {
		return usagef("--ttl %s: want a positive duration (10m), or leave it out for the server's default", *ttl)
	}
	req := client.ReserveRequest{SKU: *sku, Store: *store, Customer: *customer, Qty: *qty, TTL: *ttl, Key: *key}
	var err error
	if req.Window, err = parseTime(*window); err != nil {
		return err
	}
	return storefront(e, func(c *client.Client) (client.Result, error) { return c.Reserve(ctxOnce(), req) },
		func(r client.Result) string { return fmt.Sprint(r.ID) })
}

// parseID reads a reservation id: decimal, or 0x-prefixed hex, bare or in
// the double quotes of its JSON form (jq .id without -r prints them).
func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(unquote(s), 0, 64)
	if err != nil || id == 0 {
		return 0, usagef("reservation id %q: want a positive number", s)
	}
	return id, nil
}

// idArgs parses a command of one reservation id and the flags on fs; the
// id (and --key, when fs has one) is what the command is about.
func idArgs(e *env, fs *flag.FlagSet, args []string) (uint64, error) {
	if err := parse(fs, args, 1); err != nil {
		return 0, err
	}
	s := subject{id: fs.Arg(0)}
	if k := fs.Lookup("key"); k != nil {
		s.key = k.Value.String()
	}
	e.about(s)
	return parseID(fs.Arg(0))
}

// storefront runs one storefront call and prints the line text makes of
// its result, or the result as JSON.
func storefront(e *env, call func(*client.Client) (client.Result, error), text func(client.Result) string) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	r, err := call(cl)
	if err != nil {
		return err
	}
	if e.json {
		return show(e, resultJSONOf(r), nil, nil)
	}
	fmt.Fprintln(e.stdout, text(r))
	return nil
}

// ctxOnce is a context for one call of a short command; its timer ends
// with the process.
func ctxOnce() context.Context {
	c, _ := ctx() //nolint:lostcancel // the command exits right after
	return c
}

type resultJSON struct {
	ID         jsonID     `json:"id"`
	State      string     `json:"state"`
	Qty        int64      `json:"qty"`
	Window     *time.Time `json:"window,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	PickupCode string     `json:"pickup_code,omitempty"`
}

func resultJSONOf(r client.Result) resultJSON {
	out := resultJSON{ID: jsonID(r.ID), State: r.State.String(), Qty: r.Qty, Window: optTime(r.Window), ExpiresAt: optTime(r.ExpiresAt)}
	if r.PickupCode != 0 {
		out.PickupCode = r.PickupCodeString()
	}
	return out
}

func confirm(e *env, args []string) error {
	fs := newFlags(e, "confirm")
	qty := fs.Int64("qty", 0, "units to confirm (0: every held unit)")
	key := fs.String("key", "", "idempotency key")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.Confirm(ctxOnce(), client.ConfirmRequest{ID: id, Qty: *qty, Key: *key})
	}, func(r client.Result) string { return r.PickupCodeString() })
}

func extend(e *env, args []string) error {
	fs := newFlags(e, "extend")
	ttl := fs.Duration("ttl", 0, "hold until at least this long from now")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "ttl")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	if *ttl <= 0 {
		return usagef("--ttl %s: want a positive duration (10m)", *ttl)
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.Extend(ctxOnce(), client.ExtendRequest{ID: id, TTL: *ttl, Key: *key})
	}, func(r client.Result) string { return r.State.String() + " until " + timeText(r.ExpiresAt) })
}

func cancel(e *env, args []string) error {
	fs := newFlags(e, "cancel")
	key := fs.String("key", "", "idempotency key")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.Cancel(ctxOnce(), client.CancelRequest{ID: id, Key: *key})
	}, func(r client.Result) string { return r.State.String() })
}

func pickup(e *env, args []string) error {
	fs := newFlags(e, "pickup")
	store := fs.String("store", "", "store where the order is collected")
	code := fs.String("code", "", "12-digit pickup code")
	idText := fs.String("id", "", "reservation id (optional: the code finds it)")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "store", "code")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{store: *store, key: *key, id: *idText})
	var id uint64
	if *idText != "" {
		var err error
		if id, err = parseID(*idText); err != nil {
			return err
		}
	}
	pc, err := strconv.ParseUint(*code, 10, 64)
	if err != nil || len(*code) != engine.PickupCodeDigits {
		return usagef("--code %q: want the %d-digit pickup code", *code, engine.PickupCodeDigits)
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.Pickup(ctxOnce(), client.PickupRequest{ID: id, Store: *store, Code: pc, Key: *key})
	}, func(r client.Result) string { return fmt.Sprint(r.ID, " ", r.State) })
}

func reschedule(e *env, args []string) error {
	fs := newFlags(e, "reschedule")
	window := fs.String("window", "", "the new pickup window's start")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "window")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	e.sub.window = *window
	w, err := parseTime(*window)
	if err != nil {
		return err
	}
	if w.IsZero() {
		return usagef("--window: want the new window's start")
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.Reschedule(ctxOnce(), client.RescheduleRequest{ID: id, Window: w, Key: *key})
	}, func(r client.Result) string { return r.State.String() + " window " + timeText(r.Window) })
}

func returnCmd(e *env, args []string) error {
	fs := newFlags(e, "return")
	restock := fs.Bool("restock", false, "put the units back into stock")
	key := fs.String("key", "", "idempotency key")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.Return(ctxOnce(), client.ReturnRequest{ID: id, Restock: *restock, Key: *key})
	}, func(r client.Result) string { return r.State.String() })
}
