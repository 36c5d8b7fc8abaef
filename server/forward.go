package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/router"
)

// Limits of forwarding (docs/adr/0050, 0126).
const (
	// forwardInFlightMax bounds the commands and groups this node has on
	// other nodes at once. Over it a command is answered busy rather than
	// queued without bound. Each costs a record and its frame on a shared
	// connection, not a goroutine: 4,096 is a node's own clients' pipelines
	// (64 × 16 in the reference workloads) four times over, each of whose
	// requests may need one claim at another node's shard.
	forwardInFlightMax = 4096
	// forwardTimeout bounds one forwarded command, every hop included: a
	// commit takes milliseconds, an election about a second.
	forwardTimeout = 5 * time.Second
	// forwardHopsMax is how many NOT_LEADER hints are followed: one for a
	// leader that just moved, one more for a hint that was already stale.
	forwardHopsMax = 3
	// forwardAttemptsMax is how many connections one command is sent on
	// when they break under it: a peer that restarted closes the one the
	// command found; only commands safe to send twice are sent again once
	// written (retrySafe).
	forwardAttemptsMax = 3
	// forwardDialTimeout bounds a connect and HELLO to a peer.
	forwardDialTimeout = 2 * time.Second
	// forwardMaxFrame is the largest reply frame read from a peer.
	forwardMaxFrame = protocol.MaxFrameBytesLimit
	// forwardTick is how often commands past their deadline are looked for.
	forwardTick = 100 * time.Millisecond
	// forwardKeepBuffer is the largest write buffer a connection keeps for
	// its next round; a burst's larger one is dropped.
	forwardKeepBuffer = 1 << 20
)

// forwardLinks is how many connections to one peer carry its commands,
// taken in turn. The peer reads each connection on one event loop, so one
// connection serves a small node (its replies come back coalesced, many a
// write) and a large node spreads the work over a few.
var forwardLinks = min(max(runtime.GOMAXPROCS(0)/4, 1), 4)

// forwarder is the wire of router.Forwarder (docs/adr/0126): it runs
// domain commands on shards this node does not lead, as SHARD_CALL frames
// (or a group as one BATCH) to a node's client address (the router decides
// which), following NOT_LEADER hints. Commands to one peer share a few
// pipelined connections authenticated with the cluster token: a command
// is a record in its connection's table of requests in flight and a frame
// in its write buffer; one writer goroutine a connection writes all frames
// queued since its last write with one syscall, one reader goroutine
// matches replies by request id in whatever order they come and calls the
// command's done. No goroutine or connection is made per command. A
// command forwarded once is never routed again by the node that receives
// it, so forwarding cannot loop.
type forwarder struct {
	token string
	log   *slog.Logger
	slots chan struct{} // capacity forwardInFlightMax
	calls sync.Pool     // *fwdCall
	stop  chan struct{} // closed by close: the deadline sweep ends
	links int           // connections a peer: forwardLinks

	mu     sync.Mutex
	peers  map[string]*peerSet
	closed bool
}

// peerSet is the connections to one peer address, taken in turn.
type peerSet struct {
	links []*peerLink // forwarder.links long; nil or failed: dialled on use
	next  uint32
}

func newForwarder(token string, log *slog.Logger) *forwarder {
	f := &forwarder{token: token, log: log, slots: make(chan struct{}, forwardInFlightMax),
		stop: make(chan struct{}), peers: make(map[string]*peerSet), links: forwardLinks}
	f.calls.New = func() any { return new(fwdCall) }
	go f.sweepLoop()
	return f
}

