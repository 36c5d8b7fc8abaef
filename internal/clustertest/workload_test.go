// The workload the fault tests run and the checks they make after each
// fault. Several client.Client instances, each with a few goroutines,
// reserve units of a hot item and of spread items, then confirm, cancel or
// leave their holds; now and then they resend a reserve with the key it
// succeeded with. Two of the spread items carry rules: one has two pickup
// windows with small quotas (every reserve of it names one), one a
// per-customer limit that a handful of customers run into. Every answer is recorded. A call that fails after all
// its retries (which must not happen: the client rides out a failover)
// leaves its operation unknown, and the checks then allow for it either
// way. The checks, with the load stopped:
//
//   - every replica of every shard has applied the same index and holds a
//     byte-identical engine state (sha256 from /debug/shardhash);
//   - no item is oversold: held + confirmed + picked up <= stock;
//   - no window is over its quota, and each window's used units equal the
//     acknowledged reservations' in it (exactly, when no outcome is
//     unknown);
//   - no customer holds more of the limited item than its limit (the
//     engine enforces limits per item shard; the limited item is one item
//     on one shard), counting every acknowledged reservation in its last
//     state, plus the units of the ones with an unknown outcome;
//   - every acknowledged operation is present: each item's held and
//     confirmed counts equal the sums over the acknowledged reservations of
//     the state their last acknowledged operation left them in (exactly,
//     when no outcome is unknown), and each reservation acknowledged since
//     the previous check (plus a sample of 2,000 older ones) is looked up
//     and found in that state;
//   - idempotent retries count once: a resent reserve answers with the id
//     of the first, and the counts above include it once.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/router"
)

// item is one item of the workload.
type item struct {
	sku, store string
	stock      int64
	limit      int64       // per-customer limit; 0: none
	windows    []time.Time // pickup windows' starts; every reserve names one
}

// The rules of the two rule items: small enough that the load runs into
// them within a second, even on a loaded machine where a phase sends only
// a few hundred requests (about a seventh of them to the windowed item,
// some of those cancelled again).
const (
	windowQuota     = 4
	customerLimit   = 3
	limitedCustomer = 4 // customers of the limited item
)

// resv is what the workload knows of one reservation it was told about.
type resv struct {
	id       uint64
	item     int
	qty      int64
	state    engine.State // after the last acknowledged operation
	key      string
	window   int // index in the item's windows; -1: none
	customer string
}

// workload drives the load and keeps the record.
type workload struct {
	t       testing.TB
	clients []*client.Client
	items   []item
	hot     int // index of the hot item

	mu       sync.Mutex
	resvs    []*resv
	unknown  []int // per item: operations whose outcome is unknown
	unknownR []*resv

	checked int // reservations acknowledged before the last check

	ops, resends, soldOut, failures atomic.Int64
	windowFull, limited             atomic.Int64 // refusals by the rules
	slowest                         atomic.Int64 // longest reserve, retries included, in ns
}

func newWorkload(t testing.TB, c *invdtest.Cluster, nclients, nitems int, hotStock, stock int64, tag string) *workload {
	w := &workload{t: t}
	for range nclients {
		w.clients = append(w.clients, dial(t, c))
	}
	w.items = append(w.items, item{sku: "hot-" + tag, store: "s1", stock: hotStock})
	for i := range nitems {
		w.items = append(w.items, item{sku: fmt.Sprintf("spread-%s-%d", tag, i), store: fmt.Sprintf("s%d", i%8), stock: stock}) // items are placed by store: 8 stores spread them
	}
	day := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	w.items[1].windows = []time.Time{day, day.Add(time.Hour)}
	w.items[2].limit = customerLimit
	w.unknown = make([]int, len(w.items))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, it := range w.items {
		if it.limit > 0 { // the SKU's limit, at every store: before the item is on sale
			if err := w.clients[0].SetLimit(ctx, client.LimitSpec{SKU: it.sku, Limit: it.limit}); err != nil {
				t.Fatalf("limit of %s: %v", it.sku, err)
			}
		}
		if err := w.clients[0].PutItem(ctx, client.ItemSpec{SKU: it.sku, Store: it.store, Stock: it.stock}); err != nil {
			t.Fatalf("put item %s: %v", it.sku, err)
		}
		for _, start := range it.windows {
			err := w.clients[0].PutWindow(ctx, client.WindowSpec{SKU: it.sku, Store: it.store, Start: start,
				End: start.Add(time.Hour), Quota: windowQuota})
			if err != nil {
				t.Fatalf("put window of %s: %v", it.sku, err)
			}
		}
	}
	return w
}

