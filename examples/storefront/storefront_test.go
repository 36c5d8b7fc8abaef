// These tests run the storefront's HTTP API (httptest) on the client
// library against a real invd, each test its own, started by invtest (the
// package a shop's own tests would use) on a free port with fresh data: a shopper's whole path (stores with stock, the
// item's pickup windows, reserve with a window, confirm with a pickup code
// and barcode, show, list, cancel), a cart, the repeat of a POST with its
// Idempotency-Key, and the HTTP status of every refusal the shop meets:
// 409, 403, 404, 410, 422, 429, 400, and 503 when the engine is gone; and
// the shop on a storefront token, which inv gives pickup codes only in the
// confirm's reply.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/invtest"
)

var seq atomic.Int64

// shopConfig gives every test's invd a per-customer rate limit, so that
// 429 can be shown; the tests use fresh customers and stay far below it.
const shopConfig = "rate_per_second = 5\nrate_burst = 5"

// startInv starts an invd of its own for the test (invtest builds it from
// this module once), or skips the test under -short.
func startInv(t *testing.T, opts ...invtest.Option) *invtest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: needs invd (skipped with -short)")
	}
	return invtest.Start(t, opts...)
}

// shopOn starts the storefront on a client of the server at addr.
func shopOn(t *testing.T, addr string, opts ...client.Option) (*httptest.Server, *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, []string{addr}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(newShop(c, slog.New(slog.DiscardHandler)))
	t.Cleanup(func() { hs.Close(); c.Close() })
	return hs, c
}

// newShopT starts the storefront on the ready client of a fresh invd of
// 4 shards.
func newShopT(t *testing.T) (*httptest.Server, *client.Client) {
	t.Helper()
	srv := startInv(t, invtest.WithShards(4), invtest.WithConfig(shopConfig))
	hs := httptest.NewServer(newShop(srv.Client, slog.New(slog.DiscardHandler)))
	t.Cleanup(hs.Close)
	return hs, srv.Client
}

func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// call sends a request and decodes the JSON answer into out (if not nil).
func call(t *testing.T, hs *httptest.Server, method, path, key string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, hs.URL+path, rd)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func TestShopperPath(t *testing.T) {
	hs, c := newShopT(t)
	if err := putDemoCatalogue(context.Background(), c, time.Now()); err != nil {
		t.Fatal(err)
	}
	var stores struct {
		Stores []storeJSON `json:"stores"`
	}
	if st := call(t, hs, "GET", "/stores?sku="+demoSKU, "", nil, &stores); st != 200 || len(stores.Stores) != 3 {
		t.Fatalf("stores: %d %+v", st, stores)
	}
	store := stores.Stores[0].Store
	var item itemJSON
	if st := call(t, hs, "GET", "/items/"+demoSKU+"/"+store, "", nil, &item); st != 200 || len(item.Windows) != 3 {
		t.Fatalf("item: %d %+v", st, item)
	}
	window := item.Windows[1].Start
	cust := uniq("M")

	var held orderJSON
	order := orderRequest{SKU: demoSKU, Store: store, Customer: cust, Qty: 2, Window: &window}
	if st := call(t, hs, "POST", "/orders", "click-1", order, &held); st != 201 || held.State != "held" ||
		held.HeldUntil == nil || !held.Window.Equal(window) {
		t.Fatalf("reserve: %d %+v", st, held)
	}
	// A double click: the same key gives the same order, not a second one.
	var again orderJSON
	if st := call(t, hs, "POST", "/orders", "click-1", order, &again); st != 201 || again.ID != held.ID {
		t.Fatalf("repeated POST: %d %+v (first %s)", st, again, held.ID)
	}

	var paid orderJSON
	if st := call(t, hs, "POST", "/orders/"+held.ID+"/confirm", "", nil, &paid); st != 200 || paid.State != "confirmed" ||
		len(paid.PickupCode) != engine.PickupCodeDigits || paid.PickupDeadline == nil || paid.SKU != demoSKU {
		t.Fatalf("confirm: %d %+v", st, paid)
	}
	id, code, err := engine.ParseBarcode(paid.Barcode)
	if err != nil || fmt.Sprint(id) != held.ID || engine.FormatPickupCode(code) != paid.PickupCode {
		t.Fatalf("barcode %q: %d %d %v", paid.Barcode, id, code, err)
	}
	var shown orderJSON
	if st := call(t, hs, "GET", "/orders/"+held.ID, "", nil, &shown); st != 200 || shown.PickupCode != paid.PickupCode {
		t.Fatalf("show: %d %+v", st, shown)
	}

	var second orderJSON
	call(t, hs, "POST", "/orders", "", orderRequest{SKU: demoSKU, Store: store, Customer: cust, Qty: 1, Window: &window}, &second)
	var cancelled orderJSON
	if st := call(t, hs, "DELETE", "/orders/"+second.ID, "", nil, &cancelled); st != 200 || cancelled.State != "cancelled" {
		t.Fatalf("cancel: %d %+v", st, cancelled)
	}
	var list struct {
		Orders []orderJSON `json:"orders"`
	}
	if st := call(t, hs, "GET", "/customers/"+cust+"/orders", "", nil, &list); st != 200 || len(list.Orders) != 2 ||
		list.Orders[0].State != "confirmed" || list.Orders[1].State != "cancelled" {
		t.Fatalf("orders: %d %+v", st, list)
	}
}