// fwdCall is one forwarded command (or group) from Forward until its done
// is called. It belongs to one party at a time: the table of the
// connection it was sent on, or the goroutine that took it out of one.
type fwdCall struct {
	addr     string
	shard    uint16
	cmd      *engine.Command  // a SHARD_CALL, or
	group    []engine.Command // a BATCH
	deadline time.Time
	hops     int  // NOT_LEADER hints followed
	attempts int  // connections it was queued on
	sent     bool // its frame on the current connection was handed to the socket
	everSent bool // some frame of it may have reached a peer: the outcome is unknown
	retried  bool // sent again after a connection broke under it
	slot     bool // holds one of f.slots

	done      func(engine.Result, error)
	doneGroup func([]engine.Result, error)
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

var (
	errForwardClosed = errors.New("forwarder closed")
	errNoAnswer      = errors.New("no answer within the deadline")
	errLinkStalled   = errors.New("connection stalled: nothing read within the deadline")
)

// Forward runs cmd on shard at the node serving addr (router.Forwarder).
// done is called once, on another goroutine, with the result or the
// refusal; cmd must stay unchanged until then. An error (busy over
// forwardInFlightMax, a command the protocol cannot carry) means nothing
// was sent and done will not be called.
func (f *forwarder) Forward(shard int, addr string, cmd *engine.Command, done func(engine.Result, error)) error {
	if err := protocol.CheckShardCall(cmd); err != nil {
		return &refusal{Code: protocol.CodeOf(err), Msg: err.Error()}
	}
	if !f.take() {
		return errForwardBusy
	}
	c := f.calls.Get().(*fwdCall)
	c.addr, c.shard, c.cmd, c.done, c.slot = addr, uint16(shard), cmd, done, true
	c.deadline = time.Now().Add(forwardTimeout)
	f.dispatch(c)
	return nil
}

// ForwardGroup runs a group at the node serving addr as a BATCH
// (router.Forwarder): a cart's linked group, or the nodes' own commands of
// one shard (an outbox delivery, a sweep's reads, a chain's claims),
// which the receiver takes from the cluster token only (auth.go). It is
// bounded and answered as Forward is; cmds must stay unchanged until done.
func (f *forwarder) ForwardGroup(addr string, cmds []engine.Command, done func([]engine.Result, error)) error {
	for i := range cmds {
		if err := protocol.CheckRequest(&cmds[i]); err != nil {
			return &refusal{Code: protocol.CodeOf(err), Msg: err.Error()}
		}
	}
	if !f.take() {
		return errForwardBusy
	}
	c := f.calls.Get().(*fwdCall)
	c.addr, c.group, c.doneGroup, c.slot = addr, cmds, done, true
	c.deadline = time.Now().Add(forwardTimeout)
	f.dispatch(c)
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

// dispatch queues c on a connection to c.addr, dialled if need be, or
// finishes it when none can be had.
func (f *forwarder) dispatch(c *fwdCall) {
	for c.attempts < forwardAttemptsMax {
		l, err := f.link(c.addr)
		if err != nil {
			f.finish(c, engine.Result{}, nil, forwardErr(err, c.everSent))
			return
		}
		c.attempts++
		if l.enqueue(c) {
			return
		}
	}
	f.finish(c, engine.Result{}, nil, forwardErr(errors.New("connections to "+c.addr+" keep failing"), c.everSent))
}

// finish hands c's outcome to its caller and recycles c.
func (f *forwarder) finish(c *fwdCall, r engine.Result, rs []engine.Result, err error) {
	done, doneGroup, slot := c.done, c.doneGroup, c.slot
	*c = fwdCall{}
	f.calls.Put(c)
	if slot {
		f.free()
	}
	if done != nil {
		done(r, err)
	} else if doneGroup != nil {
		doneGroup(rs, err)
	}
}

// link returns the next connection to addr, starting one where a slot has
// none or a failed one.
func (f *forwarder) link(addr string) (*peerLink, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errForwardClosed
	}
	ps := f.peers[addr]
	if ps == nil {
		ps = &peerSet{links: make([]*peerLink, f.links)}
		f.peers[addr] = ps
	}
	i := int(ps.next % uint32(len(ps.links)))
	ps.next++
	l := ps.links[i]
	if l == nil || l.broken.Load() {
		l = newPeerLink(f, addr)
		ps.links[i] = l
		go l.dial()
	}
	return l, nil
}

// forget removes l from its peer's set, if it is still there.
func (f *forwarder) forget(l *peerLink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ps := f.peers[l.addr]; ps != nil {
		for i, x := range ps.links {
			if x == l {
				ps.links[i] = nil
			}
		}
	}
}

// appendLinksLocked appends every connection of every peer to dst (under mu).
func (f *forwarder) appendLinksLocked(dst []*peerLink) []*peerLink {
	for _, ps := range f.peers {
		for _, l := range ps.links {
			if l != nil {
				dst = append(dst, l)
			}
		}
	}
	return dst
}

func (f *forwarder) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// close fails every connection (their commands answer draining) and stops
// the deadline sweep. The server closes it once requests in flight were
// answered.
func (f *forwarder) close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	links := f.appendLinksLocked(nil)
	f.peers = nil
	f.mu.Unlock()
	close(f.stop)
	for _, l := range links {
		l.fail(errForwardClosed, false)
	}
}

