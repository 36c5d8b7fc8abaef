// The shop's screening and waitlist lines against a real invd (its own):
// under a hold-back rule, the third account on one device gets its order
// under review (the reserve's answer and the order's page say so, with the
// marks); its confirm is 409 under_review until staff release it, then it
// confirms. A sold-out item's line: a shopper refused sold_out joins it,
// the first shopper cancels, inv makes the waiting shopper's hold, and the
// shop, which learns of it from the change feed, hands the order out on
// the line's page (polled with a deadline).
package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

func TestHeldBackOrder(t *testing.T) {
	hs, c := newShopT(t)
	ctx := context.Background()
	sku, store := uniq("sku"), "TPE0427"
	if err := c.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: 10}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetMarkRule(ctx, client.MarkRule{SKU: sku, Store: store, Refuse: engine.MarkSharedDevice, Action: client.MarkHoldBack}); err != nil {
		t.Fatal(err)
	}
	var o orderJSON
	for i := 1; i <= 3; i++ {
		body := map[string]any{"sku": sku, "store": store, "customer": uniq("acct"), "qty": 1, "device": "browser-42"}
		if st := call(t, hs, "POST", "/orders", "", body, &o); st != http.StatusCreated {
			t.Fatalf("order %d: %d", i, st)
		}
		if o.UnderReview != (i == 3) {
			t.Fatalf("order %d: under review %v", i, o.UnderReview)
		}
	}
	if !strings.Contains(o.Marks, "shared_device") {
		t.Fatalf("the held-back order's marks: %q", o.Marks)
	}
	var eb errorBody
	if st := call(t, hs, "POST", "/orders/"+o.ID+"/confirm", "", nil, &eb); st != http.StatusConflict || eb.Error != "under_review" {
		t.Fatalf("confirm under review: %d %+v", st, eb)
	}
	var page orderJSON
	if call(t, hs, "GET", "/orders/"+o.ID, "", nil, &page); !page.UnderReview || page.Marks != o.Marks {
		t.Fatalf("the order's page: %+v", page)
	}
	id, _ := strconv.ParseUint(o.ID, 10, 64)
	if _, err := c.ReleaseReview(ctx, client.ReleaseReviewRequest{ID: id}); err != nil {
		t.Fatal(err)
	}
	if st := call(t, hs, "POST", "/orders/"+o.ID+"/confirm", "", nil, &page); st != http.StatusOK || page.State != "confirmed" {
		t.Fatalf("confirm after release: %d %+v", st, page)
	}
}

func TestWaitlistPromotion(t *testing.T) {
	hs, c := newShopT(t)
	ctx := context.Background()
	sku, store := uniq("sku"), "KHH0113"
	if err := c.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: 1}); err != nil {
		t.Fatal(err)
	}
	first, second := uniq("amy"), uniq("ben")
	var held orderJSON
	if st := call(t, hs, "POST", "/orders", "", map[string]any{"sku": sku, "store": store, "customer": first, "qty": 1}, &held); st != http.StatusCreated {
		t.Fatalf("first order: %d", st)
	}
	var eb errorBody
	if st := call(t, hs, "POST", "/orders", "", map[string]any{"sku": sku, "store": store, "customer": second, "qty": 1}, &eb); st != http.StatusConflict || eb.Error != "sold_out" {
		t.Fatalf("second order: %d %+v", st, eb)
	}
	var wl waitlistJSON
	if st := call(t, hs, "POST", "/waitlist", "", map[string]any{"sku": sku, "store": store, "customer": second, "qty": 1}, &wl); st != http.StatusCreated || wl.Position != 1 {
		t.Fatalf("join: %d %+v", st, wl)
	}
	if st := call(t, hs, "DELETE", "/orders/"+held.ID, "", nil, nil); st != http.StatusOK {
		t.Fatalf("cancel: %d", st)
	}
	path := "/waitlist/" + sku + "/" + store + "/" + second
	for deadline := time.Now().Add(15 * time.Second); wl.Order == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("no promoted order on the line's page: %+v", wl)
		}
		call(t, hs, "GET", path, "", nil, &wl)
		time.Sleep(20 * time.Millisecond) // polling the shop's page with a deadline
	}
	var o orderJSON
	if call(t, hs, "GET", "/orders/"+wl.Order, "", nil, &o); o.Customer != second || o.State != "held" {
		t.Fatalf("the promoted order: %+v", o)
	}
}
