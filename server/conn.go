package server

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// conn is the state of one client connection.
//
// Replies are produced on many goroutines (every shard's proposer resolves
// its own requests) but leave through one place: they are encoded under mu
// into out, and the first reply after a flush wakes the connection's event
// loop, which writes everything gathered so far in one syscall (flush). A
// busy connection therefore gets many replies per write, and an idle one
// gets its reply at once (docs/adr/0031).
type conn struct {
	srv    *Server
	gc     gnet.Conn
	id     uint64
	fd     int // the socket's descriptor, -1 for the TLS port's (drainread.go)
	remote string
	addr   netip.Addr // the remote IP the per-address bound counts (admission.go)

	// Admission (admission.go), under srv.adm.mu.
	openAt           time.Time
	stage            connStage
	prePrev, preNext *conn // the pre-HELLO list

	hello atomic.Bool // HELLO answered; written on the loop, read by the ticker

	// Access, set at HELLO (auth.go). grant is read on the event loop only;
	// tokenHash (nil for an open server) lets a rotation cut the connections
	// of removed tokens.
	grant     *Grant
	actor     []byte // actorOf(grant): stamped on the changes this connection makes
	tokenHash atomic.Pointer[string]
	// node: the connection presented the cluster token (another node of
	// the cluster), which may send the nodes' own ops in a BATCH too
	// (auth.go). Set at HELLO, read on the event loop.
	node    bool
	pickups bucket // pickup attempts of this connection (pickuplimit.go), event loop only
	// hideCodes: the role sees a pickup code only in the confirm that
	// issued it (auth.go). Set at HELLO, read wherever replies are encoded.
	hideCodes atomic.Bool

	// Deadlines (deadline.go): Unix nanoseconds, 0 when not running.
	partialSince atomic.Int64 // the first bytes of a frame not yet whole arrived
	stallSince   atomic.Int64 // replies waiting with no progress since
	lastOutbound int          // outbound bytes after the last flush (event loop)

	// Event loop only.
	cmd     engine.Command   // the request being decoded (kept here so it is not allocated)
	scratch []byte           // decompressed request payloads
	cmds    []engine.Command // a BATCH's decoded commands
	spare   []byte           // the other half of out's double buffer
	subs    []*subscription
	warned  bool // a refused frame of this connection was logged (refuseFrame)

	inflight atomic.Int32 // frames accepted and not yet answered
	outbound atomic.Int64 // bytes in gnet's outbound buffer at the last flush (for subscriptions)

	// The node's reply budget (replybudget.go): what this connection holds
	// for its peer, as counted in the node's total.
	held        atomic.Int64 // reply bytes: gathered, in gnet's buffer, reserved for large reads in flight
	unread      atomic.Int64 // requests left in the inbound buffer after the last read
	readPaused  atomic.Bool  // whole frames wait unread because the connection holds over its share
	outCounted  int          // of out, under mu
	obCounted   int          // of gnet's outbound buffer (event loop)
	readHeld    bool         // this read stopped for the budget (event loop)
	admitting   pendingReserve
	reserved    map[reserveKey]reservation // large reads in flight, under mu
	reservedSum int64                      // their bytes, under mu

	mu          sync.Mutex
	out         []byte // replies waiting for the event loop
	wakePending bool   // a Wake is on its way; no need for another
	closed      bool   // replies are dropped
	comp        protocol.Compression
	compMin     int
	maxFrameOut int    // largest frame the client accepts
	zbuf        []byte // compression scratch, under mu
	// replyAt: when the first reply since the last flush was encoded
	// (zero: none since); the flush observes the reply_write stage.
	replyAt time.Time
}

// keepBufferBytes is the most a connection keeps of a buffer that grew for a
// large reply: an idle connection should not pin megabytes.
const keepBufferBytes = 256 << 10

// lock takes the outbound buffer.
func (c *conn) lock() { c.mu.Lock() }

// unlock releases the outbound buffer and, off the event loop, wakes the
// loop if this is the first reply since its last flush.
func (c *conn) unlock(onLoop bool) {
	c.countOut(false)
	if len(c.out) > 0 && c.replyAt.IsZero() {
		c.replyAt = time.Now() // once per write, not per reply
	}
	wake := false
	if !onLoop && !c.wakePending && len(c.out) > 0 && !c.closed {
		c.wakePending = true
		wake = true
	}
	c.mu.Unlock()
	if wake {
		// The loop may have closed the connection meanwhile; gnet ignores
		// wakes of closed connections.
		_ = c.gc.Wake(nil)
	}
}

