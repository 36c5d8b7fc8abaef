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
	closeIn atomic.Bool // close each connection after its first call
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
			p.calls.Add(1)
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
