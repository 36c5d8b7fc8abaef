// Answers a storefront needs in one call, end to end (docs/adr/0102): a
// real invd and the invctl binary. store stock prints the availability of
// every SKU of a store from one store_items read, or of the SKUs asked for
// in their order, a SKU the store lacks marked "no item"; store day prints
// the windows of one day of the store's own calendar (Taipei, UTC+8: a
// window at 02:00 local is the previous UTC day, one at 23:30 local the
// same UTC day as the 24th's morning), in local time, with the capacity
// left after a reserve; export --times store writes the store's windows in
// its own zone.
package main_test

import (
	"strings"
	"testing"
	"time"
)

func TestStoreStockAndDay(t *testing.T) {
	a := startServer(t, 2).Addr()
	const store = "TPE0427"
	ok(t, a, "store", "put", "--store", store, "--zone", "Asia/Taipei",
		"--window", "2039-12-24T02:00,2039-12-24T04:00,3", "--window", "2039-12-24T10:00,2039-12-24T12:00,5",
		"--window", "2039-12-24T23:00,2039-12-25T00:30,2", "--window", "2039-12-25T10:00,2039-12-25T12:00,4")
	ok(t, a, "item", "put", "--sku", "CAKE", "--store", store, "--stock", "10", "--window", "2039-12-24T10:00:00+08:00,2039-12-24T12:00:00+08:00,5")
	ok(t, a, "item", "put", "--sku", "ANPAN", "--store", store, "--stock", "4")
	ok(t, a, "reserve", "--sku", "CAKE", "--store", store, "--customer", "amy", "--qty", "2", "--window", "2039-12-24T10:00:00+08:00")

	var stock []struct {
		SKU                    string
		Available, Stock, Held int64
		NoItem                 bool `json:"no_item"`
	}
	okJSON(t, a, &stock, "store", "stock", "--store", store)
	if len(stock) != 2 || stock[0].SKU != "ANPAN" || stock[0].Available != 4 || stock[1].SKU != "CAKE" ||
		stock[1].Available != 8 || stock[1].Held != 2 {
		t.Fatalf("store stock: %+v", stock)
	}
	stock = nil
	okJSON(t, a, &stock, "store", "stock", "--store", store, "--sku", "CAKE,MOCHI")
	if len(stock) != 2 || stock[0].SKU != "CAKE" || stock[0].Available != 8 || stock[1].SKU != "MOCHI" || !stock[1].NoItem {
		t.Fatalf("store stock --sku CAKE,MOCHI: %+v", stock)
	}
	mustContain(t, "store stock table", ok(t, a, "store", "stock", "--store", store, "--sku", "MOCHI"), "MOCHI", "no item")
	stock = nil
	okJSON(t, a, &stock, "store", "stock", "--store", "NOWHERE")
	if len(stock) != 0 {
		t.Fatalf("a store with no items: %+v", stock)
	}

	var day struct {
		Store, Zone, Day string
		Windows          []struct {
			Start, End     time.Time
			Capacity, Used int64
			Left           int64
		}
	}
	okJSON(t, a, &day, "store", "day", "--store", store, "--day", "2039-12-24")
	if day.Zone != "Asia/Taipei" || day.Day != "2039-12-24" || len(day.Windows) != 3 {
		t.Fatalf("store day: %+v", day)
	}
	if w := day.Windows[1]; w.Capacity != 5 || w.Used != 2 || w.Left != 3 || w.Start.Hour() != 10 || !strings.HasSuffix(w.Start.Format(time.RFC3339), "+08:00") {
		t.Fatalf("the 10:00 window: %+v", w)
	}
	out := ok(t, a, "store", "day", "--store", store, "--day", "2039-12-24")
	mustContain(t, "store day table", out, "TPE0427 2039-12-24 (Asia/Taipei)", "02:00", "23:00", "00:30")
	if strings.Contains(out, "12:00  4") || strings.Count(out, "\n") != 4 {
		t.Fatalf("store day holds another day's window:\n%s", out)
	}
	if _, errs, code := invctl(t, a, "store", "day", "--store", store, "--day", "24/12/2039"); code != 2 || !strings.Contains(errs, "want YYYY-MM-DD") {
		t.Fatalf("a bad --day: exit %d, %q", code, errs)
	}
	refused(t, a, "not_found", "store", "day", "--store", "NOWHERE", "--day", "2039-12-24")

	// The catalog in the store's own clock, and in UTC by default.
	mustContain(t, "export --times store", ok(t, a, "export", "--times", "store", "--sku", "CAKE"),
		"CAKE,TPE0427,10,,,,,,,2039-12-24T10:00:00+08:00/2039-12-24T12:00:00+08:00/5")
	mustContain(t, "export", ok(t, a, "export", "--sku", "CAKE"), "2039-12-24T02:00:00Z/2039-12-24T04:00:00Z/5")
	if _, errs, code := invctl(t, a, "export", "--times", "mars"); code != 2 || !strings.Contains(errs, `--times "mars": want utc or store`) {
		t.Fatalf("export --times mars: exit %d, %q", code, errs)
	}
}
