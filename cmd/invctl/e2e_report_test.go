// invctl report pickups against a real invd of two shards whose orders
// without a window must be collected within a second (pickup_period): an
// order collected within its pickup window counts picked up and on time
// at its store and SKU; an order without a window left there becomes a no-show when its deadline passes (the
// leader's expiry; the test polls the report with a deadline until it
// shows); the rates are over the orders that came due, and the table
// prints both stores and SKUs.
package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/internal/invdtest"
)

func TestReportPickups(t *testing.T) {
	p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: t.TempDir() + "/data", Shards: 2,
		Config: fastConfig + "pickup_period = 1s\n"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("invd log:\n%s", p.Logs())
		}
	})
	a := p.Addr()
	// CAKE is collected in a window open now (its deadline is the window's
	// end); TEA has no window, so its order is a no-show a second after
	// its confirm.
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	win := start.Format(time.RFC3339) + "," + start.Add(time.Hour).Format(time.RFC3339) + ",5"
	ok(t, a, "item", "put", "--sku", "CAKE", "--store", "TPE0001", "--stock", "5", "--window", win)
	ok(t, a, "item", "put", "--sku", "TEA", "--store", "KHH0002", "--stock", "5")
	id := ok(t, a, "reserve", "--sku", "CAKE", "--store", "TPE0001", "--customer", "amy", "--window", start.Format(time.RFC3339))
	code := ok(t, a, "confirm", id)
	ok(t, a, "pickup", "--store", "TPE0001", "--code", code)
	ok(t, a, "confirm", ok(t, a, "reserve", "--sku", "TEA", "--store", "KHH0002", "--customer", "ben"))

	type tally struct {
		Key        string
		PickedUp   int64   `json:"picked_up"`
		OnTime     int64   `json:"on_time"`
		NoShow     int64   `json:"no_show"`
		OnTimeRate float64 `json:"on_time_rate"`
		NoShowRate float64 `json:"no_show_rate"`
	}
	var rep struct{ Stores, SKUs []tally }
	deadline := time.Now().Add(30 * time.Second)
	for {
		rep.Stores, rep.SKUs = nil, nil
		okJSON(t, a, &rep, "report", "pickups", "--since", "1h")
		if len(rep.Stores) == 2 && rep.Stores[0].NoShow == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no no-show reported: %+v", rep)
		}
		time.Sleep(200 * time.Millisecond) // the no-show comes with the leader's expiry tick
	}
	khh, tpe := rep.Stores[0], rep.Stores[1]
	if khh.Key != "KHH0002" || khh.PickedUp != 0 || khh.NoShowRate != 1 || tpe.Key != "TPE0001" || tpe.PickedUp != 1 ||
		tpe.OnTime != 1 || tpe.OnTimeRate != 1 || tpe.NoShow != 0 {
		t.Fatalf("stores: %+v", rep.Stores)
	}
	if len(rep.SKUs) != 2 || rep.SKUs[0].Key != "CAKE" || rep.SKUs[0].OnTime != 1 || rep.SKUs[1].Key != "TEA" || rep.SKUs[1].NoShow != 1 {
		t.Fatalf("skus: %+v", rep.SKUs)
	}
	out := ok(t, a, "report", "pickups", "--since", "1h")
	mustContain(t, "report table", out, "BY", "ON_TIME_RATE", "store", "TPE0001", "1.000", "sku", "TEA")
	if _, errs, code := invctl(t, a, "report", "pickups", "--since", "-1h"); code != 2 || !strings.Contains(errs, "want a positive duration") {
		t.Fatalf("--since -1h: exit %d, %q", code, errs)
	}
}
