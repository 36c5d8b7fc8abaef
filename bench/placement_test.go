// What this file measures and proves: how the requests of each reference
// workload (WORKLOAD.md), of a national flash sale (one SKU at every store
// of a 6,000-store chain) and of a flagship store's launch (40 SKUs at one
// store), spread over 16 shards when items are
// placed by SKU and store (the placement before docs/adr/0071) and by
// store (protocol.ShardOf now). It counts every reserve of the workloads'
// own order lists, with the bench's own ids (a confirm or cancel goes to
// the reserve's shard: the reservation id names it), and fails if placing
// by store loads a shard more than the bounds of the ADR say.
//
//	go test ./bench -run TestPlacementSpread -v
//
// prints the table the ADR quotes.
package bench

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/invsys/inv/protocol"
)

// oldShardOf is the placement by SKU and store: FNV-1a 64 over
// len(sku) ‖ sku ‖ len(store) ‖ store, mod shards.
func oldShardOf(sku, store string, shards int) int {
	h := uint64(14695981039346656037)
	for _, s := range []string{sku, store} {
		h = (h ^ uint64(len(s))) * 1099511628211
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * 1099511628211
		}
	}
	return int(h % uint64(shards))
}

// spread is the requests per shard under one placement.
type spread [placementShards]int

const placementShards = 16

func (s *spread) stats() (maxShare, maxMean, minMean float64, idle int) {
	total, most, least := 0, 0, int(^uint(0)>>1)
	for _, n := range s {
		total += n
		most, least = max(most, n), min(least, n)
		if n == 0 {
			idle++
		}
	}
	mean := float64(total) / placementShards
	return float64(most) / float64(total), float64(most) / mean, float64(least) / mean, idle
}

func (s *spread) String() string {
	share, hi, lo, idle := s.stats()
	return fmt.Sprintf("busiest %5.1f%%  max/mean %5.2f  min/mean %4.2f  idle shards %2d", 100*share, hi, lo, idle)
}

// placementOf counts a workload's reserves per shard, both ways.
func placementOf(w *Workload) (before, after spread) {
	skus, stores := make([]string, w.SKUs), make([]string, w.Stores)
	for i := range skus {
		skus[i] = SKUID(i)
	}
	for i := range stores {
		stores[i] = StoreID(i)
	}
	for _, o := range w.Orders {
		sku, store := skus[o.SKU], stores[o.Store]
		before[oldShardOf(sku, store, placementShards)]++
		after[protocol.ShardOf([]byte(sku), []byte(store), placementShards)]++
	}
	return before, after
}

// storeShards is the mean number of shards one store's items lie in
// under the placement by SKU and store: the shards a rule of the store
// (its windows' capacity across SKUs) would have to span.
func storeShards(w *Workload) float64 {
	total := 0
	for t := range w.Stores {
		var in [placementShards]bool
		n := 0
		for s := range w.SKUs {
			if sh := oldShardOf(SKUID(s), StoreID(t), placementShards); !in[sh] {
				in[sh], n = true, n+1
			}
		}
		total += n
	}
	return float64(total) / float64(w.Stores)
}

// nationalSale is one SKU at every store of a 6,000-store chain, a million
// reserves spread over the stores as the shoppers are: uniformly.
func nationalSale() *Workload {
	const stores, orders = 6000, 1_000_000
	w := &Workload{Name: "national-sale", SKUs: 1, Stores: stores, Orders: make([]Order, orders)}
	rng := rand.New(rand.NewSource(workloadSeed))
	for i := range w.Orders {
		w.Orders[i] = Order{Store: int32(rng.Intn(stores)), Win: -1}
	}
	return w
}

// flagshipLaunch is the case placing by store does worst: one store (a
// flagship) opening sales of 40 SKUs at once, every request at that store.
func flagshipLaunch() *Workload {
	const skus, orders = 40, 400_000
	w := &Workload{Name: "flagship", SKUs: skus, Stores: 1, Orders: make([]Order, orders)}
	rng := rand.New(rand.NewSource(workloadSeed))
	for i := range w.Orders {
		w.Orders[i] = Order{SKU: int32(rng.Intn(skus)), Win: -1}
	}
	return w
}

func TestPlacementSpread(t *testing.T) {
	type bound struct{ maxMean float64 } // placing by store may not load a shard more than this
	cases := []struct {
		w     func() *Workload
		bound bound
	}{
		{func() *Workload { w, _ := NewWorkload(FlashHot, 1); return w }, bound{16}}, // one item: one shard, both ways
		{func() *Workload { w, _ := NewWorkload(FlashSpread, 1); return w }, bound{1.15}},
		{func() *Workload { w, _ := NewWorkload(PickupWindow, 1); return w }, bound{1.3}},
		{nationalSale, bound{1.1}},
		{flagshipLaunch, bound{16}}, // one store: one shard, where by SKU and store it spread
	}
	if testing.Short() {
		cases = cases[3:]
	}
	for _, c := range cases {
		w := c.w()
		before, after := placementOf(w)
		t.Logf("%-14s %7d reserves, %4d SKUs x %4d stores", w.Name, len(w.Orders), w.SKUs, w.Stores)
		t.Logf("  by SKU and store: %s", &before)
		t.Logf("  by store:         %s", &after)
		t.Logf("  shards a store's items lie in: by SKU and store %.1f on average, by store 1", storeShards(w))
		if _, hi, _, _ := after.stats(); hi > c.bound.maxMean {
			t.Errorf("%s: placed by store, the busiest shard takes %.2f times the mean, over the bound %.2f", w.Name, hi, c.bound.maxMean)
		}
	}
}
