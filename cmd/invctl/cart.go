package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/cli"
)

// cartLines collects repeated --line sku=S[,qty=N][,store=T][,window=TIME]
// flags.
type cartLines []client.CartLine

func (l *cartLines) String() string { return fmt.Sprint(len(*l), " lines") }

func (l *cartLines) Set(v string) error {
	var line client.CartLine
	qty := int64(1)
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || val == "" {
			return fmt.Errorf("line %q: want sku=S[,qty=N][,store=T][,window=TIME]", v)
		}
		var err error
		switch k {
		case "sku":
			line.SKU = val
		case "store":
			line.Store = val
		case "qty":
			if qty, err = strconv.ParseInt(val, 10, 64); err != nil || qty < 1 {
				return fmt.Errorf("line %q: qty %q: want 1 or more units", v, val)
			}
		case "window":
			if line.Window, err = parseTime(val); err != nil {
				return err
			}
		default:
			return fmt.Errorf("line %q: unknown %q (sku, qty, store, window)", v, k)
		}
	}
	if line.SKU == "" {
		return fmt.Errorf("line %q: no sku=", v)
	}
	line.Qty = qty
	*l = append(*l, line)
	return nil
}

// cartLineJSON is one held line of a cart.
type cartLineJSON struct {
	SKU   string `json:"sku"`
	Store string `json:"store"`
	resultJSON
}

// cart reserves several lines for one customer as one linked group: every
// line is held, or none (a refused line names itself; the lines before it
// are released). Lines may be at different stores.
func cart(e *env, args []string) error {
	fs := newFlags(e, "cart")
	store := fs.String("store", "", "store of the lines that name none")
	customer := fs.String("customer", "", "customer id")
	ttl := fs.Duration("ttl", 0, "hold time of every line (0: the server's default)")
	key := fs.String("key", "", "idempotency key of the cart: the same key again answers the first outcome")
	var lines cartLines
	fs.Var(&lines, "line", "a line `sku=S[,qty=N][,store=T][,window=TIME]` (repeatable; qty 1 unless given)")
	cli.Require(fs, "customer", "line")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{store: *store, customer: *customer, key: *key})
	if *ttl < 0 {
		return usagef("--ttl %s: want a positive duration (10m), or leave it out for the server's default", *ttl)
	}
	for i, l := range lines {
		if l.Store == "" && *store == "" {
			return usagef("--line %d (%s) has no store: give --store, or store= on the line", i+1, l.SKU)
		}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	req := client.CartRequest{Store: *store, Customer: *customer, Lines: lines, TTL: *ttl, Key: *key}
	res, err := cl.ReserveMany(ctxOnce(), req)
	if err != nil {
		return cartRefusal(e, req, err)
	}
	out := make([]cartLineJSON, len(res))
	for i, r := range res {
		out[i] = cartLineJSON{SKU: lines[i].SKU, Store: lineStore(req, i), resultJSON: resultJSONOf(r)}
	}
	return show(e, out, []string{"LINE", "SKU", "STORE", "QTY", "ID", "EXPIRES"}, func() [][]string {
		rows := make([][]string, len(out))
		for i, l := range out {
			exp := "-"
			if l.ExpiresAt != nil {
				exp = l.ExpiresAt.UTC().Format(time.RFC3339)
			}
			rows[i] = []string{num(i + 1), l.SKU, l.Store, num(l.Qty), num(l.ID), exp}
		}
		return rows
	})
}

func lineStore(req client.CartRequest, i int) string {
	if s := req.Lines[i].Store; s != "" {
		return s
	}
	return req.Store
}

// cartRefusal names the refused line (1-based, as given) and points the
// hint at its SKU and store.
func cartRefusal(e *env, req client.CartRequest, err error) error {
	var ce *client.CartError
	if !errors.As(err, &ce) || ce.Line < 0 || ce.Line >= len(req.Lines) {
		return err
	}
	l := req.Lines[ce.Line]
	e.about(subject{sku: l.SKU, store: lineStore(req, ce.Line), customer: req.Customer, key: req.Key})
	return lineError{msg: fmt.Sprintf("cart line %d (%s at %s) refused, nothing held", ce.Line+1, l.SKU, lineStore(req, ce.Line)), err: ce.Err}
}

// lineError is a cart's refusal: its text names the line, its code is the
// line's (the exit status and the hint follow it).
type lineError struct {
	msg string
	err error
}

func (e lineError) Error() string { return e.msg }
func (e lineError) Unwrap() error { return e.err }