// restock adds units to the hot item so that each phase sells some before
// it runs out again.
func (w *workload) restock(qty int64) {
	ctx, cancel := callCtx()
	defer cancel()
	it := &w.items[w.hot]
	if err := w.clients[0].Restock(ctx, client.StockChange{SKU: it.sku, Store: it.store, Qty: qty, Key: w.clients[0].NewKey()}); err != nil {
		w.t.Fatalf("restock: %v", err)
	}
	it.stock += qty
}

// run drives the load with per goroutines on every client until stop is
// closed, then waits for every goroutine to finish its call.
func (w *workload) run(per int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for ci, cl := range w.clients {
		for g := range per {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(ci), uint64(g)+uint64(time.Now().UnixNano())))
				for {
					select {
					case <-stop:
						return
					default:
					}
					w.step(cl, rng, fmt.Sprintf("c%d-%d", ci, g))
				}
			}()
		}
	}
	return &wg
}

// callCtx bounds one call with its retries: long enough for an election
// and a restart, short enough to tell a stuck cluster.
func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// step does one reservation's life: reserve, maybe resend, then confirm,
// cancel, or leave the hold.
func (w *workload) step(cl *client.Client, rng *rand.Rand, who string) {
	ix := w.hot
	if rng.IntN(2) == 0 {
		ix = 1 + rng.IntN(len(w.items)-1)
	}
	it := w.items[ix]
	qty := 1 + rng.Int64N(3)
	key := cl.NewKey()
	ctx, cancel := callCtx()
	defer cancel()
	req := client.ReserveRequest{SKU: it.sku, Store: it.store, Customer: fmt.Sprintf("%s-%d", who, rng.IntN(1000)), Qty: qty, Key: key}
	win := -1
	if len(it.windows) > 0 {
		win = rng.IntN(len(it.windows))
		req.Window = it.windows[win]
	}
	if it.limit > 0 {
		req.Customer = fmt.Sprintf("limited-%d", rng.IntN(limitedCustomer))
	}
	began := time.Now()
	res, err := cl.Reserve(ctx, req)
	w.ops.Add(1)
	if d := int64(time.Since(began)); d > w.slowest.Load() {
		w.slowest.Store(d) // racy max: good enough for a report
	}
	switch {
	case errors.Is(err, client.ErrSoldOut):
		w.soldOut.Add(1)
		return
	case errors.Is(err, client.ErrWindowFull):
		w.windowFull.Add(1)
		return
	case errors.Is(err, client.ErrLimitExceeded):
		w.limited.Add(1)
		return
	case err != nil:
		w.failed(ix, nil, "reserve", err)
		return
	}
	r := &resv{id: res.ID, item: ix, qty: qty, state: engine.StateHeld, key: key, window: win, customer: req.Customer}
	w.mu.Lock()
	w.resvs = append(w.resvs, r)
	w.mu.Unlock()

	if rng.IntN(8) == 0 { // an idempotent resend: same key, same answer, counted once
		again, err := cl.Reserve(ctx, req)
		w.resends.Add(1)
		w.ops.Add(1)
		if err != nil {
			w.failed(ix, r, "resend", err)
			return
		}
		if again.ID != res.ID {
			w.t.Errorf("resent reserve %s answered id %d, first answer %d", key, again.ID, res.ID)
		}
	}
	var next engine.State
	switch p := rng.IntN(4); {
	case p < 2:
		_, err = cl.Confirm(ctx, client.ConfirmRequest{ID: r.id, Key: cl.NewKey()})
		next = engine.StateConfirmed
	case p == 2:
		_, err = cl.Cancel(ctx, client.CancelRequest{ID: r.id, Key: cl.NewKey()})
		next = engine.StateCancelled
	default:
		return // left held
	}
	w.ops.Add(1)
	if err != nil {
		w.failed(ix, r, "confirm/cancel", err)
		return
	}
	w.mu.Lock()
	r.state = next
	w.mu.Unlock()
}

