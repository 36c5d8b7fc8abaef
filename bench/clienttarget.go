package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/client"
)

// ClientTarget is the harness's Target over inv's client library: what
// cmd/invbench runs. It measures the engine only through what a user's
// program sees.
//
// Connections. Connect(n) dials n Clients, each with one connection per
// node (WithConnsPerNode(1)), so "C connections x P in flight" means what
// it means for the peers: C sockets to a single node, each carrying at most
// P pipelined requests (the client batches the requests that queue while a
// socket writes into one frame). Against a cluster each Client also opens
// one socket to every other node that leads a shard, and routes each
// request to its shard's leader.
//
// Run id. Every SKU, customer and idempotency key the harness sends is
// prefixed with RunID ("r3kf9q-sku-000042", "r3kf9q-c-000001234"), so that
// runs against a server that already holds earlier runs (make run keeps its
// data) do not collide: the same SKU would keep the last run's holds, and the
// same idempotency key would be answered with the last run's outcome. The
// store ids are not prefixed (an item is a SKU at a store; a fresh SKU is a
// fresh item). Dump strips the prefix again, so the check sees ids.go's ids.
// With RunID "" the ids are exactly those of ids.go, and Load refuses a
// server that already has the first item: the server must be fresh.
//
// Load. The SKUs' limits, then the catalog, go in with LoadWorkers
// goroutines (default 512) sharing one Client: each sets a limit, or puts
// an item and then its windows, one call at a time, so up to LoadWorkers
// calls are pipelined and batched over the Client's sockets; the engine's
// group commit makes one proposal of each batch. A progress line goes to
// Progress every second.
//
// Dump reads the server's state for the invariant check:
//   - every item of the catalog and its windows, with one ListItems per SKU
//     (the server asks every shard and merges), in parallel: stock, held,
//     confirmed, picked up, and per window quota and used. Against a
//     cluster (a topology of more than one node), whose nodes serve lists
//     only when they lead every shard, and after a ListItems that failed,
//     one GetItem per item instead, each to its shard's leader;
//   - every reservation whose id the driver was told about, one
//     GetReservation each, in parallel: SKU, store, customer, window,
//     quantity and state. A reservation the server no longer knows
//     (not_found) is left out, and the check calls it lost unless it was
//     cancelled;
//   - no per-customer counters: the engine keeps them per shard (limits
//     across stores are not there yet) and has no read of one customer's
//     units of one SKU, so State.Owned stays nil and
//     the check counts each customer's units per SKU from the acknowledged
//     holds it read (the reference workloads send one order per customer, so
//     the limit never refuses; the check still catches a customer with more);
//   - AllHolds is false: holds the driver was never told about are not
//     listed one by one, but any unit they take shows in the per-item and
//     per-window counts, which the check compares with the acknowledged ones.
type ClientTarget struct {
	Addrs       []string
	Options     []client.Option // applied to every Client (WithToken ...)
	RunID       string          // prefix of SKU, customer and key ids; "" = none
	LoadWorkers int             // concurrent catalog and dump calls; 0 = 512
	Progress    io.Writer       // load and dump progress lines; nil = none

	admin *client.Client // load and dump
	skus  map[string]string
}

// defaultLoadWorkers is the calls in flight while loading and dumping:
// enough to fill the engine's group commit on every shard, few enough that
// a slow fsync does not push the calls past their timeout.
const defaultLoadWorkers = 512

// NewClientTarget dials the cluster through addrs (any node; one is enough)
// for loading and reading, and returns the target; Close releases it.
func NewClientTarget(ctx context.Context, addrs []string, runID string, opts ...client.Option) (*ClientTarget, error) {
	t := &ClientTarget{Addrs: addrs, Options: opts, RunID: runID}
	c, err := client.Dial(ctx, addrs, t.options(4)...)
	if err != nil {
		return nil, err
	}
	t.admin = c
	return t, nil
}

// Close closes the loading client (Run closes the connections itself).
func (t *ClientTarget) Close() error { return t.admin.Close() }

func (t *ClientTarget) options(connsPerNode int) []client.Option {
	return append([]client.Option{client.WithConnsPerNode(connsPerNode), client.WithClientName("invbench")}, t.Options...)
}

func (t *ClientTarget) workers() int {
	if t.LoadWorkers > 0 {
		return t.LoadWorkers
	}
	return defaultLoadWorkers
}

// sku returns the id sent for a catalog SKU: the run id and the SKU. The
// map lookup with string(b) does not allocate.
func (t *ClientTarget) sku(b []byte) string {
	if s, ok := t.skus[string(b)]; ok {
		return s
	}
	return t.RunID + string(b)
}

func (t *ClientTarget) strip(s string) string { return strings.TrimPrefix(s, t.RunID) }

