package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/router"
)

// Limits of forwarding (docs/adr/0050).
const (
	// forwardInFlightMax bounds the commands this node has on other nodes
	// at once: each holds a goroutine and a connection. Over it a command is
	// answered busy rather than queued without bound.
	forwardInFlightMax = 256
	// forwardIdlePerPeer is how many idle connections to one peer are kept
	// for reuse; more are closed once their call is done.
	forwardIdlePerPeer = 16
	// forwardTimeout bounds one forwarded command, every hop included: a
	// commit takes milliseconds, an election about a second.
	forwardTimeout = 5 * time.Second
	// forwardHopsMax is how many NOT_LEADER hints are followed: one for a
	// leader that just moved, one more for a hint that was already stale.
	forwardHopsMax = 3
	// forwardDialTimeout bounds a connect and HELLO to a peer.
	forwardDialTimeout = 2 * time.Second
	// forwardMaxFrame is the largest reply frame read from a peer.
	forwardMaxFrame = protocol.MaxFrameBytesLimit
)

// forwarder is the wire of router.Forwarder: it runs domain commands on
// shards this node does not lead, as SHARD_CALL frames to a node's client
// address (the router decides which), over pooled connections
// authenticated with the cluster token, following NOT_LEADER hints. A
// command forwarded once is never routed again by the node that receives
// it, so forwarding cannot loop.
type forwarder struct {
	token string
	log   *slog.Logger
	slots chan struct{} // capacity forwardInFlightMax

	mu     sync.Mutex
	idle   map[string][]*peerConn
	closed bool
}

func newForwarder(token string, log *slog.Logger) *forwarder {
	return &forwarder{token: token, log: log, slots: make(chan struct{}, forwardInFlightMax),
		idle: make(map[string][]*peerConn)}
}

// peerError is a command a peer did not serve: its ERROR reply.
type peerError struct {
	code engine.Code
	msg  string
}

func (e *peerError) Error() string { return "peer: " + e.code.String() + ": " + e.msg }

// peerNotLeader is a NOT_LEADER reply from a peer; the caller follows it.
type peerNotLeader struct{ nl protocol.NotLeader }

func (e *peerNotLeader) Error() string {
	return fmt.Sprintf("shard %d: not the leader; the leader is node %d at %s", e.nl.Shard, e.nl.LeaderID, e.nl.LeaderAddr)
}

var errForwardBusy = &refusal{Code: engine.CodeBusy, Msg: "too many commands forwarded to other nodes"}

// forwardErr maps a forwarding failure to the refusal a client sees. A
// failure after the frame was written leaves the outcome unknown: timeout,
// so the client retries with its idempotency key.
func forwardErr(err error, sent bool) error {
	var pe *peerError
	var pnl *peerNotLeader
	switch {
	case errors.As(err, &pe) && pe.code == engine.CodeNotHeld:
		return router.ErrNotHeld // the router asks the next node that may hold the shard
	case errors.As(err, &pe):
		return &refusal{Code: pe.code, Msg: pe.msg}
	case errors.As(err, &pnl):
		return &refusal{Code: engine.CodeUnavailable, Msg: pnl.Error()}
	case errors.Is(err, errForwardClosed):
		return errDraining
	case sent:
		return &refusal{Code: engine.CodeTimeout, Msg: "forwarded to another node, no answer: " + err.Error()}
	}
	return &refusal{Code: engine.CodeUnavailable, Msg: "cannot reach the shard's leader: " + err.Error()}
}

var errForwardClosed = errors.New("forwarder closed")

// Forward runs cmd on shard at the node serving addr (router.Forwarder):
// the call takes a goroutine and a connection of its own until done, at
// most forwardInFlightMax at once (then busy, and nothing is sent).
func (f *forwarder) Forward(shard int, addr string, cmd *engine.Command, done func(engine.Result, error)) error {
	if !f.take() {
		return errForwardBusy
	}
	go func() {
		defer f.free()
		ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
		defer cancel()
		done(f.call(ctx, addr, uint16(shard), cmd))
	}()
	return nil
}

