package main

import (
	"context"
	"net/http"
	"time"

	"github.com/invsys/inv/client"
)

// Coupons bought or granted online and redeemed at a store's counter
// (docs/adr/0106): POST /coupons hands the shopper one serial of an issue
// (its 33 digits are the barcode's text the page shows); GET
// /coupons/{serial} tells the shopper whether it is still good. The
// counter redeems it with its store token (invctl coupons redeem, or the
// client's RedeemCoupon): a storefront token cannot.

type couponRequest struct {
	SKU      string `json:"sku"`   // the issue
	Store    string `json:"store"` // the store
	Customer string `json:"customer"`
}

type couponJSON struct {
	Serial     string     `json:"serial"` // the barcode's text, 33 digits
	SKU        string     `json:"sku"`
	Store      string     `json:"store"`
	State      string     `json:"state"`
	ChainWide  bool       `json:"chain_wide"` // any store redeems it (else only Store)
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RedeemedAt *time.Time `json:"redeemed_at,omitempty"`
	RedeemedBy string     `json:"redeemed_by,omitempty"`
}

func couponOf(cp client.Coupon) couponJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return couponJSON{Serial: cp.Serial, SKU: cp.SKU, Store: cp.Store, State: cp.State.String(), ChainWide: cp.ChainWide,
		ExpiresAt: opt(cp.ExpiresAt), RedeemedAt: opt(cp.RedeemedAt), RedeemedBy: cp.RedeemedBy}
}

// POST /coupons {sku, store, customer}: one serial for the shopper. The
// Idempotency-Key makes a repeated POST return the same serial.
func (s *shop) takeCoupon(w http.ResponseWriter, r *http.Request) {
	var req couponRequest
	if !readJSON(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	cp, err := s.inv.TakeCoupon(ctx, client.TakeCouponRequest{SKU: req.SKU, Store: req.Store, Customer: req.Customer,
		Key: r.Header.Get("Idempotency-Key")})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, couponOf(cp))
}

// GET /coupons/{serial}: is the shopper's serial still good?
func (s *shop) coupon(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	cp, err := s.inv.GetCoupon(ctx, r.PathValue("serial"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, couponOf(cp))
}
