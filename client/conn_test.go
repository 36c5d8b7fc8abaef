// These tests prove the transport against the in-process fake server
// (fake_test.go), which speaks the real protocol: replies matched by
// request id in any order, concurrent calls packed into BATCH frames, carts
// sent as linked chains, typed errors from replies and ERROR frames,
// deadlines and cancellation, Close draining calls in flight, and zero or
// one allocation per call in steady state.
package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func dialFake(t testing.TB, f *fakeServer, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, []string{f.addr}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReserveMapsRequestAndResult(t *testing.T) {
	window := time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)
	expires := window.Add(-time.Hour)
	f := newFake(t, 4, func(cmd *engine.Command) fakeReply {
		return fakeReply{res: engine.Result{ID: engine.MakeID(2, 42), State: engine.StateHeld, Qty: cmd.Qty,
			Window: cmd.Window, ExpiresAt: expires.UnixNano()}}
	})
	c := dialFake(t, f)
	res, err := c.Reserve(context.Background(), ReserveRequest{SKU: "4710088412345", Store: "TPE0427",
		Customer: "M00012345", Qty: 2, Window: window, TTL: time.Minute, Key: "order-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{ID: engine.MakeID(2, 42), State: engine.StateHeld, Qty: 2, Window: window, ExpiresAt: expires}
	if res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	got := f.received()[0]
	if string(got.SKU) != "4710088412345" || string(got.Store) != "TPE0427" || string(got.Customer) != "M00012345" ||
		got.Qty != 2 || got.Window != window.UnixNano() || got.TTL != time.Minute || string(got.Key) != "order-1" {
		t.Fatalf("server got %+v", got)
	}
	if h := f.helloes()[0]; h.Client != DefaultClientName || h.Version != protocol.ProtocolVersion {
		t.Fatalf("hello %+v", h)
	}
}

func TestGeneratedKeysAreUniqueAndHex(t *testing.T) {
	f := newFake(t, 1, nil)
	c := dialFake(t, f)
	for i := 0; i < 100; i++ {
		if _, err := c.Cancel(context.Background(), CancelRequest{ID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, cmd := range f.received() {
		k := string(cmd.Key)
		if len(k) != keyBytes || seen[k] {
			t.Fatalf("key %q: length %d or repeated", k, len(k))
		}
		for _, ch := range k {
			if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f') {
				t.Fatalf("key %q is not hex", k)
			}
		}
		seen[k] = true
	}
	if _, err := c.GetReservation(context.Background(), 1); err != nil && !errors.Is(err, ErrProtocol) {
		t.Fatal(err)
	}
	if last := f.received(); len(last[len(last)-1].Key) != 0 {
		t.Fatal("a read carried a key")
	}
}

func TestRefusalsAreSentinelsAndErrorFramesCarryMessages(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		switch string(cmd.Customer) {
		case "soldout":
			return fakeReply{res: engine.Result{Code: engine.CodeSoldOut}}
		case "toolarge":
			return fakeReply{code: engine.CodeTooLarge, msg: "frame over the limit"}
		case "future":
			return fakeReply{res: engine.Result{Code: 63}}
		}
		return fakeReply{}
	})
	c := dialFake(t, f)
	ctx := context.Background()
	_, err := c.Reserve(ctx, ReserveRequest{SKU: "A", Store: "S", Customer: "soldout"})
	if err != ErrSoldOut || !errors.Is(err, ErrSoldOut) {
		t.Fatalf("sold out: %v", err)
	}
	_, err = c.Reserve(ctx, ReserveRequest{SKU: "A", Store: "S", Customer: "toolarge"})
	var se *ServerError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &se) || se.Message != "frame over the limit" {
		t.Fatalf("too large: %v", err)
	}
	_, err = c.Reserve(ctx, ReserveRequest{SKU: "A", Store: "S", Customer: "future"})
	if code, ok := CodeOf(err); !ok || code != 63 {
		t.Fatalf("unknown code: %v", err)
	}
	if _, err := c.Reserve(ctx, ReserveRequest{SKU: string(make([]byte, 65)), Store: "S", Customer: "c"}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("long sku: %v", err)
	}
}

// TestRepliesOutOfOrder answers later requests first: every caller must
// still get its own answer.
func TestRepliesOutOfOrder(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		q, _ := strconv.Atoi(string(cmd.Customer))
		return fakeReply{res: engine.Result{Reservations: []engine.ReservationInfo{{ID: uint64(q), State: engine.StateHeld}}},
			delay: time.Duration(20-q) * 3 * time.Millisecond}
	})
	// One connection, and list reads, which never share a frame: every
	// reply is a frame of its own, and the later requests' replies come first.
	c := dialFake(t, f, WithConnsPerNode(1))
	var wg sync.WaitGroup
	for q := 1; q <= 19; q++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			list, err := c.ListReservations(context.Background(), strconv.Itoa(q))
			if err != nil || len(list) != 1 || list[0].ID != uint64(q) {
				t.Errorf("call %d: %+v %v", q, list, err)
			}
		}()
	}
	wg.Wait()
}