// ForwardGroup runs a group at the node serving addr as a BATCH
// (router.Forwarder): a cart's linked group, or the nodes' own commands of
// one shard (an outbox delivery, a sweep's reads, a chain's claims),
// which the receiver takes from the cluster token only (auth.go). It is
// bounded as Forward is.
func (f *forwarder) ForwardGroup(addr string, cmds []engine.Command, done func([]engine.Result, error)) error {
	if !f.take() {
		return errForwardBusy
	}
	go func() {
		defer f.free()
		ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
		defer cancel()
		done(f.callBatch(ctx, addr, cmds))
	}()
	return nil
}

// take counts a forwarded command in flight, or reports that too many are.
func (f *forwarder) take() bool {
	select {
	case f.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (f *forwarder) free() { <-f.slots }

// call runs cmd on shard at the node serving addr, following hints. It
// blocks; Forward runs it on a goroutine of its own.
func (f *forwarder) call(ctx context.Context, addr string, shard uint16, cmd *engine.Command) (engine.Result, error) {
	if err := protocol.CheckShardCall(cmd); err != nil {
		return engine.Result{}, &refusal{Code: protocol.CodeOf(err), Msg: err.Error()}
	}
	for hop := 0; ; hop++ {
		r, sent, err := f.callOnce(ctx, addr, shard, cmd)
		var pnl *peerNotLeader
		if errors.As(err, &pnl) && hop+1 < forwardHopsMax && pnl.nl.LeaderAddr != "" && pnl.nl.LeaderAddr != addr {
			addr = pnl.nl.LeaderAddr
			continue
		}
		if err != nil {
			return engine.Result{}, forwardErr(err, sent)
		}
		return r, nil
	}
}

// callOnce sends one SHARD_CALL to addr and reads its reply. sent reports
// whether the frame may have reached the peer.
func (f *forwarder) callOnce(ctx context.Context, addr string, shard uint16, cmd *engine.Command) (engine.Result, bool, error) {
	pc, reused, err := f.get(ctx, addr)
	if err != nil {
		return engine.Result{}, false, err
	}
	r, err := pc.do(ctx, shard, cmd)
	if err != nil && reused && pc.replied == 0 && retrySafe(cmd) && peerGone(err) {
		// An idle connection the peer had closed (a restart): the request
		// found nobody; once more on a new connection.
		pc.nc.Close()
		if pc, err = dialPeer(ctx, addr, f.token); err != nil {
			return engine.Result{}, true, err
		}
		r, err = pc.do(ctx, shard, cmd)
	}
	if err != nil {
		var pe *peerError
		var pnl *peerNotLeader
		if errors.As(err, &pe) || errors.As(err, &pnl) {
			f.put(pc) // a clean refusal: the connection is still in step
		} else {
			pc.nc.Close()
		}
		return engine.Result{}, true, err
	}
	f.put(pc)
	return r, true, nil
}

// peerGone reports an error of a connection the peer had closed.
func peerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// retrySafe reports whether a command may be sent twice: reads, the claim
// ops (idempotent by their claim) and keyed commands.
func retrySafe(cmd *engine.Command) bool {
	return cmd.Op.ReadOnly() || cmd.Op.Internal() || len(cmd.Key) > 0
}

// get returns an idle connection to addr (reused) or a new one.
func (f *forwarder) get(ctx context.Context, addr string) (*peerConn, bool, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, false, errForwardClosed
	}
	if l := f.idle[addr]; len(l) > 0 {
		pc := l[len(l)-1]
		f.idle[addr] = l[:len(l)-1]
		f.mu.Unlock()
		return pc, true, nil
	}
	f.mu.Unlock()
	pc, err := dialPeer(ctx, addr, f.token)
	return pc, false, err
}

func (f *forwarder) put(pc *peerConn) {
	f.mu.Lock()
	if !f.closed && len(f.idle[pc.addr]) < forwardIdlePerPeer {
		f.idle[pc.addr] = append(f.idle[pc.addr], pc)
		pc = nil
	}
	f.mu.Unlock()
	if pc != nil {
		pc.nc.Close()
	}
}

// close closes the idle connections; calls in flight finish on theirs.
func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, l := range f.idle {
		for _, pc := range l {
			pc.nc.Close()
		}
	}
	f.idle = nil
}