// sweepLoop finishes commands past their deadline with timeout (their
// frame was written, or is queued and will be: the outcome is unknown)
// and fails a
// connection on which nothing was read for forwardTimeout while a command
// timed out: the peer is hung or the path black-holed.
func (f *forwarder) sweepLoop() {
	t := time.NewTicker(forwardTick)
	defer t.Stop()
	var links []*peerLink
	var due []*fwdCall
	for {
		select {
		case <-f.stop:
			return
		case now := <-t.C:
			f.mu.Lock()
			links = f.appendLinksLocked(links[:0])
			f.mu.Unlock()
			for _, l := range links {
				var stalled bool
				due, stalled = l.expire(now, due[:0])
				for _, c := range due {
					f.finish(c, engine.Result{}, nil, forwardErr(errNoAnswer, true))
				}
				clear(due)
				if stalled {
					l.fail(errLinkStalled, false)
				}
			}
			clear(links)
		}
	}
}

// peerLink is one pipelined connection to a peer's client port.
type peerLink struct {
	f    *forwarder
	addr string

	mu       sync.Mutex
	nc       net.Conn // nil while dialling
	out      []byte   // frames queued since the last write
	outCalls []*fwdCall
	pending  map[uint32]*fwdCall
	nextID   uint32
	closed   bool

	broken   atomic.Bool  // failed: the set dials a new one in its place
	lastRead atomic.Int64 // Unix ns of the last frame read (or of the dial)
	wake     chan struct{}
	dead     chan struct{}

	spare []byte // the writer's other buffer
}

func newPeerLink(f *forwarder, addr string) *peerLink {
	return &peerLink{f: f, addr: addr, pending: make(map[uint32]*fwdCall),
		wake: make(chan struct{}, 1), dead: make(chan struct{})}
}

