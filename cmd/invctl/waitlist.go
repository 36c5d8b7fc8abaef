package main

import (
	"flag"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/cli"
)

// The fair waitlist of a sold-out item (docs/adr/0105): waitlist join puts
// a customer in an item's line, waitlist leave takes it out, waitlist show
// reads the line's length and the customer's place. When a unit is freed
// the head gets a hold of its own (invctl reservation list --customer C
// shows it; invctl tail shows waitlist_promoted).

type waitlistJSON struct {
	SKU       string     `json:"sku"`
	Store     string     `json:"store"`
	Customer  string     `json:"customer,omitempty"`
	Length    int64      `json:"length"`
	Position  int64      `json:"position"` // from 1, the head; 0 = not in line
	Qty       int64      `json:"qty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

var waitlistHeader = []string{"SKU", "STORE", "CUSTOMER", "PLACE", "LENGTH", "QTY", "EXPIRES"}

func waitlistRow(w waitlistJSON) []string {
	place, expires := "-", "-"
	if w.Position > 0 {
		place = num(w.Position)
	}
	if w.ExpiresAt != nil {
		expires = timeText(*w.ExpiresAt)
	}
	return []string{w.SKU, w.Store, or(w.Customer, "-"), place, num(w.Length), num(w.Qty), expires}
}

// showWaitlist prints a line's read as a one-row table or as JSON.
func showWaitlist(e *env, sku, store, customer string, w client.Waitlist) error {
	out := waitlistJSON{SKU: sku, Store: store, Customer: customer, Length: w.Length, Position: w.Position,
		Qty: w.Qty, ExpiresAt: optTime(w.ExpiresAt)}
	return show(e, out, waitlistHeader, func() [][]string { return [][]string{waitlistRow(out)} })
}

// waitlistFlags declares the flags that name an item's line and a customer.
func waitlistFlags(fs *flag.FlagSet) (sku, store, customer *string) {
	sku, store = skuStoreFlags(fs)
	return sku, store, fs.String("customer", "", "customer id")
}

func waitlistJoin(e *env, args []string) error {
	fs := newFlags(e, "waitlist join")
	sku, store, customer := waitlistFlags(fs)
	qty := fs.Int64("qty", 1, "units wanted (1 to 8)")
	ttl := fs.Duration("ttl", 0, "how long the entry stands in line (0: the server's default, 1h; at most 24h)")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "sku", "store", "customer")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, customer: *customer, key: *key, waitlist: true})
	if *qty < 1 || *qty > engine.MaxWaitlistQty {
		return usagef("--qty %d: want 1 to %d units", *qty, engine.MaxWaitlistQty)
	}
	if *ttl < 0 || *ttl > engine.MaxWaitlistTTL {
		return usagef("--ttl %s: want 0 (the server's default) up to %s", *ttl, engine.MaxWaitlistTTL)
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	w, err := cl.JoinWaitlist(ctxOnce(), client.JoinWaitlistRequest{SKU: *sku, Store: *store, Customer: *customer,
		Qty: *qty, TTL: *ttl, Key: *key})
	if err != nil {
		return err
	}
	return showWaitlist(e, *sku, *store, *customer, w)
}

func waitlistLeave(e *env, args []string) error {
	fs := newFlags(e, "waitlist leave")
	sku, store, customer := waitlistFlags(fs)
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "sku", "store", "customer")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, customer: *customer, key: *key, waitlist: true})
	cl, err := e.client()
	if err != nil {
		return err
	}
	w, err := cl.LeaveWaitlist(ctxOnce(), client.LeaveWaitlistRequest{SKU: *sku, Store: *store, Customer: *customer, Key: *key})
	if err != nil {
		return err
	}
	return showWaitlist(e, *sku, *store, *customer, w)
}

func waitlistShow(e *env, args []string) error {
	fs := newFlags(e, "waitlist show")
	sku, store := skuStoreFlags(fs)
	customer := fs.String("customer", "", "customer id (optional: its place in line)")
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, customer: *customer, waitlist: true})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	w, err := cl.GetWaitlist(c, *sku, *store, *customer, e.readOpts()...)
	if err != nil {
		return err
	}
	return showWaitlist(e, *sku, *store, *customer, w)
}