// failed records an operation whose outcome is unknown.
func (w *workload) failed(ix int, r *resv, what string, err error) {
	w.failures.Add(1)
	w.mu.Lock()
	w.unknown[ix]++
	if r != nil {
		w.unknownR = append(w.unknownR, r)
	}
	n := w.failures.Load()
	w.mu.Unlock()
	if n <= 5 {
		w.t.Logf("%s on item %d failed after retries: %v", what, ix, err)
	}
}

// check runs the checks of this file; it returns how many items and
// reservations it checked.
func (w *workload) check(c *invdtest.Cluster, phase string) {
	w.t.Helper()
	start := time.Now()
	shards, err := c.WaitConverged(30 * time.Second)
	if err != nil {
		w.t.Fatalf("%s: %v", phase, err)
	}
	cl := w.clients[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	uncertain := map[*resv]bool{}
	for _, r := range w.unknownR {
		uncertain[r] = true
	}
	held := make([]int64, len(w.items))
	confirmed := make([]int64, len(w.items))
	// Look up every reservation acknowledged since the last check, every
	// one with an unknown outcome, and a sample of the older ones (all of
	// them while they are few); the item counts below cover every one.
	var look []int
	for i, r := range w.resvs {
		if i >= w.checked || uncertain[r] || w.checked <= 4000 || rand.IntN(w.checked) < 2000 {
			look = append(look, i)
		}
	}
	states := make([]client.Reservation, len(look))
	errs := make([]error, len(look))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < len(look); k = int(next.Add(1) - 1) {
				states[k], errs[k] = cl.GetReservation(ctx, w.resvs[look[k]].id)
			}
		}()
	}
	wg.Wait()
	fetched := map[*resv]engine.State{}
	for k, i := range look {
		r := w.resvs[i]
		got, err := states[k], errs[k]
		if err != nil {
			w.t.Fatalf("%s: acknowledged reservation %d: %v", phase, r.id, err)
		}
		fetched[r] = got.State
		if got.State != r.state && !uncertain[r] {
			w.t.Errorf("%s: reservation %d is %v, the last acknowledged operation left it %v", phase, r.id, got.State, r.state)
		}
		if got.Qty != r.qty {
			w.t.Errorf("%s: reservation %d has %d units, reserved %d", phase, r.id, got.Qty, r.qty)
		}
	}
	used := map[[2]int]int64{}  // by item and window: units of active reservations
	owned := map[string]int64{} // by customer: active units of the limited item
	for _, r := range w.resvs {
		st := r.state
		if uncertain[r] {
			st = fetched[r]
		}
		switch st {
		case engine.StateHeld:
			held[r.item] += r.qty
		case engine.StateConfirmed:
			confirmed[r.item] += r.qty
		default:
			continue
		}
		if r.window >= 0 {
			used[[2]int{r.item, r.window}] += r.qty
		}
		if w.items[r.item].limit > 0 {
			owned[r.customer] += r.qty
		}
	}
	// The acknowledged units are a lower bound of what a customer owns
	// (a reserve whose answer never came may add some): over the limit is
	// a violation either way.
	for cust, n := range owned {
		if n > customerLimit {
			w.t.Errorf("%s: customer %s owns %d units of the limited item, limit %d", phase, cust, n, customerLimit)
		}
	}
	checked := len(look)
	w.checked = len(w.resvs)
	for ix, it := range w.items {
		w.checkItem(ctx, cl, phase, ix, it, held[ix], confirmed[ix], used)
	}
	w.t.Logf("%s: checked %d shards × %d replicas identical, %d items (%d windows, %d limited customers), %d of %d reservations looked up; %d ops so far (%d resends, %d sold out, %d window full, %d over limit, %d failed after retries; slowest reserve %s with its retries) in %s",
		phase, shards, c.Size(), len(w.items), len(w.items[1].windows), len(owned), checked, len(w.resvs), w.ops.Load(), w.resends.Load(), w.soldOut.Load(),
		w.windowFull.Load(), w.limited.Load(), w.failures.Load(),
		time.Duration(w.slowest.Load()).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// settleWithin bounds how long an item's counts may differ from the
// acknowledged reservations: a limited reserve refused at the customer's
// home leaves a provisional hold on the item until its resolve arrives,
// and a crash that loses the resolve leaves it to the item shard's sweep,
// which runs once the coordination's deadline and the clock margin have
// passed (docs/adr/0070).
const settleWithin = router.DefaultClaimWindow + engine.ClaimMargin + 3*router.DefaultSweepInterval

// checkItem checks one item against the acknowledged reservations. Never
// oversold, at any read; the counts must agree once the provisional holds
// of refused reserves are settled, within settleWithin.
func (w *workload) checkItem(ctx context.Context, cl *client.Client, phase string, ix int, it item, held, confirmed int64, used map[[2]int]int64) {
	start := time.Now()
	deadline := start.Add(settleWithin)
	var first string // what differed at the first read
	for tries := 1; ; tries++ {
		got, err := cl.GetItem(ctx, it.sku, it.store)
		if err != nil {
			w.t.Fatalf("%s: item %s: %v", phase, it.sku, err)
		}
		if got.Held+got.Confirmed+got.PickedUp > got.Stock || got.Available < 0 {
			w.t.Errorf("%s: item %s oversold: stock %d, held %d, confirmed %d, picked up %d",
				phase, it.sku, got.Stock, got.Held, got.Confirmed, got.PickedUp)
			return
		}
		errs := w.itemCounts(phase, ix, it, got, held, confirmed, used)
		if len(errs) == 0 {
			if tries > 1 {
				w.t.Logf("%s: item %s settled after %s (%d reads): %s", phase, it.sku, time.Since(start).Round(time.Millisecond), tries, first)
			}
			return
		}
		if tries == 1 {
			first = errs[0]
		}
		if time.Now().After(deadline) {
			for _, e := range errs {
				w.t.Error(e)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// itemCounts compares an item's held, confirmed and window counts with the
// acknowledged reservations; it returns what differs.
func (w *workload) itemCounts(phase string, ix int, it item, got client.Item, held, confirmed int64, used map[[2]int]int64) []string {
	var errs []string
	// Units of reserves whose answer never came may be held too (at most
	// three units each); without such, the counts are exact.
	slack := 3 * int64(w.unknown[ix])
	if got.Held < held || got.Held > held+slack || got.Confirmed != confirmed && slack == 0 {
		errs = append(errs, fmt.Sprintf("%s: item %s holds %d and has %d confirmed; acknowledged reservations account for %d and %d (unknown ops %d)",
			phase, it.sku, got.Held, got.Confirmed, held, confirmed, w.unknown[ix]))
	}
	if len(got.Windows) != len(it.windows) {
		return append(errs, fmt.Sprintf("%s: item %s has %d windows, put %d", phase, it.sku, len(got.Windows), len(it.windows)))
	}
	for k, start := range it.windows {
		gw, acked := got.Windows[k], used[[2]int{ix, k}]
		if !gw.Start.Equal(start) || gw.Quota != windowQuota {
			errs = append(errs, fmt.Sprintf("%s: item %s window %d is %v quota %d, put %v quota %d", phase, it.sku, k, gw.Start, gw.Quota, start, windowQuota))
		}
		if gw.Used > gw.Quota || gw.Used < acked || gw.Used > acked+slack {
			errs = append(errs, fmt.Sprintf("%s: item %s window %d uses %d of quota %d; acknowledged reservations in it hold %d (unknown ops %d)",
				phase, it.sku, k, gw.Used, gw.Quota, acked, w.unknown[ix]))
		}
	}
	return errs
}
