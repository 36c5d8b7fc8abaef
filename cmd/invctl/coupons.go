package main

import (
	"sort"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/cli"
)

// Serial-number coupons (docs/adr/0106): coupons issue puts an issue (a
// pool of serials), coupons take hands one serial to a customer, coupons
// redeem spends a serial at a store's counter, once across the chain,
// coupons show reads a serial, and coupons report reads an issue with its
// redemptions by store (the invoicing report).

type couponJSON struct {
	Serial     string     `json:"serial"`
	ID         jsonID     `json:"id"`
	SKU        string     `json:"sku"`
	Store      string     `json:"store"`
	Customer   string     `json:"customer"`
	State      string     `json:"state"`
	ChainWide  bool       `json:"chain_wide"`
	TakenAt    time.Time  `json:"taken_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RedeemedAt *time.Time `json:"redeemed_at,omitempty"`
	RedeemedBy string     `json:"redeemed_by,omitempty"`
}

var couponHeader = []string{"SERIAL", "SKU", "STORE", "CUSTOMER", "STATE", "EXPIRES", "REDEEMED", "AT"}

func showCoupon(e *env, cp client.Coupon) error {
	out := couponJSON{Serial: cp.Serial, ID: jsonID(cp.ID), SKU: cp.SKU, Store: cp.Store, Customer: cp.Customer,
		State: cp.State.String(), ChainWide: cp.ChainWide, TakenAt: cp.TakenAt, ExpiresAt: optTime(cp.ExpiresAt),
		RedeemedAt: optTime(cp.RedeemedAt), RedeemedBy: cp.RedeemedBy}
	return show(e, out, couponHeader, func() [][]string {
		return [][]string{{cp.Serial, cp.SKU, cp.Store, cp.Customer, out.State, timeText(cp.ExpiresAt),
			timeText(cp.RedeemedAt), or(cp.RedeemedBy, "-")}}
	})
}

type issueJSON struct {
	SKU            string           `json:"sku"`
	Store          string           `json:"store"`
	Serials        int64            `json:"serials"`
	Available      int64            `json:"available"`
	Redeemed       int64            `json:"redeemed"`
	Expired        int64            `json:"expired"`
	Limit          int64            `json:"limit"`
	ChainWide      bool             `json:"chain_wide"`
	ReturnOnExpiry bool             `json:"return_on_expiry"`
	OpensAt        *time.Time       `json:"opens_at,omitempty"`
	ClosesAt       *time.Time       `json:"closes_at,omitempty"`
	TTL            string           `json:"ttl,omitempty"`
	ByStore        map[string]int64 `json:"by_store"`
}

var issueHeader = []string{"SKU", "STORE", "SERIALS", "AVAILABLE", "REDEEMED", "EXPIRED", "LIMIT", "SCOPE"}

// showIssue prints an issue: one row, then (in the table) a row per store
// that redeemed its serials.
func showIssue(e *env, r client.CouponIssueReport) error {
	out := issueJSON{SKU: r.SKU, Store: r.Store, Serials: r.Serials, Available: r.Available, Redeemed: r.Redeemed,
		Expired: r.Expired, Limit: r.Limit, ChainWide: r.ChainWide, ReturnOnExpiry: r.ReturnOnExpiry,
		OpensAt: optTime(r.OpensAt), ClosesAt: optTime(r.ClosesAt), ByStore: r.ByStore}
	if r.TTL > 0 {
		out.TTL = r.TTL.String()
	}
	return show(e, out, issueHeader, func() [][]string {
		scope := "store " + r.Store
		if r.ChainWide {
			scope = "chain-wide"
		}
		rows := [][]string{{r.SKU, r.Store, num(r.Serials), num(r.Available), num(r.Redeemed), num(r.Expired), num(r.Limit), scope}}
		stores := make([]string, 0, len(r.ByStore))
		for st := range r.ByStore {
			stores = append(stores, st)
		}
		sort.Strings(stores)
		for _, st := range stores {
			rows = append(rows, []string{"", "redeemed at " + st, "", "", num(r.ByStore[st]), "", "", ""})
		}
		return rows
	})
}

func couponsIssue(e *env, args []string) error {
	fs := newFlags(e, "coupons issue")
	sku, store := skuStoreFlags(fs)
	serials := fs.Int64("serials", 0, "serials in the pool (1 to 1048576)")
	limit := fs.Int64("limit", 0, "serials per customer (0: none)")
	opens := fs.String("opens", "", "the issue opens at (empty: open already)")
	closes := fs.String("closes", "", "the issue closes at, and every serial expires then at the latest (empty: never)")
	ttl := fs.Duration("ttl", 0, "a serial's life once taken (0: until --closes)")
	chain := fs.Bool("chain-wide", false, "any store redeems the serials (else only --store)")
	back := fs.Bool("return-on-expiry", false, "a serial that expires unredeemed goes back to the pool")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "sku", "store", "serials")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, key: *key, coupon: true})
	if *serials < 1 || *serials > engine.MaxCouponSerials {
		return usagef("--serials %d: want 1 to %d", *serials, engine.MaxCouponSerials)
	}
	if *ttl < 0 || *ttl > engine.MaxCouponTTL {
		return usagef("--ttl %s: want 0 up to %s", *ttl, engine.MaxCouponTTL)
	}
	is := client.CouponIssue{SKU: *sku, Store: *store, Serials: *serials, Limit: *limit, TTL: *ttl, ChainWide: *chain,
		ReturnOnExpiry: *back, Key: *key}
	var err error
	if is.OpensAt, err = parseTime(*opens); err != nil {
		return usagef("--opens: %v", err)
	}
	if is.ClosesAt, err = parseTime(*closes); err != nil {
		return usagef("--closes: %v", err)
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	r, err := cl.PutCouponIssue(ctxOnce(), is)
	if err != nil {
		return err
	}
	return showIssue(e, r)
}

func couponsTake(e *env, args []string) error {
	fs := newFlags(e, "coupons take")
	sku, store := skuStoreFlags(fs)
	customer := fs.String("customer", "", "customer id")
	key := fs.String("key", "", "idempotency key (a retry with it gets the same serial)")
	cli.Require(fs, "sku", "store", "customer")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, customer: *customer, key: *key, coupon: true})
	cl, err := e.client()
	if err != nil {
		return err
	}
	cp, err := cl.TakeCoupon(ctxOnce(), client.TakeCouponRequest{SKU: *sku, Store: *store, Customer: *customer, Key: *key})
	if err != nil {
		return err
	}
	return showCoupon(e, cp)
}

func couponsRedeem(e *env, args []string) error {
	fs := newFlags(e, "coupons redeem")
	store := fs.String("store", "", "the store that redeems it")
	key := fs.String("key", "", "idempotency key (a retry with it gets the first answer)")
	cli.Require(fs, "store")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	serial := fs.Arg(0)
	e.about(subject{store: *store, key: *key, id: serial, coupon: true})
	if _, _, err := client.ParseCouponSerial(serial); err != nil {
		return usagef("%s: %v", serial, err)
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	cp, err := cl.RedeemCoupon(ctxOnce(), client.RedeemCouponRequest{Serial: serial, Store: *store, Key: *key})
	if err != nil {
		if cp.RedeemedBy != "" {
			_ = showCoupon(e, cp) // already_redeemed: where and when, then the refusal
		}
		return err
	}
	return showCoupon(e, cp)
}

func couponsShow(e *env, args []string) error {
	fs := newFlags(e, "coupons show")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	serial := fs.Arg(0)
	e.about(subject{id: serial, coupon: true})
	if _, _, err := client.ParseCouponSerial(serial); err != nil {
		return usagef("%s: %v", serial, err)
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	cp, err := cl.GetCoupon(c, serial, e.readOpts()...)
	if err != nil {
		return err
	}
	return showCoupon(e, cp)
}

func couponsReport(e *env, args []string) error {
	fs := newFlags(e, "coupons report")
	sku, store := skuStoreFlags(fs)
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store, coupon: true})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	r, err := cl.GetCouponIssue(c, *sku, *store, e.readOpts()...)
	if err != nil {
		return err
	}
	return showIssue(e, r)
}
