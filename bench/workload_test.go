package bench

// Proves that the workloads send exactly the peers' request sequence: a copy
// of the peers' generator (shared/peers/workload.go, NewWorkload, copied draw
// for draw rather than imported, since peers is its own module) runs beside
// ours for several scales and every order and every catalog figure must
// match. Also pins the id mapping of ids.go and the catalog built from it.

import (
	"math/rand"
	"testing"
	"time"
)

// peerOrder and peerWorkload are the peers' types, trimmed to what the
// comparison needs.
type peerOrder struct {
	SKU, Store int32
	Win        int8
	Then       uint8 // 0 reserve (nothing follows), 1 confirm, 2 cancel
}

type peerWorkload struct {
	SKUs, Stores, Stock, Windows, Quota, Limit, TotalStock int
	Orders                                                 []peerOrder
}

// peerNewWorkload is the peers' NewWorkload, copied.
func peerNewWorkload(name string, scale int) *peerWorkload {
	maxi := func(a, b int) int {
		if a > b {
			return a
		}
		return b
	}
	w := &peerWorkload{Limit: 2}
	rng := rand.New(rand.NewSource(20261123))
	switch name {
	case "flash-hot":
		w.SKUs, w.Stores, w.Stock = 1, 1, maxi(1, 100_000/scale)
		w.Orders = make([]peerOrder, maxi(1, 1_000_000/scale))
		for i := range w.Orders {
			w.Orders[i] = peerOrder{Win: -1, Then: 0}
		}
	case "flash-spread":
		w.SKUs, w.Stores, w.Stock = 1000, maxi(1, 500/scale), 50
		w.Orders = make([]peerOrder, maxi(1, 2_000_000/scale))
		zipf := rand.NewZipf(rng, 1.1, 1, uint64(w.SKUs-1))
		for i := range w.Orders {
			o := peerOrder{SKU: int32(zipf.Uint64()), Store: int32(rng.Intn(w.Stores)), Win: -1, Then: 1}
			if rng.Intn(10) == 0 {
				o.Then = 2
			}
			w.Orders[i] = o
		}
	case "pickup-window":
		w.SKUs, w.Stores, w.Stock, w.Windows, w.Quota = 100, maxi(1, 200/scale), 100, 8, 10
		w.Orders = make([]peerOrder, maxi(1, 2_000_000/scale))
		for i := range w.Orders {
			w.Orders[i] = peerOrder{SKU: int32(rng.Intn(w.SKUs)), Store: int32(rng.Intn(w.Stores)),
				Win: int8(rng.Intn(w.Windows)), Then: 0}
		}
	}
	w.TotalStock = w.SKUs * w.Stores * w.Stock
	return w
}

func TestWorkloadsMatchPeers(t *testing.T) {
	// Scale 10 is the peers' default run; 1000 and 50,000 hit the max(1, ...)
	// floors; 3 and 7 do not divide the counts evenly.
	for _, scale := range []int{3, 7, 10, 1000, 50_000} {
		for _, name := range Workloads {
			w, err := NewWorkload(name, scale)
			if err != nil {
				t.Fatal(err)
			}
			p := peerNewWorkload(name, scale)
			if w.SKUs != p.SKUs || w.Stores != p.Stores || w.StockUnits != p.Stock || w.Windows != p.Windows ||
				w.QuotaUnits != p.Quota || w.LimitUnits != p.Limit || w.TotalStock != p.TotalStock {
				t.Fatalf("%s scale %d: shape %+v, peers %+v", name, scale, w, p)
			}
			if len(w.Orders) != len(p.Orders) {
				t.Fatalf("%s scale %d: %d orders, peers %d", name, scale, len(w.Orders), len(p.Orders))
			}
			for i, o := range w.Orders {
				po := p.Orders[i]
				if o.SKU != po.SKU || o.Store != po.Store || o.Win != po.Win || uint8(o.Then) != po.Then {
					t.Fatalf("%s scale %d order %d: %+v, peers %+v", name, scale, i, o, po)
				}
			}
			if w.SellOut != (name == FlashHot) {
				t.Fatalf("%s: SellOut %v", name, w.SellOut)
			}
		}
	}
}

