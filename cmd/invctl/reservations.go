package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/cli"
)

type reservationJSON struct {
	ID         jsonID     `json:"id"`
	SKU        string     `json:"sku"`
	Store      string     `json:"store"`
	Customer   string     `json:"customer"`
	Qty        int64      `json:"qty"`
	State      string     `json:"state"`
	Window     *time.Time `json:"window,omitempty"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
	PickupCode string     `json:"pickup_code,omitempty"`
	Attempts   int64      `json:"attempts"`
	Locked     bool       `json:"locked"`
}

func reservationJSONOf(r client.Reservation) reservationJSON {
	out := reservationJSON{ID: jsonID(r.ID), SKU: r.SKU, Store: r.Store, Customer: r.Customer, Qty: r.Qty,
		State: r.State.String(), Window: optTime(r.Window), CreatedAt: optTime(r.CreatedAt),
		ExpiresAt: optTime(r.ExpiresAt), UpdatedAt: optTime(r.UpdatedAt), Attempts: r.Attempts, Locked: r.Locked}
	if r.PickupCode != 0 {
		out.PickupCode = fmt.Sprintf("%012d", r.PickupCode)
	}
	return out
}

var reservationHeader = []string{"ID", "SKU", "STORE", "CUSTOMER", "QTY", "STATE", "WINDOW", "EXPIRES", "LOCKED"}

func reservationRow(r reservationJSON) []string {
	t := func(p *time.Time) string {
		if p == nil {
			return "-"
		}
		return timeText(*p)
	}
	return []string{num(r.ID), r.SKU, r.Store, r.Customer, num(r.Qty), r.State, t(r.Window), t(r.ExpiresAt),
		strconv.FormatBool(r.Locked)}
}

func reservationGet(e *env, args []string) error {
	fs := newFlags(e, "reservation get")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	r, err := cl.GetReservationLocal(c, id, e.readOpts()...)
	if err != nil {
		return err
	}
	out := reservationJSONOf(r.In(time.UTC)) // JSON and the table stay in UTC, as every list
	if err := show(e, out, reservationHeader, func() [][]string { return [][]string{reservationRow(out)} }); err != nil || e.json {
		return err
	}
	if !r.Window.IsZero() && r.Location != time.UTC {
		// The counter and the customer speak of the window in the store's time.
		fmt.Fprintf(e.stdout, "pickup window in the store's zone (%s): %s\n", r.Location, zoneText(r.Window, r.Location))
	}
	return nil
}

func reservationList(e *env, args []string) error {
	fs := newFlags(e, "reservation list")
	customer := fs.String("customer", "", "customer id")
	cli.Require(fs, "customer")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{customer: *customer})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	rs, err := cl.ListReservations(c, *customer, e.readOpts()...)
	if err != nil {
		return err
	}
	out := make([]reservationJSON, len(rs))
	for i := range rs {
		out[i] = reservationJSONOf(rs[i])
	}
	return show(e, out, reservationHeader, func() [][]string {
		rows := make([][]string, len(out))
		for i := range out {
			rows[i] = reservationRow(out[i])
		}
		return rows
	})
}

func reservationUnlock(e *env, args []string) error {
	fs := newFlags(e, "reservation unlock")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.Unlock(ctxOnce(), client.UnlockRequest{ID: id})
	}, func(r client.Result) string { return "unlocked " + num(r.ID) + " " + r.State.String() })
}