func TestCart(t *testing.T) {
	hs, c := newShopT(t)
	store := "TPE0427"
	a, b := uniq("tea"), uniq("cake")
	for _, sku := range []string{a, b} {
		if err := c.PutItem(context.Background(), client.ItemSpec{SKU: sku, Store: store, Stock: 1}); err != nil {
			t.Fatal(err)
		}
	}
	cart := map[string]any{"store": store, "customer": uniq("M"),
		"lines": []map[string]any{{"sku": a, "qty": 1}, {"sku": b, "qty": 1}}}
	var held struct {
		Orders []orderJSON `json:"orders"`
	}
	if st := call(t, hs, "POST", "/carts", "", cart, &held); st != 201 || len(held.Orders) != 2 {
		t.Fatalf("cart: %d %+v", st, held)
	}
	var refused struct {
		Error string `json:"error"`
		Line  int    `json:"line"`
	}
	if st := call(t, hs, "POST", "/carts", "", cart, &refused); st != 409 || refused.Error != "sold_out" {
		t.Fatalf("second cart: %d %+v", st, refused)
	}
}

// TestStatuses provokes each refusal through the API and checks its status.
func TestStatuses(t *testing.T) {
	hs, c := newShopT(t)
	ctx := context.Background()
	store := "TPE0427"
	item := func(spec client.ItemSpec) string {
		spec.SKU, spec.Store = uniq("sku"), store
		if err := c.PutItem(ctx, spec); err != nil {
			t.Fatal(err)
		}
		return spec.SKU
	}
	reserve := func(sku, cust string, extra func(*orderRequest)) (int, errorBody, orderJSON) {
		req := orderRequest{SKU: sku, Store: store, Customer: cust, Qty: 1}
		if extra != nil {
			extra(&req)
		}
		var raw json.RawMessage
		st := call(t, hs, "POST", "/orders", "", req, &raw)
		var eb errorBody
		var o orderJSON
		json.Unmarshal(raw, &eb)
		json.Unmarshal(raw, &o)
		return st, eb, o
	}
	check := func(name string, st int, eb errorBody, wantStatus int, wantCode string) {
		t.Helper()
		if st != wantStatus || eb.Error != wantCode {
			t.Errorf("%s: %d %q (%s), want %d %q", name, st, eb.Error, eb.Message, wantStatus, wantCode)
		}
	}

	soldOut := item(client.ItemSpec{Stock: 1})
	reserve(soldOut, uniq("M"), nil)
	st, eb, _ := reserve(soldOut, uniq("M"), nil)
	check("sold out", st, eb, 409, "sold_out")

	limited := item(client.ItemSpec{Stock: 10})
	if err := c.SetLimit(ctx, client.LimitSpec{SKU: limited, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	st, eb, _ = reserve(limited, uniq("M"), func(r *orderRequest) { r.Qty = 2 })
	check("limit", st, eb, 409, "limit_exceeded")

	w := time.Now().Add(48 * time.Hour).Truncate(time.Hour).UTC()
	windowed := item(client.ItemSpec{Stock: 10})
	if err := c.PutWindow(ctx, client.WindowSpec{SKU: windowed, Store: store, Start: w, End: w.Add(time.Hour), Quota: 1}); err != nil {
		t.Fatal(err)
	}
	reserve(windowed, uniq("M"), func(r *orderRequest) { r.Window = &w })
	st, eb, _ = reserve(windowed, uniq("M"), func(r *orderRequest) { r.Window = &w })
	check("window full", st, eb, 409, "window_full")
	other := w.Add(time.Hour)
	st, eb, _ = reserve(windowed, uniq("M"), func(r *orderRequest) { r.Window = &other })
	check("unknown window", st, eb, 422, "unknown_window")
	st, eb, _ = reserve(windowed, uniq("M"), nil)
	check("window required", st, eb, 422, "window_required")

	st, eb, _ = reserve(item(client.ItemSpec{Stock: 1, OpensAt: time.Now().Add(time.Hour)}), uniq("M"), nil)
	check("not open", st, eb, 409, "not_open")

	blocked := uniq("M")
	if err := c.Block(ctx, client.CustomerRequest{Customer: blocked}); err != nil {
		t.Fatal(err)
	}
	st, eb, _ = reserve(item(client.ItemSpec{Stock: 1}), blocked, nil)
	check("blocked", st, eb, 403, "blocked")

	st, eb, _ = reserve(uniq("no-such-sku"), uniq("M"), nil)
	check("unknown item", st, eb, 404, "unknown_item")
	var nf errorBody
	st = call(t, hs, "GET", fmt.Sprintf("/orders/%d", engine.MakeID(1, 1<<40)), "", nil, &nf)
	check("unknown order", st, nf, 404, "not_found")

	st, eb, _ = reserve(item(client.ItemSpec{Stock: 1}), uniq("M"), func(r *orderRequest) { r.Qty = -1 })
	check("bad quantity", st, eb, 422, "bad_request")
	var bad errorBody
	st = call(t, hs, "POST", "/orders", "", `{"sku": 12}`, &bad)
	check("bad json", st, bad, 400, "bad_json")

	_, _, short := reserve(item(client.ItemSpec{Stock: 1}), uniq("M"), func(r *orderRequest) { r.HoldSeconds = 1 })
	time.Sleep(1200 * time.Millisecond)
	var gone errorBody
	st = call(t, hs, "POST", "/orders/"+short.ID+"/confirm", "", nil, &gone)
	check("expired hold", st, gone, 410, "expired")

	var twice errorBody
	call(t, hs, "DELETE", "/orders/"+short.ID, "", nil, nil)
	st = call(t, hs, "DELETE", "/orders/"+short.ID, "", nil, &twice)
	check("cancel of an expired hold", st, twice, 410, "expired")

	eager, many := uniq("M"), item(client.ItemSpec{Stock: 100})
	limitedCount := 0
	for range 15 {
		if st, eb, _ := reserve(many, eager, nil); st == 429 && eb.Error == "rate_limited" {
			limitedCount++
		}
	}
	if limitedCount == 0 {
		t.Error("15 rapid reserves of one customer: none answered 429")
	}
}

// TestUnavailable: with the engine gone the shop answers 503 with
// Retry-After, so the front end retries with the same key.
func TestUnavailable(t *testing.T) {
	s := startInv(t)
	hs, _ := shopOn(t, s.Addr, client.WithRetry(client.RetryPolicy{MaxAttempts: 3, BaseBackoff: 10 * time.Millisecond}))
	s.Kill()
	req, _ := http.NewRequest("GET", hs.URL+"/stores?sku="+demoSKU, nil)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestStatusTable checks the mapping of the errors the engine cannot be
// made to give on demand (busy, timeout, outcome unknown ...).
func TestStatusTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{client.ErrBusy, 503, "busy"},
		{&client.ServerError{Code: engine.CodeUnavailable, Message: "no leader"}, 503, "unavailable"},
		{fmt.Errorf("reserve: %w; %w", client.ErrTimeout, client.ErrUnknownOutcome), 503, "outcome_unknown"},
		{client.ErrLocked, 423, "locked"},
		{client.ErrWrongStore, 403, "wrong_store"},
		{client.ErrKeyConflict, 409, "key_conflict"},
		{client.ErrInternal, 500, "internal"},
		{context.Canceled, 499, "cancelled"},
		{io.ErrUnexpectedEOF, 503, "unavailable"},
	} {
		if st, code := statusOf(tc.err); st != tc.status || code != tc.code {
			t.Errorf("%v: %d %q, want %d %q", tc.err, st, code, tc.status, tc.code)
		}
	}
}

// TestShopperPathWithStorefrontToken runs the shop as deployed: on a
// storefront token of a server with tokens, which gives the pickup code
// only in the confirm's reply. The shop shows the code on the confirm
// page, again on the order's page and in the customer's list (from the
// codes it kept); a shop that did not confirm the order (a restarted one)
// shows the order without a code, since inv's reads leave it out.
func TestShopperPathWithStorefrontToken(t *testing.T) {
	hash := func(tok string) string { h := sha256.Sum256([]byte(tok)); return hex.EncodeToString(h[:]) }
	const opTok, webTok = "op-3f9a1c7e2b", "web-8d2e6b0a41"
	s := startInv(t, invtest.WithShards(2),
		invtest.WithConfig("token = operator "+hash(opTok)+"\ntoken = storefront "+hash(webTok)),
		invtest.WithClientOptions(client.WithToken(opTok)))
	opc := s.Client
	if err := putDemoCatalogue(context.Background(), opc, time.Now()); err != nil {
		t.Fatal(err)
	}
	hs, web := shopOn(t, s.Addr, client.WithToken(webTok))
	cust := uniq("T")
	var item itemJSON
	if st := call(t, hs, "GET", "/items/"+demoSKU+"/"+demoStores[0], "", nil, &item); st != 200 || len(item.Windows) == 0 {
		t.Fatalf("item: %d %+v", st, item)
	}
	var held, paid, shown orderJSON
	if st := call(t, hs, "POST", "/orders", "", orderRequest{SKU: demoSKU, Store: demoStores[0], Customer: cust, Qty: 1,
		Window: &item.Windows[0].Start}, &held); st != 201 {
		t.Fatalf("reserve: %d %+v", st, held)
	}
	if st := call(t, hs, "POST", "/orders/"+held.ID+"/confirm", "", nil, &paid); st != 200 ||
		len(paid.PickupCode) != engine.PickupCodeDigits || paid.Barcode == "" {
		t.Fatalf("confirm: %d %+v", st, paid)
	}
	if st := call(t, hs, "GET", "/orders/"+held.ID, "", nil, &shown); st != 200 || shown.PickupCode != paid.PickupCode || shown.Barcode != paid.Barcode {
		t.Fatalf("show: %d %+v, want code %s", st, shown, paid.PickupCode)
	}
	var list struct {
		Orders []orderJSON `json:"orders"`
	}
	if st := call(t, hs, "GET", "/customers/"+cust+"/orders", "", nil, &list); st != 200 || len(list.Orders) != 1 ||
		list.Orders[0].PickupCode != paid.PickupCode {
		t.Fatalf("orders: %d %+v", st, list)
	}
	// inv itself does not give a storefront token the code on a read.
	var id uint64
	fmt.Sscan(held.ID, &id)
	if r, err := web.GetReservation(context.Background(), id); err != nil || r.State != engine.StateConfirmed || r.PickupCode != 0 {
		t.Fatalf("GetReservation on a storefront token: %+v %v, want confirmed without a code", r, err)
	}
	fresh, _ := shopOn(t, s.Addr, client.WithToken(webTok))
	var again orderJSON
	if st := call(t, fresh, "GET", "/orders/"+held.ID, "", nil, &again); st != 200 || again.State != "confirmed" ||
		again.PickupCode != "" || again.Barcode != "" {
		t.Fatalf("a shop that did not confirm it: %d %+v, want the order without a code", st, again)
	}
}

// TestStoreCapacityAcrossSKUs: a store's counter takes one pre-order in a
// window whatever the product. Two SKUs of the store each have quota left,
// yet the second order is refused window_full, the item's windows show
// what the store leaves (in the store's zone), and a reserve without a
// window on an item that has windows is refused window_required.
func TestStoreCapacityAcrossSKUs(t *testing.T) {
	hs, c := newShopT(t)
	ctx := context.Background()
	store := uniq("TPE")
	w := time.Now().Add(72 * time.Hour).Truncate(time.Hour).UTC()
	if err := c.PutStore(ctx, client.StoreSpec{Store: store, Zone: "Asia/Taipei"}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutStoreWindow(ctx, client.StoreWindowSpec{Store: store, Start: w, End: w.Add(2 * time.Hour), Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	cake, tart := uniq("cake"), uniq("tart")
	for _, sku := range []string{cake, tart} {
		if err := c.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: 10}); err != nil {
			t.Fatal(err)
		}
		if err := c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: w, End: w.Add(2 * time.Hour), Quota: 5}); err != nil {
			t.Fatal(err)
		}
	}
	var shown itemJSON
	if st := call(t, hs, "GET", "/items/"+tart+"/"+store, "", nil, &shown); st != 200 || shown.Zone != "Asia/Taipei" ||
		len(shown.Windows) != 1 || shown.Windows[0].Available != 1 || shown.Windows[0].Start.Format("-07:00") != "+08:00" {
		t.Fatalf("item before: %d %+v", st, shown)
	}
	var held orderJSON
	if st := call(t, hs, "POST", "/orders", "", orderRequest{SKU: cake, Store: store, Customer: uniq("M"), Qty: 1, Window: &w}, &held); st != 201 {
		t.Fatalf("the cake: %d %+v", st, held)
	}
	var eb errorBody
	if st := call(t, hs, "POST", "/orders", "", orderRequest{SKU: tart, Store: store, Customer: uniq("M"), Qty: 1, Window: &w}, &eb); st != 409 || eb.Error != "window_full" {
		t.Fatalf("the tart in the full slot: %d %+v", st, eb)
	}
	if st := call(t, hs, "GET", "/items/"+tart+"/"+store, "", nil, &shown); st != 200 || shown.Windows[0].Available != 0 {
		t.Fatalf("item after: %d %+v", st, shown)
	}
	if st := call(t, hs, "POST", "/orders", "", orderRequest{SKU: tart, Store: store, Customer: uniq("M"), Qty: 1}, &eb); st != 422 || eb.Error != "window_required" {
		t.Fatalf("no window: %d %+v", st, eb)
	}
}