// Load sets every SKU's per-customer limit (the SKU's, at every store),
// then puts every item (stock) and its windows.
func (t *ClientTarget) Load(ctx context.Context, cat *Catalog) error {
	t.skus = make(map[string]string, cat.SKUs)
	for s := range cat.SKUs {
		id := cat.SKU(int32(s))
		t.skus[string(id)] = t.RunID + string(id)
	}
	var first CatalogItem
	for it := range cat.Items() {
		first = it
		break
	}
	switch _, err := t.admin.GetItem(ctx, t.sku(first.SKU), string(first.Store)); {
	case err == nil:
		return fmt.Errorf("the server already has item %s/%s: start a fresh invd, or give a run id",
			t.sku(first.SKU), first.Store)
	case !errors.Is(err, client.ErrUnknownItem):
		return fmt.Errorf("reading %s/%s: %w", t.sku(first.SKU), first.Store, err)
	}

	var limits, items, windows atomic.Int64
	stop := t.progress("load", func() string {
		return fmt.Sprintf("limits %d/%d, items %d/%d, windows %d/%d", limits.Load(), t.limitCount(cat),
			items.Load(), cat.ItemCount(), windows.Load(), cat.WindowCount())
	})
	defer stop()
	if t.limitCount(cat) > 0 {
		// In parallel, as the items: one at a time, a thousand SKUs cost a
		// thousand raft round trips end to end (most of a load on a cluster).
		err := t.parallel(ctx, cat.SKUs, func(ctx context.Context, s int) error {
			sku := t.sku(cat.SKU(int32(s)))
			if err := t.admin.SetLimit(ctx, client.LimitSpec{SKU: sku, Limit: cat.LimitUnits}); err != nil {
				return fmt.Errorf("limit of %s: %w", sku, err)
			}
			limits.Add(1)
			return nil
		})
		if err != nil {
			return err
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	todo := make(chan CatalogItem, 1024)
	var wg sync.WaitGroup
	for range t.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range todo {
				if err := t.putItem(ctx, &it); err != nil {
					cancel(err)
					for range todo { // drain so the feeder ends
					}
					return
				}
				items.Add(1)
				windows.Add(int64(len(it.Windows)))
			}
		}()
	}
	for it := range cat.Items() {
		if ctx.Err() != nil {
			break
		}
		todo <- it
	}
	close(todo)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// limitCount is the number of per-customer limits Load sets: one per SKU
// when the catalog has a limit.
func (t *ClientTarget) limitCount(cat *Catalog) int {
	if cat.LimitUnits > 0 {
		return cat.SKUs
	}
	return 0
}

func (t *ClientTarget) putItem(ctx context.Context, it *CatalogItem) error {
	sku, store := t.sku(it.SKU), string(it.Store)
	if err := t.admin.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: it.StockUnits}); err != nil {
		return fmt.Errorf("put item %s/%s: %w", sku, store, err)
	}
	for _, w := range it.Windows {
		err := t.admin.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store,
			Start: timeOf(w.Start), End: timeOf(w.End), Quota: w.QuotaUnits})
		if err != nil {
			return fmt.Errorf("put window %s/%s@%d: %w", sku, store, w.Start, err)
		}
	}
	return nil
}

// Connect dials n Clients of one connection per node each.
func (t *ClientTarget) Connect(ctx context.Context, n int) ([]Conn, error) {
	conns := make([]Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial(ctx, t.Addrs, t.options(1)...)
			if err != nil {
				errs[i] = err
				return
			}
			// A Ping opens the socket now, not in the first timed request.
			if _, err := c.Ping(ctx); err != nil {
				c.Close()
				errs[i] = err
				return
			}
			conns[i] = &clientConn{t: t, c: c}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeConns(conns)
		return nil, err
	}
	return conns, nil
}