// enqueue encodes c's frame into the write buffer and enters it in the
// table; false when the connection has failed (the caller takes another).
func (l *peerLink) enqueue(c *fwdCall) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	id := l.nextReqID()
	first := len(l.out) == 0
	if c.cmd != nil {
		l.out = protocol.AppendShardCall(l.out, id, c.shard, c.cmd)
	} else {
		l.out = protocol.AppendBatchRequest(l.out, id, c.group)
	}
	c.sent = false
	l.pending[id] = c
	l.outCalls = append(l.outCalls, c)
	l.mu.Unlock()
	if first {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// nextReqID returns a request id not in flight (under mu).
func (l *peerLink) nextReqID() uint32 {
	for {
		l.nextID++
		if l.nextID == 0 {
			continue
		}
		if _, busy := l.pending[l.nextID]; !busy {
			return l.nextID
		}
	}
}

// dial connects, says HELLO and runs the connection: the reader on a
// goroutine of its own, the writer on this one.
func (l *peerLink) dial() {
	nc, rd, err := dialPeer(l.addr, l.f.token)
	if err != nil {
		l.fail(err, true)
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		nc.Close()
		return
	}
	l.nc = nc
	l.mu.Unlock()
	l.lastRead.Store(time.Now().UnixNano())
	go l.readLoop(rd)
	l.writeLoop()
}

// writeLoop writes every frame queued since its last write with one call.
func (l *peerLink) writeLoop() {
	for {
		select {
		case <-l.wake:
		case <-l.dead:
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return
		}
		buf := l.out
		l.out, l.spare = l.spare[:0], nil
		for i, c := range l.outCalls {
			c.sent, c.everSent = true, true
			l.outCalls[i] = nil
		}
		l.outCalls = l.outCalls[:0]
		nc := l.nc
		l.mu.Unlock()
		if len(buf) > 0 {
			_ = nc.SetWriteDeadline(time.Now().Add(forwardTimeout))
			if _, err := nc.Write(buf); err != nil {
				l.fail(err, false)
				return
			}
		}
		if cap(buf) <= forwardKeepBuffer {
			l.spare = buf[:0]
		}
	}
}

// readLoop matches replies to the commands in flight.
func (l *peerLink) readLoop(rd *protocol.Reader) {
	var brs []protocol.BatchResult
	for {
		fr, err := rd.Next()
		if err != nil {
			l.fail(err, false)
			return
		}
		l.lastRead.Store(time.Now().UnixNano())
		if !fr.Reply() {
			continue
		}
		l.mu.Lock()
		c := l.pending[fr.ReqID]
		if c != nil {
			delete(l.pending, fr.ReqID)
		}
		l.mu.Unlock()
		if c == nil {
			continue // a reply to a command that timed out
		}
		if fr.Compression() != protocol.CompressionNone {
			l.f.finish(c, engine.Result{}, nil, forwardErr(errors.New("a compressed reply that was not negotiated"), true))
			l.fail(errors.New("a compressed reply that was not negotiated"), false)
			return
		}
		if c.cmd != nil {
			l.answer(c, fr)
		} else {
			brs = l.answerGroup(c, fr, brs)
		}
	}
}

// answer finishes a SHARD_CALL with its reply, or sends it on to the
// leader a NOT_LEADER names.
func (l *peerLink) answer(c *fwdCall, fr protocol.Frame) {
	var err error
	switch fr.Op {
	case protocol.OpError:
		err = decodePeerError(fr.Payload)
	case protocol.OpNotLeader:
		var nl protocol.NotLeader
		if err = protocol.DecodeNotLeader(fr.Payload, &nl); err == nil {
			if l.follow(c, &nl) {
				return
			}
			err = &peerNotLeader{nl}
		}
	case protocol.DomainOp(c.cmd.Op):
		var r engine.Result
		if err = protocol.DecodeResult(fr.Payload, &r); err == nil {
			l.f.finish(c, r, nil, nil)
			return
		}
	default:
		err = errors.New("SHARD_CALL answered with " + fr.Op.String())
	}
	l.f.finish(c, engine.Result{}, nil, forwardErr(err, true))
}

// answerGroup finishes a BATCH with its results, or the first NOT_LEADER
// among its entries (followed when it names another node) or ERROR.
func (l *peerLink) answerGroup(c *fwdCall, fr protocol.Frame, brs []protocol.BatchResult) []protocol.BatchResult {
	var err error
	switch fr.Op {
	case protocol.OpError:
		err = decodePeerError(fr.Payload)
	case protocol.OpBatch:
		var rs []engine.Result
		var nl *protocol.NotLeader
		if brs, err = protocol.DecodeBatchResult(fr.Payload, brs); err == nil {
			rs, nl, err = groupResults(brs, len(c.group))
		}
		switch {
		case nl != nil && l.follow(c, nl):
			return brs
		case nl != nil:
			err = &peerNotLeader{*nl}
		case err == nil:
			l.f.finish(c, engine.Result{}, rs, nil)
			return brs
		}
	default:
		err = errors.New("BATCH answered with " + fr.Op.String())
	}
	l.f.finish(c, engine.Result{}, nil, forwardErr(err, true))
	return brs
}

// groupResults returns a BATCH reply's results for a group of n, or the
// first NOT_LEADER or ERROR among its entries.
func groupResults(brs []protocol.BatchResult, n int) ([]engine.Result, *protocol.NotLeader, error) {
	if len(brs) != n {
		return nil, nil, fmt.Errorf("BATCH of %d answered with %d entries", n, len(brs))
	}
	rs := make([]engine.Result, n)
	for i := range brs {
		switch brs[i].Op {
		case protocol.OpNotLeader:
			return nil, &brs[i].NotLeader, nil
		case protocol.OpError:
			return nil, nil, &peerError{brs[i].Err.Code, brs[i].Err.Message}
		}
		rs[i] = brs[i].Result
	}
	return rs, nil, nil
}

// follow sends c on to the leader nl names, when it names another node
// and hops are left.
func (l *peerLink) follow(c *fwdCall, nl *protocol.NotLeader) bool {
	if c.hops+1 >= forwardHopsMax || nl.LeaderAddr == "" || nl.LeaderAddr == c.addr {
		return false
	}
	c.hops++
	c.addr = nl.LeaderAddr
	c.attempts = 0
	l.f.dispatch(c)
	return true
}

// expire takes out the commands past their deadline and reports whether
// the connection is stalled (one of them was written and nothing was read
// since forwardTimeout).
func (l *peerLink) expire(now time.Time, due []*fwdCall) ([]*fwdCall, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	written := false
	for id, c := range l.pending {
		if now.After(c.deadline) {
			delete(l.pending, id)
			due = append(due, c)
			written = written || c.sent
		}
	}
	if len(due) > 0 {
		// Taken out of the table, they must leave the write queue too: a
		// command answered must not be written afterwards under an id that
		// no longer names it (its frame stays; a reply to it is dropped).
		l.outCalls = slices.DeleteFunc(l.outCalls, func(c *fwdCall) bool { return now.After(c.deadline) })
	}
	stalled := written && now.Sub(time.Unix(0, l.lastRead.Load())) >= forwardTimeout
	return due, stalled
}

// fail closes the connection and settles its commands: those never
// written go to another connection, those written and safe to send twice
// once more, the others are answered timeout (the outcome is unknown);
// after a failed dial every command is answered unavailable.
func (l *peerLink) fail(err error, dialFailed bool) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.broken.Store(true)
	pending := l.pending
	l.pending = nil
	l.outCalls = nil
	l.out = nil
	nc := l.nc
	l.mu.Unlock()
	close(l.dead)
	if nc != nil {
		nc.Close()
	}
	l.f.forget(l)
	if len(pending) > 0 && !dialFailed && !errors.Is(err, errForwardClosed) {
		l.f.log.Info("forward: connection lost", "peer", l.addr, "commands", len(pending), "error", err)
	}
	closed := errors.Is(err, errForwardClosed) || l.f.isClosed()
	for _, c := range pending {
		switch {
		case closed:
			l.f.finish(c, engine.Result{}, nil, forwardErr(errForwardClosed, c.everSent))
		case dialFailed:
			l.f.finish(c, engine.Result{}, nil, forwardErr(err, c.everSent))
		case !c.sent:
			l.f.dispatch(c)
		case !c.retried && c.retrySafe():
			c.retried = true
			l.f.dispatch(c)
		default:
			l.f.finish(c, engine.Result{}, nil, forwardErr(err, true))
		}
	}
}

