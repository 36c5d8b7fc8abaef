// Tests of the forwarder against scripted peers speaking the protocol: it
// says HELLO with the cluster token, sends SHARD_CALL frames naming the
// shard, follows a NOT_LEADER hint to the leader, reuses its connection,
// dials again when a peer closed an idle one, turns an ERROR into that
// refusal (not_held: the router's ErrNotHeld), gives up on a silent peer at
// its deadline with the outcome unknown (timeout), and refuses busy over its
// bound of calls in flight.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/router"
)

// fakePeer serves one protocol connection at a time with answer.
type fakePeer struct {
	ln      net.Listener
	hellos  atomic.Int32
	calls   atomic.Int32
	token   atomic.Pointer[string]
	closeIn atomic.Bool  // close each connection after its first call
	drop    atomic.Int32 // calls to drop, each closing its connection unanswered
}

func startPeer(t *testing.T, answer func(shard uint16, cmd *engine.Command, reqID uint32) []byte) *fakePeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePeer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(nc, answer)
		}
	}()
	return p
}

func (p *fakePeer) serve(nc net.Conn, answer func(uint16, *engine.Command, uint32) []byte) {
	defer nc.Close()
	rd := protocol.NewReader(nc, protocol.DefaultMaxFrameBytes)
	for {
		f, err := rd.Next()
		if err != nil {
			return
		}
		switch f.Op {
		case protocol.OpHello:
			var h protocol.Hello
			_ = protocol.DecodeHello(f.Payload, &h)
			p.token.Store(&h.Token)
			p.hellos.Add(1)
			_, _ = nc.Write(protocol.AppendHelloReply(nil, f.ReqID, &protocol.HelloReply{Version: protocol.ProtocolVersion}))
		case protocol.OpShardCall:
			var cmd engine.Command
			shard, err := protocol.DecodeShardCall(f.Payload, &cmd)
			if err != nil {
				return
			}
			if p.calls.Add(1); p.drop.Add(-1) >= 0 {
				return
			}
			if out := answer(shard, &cmd, f.ReqID); out != nil {
				_, _ = nc.Write(out)
			}
			if p.closeIn.Load() {
				return
			}
		}
	}
}

func (p *fakePeer) addr() string { return p.ln.Addr().String() }

// call runs cmd through Forward and waits for its answer; ctx's deadline,
// if any, is the command's.
func (f *forwarder) call(ctx context.Context, addr string, shard uint16, cmd *engine.Command) (engine.Result, error) {
	type answer struct {
		r   engine.Result
		err error
	}
	got := make(chan answer, 1)
	if err := f.forwardBy(ctx, int(shard), addr, cmd, func(r engine.Result, err error) { got <- answer{r, err} }); err != nil {
		return engine.Result{}, err
	}
	a := <-got
	return a.r, a.err
}

// forwardBy is Forward with ctx's deadline, when it has one.
func (f *forwarder) forwardBy(ctx context.Context, shard int, addr string, cmd *engine.Command, done func(engine.Result, error)) error {
	dl, ok := ctx.Deadline()
	if !ok {
		return f.Forward(shard, addr, cmd, done)
	}
	if err := protocol.CheckShardCall(cmd); err != nil {
		return &refusal{Code: protocol.CodeOf(err), Msg: err.Error()}
	}
	if !f.take() {
		return errForwardBusy
	}
	c := f.calls.Get().(*fwdCall)
	c.addr, c.shard, c.cmd, c.done, c.slot, c.deadline = addr, uint16(shard), cmd, done, true, dl
	f.dispatch(c)
	return nil
}