// flush writes every reply gathered since the last flush (event loop only).
// It reports why the connection must close when the peer has stopped
// reading (cutNone while it reads).
func (c *conn) flush() cutReason {
	c.mu.Lock()
	buf := c.out
	c.out = c.spare[:0]
	c.wakePending = false
	c.countOut(true)
	replyAt := c.replyAt
	c.replyAt = time.Time{}
	c.mu.Unlock()
	pre := c.gc.OutboundBuffered()
	if len(buf) > 0 {
		// gnet writes at once and keeps what the socket did not take; the
		// bytes are copied, so buf can be reused.
		_, _ = c.gc.Write(buf)
		c.srv.met.wire.bytesOut.Add(len(buf))
		if !replyAt.IsZero() {
			c.srv.met.stages.replyWrite.UpdateDuration(replyAt)
		}
	}
	if cap(buf) > keepBufferBytes {
		buf = nil
	}
	c.spare = buf[:0]
	ob := c.gc.OutboundBuffered()
	c.outbound.Store(int64(ob))
	c.countOutbound(ob)
	switch {
	case ob > c.srv.cfg.MaxOutboundBytes:
		return cutOutbound
	case !c.writeProgress(pre, ob):
		return cutStalled
	}
	return cutNone
}

// appendError appends an ERROR frame (under mu).
func (c *conn) appendError(reqID uint32, code engine.Code, msg string) {
	c.out = protocol.AppendError(c.out, reqID, &protocol.ErrorReply{Code: code, Message: clip(msg)})
}

// sendError answers reqID with an ERROR from the event loop.
func (c *conn) sendError(reqID uint32, code engine.Code, msg string) {
	c.lock()
	if !c.closed {
		c.appendError(reqID, code, msg)
	}
	c.unlock(true)
}

// appendResult appends a domain reply (under mu), or ERROR too_large when
// the reply cannot be encoded or would not fit the client's frame limit, and
// compresses a large reply when the connection negotiated compression.
func (c *conn) appendResult(reqID uint32, op engine.Op, r *engine.Result) {
	if c.hideCodes.Load() {
		r = hidePickupCodes(op, r)
	}
	if r.Code == engine.OK && hasReadData(r) {
		if err := protocol.CheckResult(r); err != nil {
			c.appendError(reqID, engine.CodeTooLarge, err.Error())
			return
		}
	}
	start := len(c.out)
	c.out = protocol.AppendResult(c.out, reqID, op, r)
	if largeRead(op) {
		c.srv.budget.observe(op, len(c.out)-start)
	}
	c.finishFrame(start, reqID)
}

// finishFrame checks and compresses the frame at out[start:] (under mu).
func (c *conn) finishFrame(start int, reqID uint32) {
	n := len(c.out) - start
	if n > c.maxFrameOut {
		c.out = c.out[:start]
		c.appendError(reqID, engine.CodeTooLarge, "reply larger than the client's frame limit")
		return
	}
	if c.comp != protocol.CompressionNone && n-protocol.HeaderSize >= c.compMin {
		c.zbuf = protocol.CompressFrame(c.zbuf[:0], c.out[start:], c.comp)
		c.out = append(c.out[:start], c.zbuf...)
		if cap(c.zbuf) > keepBufferBytes {
			c.zbuf = nil
		}
	}
}

// appendOutcome appends the reply of a domain op that either ran (err nil:
// r is its result) or was not served (err from the proposer).
func (c *conn) appendOutcome(reqID uint32, op engine.Op, r *engine.Result, err error) {
	if err == nil {
		c.appendResult(reqID, op, r)
		return
	}
	if nl, ok := notLeaderOf(err); ok {
		c.out = protocol.AppendNotLeader(c.out, reqID, &nl)
		return
	}
	c.appendError(reqID, codeOf(err), err.Error())
}

// hasReadData reports whether a result carries read records (the only
// results whose size depends on the state, and so the only ones checked).
func hasReadData(r *engine.Result) bool {
	return r.Item != nil || r.WindowInfo != nil || r.Reservation != nil || r.Customer != nil ||
		len(r.Reservations) > 0 || len(r.Stores) > 0 || len(r.Items) > 0
}