// retrySafe reports whether c may be sent twice: reads, the nodes' own ops
// (idempotent by their claim, or their message's number) and keyed
// commands, every one of a group.
func (c *fwdCall) retrySafe() bool {
	if c.cmd != nil {
		return retrySafe(c.cmd)
	}
	for i := range c.group {
		if !retrySafe(&c.group[i]) {
			return false
		}
	}
	return true
}

// retrySafe reports whether a command may be sent twice: reads, the claim
// ops (idempotent by their claim) and keyed commands.
func retrySafe(cmd *engine.Command) bool {
	return cmd.Op.ReadOnly() || cmd.Op.Internal() || len(cmd.Key) > 0
}

// dialPeer connects to addr and exchanges HELLO with the cluster token.
func dialPeer(addr, token string) (net.Conn, *protocol.Reader, error) {
	d := net.Dialer{Timeout: forwardDialTimeout, KeepAlive: 15 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(forwardDialTimeout))
	hello := protocol.Hello{Version: protocol.ProtocolVersion, MaxFrame: forwardMaxFrame, Token: token, Client: "invd-forward"}
	if _, err := nc.Write(protocol.AppendHello(nil, 1, &hello)); err != nil {
		nc.Close()
		return nil, nil, err
	}
	rd := protocol.NewReader(nc, forwardMaxFrame)
	fr, err := rd.Next()
	if err == nil {
		err = helloAnswer(fr)
	}
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("HELLO to %s: %w", addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, rd, nil
}

// decodePeerError returns the refusal an ERROR reply's payload carries
// (a *peerError), or the error that decoding it gave.
func decodePeerError(payload []byte) error {
	var e protocol.ErrorReply
	if err := protocol.DecodeErrorReply(payload, &e); err != nil {
		return err
	}
	return &peerError{e.Code, e.Message}
}

func helloAnswer(fr protocol.Frame) error {
	switch {
	case !fr.Reply():
		return errors.New("a request where a HELLO reply was due")
	case fr.Op == protocol.OpError:
		return decodePeerError(fr.Payload)
	case fr.Op != protocol.OpHello:
		return errors.New("HELLO answered with " + fr.Op.String())
	}
	var hr protocol.HelloReply
	return protocol.DecodeHelloReply(fr.Payload, &hr)
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
