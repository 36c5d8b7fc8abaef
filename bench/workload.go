package bench

import (
	"fmt"
	"math/rand"
	"time"
)

// The three reference workloads of WORKLOAD.md. The order lists are generated
// exactly as the peers' load generator does (same seed, same draws in the
// same order), so that inv and every peer see the same request sequence for a
// given scale and their figures can be compared.

// Workload names, as given to --workload.
const (
	FlashHot     = "flash-hot"
	FlashSpread  = "flash-spread"
	PickupWindow = "pickup-window"
)

// Workloads lists the workload names in the order WORKLOAD.md gives them.
var Workloads = []string{FlashHot, FlashSpread, PickupWindow}

// workloadSeed is the peers' seed: changing it makes figures incomparable.
const workloadSeed = 20261123

// Shape of each workload at scale 1 (WORKLOAD.md).
const (
	flashHotStockUnits   = 100_000
	flashHotCustomers    = 1_000_000
	flashSpreadSKUs      = 1000
	flashSpreadStores    = 500
	flashSpreadStock     = 50
	flashSpreadOrders    = 2_000_000
	flashSpreadZipfS     = 1.1
	flashSpreadCancelOne = 10 // one hold in ten is cancelled instead of confirmed
	pickupSKUs           = 100
	pickupStores         = 200
	pickupStock          = 100
	pickupWindows        = 8
	pickupQuota          = 10
	pickupOrders         = 2_000_000 // 1.25x the total window quota
	customerLimitUnits   = 2         // per customer per SKU, across stores
	holdTTL              = 600 * time.Second
)

// Kind is the kind of one request.
type Kind uint8

const (
	KindReserve Kind = iota
	KindConfirm
	KindCancel
	nKinds
)

var kindNames = [nKinds]string{"reserve", "confirm", "cancel"}

func (k Kind) String() string {
	if k < nKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind_%d", uint8(k))
}

func (k Kind) keySuffix() byte { return "rcx"[k] }

// Order is one customer's reserve and what follows a successful one. Order
// number n is sent by customer n; SKU, Store and Win are numbers that ids.go
// turns into the engine's ids.
type Order struct {
	SKU, Store int32
	Win        int8 // pickup window, -1 for none
	Then       Kind // KindConfirm, KindCancel, or KindReserve meaning "nothing follows"
}

// Workload is one named workload at one scale: the catalog to load and the
// orders to send, in sequence.
type Workload struct {
	Name         string
	Scale        int
	SKUs, Stores int
	StockUnits   int // per item
	Windows      int // per item, 0 = no pickup windows
	QuotaUnits   int // per window
	LimitUnits   int // per customer per SKU, across stores
	HoldTTL      time.Duration
	Orders       []Order
	TotalStock   int  // units over all items
	SellOut      bool // flash-hot: every unit must be sold, successes == TotalStock
}

// NewWorkload builds a workload's order list. It is the peers' NewWorkload,
// draw for draw: scale divides stock (flash-hot), customers and the number of
// stores; per-item stock and window quotas stay as they are, so each item sees
// the same contention at every scale, and flash-spread keeps its 1,000 SKUs so
// the Zipf curve does not change.
func NewWorkload(name string, scale int) (*Workload, error) {
	if scale < 1 {
		return nil, fmt.Errorf("scale must be >= 1")
	}
	w := &Workload{Name: name, Scale: scale, LimitUnits: customerLimitUnits, HoldTTL: holdTTL}
	rng := rand.New(rand.NewSource(workloadSeed))
	switch name {
	case FlashHot:
		w.SKUs, w.Stores, w.StockUnits = 1, 1, max(1, flashHotStockUnits/scale)
		w.Orders = make([]Order, max(1, flashHotCustomers/scale))
		for i := range w.Orders {
			w.Orders[i] = Order{Win: -1, Then: KindReserve}
		}
		w.SellOut = true
	case FlashSpread:
		w.SKUs, w.Stores, w.StockUnits = flashSpreadSKUs, max(1, flashSpreadStores/scale), flashSpreadStock
		w.Orders = make([]Order, max(1, flashSpreadOrders/scale))
		// The draws must stay in this order (SKU, store, cancel) to match the peers.
		zipf := rand.NewZipf(rng, flashSpreadZipfS, 1, uint64(w.SKUs-1))
		for i := range w.Orders {
			o := Order{SKU: int32(zipf.Uint64()), Store: int32(rng.Intn(w.Stores)), Win: -1, Then: KindConfirm}
			if rng.Intn(flashSpreadCancelOne) == 0 {
				o.Then = KindCancel
			}
			w.Orders[i] = o
		}
	case PickupWindow:
		w.SKUs, w.Stores, w.StockUnits = pickupSKUs, max(1, pickupStores/scale), pickupStock
		w.Windows, w.QuotaUnits = pickupWindows, pickupQuota
		w.Orders = make([]Order, max(1, pickupOrders/scale))
		for i := range w.Orders {
			w.Orders[i] = Order{SKU: int32(rng.Intn(w.SKUs)), Store: int32(rng.Intn(w.Stores)),
				Win: int8(rng.Intn(w.Windows)), Then: KindReserve}
		}
	default:
		return nil, fmt.Errorf("unknown workload %q (flash-hot, flash-spread, pickup-window)", name)
	}
	w.TotalStock = w.SKUs * w.Stores * w.StockUnits
	return w, nil
}

// Items returns the number of items (SKU, store pairs).
func (w *Workload) Items() int { return w.SKUs * w.Stores }

// Catalog returns what must be loaded before the run.
func (w *Workload) Catalog() *Catalog { return newCatalog(w) }