// TestConcurrentCallsShareBatches: calls made while a connection is busy
// go out together in BATCH frames.
func TestConcurrentCallsShareBatches(t *testing.T) {
	f := newFake(t, 8, func(cmd *engine.Command) fakeReply {
		return fakeReply{res: engine.Result{ID: uint64(cmd.Qty)}, delay: time.Millisecond}
	})
	c := dialFake(t, f, WithConnsPerNode(1), WithBatchDelay(2*time.Millisecond))
	const n = 500
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Reserve(context.Background(), ReserveRequest{SKU: "A", Store: "S", Customer: "c", Qty: int64(i + 1)})
			if err != nil || res.ID != uint64(i+1) {
				t.Errorf("call %d: %+v %v", i, res, err)
			}
		}()
	}
	wg.Wait()
	sizes := f.batchSizes()
	biggest := 0
	for _, s := range sizes {
		biggest = max(biggest, s)
	}
	if biggest < 10 {
		t.Fatalf("BATCH frames of %v entries: calls were not batched", sizes)
	}
	t.Logf("%d calls in %d BATCH frames, the largest %d", n, len(sizes), biggest)
}

// TestStaysWithinTheServersInFlightBound: a server that takes two frames
// at a time never sees a third, however many calls wait: the writer holds
// the rest back instead of letting the server answer busy.
func TestStaysWithinTheServersInFlightBound(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		return fakeReply{res: engine.Result{Reservations: []engine.ReservationInfo{{ID: 1, SKU: "A", Store: "S", Customer: "c", State: engine.StateHeld}}},
			delay: 2 * time.Millisecond}
	})
	f.maxInFlight = 2
	c := dialFake(t, f, WithConnsPerNode(1))
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Lists go in frames of their own: each call is a frame.
			if list, err := c.ListReservations(context.Background(), "c"); err != nil || len(list) != 1 {
				t.Errorf("%v %v", list, err)
			}
		}()
	}
	wg.Wait()
	if p := f.peak.Load(); p > 2 {
		t.Fatalf("the server saw %d frames in flight, over its bound of 2", p)
	}
	if n := len(f.received()); n != 40 {
		t.Fatalf("%d requests for 40 calls", n)
	}
}

func TestCartGoesAsOneLinkedChain(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		if string(cmd.SKU) == "gone" {
			return fakeReply{res: engine.Result{Code: engine.CodeSoldOut}}
		}
		return fakeReply{res: engine.Result{ID: uint64(len(cmd.SKU)), State: engine.StateHeld, Qty: cmd.Qty}}
	})
	c := dialFake(t, f)
	ctx := context.Background()
	res, err := c.ReserveMany(ctx, CartRequest{Store: "S", Customer: "c", Key: "cart-1",
		Lines: []CartLine{{SKU: "a"}, {SKU: "bb", Qty: 2}, {SKU: "ccc"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[1].ID != 2 || res[1].Qty != 2 {
		t.Fatalf("results %+v", res)
	}
	cmds := f.received()
	for i, cmd := range cmds {
		if cmd.Linked != (i < 2) || string(cmd.Key) != fmt.Sprintf("cart-1/l%d", i) {
			t.Fatalf("line %d: linked %v key %q", i, cmd.Linked, cmd.Key)
		}
	}
	if sizes := f.batchSizes(); len(sizes) != 1 || sizes[0] != 3 {
		t.Fatalf("batches %v", sizes)
	}
	_, err = c.ReserveMany(ctx, CartRequest{Store: "S", Customer: "c", Lines: []CartLine{{SKU: "a"}, {SKU: "gone"}}})
	var ce *CartError
	if !errors.Is(err, ErrSoldOut) || !errors.As(err, &ce) || ce.Line != 1 {
		t.Fatalf("refused cart: %v", err)
	}
}

func TestDeadlineAndCancellation(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply { return fakeReply{silent: true} })
	c := dialFake(t, f, WithRequestTimeout(0))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Reserve(ctx, ReserveRequest{SKU: "A", Store: "S", Customer: "c"})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s", d)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := c.GetItem(ctx, "A", "S"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("read: %v", err)
	}
}

func TestCloseDrainsCallsInFlight(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		return fakeReply{res: engine.Result{ID: 7}, delay: 100 * time.Millisecond}
	})
	c := dialFake(t, f)
	var done atomic.Bool
	errc := make(chan error, 1)
	go func() {
		_, err := c.Reserve(context.Background(), ReserveRequest{SKU: "A", Store: "S", Customer: "c"})
		done.Store(true)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !done.Load() {
		t.Fatal("Close returned before the call in flight finished")
	}
	if err := <-errc; err != nil {
		t.Fatalf("call in flight: %v", err)
	}
	if _, err := c.Reserve(context.Background(), ReserveRequest{SKU: "A", Store: "S", Customer: "c"}); err != ErrClientClosed {
		t.Fatalf("after close: %v", err)
	}
}

func TestPingAndTopology(t *testing.T) {
	f := newFake(t, 3, nil)
	c := dialFake(t, f)
	if _, err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	topo, err := c.Topology(context.Background())
	if err != nil || len(topo.Shards) != 3 || c.Shards() != 3 {
		t.Fatalf("topology %+v, %v", topo, err)
	}
}

// TestAllocsPerCall measures the steady state of a reserve through the
// whole client: request, routing, pooled call, batch writer, reader, reply.
func TestAllocsPerCall(t *testing.T) {
	if testing.Short() {
		t.Skip("timing-sensitive")
	}
	f := newFakeNode(t, 1, 16, nil, true)
	c := dialFake(t, f, WithConnsPerNode(1))
	ctx := context.Background()
	req := ReserveRequest{SKU: "4710088412345", Store: "TPE0427", Customer: "M00012345"}
	for range 100 {
		if _, err := c.Reserve(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.Reserve(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.2f allocations per reserve", allocs)
	if allocs > 1 {
		t.Fatalf("%.2f allocations per reserve, want at most 1", allocs)
	}
}

var _ = errFake