func TestForwarderFollowsHintsAndReuses(t *testing.T) {
	leader := startPeer(t, func(shard uint16, cmd *engine.Command, reqID uint32) []byte {
		if shard != 3 || cmd.Op != engine.OpClaim || string(cmd.Claim) != "k1" {
			return protocol.AppendError(nil, reqID, &protocol.ErrorReply{Code: engine.CodeBadRequest, Message: "unexpected call"})
		}
		return protocol.AppendResult(nil, reqID, cmd.Op, &engine.Result{Qty: cmd.Qty, ExpiresAt: 77, PickupCode: 99})
	})
	follower := startPeer(t, func(shard uint16, _ *engine.Command, reqID uint32) []byte {
		return protocol.AppendNotLeader(nil, reqID, &protocol.NotLeader{Shard: shard, LeaderID: 2, LeaderAddr: leader.addr()})
	})
	f := newForwarder("the-cluster-token", slog.Default())
	f.links = 1
	defer f.close()
	claim := &engine.Command{Op: engine.OpClaim, Customer: []byte("c"), SKU: []byte("s"), Qty: 2, Limit: 3, Claim: []byte("k1")}
	for i := range 3 {
		r, err := f.call(context.Background(), follower.addr(), 3, claim)
		if err != nil || r.Qty != 2 || r.ExpiresAt != 77 || r.PickupCode != 99 {
			t.Fatalf("call %d: %+v %v", i, r, err)
		}
	}
	if n := leader.hellos.Load() + follower.hellos.Load(); n != 2 {
		t.Fatalf("%d HELLOs for 3 calls to 2 peers: connections not reused", n)
	}
	if tok := leader.token.Load(); tok == nil || *tok != "the-cluster-token" {
		t.Fatalf("HELLO token %v", tok)
	}

	// The leader closes idle connections (a restart): the call dials again.
	leader.closeIn.Store(true)
	for i := range 2 {
		if _, err := f.call(context.Background(), leader.addr(), 3, claim); err != nil {
			t.Fatalf("after the peer closed the idle connection (%d): %v", i, err)
		}
	}

	// An ERROR is that refusal.
	_, err := f.call(context.Background(), leader.addr(), 4, claim)
	var rf *refusal
	if !errors.As(err, &rf) || rf.Code != engine.CodeBadRequest {
		t.Fatalf("an ERROR reply: %v", err)
	}
}