// TestCoupon: a shopper gets a serial of a coupon issue (a repeated POST
// with its Idempotency-Key gives the same one), reads it back as issued,
// a counter redeems it, the shopper then sees it redeemed and where, and
// an empty pool or an unknown issue are 409 and 404.
func TestCoupon(t *testing.T) {
	hs, c := newShopT(t)
	ctx := context.Background()
	sku := uniq("CPN")
	if _, err := c.PutCouponIssue(ctx, client.CouponIssue{SKU: sku, Store: "WEB", Serials: 1, ChainWide: true}); err != nil {
		t.Fatal(err)
	}
	var cp, again couponJSON
	req := couponRequest{SKU: sku, Store: "WEB", Customer: uniq("M")}
	if st := call(t, hs, "POST", "/coupons", "coupon-1", req, &cp); st != 201 || len(cp.Serial) != engine.CouponSerialDigits ||
		cp.State != "issued" || !cp.ChainWide {
		t.Fatalf("take: %d %+v", st, cp)
	}
	if st := call(t, hs, "POST", "/coupons", "coupon-1", req, &again); st != 201 || again.Serial != cp.Serial {
		t.Fatalf("repeated POST: %d %+v (first %s)", st, again, cp.Serial)
	}
	var e errorBody
	if st := call(t, hs, "POST", "/coupons", "", couponRequest{SKU: sku, Store: "WEB", Customer: uniq("M")}, &e); st != 409 || e.Error != "sold_out" {
		t.Fatalf("an empty pool: %d %+v", st, e)
	}
	if st := call(t, hs, "POST", "/coupons", "", couponRequest{SKU: uniq("none"), Store: "WEB", Customer: "M1"}, &e); st != 404 || e.Error != "unknown_issue" {
		t.Fatalf("no issue: %d %+v", st, e)
	}
	if _, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: cp.Serial, Store: "TPE0427"}); err != nil {
		t.Fatal(err)
	}
	var shown couponJSON
	if st := call(t, hs, "GET", "/coupons/"+cp.Serial, "", nil, &shown); st != 200 || shown.State != "redeemed" || shown.RedeemedBy != "TPE0427" {
		t.Fatalf("after the counter: %d %+v", st, shown)
	}
	if st := call(t, hs, "GET", "/coupons/12345", "", nil, &e); st != 422 {
		t.Fatalf("not a serial: %d %+v", st, e)
	}
}
