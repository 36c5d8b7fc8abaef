package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/client"
)

// The load: a catalog of items (every SKU at every store), holds on a share
// of them by distinct customers, and a steady stream of reserves while the
// snapshots are taken.

// failShareMax is the share of refused or failed requests past which a
// phase is reported as failed: a few refusals (an item sold out by the
// snapshot-time load) are expected, a tenth means the figures measure
// errors, not work.
const failShareMax = 0.01

// catalog names its items: item i is SKU i/stores at store i%stores. The
// names are made once (a catalog import has its names at hand), so that
// the loaders' CPU, on the machine invd runs on, goes to the load itself.
type catalog struct {
	items        int
	skus, stores []string
}

func newCatalog(items, stores int) catalog {
	c := catalog{items: items, skus: make([]string, (items+stores-1)/stores), stores: make([]string, stores)}
	for i := range c.skus {
		c.skus[i] = fmt.Sprintf("sku-%07d", i)
	}
	for i := range c.stores {
		c.stores[i] = fmt.Sprintf("st-%05d", i)
	}
	return c
}

func (c catalog) sku(i int) string   { return c.skus[i/len(c.stores)] }
func (c catalog) store(i int) string { return c.stores[i%len(c.stores)] }

// parallel runs f(i) for every i < n on workers goroutines and returns the
// number of calls that failed.
func parallel(ctx context.Context, n, workers int, f func(context.Context, int) error) int64 {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if f(ctx, i) != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}

func checkFailures(what string, failed int64, n int) error {
	if n > 0 && float64(failed)/float64(n) > failShareMax {
		return fmt.Errorf("%s: %d of %d requests failed", what, failed, n)
	}
	return nil
}

// loadSlice is the items one loader hands PutItems at a time: many bulk
// puts of every shard, so that a call keeps its bulk puts in flight, while
// the loaders' lists stay a few MB.
const loadSlice = 64 * 1024

// loadItems puts every item, stock units each, through bulk puts
// (client.PutItems, docs/adr/0121) from workers loaders; it returns items
// per second.
func loadItems(ctx context.Context, c *client.Client, cat catalog, stock int64, workers int) (float64, error) {
	var firstErr atomic.Pointer[error]
	start := time.Now()
	parts := (cat.items + loadSlice - 1) / loadSlice
	failed := parallel(ctx, parts, max(1, min(workers, 4)), func(ctx context.Context, k int) error {
		from, to := k*loadSlice, min(cat.items, (k+1)*loadSlice)
		items := make([]client.ItemUpdate, 0, to-from)
		for i := from; i < to; i++ {
			items = append(items, client.ItemSpec{SKU: cat.sku(i), Store: cat.store(i), Stock: stock}.AsUpdate())
		}
		_, err := c.PutItems(ctx, items, "")
		if err != nil {
			firstErr.CompareAndSwap(nil, &err)
		}
		return err
	})
	rate := float64(cat.items) / time.Since(start).Seconds()
	if err := checkFailures("load", failed, parts); err != nil {
		return rate, fmt.Errorf("%w (the first: %v)", err, *firstErr.Load())
	}
	return rate, nil
}

// hold reserves one unit of each of n items spread over the catalog, one
// distinct customer each; it returns holds per second.
func hold(ctx context.Context, c *client.Client, cat catalog, n, workers int) (float64, error) {
	stride := max(1, cat.items/max(n, 1))
	start := time.Now()
	failed := parallel(ctx, n, workers, func(ctx context.Context, i int) error {
		it := (i * stride) % cat.items
		r, err := c.Reserve(ctx, client.ReserveRequest{SKU: cat.sku(it), Store: cat.store(it), Customer: fmt.Sprintf("h-%d", i)})
		if err == nil && r.ID == 0 {
			err = fmt.Errorf("refused")
		}
		return err
	})
	rate := float64(n) / time.Since(start).Seconds()
	return rate, checkFailures("holds", failed, n)
}

// sample is one reserve: when it began and how long it took.
type sample struct {
	at   time.Time
	took time.Duration
}

// background reserves on random items from workers goroutines until stop
// is closed, and returns every reserve's sample.
func background(c *client.Client, cat catalog, workers int, stop <-chan struct{}) func() []sample {
	var mu sync.Mutex
	var all []sample
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []sample
			for n := 0; ; n++ {
				select {
				case <-stop:
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
					return
				default:
				}
				it := rng.IntN(cat.items)
				begin := time.Now()
				_, _ = c.Reserve(context.Background(), client.ReserveRequest{SKU: cat.sku(it), Store: cat.store(it),
					Customer: fmt.Sprintf("b-%d-%d", w, n)})
				mine = append(mine, sample{begin, time.Since(begin)})
			}
		}()
	}
	return func() []sample { wg.Wait(); return all }
}

// latency returns the p99 and the longest of the samples that overlapped
// [from, to], in milliseconds, and how many there were.
func latency(all []sample, from, to time.Time) (p99, longest float64, n int) {
	var d []time.Duration
	for _, s := range all {
		if s.at.Before(to) && s.at.Add(s.took).After(from) {
			d = append(d, s.took)
		}
	}
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return ms(d[len(d)*99/100]), ms(d[len(d)-1]), len(d)
}
