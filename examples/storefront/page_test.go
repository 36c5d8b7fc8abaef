// This test drives the shop's page in a headless Chromium
// (internal/browsertest; skipped with a message where none is installed)
// against the storefront on the real invd of TestMain, as a shopper does:
// a store and a pickup time chosen from live availability (a full time
// shown full and not offered), reserve, pay, and the pickup code with a
// barcode that a scanner reads back (decoded from the page's own pixels)
// as the order's; a second order past the per-member limit refused in a
// shop's words; and a store, then the product, shown sold out while the
// page is open, as other shoppers take the last units.
package main

import (
	"bytes"
	"context"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/browsertest"
	"github.com/invsys/inv/invtest"
)

func drive(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// The page redraws its lists of stores and windows every two seconds, so a
// node one DevTools call finds may be gone by the next: reads and clicks of
// them are one step of the page's own script.

// textOf returns the element's text, "" when there is none.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	drive(t, ctx, "read "+sel, chromedp.Evaluate(`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`);
		return e ? e.textContent : "" })()`, &s))
	return s
}

// is evaluates a JavaScript condition on the element e that sel finds.
func is(t *testing.T, ctx context.Context, sel, cond string) bool {
	t.Helper()
	var ok bool
	drive(t, ctx, "check "+sel, chromedp.Evaluate(`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`);
		return !!e && !!(`+cond+`) })()`, &ok))
	return ok
}

// click clicks the element, or fails.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if !is(t, ctx, sel, "(e.click(), true)") {
		t.Fatalf("nothing to click at %s", sel)
	}
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if got = textOf(t, ctx, sel); strings.Contains(got, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %q, want %q", sel, got, want)
}

