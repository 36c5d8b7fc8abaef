package bench

// fake is an in-memory Target for the tests: a tiny, obviously correct model
// of reserve, confirm and cancel behind one mutex, so that the driver, the
// check and the reports are tested end to end without a server. Knobs make
// it slow, make it stall, lose replies, or break the invariant on purpose.

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

type fake struct {
	mu     sync.Mutex
	items  map[itemKey]*fakeItem
	holds  map[uint64]*HoldInfo
	owned  map[CustomerSKU]int64
	nextID uint64

	// Knobs, set before the run.
	latency     time.Duration               // every request takes this long
	stall       func(n int64) time.Duration // extra delay of the n-th request (0-based)
	lose        func(n int64) bool          // apply the n-th request but reply with an error
	ignoreStock bool                        // bug on purpose: reserve never checks stock
	calls       atomic.Int64                // requests received
	sent        func(k Kind, at time.Time)  // called as each request arrives
}

type fakeItem struct {
	st    ItemState
	limit int64
}

var errLostReply = errors.New("fake: reply lost")

func newFake() *fake { return &fake{} }

func (f *fake) Load(ctx context.Context, cat *Catalog) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = map[itemKey]*fakeItem{}
	f.holds = map[uint64]*HoldInfo{}
	f.owned = map[CustomerSKU]int64{}
	for it := range cat.Items() {
		fi := &fakeItem{st: ItemState{SKU: string(it.SKU), Store: string(it.Store), Stock: it.StockUnits}, limit: it.LimitUnits}
		for _, w := range it.Windows {
			fi.st.Windows = append(fi.st.Windows, WindowState{Start: w.Start, Quota: w.QuotaUnits})
		}
		f.items[itemKey{fi.st.SKU, fi.st.Store}] = fi
	}
	return nil
}

func (f *fake) Connect(ctx context.Context, n int) ([]Conn, error) {
	conns := make([]Conn, n)
	for i := range conns {
		conns[i] = fakeConn{f}
	}
	return conns, nil
}

func (f *fake) Dump(ctx context.Context, cat *Catalog, acked []uint64) (*State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &State{Owned: map[CustomerSKU]int64{}, AllHolds: true}
	for _, it := range f.items {
		c := it.st
		c.Windows = append([]WindowState(nil), it.st.Windows...)
		st.Items = append(st.Items, c)
	}
	for _, h := range f.holds {
		st.Holds = append(st.Holds, *h)
	}
	for k, n := range f.owned {
		st.Owned[k] = n
	}
	return st, nil
}

// arrive applies the latency knobs and says whether this request's reply is lost.
func (f *fake) arrive(ctx context.Context, k Kind) (lost bool, err error) {
	n := f.calls.Add(1) - 1
	if f.sent != nil {
		f.sent(k, time.Now())
	}
	d := f.latency
	if f.stall != nil {
		d += f.stall(n)
	}
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return f.lose != nil && f.lose(n), nil
}

type fakeConn struct{ f *fake }

func (c fakeConn) Reserve(ctx context.Context, r *Request) (Outcome, uint64, error) {
	lost, err := c.f.arrive(ctx, KindReserve)
	if err != nil {
		return OutcomeError, 0, err
	}
	out, id := c.f.reserve(r)
	if lost {
		return OutcomeError, 0, errLostReply
	}
	return out, id, nil
}

func (c fakeConn) Confirm(ctx context.Context, r *Request) (Outcome, error) {
	return c.follow(ctx, r, KindConfirm)
}

func (c fakeConn) Cancel(ctx context.Context, r *Request) (Outcome, error) {
	return c.follow(ctx, r, KindCancel)
}

func (c fakeConn) follow(ctx context.Context, r *Request, k Kind) (Outcome, error) {
	lost, err := c.f.arrive(ctx, k)
	if err != nil {
		return OutcomeError, err
	}
	out := c.f.settle(r.HoldID, k)
	if lost {
		return OutcomeError, errLostReply
	}
	return out, nil
}

func (f *fake) reserve(r *Request) (Outcome, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.items[itemKey{string(r.SKU), string(r.Store)}]
	if it == nil {
		return OutcomeError, 0
	}
	var win *WindowState
	if r.Window != 0 {
		for i := range it.st.Windows {
			if it.st.Windows[i].Start == r.Window {
				win = &it.st.Windows[i]
			}
		}
		if win == nil {
			return OutcomeError, 0
		}
		if win.Used+r.Qty > win.Quota {
			return OutcomeWindowFull, 0
		}
	}
	if !f.ignoreStock && it.st.Active()+r.Qty > it.st.Stock {
		return OutcomeSoldOut, 0
	}
	ck := CustomerSKU{string(r.Customer), string(r.SKU)}
	if f.owned[ck]+r.Qty > it.limit {
		return OutcomeLimitExceeded, 0
	}
	it.st.Held += r.Qty
	if win != nil {
		win.Used += r.Qty
	}
	f.owned[ck] += r.Qty
	f.nextID++
	h := &HoldInfo{ID: f.nextID, SKU: it.st.SKU, Store: it.st.Store, Customer: ck.Customer,
		Window: r.Window, Qty: r.Qty, State: HoldHeld}
	f.holds[h.ID] = h
	return OutcomeOK, h.ID
}

func (f *fake) settle(id uint64, k Kind) Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.holds[id]
	if h == nil || h.State != HoldHeld {
		return OutcomeNotFound
	}
	it := f.items[itemKey{h.SKU, h.Store}]
	it.st.Held -= h.Qty
	if k == KindConfirm {
		it.st.Confirmed += h.Qty
		h.State = HoldConfirmed
		return OutcomeOK
	}
	for i := range it.st.Windows {
		if it.st.Windows[i].Start == h.Window {
			it.st.Windows[i].Used -= h.Qty
		}
	}
	f.owned[CustomerSKU{h.Customer, h.SKU}] -= h.Qty
	h.State = HoldCancelled
	return OutcomeOK
}