// peerConn is one connection to a peer's client port, used by one call at
// a time.
type peerConn struct {
	addr    string
	nc      net.Conn
	rd      *protocol.Reader
	buf     []byte
	reqID   uint32
	replied int // frames read for the call in progress
}

func dialPeer(ctx context.Context, addr, token string) (*peerConn, error) {
	d := net.Dialer{Timeout: forwardDialTimeout, KeepAlive: 15 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(forwardDialTimeout))
	hello := protocol.Hello{Version: protocol.ProtocolVersion, MaxFrame: forwardMaxFrame, Token: token, Client: "invd-forward"}
	if _, err := nc.Write(protocol.AppendHello(nil, 1, &hello)); err != nil {
		nc.Close()
		return nil, err
	}
	rd := protocol.NewReader(nc, forwardMaxFrame)
	fr, err := rd.Next()
	if err == nil {
		err = helloAnswer(fr)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("HELLO to %s: %w", addr, err)
	}
	return &peerConn{addr: addr, nc: nc, rd: rd, reqID: 1}, nil
}

func helloAnswer(fr protocol.Frame) error {
	switch {
	case !fr.Reply():
		return errors.New("a request where a HELLO reply was due")
	case fr.Op == protocol.OpError:
		var e protocol.ErrorReply
		if err := protocol.DecodeErrorReply(fr.Payload, &e); err != nil {
			return err
		}
		return &peerError{e.Code, e.Message}
	case fr.Op != protocol.OpHello:
		return errors.New("HELLO answered with " + fr.Op.String())
	}
	var hr protocol.HelloReply
	return protocol.DecodeHelloReply(fr.Payload, &hr)
}