// Dump reads every catalog item (ListItems per SKU) and every acknowledged
// reservation (GetReservation per id), in parallel. See ClientTarget.
func (t *ClientTarget) Dump(ctx context.Context, cat *Catalog, acked []uint64) (*State, error) {
	st := &State{}
	var itemsDone, holdsDone atomic.Int64
	stop := t.progress("dump", func() string {
		return fmt.Sprintf("skus %d/%d, holds %d/%d", itemsDone.Load(), cat.SKUs, holdsDone.Load(), len(acked))
	})
	defer stop()

	// Items, SKU by SKU: one ListItems each on a single node; on a cluster,
	// whose nodes do not serve lists unless they lead every shard, one
	// GetItem per item (each to its shard's leader). A ListItems that fails
	// is redone item by item too.
	perItem := false
	if top, err := t.admin.Topology(ctx); err == nil && len(top.Nodes) > 1 {
		perItem = true
	}
	perSKU := make([][]ItemState, cat.SKUs)
	err := t.parallel(ctx, cat.SKUs, func(ctx context.Context, s int) error {
		sku := t.sku(cat.SKU(int32(s)))
		var items []client.Item
		err := errors.ErrUnsupported
		if !perItem {
			items, err = t.admin.ListItems(ctx, sku)
		}
		if err != nil && ctx.Err() == nil {
			items, err = t.getItems(ctx, cat, sku)
		}
		if err != nil {
			return fmt.Errorf("read items of %s: %w", sku, err)
		}
		out := make([]ItemState, 0, len(items))
		for i := range items {
			out = append(out, itemState(&items[i], t.strip))
		}
		perSKU[s] = out
		itemsDone.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, items := range perSKU {
		st.Items = append(st.Items, items...)
	}

	// Acknowledged reservations, one read each.
	holds := make([]HoldInfo, len(acked))
	found := make([]bool, len(acked))
	err = t.parallel(ctx, len(acked), func(ctx context.Context, i int) error {
		r, err := t.admin.GetReservation(ctx, acked[i])
		holdsDone.Add(1)
		switch {
		case errors.Is(err, client.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("get reservation %d: %w", acked[i], err)
		}
		holds[i] = HoldInfo{ID: r.ID, SKU: t.strip(r.SKU), Store: r.Store, Customer: t.strip(r.Customer),
			Window: nanosOf(r.Window), Qty: r.Qty, State: HoldState(r.State)}
		found[i] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.Holds = make([]HoldInfo, 0, len(acked))
	for i := range holds {
		if found[i] {
			st.Holds = append(st.Holds, holds[i])
		}
	}
	return st, nil
}

// getItems reads the items of one SKU at every store of the catalog, one
// GetItem each; an item the server does not have is left out (the check
// reports it missing).
func (t *ClientTarget) getItems(ctx context.Context, cat *Catalog, sku string) ([]client.Item, error) {
	var out []client.Item
	for st := range cat.Stores {
		it, err := t.admin.GetItem(ctx, sku, string(cat.Store(int32(st))))
		switch {
		case errors.Is(err, client.ErrUnknownItem):
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// parallel runs f(0..n-1) on the target's workers; the first error stops it.
func (t *ClientTarget) parallel(ctx context.Context, n int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(t.workers(), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// progress prints what line() says every second until the returned stop
// is called, and once more then if anything was printed before.
func (t *ClientTarget) progress(what string, line func() string) (stop func()) {
	if t.Progress == nil {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		printed := false
		for {
			select {
			case <-done:
				if printed {
					fmt.Fprintf(t.Progress, "%s %6.1fs  %s, done\n", what, time.Since(start).Seconds(), line())
				}
				return
			case <-tick.C:
				printed = true
				fmt.Fprintf(t.Progress, "%s %6.1fs  %s\n", what, time.Since(start).Seconds(), line())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func itemState(it *client.Item, strip func(string) string) ItemState {
	s := ItemState{SKU: strip(it.SKU), Store: it.Store, Stock: it.Stock, Held: it.Held,
		Confirmed: it.Confirmed, PickedUp: it.PickedUp}
	for _, w := range it.Windows {
		s.Windows = append(s.Windows, WindowState{Start: nanosOf(w.Start), Quota: w.Quota, Used: w.Used})
	}
	return s
}

// clientConn is one bench connection: a Client with one socket per node.
type clientConn struct {
	t *ClientTarget
	c *client.Client
}

func (cc *clientConn) Close() error { return cc.c.Close() }

func (cc *clientConn) Reserve(ctx context.Context, r *Request) (Outcome, uint64, error) {
	t := cc.t
	res, err := cc.c.Reserve(ctx, client.ReserveRequest{
		SKU: t.sku(r.SKU), Store: string(r.Store), Customer: t.RunID + string(r.Customer),
		Qty: r.Qty, Window: timeOf(r.Window), TTL: r.TTL, Key: cc.c.KeyForStore(t.RunID+string(r.Key), string(r.Store)),
	})
	o, err := outcomeOfErr(err)
	return o, res.ID, err
}

func (cc *clientConn) Confirm(ctx context.Context, r *Request) (Outcome, error) {
	_, err := cc.c.Confirm(ctx, client.ConfirmRequest{ID: r.HoldID, Key: cc.c.KeyForReservation(cc.t.RunID+string(r.Key), r.HoldID)})
	return outcomeOfErr(err)
}

func (cc *clientConn) Cancel(ctx context.Context, r *Request) (Outcome, error) {
	_, err := cc.c.Cancel(ctx, client.CancelRequest{ID: r.HoldID, Key: cc.c.KeyForReservation(cc.t.RunID+string(r.Key), r.HoldID)})
	return outcomeOfErr(err)
}

// outcomeOfErr classifies a client call's error: nil is a success, a
// refusal of the reference workloads (sold out, window full, limit, not
// held) an Outcome with a nil error, and anything else, a server error of
// another code or an unknown outcome (ErrUnknownOutcome, a context's end),
// an error.
func outcomeOfErr(err error) (Outcome, error) {
	if err == nil {
		return OutcomeOK, nil
	}
	if code, ok := client.CodeOf(err); ok {
		if o := OutcomeOfCode(code); o != OutcomeError {
			return o, nil
		}
	}
	return OutcomeError, err
}

// timeOf turns Unix nanoseconds into the client's time.Time, 0 into the
// zero time ("none"); nanosOf is its inverse.
func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func nanosOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
