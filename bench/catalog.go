package bench

import (
	"iter"
	"time"
)

// Catalog describes what a target must hold before a run: every item with its
// stock and per-customer limit, and every item's pickup windows with their
// quota. It is a description, not a list: flash-spread at scale 1 has 500,000
// items, so Items yields them one at a time and an adapter can send them in
// batches of whatever size its bulk load takes.
type Catalog struct {
	SKUs, Stores int
	StockUnits   int64         // per item
	LimitUnits   int64         // per customer per SKU, across stores
	Windows      int           // per item, 0 = none
	QuotaUnits   int64         // per window
	HoldTTL      time.Duration // TTL of every hold (the engine's default, 600 s)

	skuIDs, storeIDs [][]byte
	windows          []CatalogWindow
}

// CatalogItem is one item to load. Its byte slices and Windows are shared by
// every request of the run: read them, never write to them.
type CatalogItem struct {
	SKU, Store []byte
	StockUnits int64
	LimitUnits int64
	Windows    []CatalogWindow
}

// CatalogWindow is one pickup window of an item, times in Unix nanoseconds.
type CatalogWindow struct {
	Start, End int64
	QuotaUnits int64
}

func newCatalog(w *Workload) *Catalog {
	c := &Catalog{
		SKUs: w.SKUs, Stores: w.Stores,
		StockUnits: int64(w.StockUnits), LimitUnits: int64(w.LimitUnits),
		Windows: w.Windows, QuotaUnits: int64(w.QuotaUnits), HoldTTL: w.HoldTTL,
	}
	c.skuIDs = make([][]byte, w.SKUs)
	for s := range c.skuIDs {
		c.skuIDs[s] = []byte(SKUID(s))
	}
	c.storeIDs = make([][]byte, w.Stores)
	for t := range c.storeIDs {
		c.storeIDs[t] = []byte(StoreID(t))
	}
	for win := 0; win < w.Windows; win++ {
		c.windows = append(c.windows, CatalogWindow{Start: WindowStart(win), End: WindowEnd(win), QuotaUnits: c.QuotaUnits})
	}
	return c
}

// ItemCount returns the number of items Items yields.
func (c *Catalog) ItemCount() int { return c.SKUs * c.Stores }

// WindowCount returns the number of pickup windows over all items.
func (c *Catalog) WindowCount() int { return c.ItemCount() * c.Windows }

// Items yields every item, SKU by SKU and within a SKU store by store.
func (c *Catalog) Items() iter.Seq[CatalogItem] {
	return func(yield func(CatalogItem) bool) {
		for s := range c.skuIDs {
			for t := range c.storeIDs {
				it := CatalogItem{SKU: c.skuIDs[s], Store: c.storeIDs[t],
					StockUnits: c.StockUnits, LimitUnits: c.LimitUnits, Windows: c.windows}
				if !yield(it) {
					return
				}
			}
		}
	}
}

// SKU returns the id of SKU number s (shared, read only).
func (c *Catalog) SKU(s int32) []byte { return c.skuIDs[s] }

// Store returns the id of store number t (shared, read only).
func (c *Catalog) Store(t int32) []byte { return c.storeIDs[t] }

// itemKey names an item the way State does, for lookups in the check.
type itemKey struct{ sku, store string }

// windowKey names one window of one item.
type windowKey struct {
	item  itemKey
	start int64
}

func (c *Catalog) itemKey(o Order) itemKey {
	return itemKey{string(c.skuIDs[o.SKU]), string(c.storeIDs[o.Store])}
}