func TestForwarderDeadline(t *testing.T) {
	silent := startPeer(t, func(uint16, *engine.Command, uint32) []byte { return nil })
	f := newForwarder("", slog.Default())
	defer f.close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.call(ctx, silent.addr(), 0, &engine.Command{Op: engine.OpReleaseClaim, Claim: []byte("k")})
	var rf *refusal
	if !errors.As(err, &rf) || rf.Code != engine.CodeTimeout {
		t.Fatalf("a silent peer: %v, want timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("gave up after %s", d)
	}
	if _, err := f.call(context.Background(), "127.0.0.1:1", 0, &engine.Command{Op: engine.OpReleaseClaim, Claim: []byte("k")}); !errors.As(err, &rf) || rf.Code != engine.CodeUnavailable {
		t.Fatalf("no peer at all: %v, want unavailable", err)
	}
}

// TestForwarderAsNotHeldAndBusy: the forwarder as the router sees it
// (router.Forwarder): Forward answers on its own goroutine; a peer's ERROR
// not_held is router.ErrNotHeld, so that the router asks the next node;
// over forwardInFlightMax calls at once, Forward refuses busy and sends
// nothing.
func TestForwarderAsNotHeldAndBusy(t *testing.T) {
	outside := startPeer(t, func(_ uint16, _ *engine.Command, reqID uint32) []byte {
		return protocol.AppendError(nil, reqID, &protocol.ErrorReply{Code: engine.CodeNotHeld, Message: "not here"})
	})
	f := newForwarder("", slog.Default())
	defer f.close()
	got := make(chan error, 1)
	cmd := &engine.Command{Op: engine.OpGetCustomer, Customer: []byte("c")}
	if err := f.Forward(2, outside.addr(), cmd, func(_ engine.Result, err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, router.ErrNotHeld) {
		t.Fatalf("a peer's not_held: %v", err)
	}
	for range forwardInFlightMax {
		f.slots <- struct{}{}
	}
	err := f.Forward(2, outside.addr(), cmd, func(engine.Result, error) { t.Error("a refused call answered") })
	var rf *refusal
	if !errors.As(err, &rf) || rf.Code != engine.CodeBusy {
		t.Fatalf("over the bound: %v, want busy", err)
	}
	if err := f.ForwardGroup(outside.addr(), []engine.Command{*cmd}, nil); !errors.As(err, &rf) || rf.Code != engine.CodeBusy {
		t.Fatalf("a group over the bound: %v, want busy", err)
	}
}

// TestForwarderPipelines: commands to one peer share one connection, in
// flight together, their replies matched by request id whatever their
// order (the peer answers a round of them backwards).
func TestForwarderPipelines(t *testing.T) {
	const n = 64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var hellos atomic.Int32
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				rd := protocol.NewReader(nc, protocol.DefaultMaxFrameBytes)
				var round []byte
				var held [][]byte
				for {
					f, err := rd.Next()
					if err != nil {
						return
					}
					if f.Op == protocol.OpHello {
						hellos.Add(1)
						_, _ = nc.Write(protocol.AppendHelloReply(nil, f.ReqID, &protocol.HelloReply{Version: protocol.ProtocolVersion}))
						continue
					}
					var cmd engine.Command
					if _, err := protocol.DecodeShardCall(f.Payload, &cmd); err != nil {
						return
					}
					held = append(held, protocol.AppendResult(nil, f.ReqID, cmd.Op, &engine.Result{Qty: cmd.Qty}))
					if len(held) == n {
						round = round[:0]
						for i := len(held) - 1; i >= 0; i-- {
							round = append(round, held[i]...)
						}
						held = held[:0]
						_, _ = nc.Write(round)
					}
				}
			}()
		}
	}()
	f := newForwarder("", slog.Default())
	f.links = 1
	defer f.close()
	type answer struct {
		want int64
		r    engine.Result
		err  error
	}
	got := make(chan answer, n)
	for i := range n {
		cmd := &engine.Command{Op: engine.OpClaim, Customer: []byte("c"), SKU: []byte("s"), Qty: int64(i + 1), Limit: 1000, Claim: []byte("k")}
		if err := f.Forward(1, ln.Addr().String(), cmd, func(r engine.Result, err error) { got <- answer{int64(i + 1), r, err} }); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		a := <-got
		if a.err != nil || a.r.Qty != a.want {
			t.Fatalf("command %d answered %+v, %v", a.want, a.r, a.err)
		}
	}
	if h := hellos.Load(); h != 1 {
		t.Fatalf("%d connections for %d commands at once, want 1", h, n)
	}
	if k := len(f.slots); k != 0 {
		t.Fatalf("%d slots still taken after every answer", k)
	}
}

// TestForwarderConnectionLost: a peer that closes the connection under a
// written command: a command safe to send twice goes again on a new
// connection and is answered; one that is not is answered timeout (it may
// have been applied), never sent twice.
func TestForwarderConnectionLost(t *testing.T) {
	peer := startPeer(t, func(_ uint16, cmd *engine.Command, reqID uint32) []byte {
		return protocol.AppendResult(nil, reqID, cmd.Op, &engine.Result{Qty: cmd.Qty})
	})
	peer.drop.Store(1)
	f := newForwarder("", slog.Default())
	f.links = 1
	defer f.close()
	claim := &engine.Command{Op: engine.OpClaim, Customer: []byte("c"), SKU: []byte("s"), Qty: 2, Limit: 3, Claim: []byte("k1")}
	r, err := f.call(context.Background(), peer.addr(), 1, claim)
	if err != nil || r.Qty != 2 {
		t.Fatalf("a claim whose connection broke under it: %+v, %v", r, err)
	}
	if c := peer.calls.Load(); c != 2 {
		t.Fatalf("the claim reached the peer %d times, want 2 (sent again)", c)
	}
	peer.drop.Store(1)
	reserve := &engine.Command{Op: engine.OpReserve, SKU: []byte("s"), Store: []byte("st"), Customer: []byte("c"), Qty: 1}
	_, err = f.call(context.Background(), peer.addr(), 1, reserve)
	var rf *refusal
	if !errors.As(err, &rf) || rf.Code != engine.CodeTimeout {
		t.Fatalf("an unkeyed reserve whose connection broke under it: %v, want timeout", err)
	}
	if c := peer.calls.Load(); c != 3 {
		t.Fatalf("the reserve reached the peer %d times, want once", c-2)
	}
}
