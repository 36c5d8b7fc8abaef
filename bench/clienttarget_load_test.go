package bench

// Proves that ClientTarget.Load sets the SKUs' per-customer limits in
// parallel, as it puts the items: against a real invd (invtest), a client
// tracer counts the set_limit calls in flight at once, which must exceed
// one (one at a time, a thousand SKUs cost a thousand raft round trips
// end to end); every limit and item must be on the server afterwards.

import (
	"context"
	"sync"
	"testing"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/invtest"
)

// inFlight counts the calls of one op in flight, and the most at once.
type inFlight struct {
	op        string
	mu        sync.Mutex
	now, most int
	ended     int
}

func (f *inFlight) TraceRequestStart(ctx context.Context, s client.RequestStart) context.Context {
	if s.Op == f.op {
		f.mu.Lock()
		f.now++
		f.most = max(f.most, f.now)
		f.mu.Unlock()
	}
	return ctx
}

func (f *inFlight) TraceRequestEnd(ctx context.Context, e client.RequestEnd) {
	if e.Op == f.op {
		f.mu.Lock()
		f.now--
		f.ended++
		f.mu.Unlock()
	}
}

func TestLoadSetsLimitsInParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts invd")
	}
	srv := invtest.Start(t, invtest.WithShards(2))
	w, err := NewWorkload(FlashSpread, 100)
	if err != nil {
		t.Fatal(err)
	}
	cat := w.Catalog()
	if cat.LimitUnits <= 0 || cat.SKUs < 100 {
		t.Fatalf("flash-spread's catalog: %d SKUs, limit %d: the test needs limits on many SKUs", cat.SKUs, cat.LimitUnits)
	}
	ctx := context.Background()
	tr := &inFlight{op: "set_limit"}
	target, err := NewClientTarget(ctx, []string{srv.Addr}, "par-", client.WithTracer(tr))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := target.Load(ctx, cat); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	most, ended := tr.most, tr.ended
	tr.mu.Unlock()
	if ended != cat.SKUs || most < 2 {
		t.Errorf("%d set_limit calls, at most %d at once; want %d, several at once", ended, most, cat.SKUs)
	}
	last := "par-" + string(cat.SKU(int32(cat.SKUs-1)))
	it, err := srv.Client.GetItem(ctx, last, string(cat.Store(0)))
	if err != nil || it.Limit != cat.LimitUnits {
		t.Errorf("item %s after Load: %+v %v, want limit %d", last, it, err, cat.LimitUnits)
	}
}