// At scale 10 the figures are those the peers' README states.
func TestWorkloadShapeAtScale10(t *testing.T) {
	for _, c := range []struct {
		name                        string
		skus, stores, stock, orders int
		windows, quota              int
	}{
		{FlashHot, 1, 1, 10_000, 100_000, 0, 0},
		{FlashSpread, 1000, 50, 50, 200_000, 0, 0},
		{PickupWindow, 100, 20, 100, 200_000, 8, 10},
	} {
		w, err := NewWorkload(c.name, 10)
		if err != nil {
			t.Fatal(err)
		}
		if w.SKUs != c.skus || w.Stores != c.stores || w.StockUnits != c.stock || len(w.Orders) != c.orders ||
			w.Windows != c.windows || w.QuotaUnits != c.quota {
			t.Errorf("%s: %d x %d items, stock %d, %d orders, %d windows of %d", c.name,
				w.SKUs, w.Stores, w.StockUnits, len(w.Orders), w.Windows, w.QuotaUnits)
		}
	}
	if _, err := NewWorkload("flash-cold", 1); err == nil {
		t.Error("unknown workload accepted")
	}
	if _, err := NewWorkload(FlashHot, 0); err == nil {
		t.Error("scale 0 accepted")
	}
}

func TestIDs(t *testing.T) {
	for got, want := range map[string]string{
		SKUID(123): "sku-000123", SKUID(0): "sku-000000", StoreID(42): "st-0042",
		CustomerID(1234): "c-000001234", CustomerID(1_999_999): "c-001999999",
		string(AppendKey(nil, 1234, KindReserve)): "o-000001234-r",
		string(AppendKey(nil, 7, KindConfirm)):    "o-000000007-c",
		string(AppendKey(nil, 7, KindCancel)):     "o-000000007-x",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if WindowStart(-1) != 0 {
		t.Error("no window must be start 0, the engine's none")
	}
	if got := time.Unix(0, WindowStart(0)).UTC(); !got.Equal(WindowBase) || got.Hour() != 8 {
		t.Errorf("window 0 starts %v", got)
	}
	// Eight windows of two hours back to back, within one day.
	for w := range pickupWindows {
		if WindowEnd(w)-WindowStart(w) != int64(2*time.Hour) || (w > 0 && WindowStart(w) != WindowEnd(w-1)) {
			t.Errorf("window %d: %d..%d", w, WindowStart(w), WindowEnd(w))
		}
	}
	if time.Unix(0, WindowEnd(pickupWindows-1)).UTC().Sub(WindowBase) != 16*time.Hour {
		t.Error("windows do not end at midnight")
	}
}

func TestCatalog(t *testing.T) {
	w, _ := NewWorkload(PickupWindow, 20) // 100 SKUs x 10 stores
	cat := w.Catalog()
	n := 0
	for it := range cat.Items() {
		if n == 0 && (string(it.SKU) != "sku-000000" || string(it.Store) != "st-0000") {
			t.Errorf("first item %s/%s", it.SKU, it.Store)
		}
		if it.StockUnits != 100 || it.LimitUnits != 2 || len(it.Windows) != 8 || it.Windows[3].QuotaUnits != 10 ||
			it.Windows[3].Start != WindowStart(3) {
			t.Fatalf("item %+v", it)
		}
		n++
	}
	if n != 1000 || cat.ItemCount() != 1000 || cat.WindowCount() != 8000 {
		t.Errorf("%d items, ItemCount %d, WindowCount %d", n, cat.ItemCount(), cat.WindowCount())
	}
	if cat.HoldTTL != 600*time.Second {
		t.Errorf("hold TTL %v", cat.HoldTTL)
	}
	hot, _ := NewWorkload(FlashHot, 10)
	for it := range hot.Catalog().Items() {
		if it.StockUnits != 10_000 || it.Windows != nil {
			t.Errorf("flash-hot item %+v", it)
		}
	}
}