// do sends one SHARD_CALL and reads its reply.
func (pc *peerConn) do(ctx context.Context, shard uint16, cmd *engine.Command) (engine.Result, error) {
	deadline := time.Now().Add(forwardTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = pc.nc.SetDeadline(deadline)
	pc.reqID++
	pc.replied = 0
	id := pc.reqID
	pc.buf = protocol.AppendShardCall(pc.buf[:0], id, shard, cmd)
	if _, err := pc.nc.Write(pc.buf); err != nil {
		return engine.Result{}, err
	}
	for {
		fr, err := pc.rd.Next()
		if err != nil {
			return engine.Result{}, err
		}
		pc.replied++
		if fr.ReqID != id || !fr.Reply() {
			continue // a late reply to nothing we wait for
		}
		if fr.Compression() != protocol.CompressionNone {
			return engine.Result{}, errors.New("a compressed reply that was not negotiated")
		}
		switch fr.Op {
		case protocol.OpError:
			var e protocol.ErrorReply
			if err := protocol.DecodeErrorReply(fr.Payload, &e); err != nil {
				return engine.Result{}, err
			}
			return engine.Result{}, &peerError{e.Code, e.Message}
		case protocol.OpNotLeader:
			var nl protocol.NotLeader
			if err := protocol.DecodeNotLeader(fr.Payload, &nl); err != nil {
				return engine.Result{}, err
			}
			return engine.Result{}, &peerNotLeader{nl}
		case protocol.DomainOp(cmd.Op):
			var r engine.Result
			if err := protocol.DecodeResult(fr.Payload, &r); err != nil {
				return engine.Result{}, err
			}
			return r, nil
		}
		return engine.Result{}, errors.New("SHARD_CALL answered with " + fr.Op.String())
	}
}

// serveShardCall runs a SHARD_CALL from another node on the shard it
// names, here only: a node that does not lead the shard answers
// NOT_LEADER with its hint, one that holds no replica of it not_held
// (router.ServeHere; event loop).
func (s *Server) serveShardCall(c *conn, f protocol.Frame, now time.Time) {
	cmd := &c.cmd
	shard, err := protocol.DecodeShardCall(f.Payload, cmd)
	if err != nil {
		s.unadmit(c)
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return
	}
	if int(shard) >= len(s.shards) {
		s.unadmit(c)
		c.sendError(f.ReqID, engine.CodeBadRequest, fmt.Sprintf("no shard %d", shard))
		return
	}
	s.router.ServeHere(int(shard), cmd, newCall(c, f.ReqID, cmd.Op, now).done)
}

// callBatch runs a linked group on the node serving addr as a BATCH (the
// group lies in one shard, which that node's batch path routes and whose
// claims its coordinator takes), following NOT_LEADER hints. It blocks;
// ForwardGroup runs it on a goroutine of its own.
func (f *forwarder) callBatch(ctx context.Context, addr string, chain []engine.Command) ([]engine.Result, error) {
	for i := range chain {
		if err := protocol.CheckRequest(&chain[i]); err != nil {
			return nil, &refusal{Code: protocol.CodeOf(err), Msg: err.Error()}
		}
	}
	for hop := 0; ; hop++ {
		pc, _, err := f.get(ctx, addr)
		if err != nil {
			return nil, forwardErr(err, false)
		}
		rs, nl, err := pc.doBatch(ctx, chain)
		if err != nil {
			pc.nc.Close()
			return nil, forwardErr(err, true)
		}
		f.put(pc)
		if nl == nil {
			return rs, nil
		}
		if hop+1 >= forwardHopsMax || nl.LeaderAddr == "" || nl.LeaderAddr == addr {
			return nil, forwardErr(&peerNotLeader{*nl}, true)
		}
		addr = nl.LeaderAddr
	}
}

// doBatch sends one BATCH and reads its reply: the results, or the first
// NOT_LEADER among its entries. An ERROR entry fails the group with its code.
func (pc *peerConn) doBatch(ctx context.Context, chain []engine.Command) ([]engine.Result, *protocol.NotLeader, error) {
	deadline := time.Now().Add(forwardTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = pc.nc.SetDeadline(deadline)
	pc.reqID++
	id := pc.reqID
	pc.buf = protocol.AppendBatchRequest(pc.buf[:0], id, chain)
	if _, err := pc.nc.Write(pc.buf); err != nil {
		return nil, nil, err
	}
	for {
		fr, err := pc.rd.Next()
		if err != nil {
			return nil, nil, err
		}
		if fr.ReqID != id || !fr.Reply() {
			continue
		}
		switch fr.Op {
		case protocol.OpError:
			var e protocol.ErrorReply
			if err := protocol.DecodeErrorReply(fr.Payload, &e); err != nil {
				return nil, nil, err
			}
			return nil, nil, &peerError{e.Code, e.Message}
		case protocol.OpBatch:
		default:
			return nil, nil, errors.New("BATCH answered with " + fr.Op.String())
		}
		brs, err := protocol.DecodeBatchResult(fr.Payload, nil)
		if err != nil {
			return nil, nil, err
		}
		if len(brs) != len(chain) {
			return nil, nil, fmt.Errorf("BATCH of %d answered with %d entries", len(chain), len(brs))
		}
		rs := make([]engine.Result, len(brs))
		for i := range brs {
			switch brs[i].Op {
			case protocol.OpNotLeader:
				nl := brs[i].NotLeader
				return nil, &nl, nil
			case protocol.OpError:
				return nil, nil, &peerError{brs[i].Err.Code, brs[i].Err.Message}
			}
			rs[i] = brs[i].Result
		}
		return rs, nil, nil
	}
}