func TestBrowserShop(t *testing.T) {
	ctx := browsertest.Start(t) // skips without chromium, before an invd is started
	srv := startInv(t, invtest.WithShards(4), invtest.WithConfig(shopConfig))
	_, op := shopOn(t, srv.Addr)
	bg := context.Background()
	sku, storeA, storeB := uniq("TUMBLER"), uniq("TPE"), uniq("KHH")
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(48 * time.Hour) // two days ahead: 08:00 in Taipei
	full, open := day.Add(2*time.Hour), day.Add(4*time.Hour)
	for store, stock := range map[string]int64{storeA: 4, storeB: 2} {
		steps := []error{
			op.PutStore(bg, client.StoreSpec{Store: store, Zone: "Asia/Taipei"}),
			op.PutItem(bg, client.ItemSpec{SKU: sku, Store: store, Stock: stock}),
			op.PutStoreWindow(bg, client.StoreWindowSpec{Store: store, Start: full, End: full.Add(2 * time.Hour), Capacity: 20}),
			op.PutStoreWindow(bg, client.StoreWindowSpec{Store: store, Start: open, End: open.Add(2 * time.Hour), Capacity: 20}),
			op.PutWindow(bg, client.WindowSpec{SKU: sku, Store: store, Start: full, End: full.Add(2 * time.Hour), Quota: 1}),
			op.PutWindow(bg, client.WindowSpec{SKU: sku, Store: store, Start: open, End: open.Add(2 * time.Hour), Quota: 5}),
		}
		for _, err := range steps {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := op.SetLimit(bg, client.LimitSpec{SKU: sku, Limit: 2}); err != nil {
		t.Fatal(err)
	}
	reserve := func(store, customer string, window time.Time) {
		t.Helper()
		if _, err := op.Reserve(bg, client.ReserveRequest{SKU: sku, Store: store, Customer: customer, Qty: 1, Window: window}); err != nil {
			t.Fatal(err)
		}
	}
	reserve(storeA, uniq("other"), full) // the first window of store A is now full

	hs := httptest.NewServer(newShop(op, slog.New(slog.DiscardHandler), product{SKU: sku, Name: "Limited tumbler 限量隨行杯"}))
	t.Cleanup(hs.Close)
	member := uniq("M")
	choiceA := `label.choice[data-value="` + storeA + `"]`
	drive(t, ctx, "open the shop",
		chromedp.Navigate(hs.URL+"/?sku="+sku),
		chromedp.WaitVisible(choiceA, chromedp.ByQuery))
	click(t, ctx, choiceA+" input")
	drive(t, ctx, "windows", chromedp.WaitVisible("#window-list label.choice", chromedp.ByQuery))
	fullChoice := `label.choice[data-value="` + full.In(mustZone(t)).Format(time.RFC3339) + `"]`
	openChoice := `label.choice[data-value="` + open.In(mustZone(t)).Format(time.RFC3339) + `"]`
	if text := textOf(t, ctx, fullChoice); !strings.Contains(text, "Full") || !is(t, ctx, fullChoice+" input", "e.disabled") {
		t.Fatalf("a full window: %q, or it can be chosen", text)
	}
	click(t, ctx, openChoice+" input")
	drive(t, ctx, "reserve and pay",
		chromedp.SendKeys("#customer", member, chromedp.ByQuery),
		chromedp.Click("#reserve", chromedp.ByQuery),
		chromedp.WaitVisible("#hold", chromedp.ByQuery),
		chromedp.Click("#pay", chromedp.ByQuery),
		chromedp.WaitVisible("#barcode svg", chromedp.ByQuery),
	)
	var code, barcode string
	var ok bool
	drive(t, ctx, "the ticket",
		chromedp.AttributeValue("#pickup-code", "data-code", &code, &ok, chromedp.ByQuery),
		chromedp.AttributeValue("#barcode svg", "data-barcode", &barcode, &ok, chromedp.ByQuery))
	id, bcode, err := engine.ParseBarcode(barcode)
	if err != nil || engine.FormatPickupCode(bcode) != code {
		t.Fatalf("code %q, barcode %q: %v", code, barcode, err)
	}
	res, err := op.GetReservation(bg, id)
	if err != nil || res.State != engine.StateConfirmed || res.PickupCode != bcode || res.Customer != member || !res.Window.Equal(open) {
		t.Fatalf("the order behind the ticket: %+v %v", res, err)
	}
	// What a scanner reads from the page's pixels is the order's barcode.
	var shot []byte
	drive(t, ctx, "barcode pixels", chromedp.Screenshot("#barcode svg", &shot, chromedp.ByQuery))
	if got := decode(t, shot); got != barcode {
		t.Fatalf("the barcode scans as %q, want %q", got, barcode)
	}
	browsertest.Screenshot(t, ctx, "storefront-ticket")

	// A second order past the limit of 2 per member is refused as a shop says it.
	drive(t, ctx, "another order",
		chromedp.Click("#again", chromedp.ByQuery),
		chromedp.WaitVisible(openChoice, chromedp.ByQuery))
	click(t, ctx, openChoice+" input")
	drive(t, ctx, "reserve past the limit",
		chromedp.SetValue("#qty", "2", chromedp.ByQuery),
		chromedp.Click("#reserve", chromedp.ByQuery),
		chromedp.WaitVisible("#notice", chromedp.ByQuery))
	waitText(t, ctx, "#notice", "Limit 2 per member")
	browsertest.Screenshot(t, ctx, "storefront-limit")

	// Other shoppers take store A's last units, then store B's: the open
	// page shows store A, then the product, sold out.
	reserve(storeA, uniq("other"), open)
	reserve(storeA, uniq("other"), open)
	waitText(t, ctx, choiceA, "Sold out")
	if !is(t, ctx, choiceA+" input", "e.disabled") {
		t.Fatal("a sold-out store can still be chosen")
	}
	reserve(storeB, uniq("other"), open)
	reserve(storeB, uniq("other"), open)
	waitText(t, ctx, `label.choice[data-value="`+storeB+`"]`, "Sold out")
	if !is(t, ctx, "#product-soldout", "!e.hidden") {
		t.Fatal("the product is sold out everywhere, and the page does not say so")
	}
	browsertest.Screenshot(t, ctx, "storefront-sold-out")
}

func mustZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// decode reads a Code 128 barcode from a PNG.
func decode(t *testing.T, shot []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := oned.NewCode128Reader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("no barcode in %d×%d pixels: %v", img.Bounds().Dx(), img.Bounds().Dy(), err)
	}
	return res.GetText()
}
