// Proves the Tracer and Dialer options against the in-process fake node
// (fake_test.go): a traced call is one start and one end however many
// attempts it took, and the end carries the op, the shard the call was
// routed to, the answer's code (refusals are answers: no error), or the
// error and its code when no answer came; the end gets the context the
// start returned. A custom Dialer carries every connection the client
// opens, under the dial timeout, and its failure is the caller's error.
package client

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// recTracer records every start and end, and checks that the end gets the
// context its start returned.
type recTracer struct {
	mu     sync.Mutex
	starts []RequestStart
	ends   []RequestEnd
	lost   int // ends whose context lacked the start's value
}

type traceKey struct{}

func (t *recTracer) TraceRequestStart(ctx context.Context, s RequestStart) context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.starts = append(t.starts, s)
	return context.WithValue(ctx, traceKey{}, s.Op)
}

func (t *recTracer) TraceRequestEnd(ctx context.Context, e RequestEnd) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ctx.Value(traceKey{}) != e.Op {
		t.lost++
	}
	t.ends = append(t.ends, e)
}

// take returns what was recorded for op since the last take, and forgets
// the topology fetches the client makes by itself.
func (t *recTracer) take(op string) (starts int, ends []RequestEnd) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.starts {
		if s.Op == op {
			starts++
		}
	}
	for _, e := range t.ends {
		if e.Op == op {
			ends = append(ends, e)
		}
	}
	t.starts, t.ends = nil, nil
	return starts, ends
}

func TestTracerSeesOneStartAndEndPerCall(t *testing.T) {
	const shards = 4
	var busy atomic.Int32
	f := newFake(t, shards, func(cmd *engine.Command) fakeReply {
		switch string(cmd.SKU) {
		case "retry": // two busy answers, then the hold
			if busy.Add(1) <= 2 {
				return fakeReply{code: engine.CodeBusy}
			}
		case "gone":
			return fakeReply{res: engine.Result{Code: engine.CodeSoldOut}}
		case "never":
			return fakeReply{code: engine.CodeBusy}
		}
		return fakeReply{res: engine.Result{ID: 7, State: engine.StateHeld, Qty: 1}}
	})
	tr := &recTracer{}
	c := dialFake(t, f, fastRetry, WithTracer(tr))
	ctx := context.Background()
	store := "S1"
	shard := protocol.ShardOfStore([]byte(store), shards)
	for _, tc := range []struct {
		sku     string
		code    Code
		callErr error // what the call returns
		endErr  bool  // whether the trace's end carries an error
	}{
		{"retry", CodeOK, nil, false},
		{"gone", CodeSoldOut, ErrSoldOut, false}, // a refusal is an answer
		{"never", CodeBusy, ErrBusy, true},       // retries ran out: no answer
	} {
		tr.take("")
		_, err := c.Reserve(ctx, ReserveRequest{SKU: tc.sku, Store: store, Customer: "c"})
		if !errors.Is(err, tc.callErr) || (err == nil) != (tc.callErr == nil) {
			t.Fatalf("%s: err %v, want %v", tc.sku, err, tc.callErr)
		}
		starts, ends := tr.take("reserve")
		if starts != 1 || len(ends) != 1 {
			t.Fatalf("%s: %d starts, %d ends, want 1 and 1", tc.sku, starts, len(ends))
		}
		e := ends[0]
		if e.Shard != shard || e.Code != tc.code || (e.Err != nil) != tc.endErr || e.Duration <= 0 {
			t.Errorf("%s: end %+v, want shard %d code %v error %v", tc.sku, e, shard, tc.code, tc.endErr)
		}
	}
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if starts, ends := tr.take("ping"); starts != 1 || len(ends) != 1 || ends[0].Shard != -1 || ends[0].Err != nil {
		t.Errorf("ping: %d starts, ends %+v", starts, ends)
	}
	if tr.lost != 0 {
		t.Errorf("%d ends did not get the context their start returned", tr.lost)
	}
}

// TestTracerNamesACartByItsOpAndRefusal: a cart is one traced request,
// "reserve_many", whose code is the refusing line's.
func TestTracerNamesACartByItsOpAndRefusal(t *testing.T) {
	f := newFake(t, 1, func(cmd *engine.Command) fakeReply {
		if string(cmd.SKU) == "B" {
			return fakeReply{res: engine.Result{Code: engine.CodeSoldOut}}
		}
		return fakeReply{res: engine.Result{Code: engine.CodeLinkFailed}}
	})
	tr := &recTracer{}
	c := dialFake(t, f, WithTracer(tr))
	tr.take("")
	_, err := c.ReserveMany(context.Background(), CartRequest{Store: "S", Customer: "c",
		Lines: []CartLine{{SKU: "A"}, {SKU: "B"}}})
	if !errors.Is(err, ErrSoldOut) {
		t.Fatalf("cart: %v, want sold out", err)
	}
	starts, ends := tr.take("reserve_many")
	if starts != 1 || len(ends) != 1 || ends[0].Code != CodeSoldOut || ends[0].Err != nil || ends[0].Shard != 0 {
		t.Fatalf("cart: %d starts, ends %+v", starts, ends)
	}
}

// countingDialer dials through net.Dialer and records every dial and
// whether its context carried a deadline.
type countingDialer struct {
	dials, withDeadline atomic.Int32
	fail                error
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.dials.Add(1)
	if _, ok := ctx.Deadline(); ok {
		d.withDeadline.Add(1)
	}
	if d.fail != nil {
		return nil, d.fail
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func TestDialerCarriesEveryConnection(t *testing.T) {
	f := newFake(t, 1, nil)
	d := &countingDialer{}
	c := dialFake(t, f, WithDialer(d), WithDialTimeout(time.Second))
	ctx := context.Background()
	for range 6 {
		if _, err := c.Reserve(ctx, ReserveRequest{SKU: "A", Store: "S", Customer: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	n := d.dials.Load()
	if n < 1 || d.withDeadline.Load() != n {
		t.Errorf("%d dials, %d with a deadline; want every connection dialled under the dial timeout",
			n, d.withDeadline.Load())
	}
	// The node counts a connection when its accept loop gets to it: wait
	// for it to count as many as the dialer opened, and no more.
	served := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		f.mu.Lock()
		served = len(f.conns)
		f.mu.Unlock()
		if served >= int(n) {
			break
		}
	}
	if served != int(n) {
		t.Errorf("the node accepted %d connections, the dialer opened %d: some bypassed it", served, n)
	}
}

func TestDialerFailureIsTheCallersError(t *testing.T) {
	errProxy := errors.New("proxy refused")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, []string{"127.0.0.1:1"}, WithDialer(&countingDialer{fail: errProxy}),
		WithRetry(RetryPolicy{MaxAttempts: 1}))
	if !errors.Is(err, errProxy) {
		t.Fatalf("Dial through a failing dialer: %v, want the dialer's error", err)
	}
}
