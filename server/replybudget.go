package server

import (
	"log/slog"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The node-wide reply budget (docs/adr/0037). Per-connection bounds
// (max_in_flight, max_outbound_bytes, write_timeout) multiply by the
// connections: eight clients that pipeline large reads and never read took
// a node past 2 GB. So the node also counts everything it holds for its
// peers, against MaxReplyBufferBytes:
//
//   - replies gathered in a connection's out, and those gnet holds in its
//     outbound buffer because the kernel has not taken them;
//   - for every large read admitted and not yet answered, a reservation of
//     its reply's likely size (the largest reply of its op sent so far), so
//     that reads already in flight, whose results are built before they
//     are encoded, are counted before they exist;
//   - requests left unread in the inbound buffer.
//
// A connection is not read while it holds too much: its frames stay in the
// inbound buffer, undecoded, until its peer has taken enough replies or
// the node has room again. Too much is, whatever the node holds, a
// sixteenth of the budget; from half the budget on, more than its share
// (the budget divided by the connections holding any); past the whole
// budget, anything, so that every client may still have one request
// answered at a time and the node holds at most the budget plus one reply
// per connection. Bytes already admitted cannot be taken back, which is
// why a connection alone may not take the whole budget and why the shares
// start at half: the connections that came first keep what they took
// while newcomers take their shares.
//
// gnet has no way to stop reading a socket, so a paused peer that keeps
// sending fills gnet's inbound buffer instead of its TCP window; past a
// frame's worth of unread requests it is cut. A paused peer that takes no
// replies is cut by write_timeout, as any other. The TLS listener stops
// reading the socket of a paused connection, so there the peer meets TCP's
// own backpressure.

// cutReason says why a slow consumer was closed (a label of
// inv_slow_consumers_cut_total).
type cutReason uint8

const (
	cutNone     cutReason = iota
	cutOutbound           // replies waiting past max_outbound_bytes
	cutStalled            // replies waiting with none taken for write_timeout
	cutUnread             // a paused connection kept sending past a frame
	cutReasons
)

var cutReasonNames = [cutReasons]string{"", "max_outbound_bytes", "write_timeout", "unread_while_paused"}

// replyBudget is the node's count of bytes held for its peers.
type replyBudget struct {
	limit   int64        // Config.MaxReplyBufferBytes
	total   atomic.Int64 // every connection's held and unread bytes
	holders atomic.Int64 // connections with held > 0: the budget's shares
	paused  atomic.Int64 // connections not read because they hold over their share
	// largest[op] is the largest reply of each large read op sent: the
	// reservation of the next one.
	largest [maxOpLabel]atomic.Int64
	cuts    [cutReasons]*metrics.Counter
	level   budgetLevel // at the last tick (ticker only)
}

// budgetLevel is how full the budget is, for the log.
type budgetLevel uint8

const (
	budgetRoomy   budgetLevel = iota // every connection is read
	budgetSharing                    // past half: connections over their share wait
	budgetFull                       // past the budget: only connections holding nothing are read
)

// register creates the budget's metrics.
func (b *replyBudget) register(set *metrics.Set) {
	set.NewGauge("inv_reply_buffer_bytes", func() float64 { return float64(b.total.Load()) })
	set.NewGauge("inv_connections_paused", func() float64 { return float64(b.paused.Load()) })
	for r := cutOutbound; r < cutReasons; r++ {
		b.cuts[r] = set.NewCounter(`inv_slow_consumers_cut_total{reason="` + cutReasonNames[r] + `"}`)
	}
}

// largeRead reports whether op's reply grows with the state (a list): the
// ops whose replies are reserved before they exist.
func largeRead(op engine.Op) bool {
	switch op {
	case engine.OpStoresWithStock, engine.OpListItems, engine.OpListReservations, engine.OpListByMark, engine.OpStoreItems:
		return true
	}
	return false
}

// observe notes the size of a large read's reply (any goroutine).
func (b *replyBudget) observe(op engine.Op, n int) {
	p := &b.largest[op]
	for {
		cur := p.Load()
		if int64(n) <= cur || p.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// estimate is the reservation of one read of op for a client that accepts
// frames of up to maxFrame bytes.
func (b *replyBudget) estimate(op engine.Op, maxFrame int) int64 {
	return min(int64(maxFrame), max(largeReadReserveMinBytes, b.largest[op].Load()))
}

// overShare reports whether c holds too much for the node's budget to
// read it now: ever, more than a replySharesMin-th of the budget; past
// half the budget, more than its share; past the whole budget, anything
// (any goroutine).
func (s *Server) overShare(c *conn) bool {
	b := &s.budget
	held := c.held.Load()
	if held > b.limit/replySharesMin {
		return true
	}
	switch total := b.total.Load(); {
	case total <= b.limit/replyShareFromDivisor:
		return false
	case total > b.limit:
		return held > 0
	}
	return held > b.limit/max(1, b.holders.Load())
}

// account adds d to what c holds for its peer, and to the node's total.
func (c *conn) account(d int64) {
	if d == 0 {
		return
	}
	b := &c.srv.budget
	b.total.Add(d)
	// Each part of held changes in its own order (out and reservations
	// under mu, gnet's buffer on the loop), and a part never goes below
	// zero, so held is zero exactly when every part is.
	switch n := c.held.Add(d); {
	case n == d:
		b.holders.Add(1)
	case n == 0:
		b.holders.Add(-1)
	}
}

// countOut brings the count of out up to date (under mu): always at a flush,
// otherwise once it has grown by replyAccountStepBytes.
func (c *conn) countOut(always bool) {
	d := len(c.out) - c.outCounted
	if d == 0 || c.closed || (!always && d > 0 && d < replyAccountStepBytes) {
		return
	}
	c.outCounted = len(c.out)
	c.account(int64(d))
}

// countOutbound counts ob bytes in gnet's outbound buffer (event loop).
func (c *conn) countOutbound(ob int) {
	c.account(int64(ob - c.obCounted))
	c.obCounted = ob
}

// countUnread counts n bytes of requests left in the inbound buffer (event
// loop): held for the peer, but no part of its share of reply bytes.
func (c *conn) countUnread(n int) {
	if d := int64(n) - c.unread.Swap(int64(n)); d != 0 {
		c.srv.budget.total.Add(d)
	}
}

// reserveKey names a request in flight: its id and op (opBatch for a
// BATCH), so that a reply to another request with the same id never
// releases a large read's reservation.
type reserveKey struct {
	reqID uint32
	op    engine.Op
}

// reservation is what is reserved for the requests in flight under one key
// (a client may reuse an id).
type reservation struct {
	n     int32
	bytes int64
}

// pendingReserve is the reservation of the frame being served (event
// loop): set for each frame, taken by admit, given back by unadmit.
type pendingReserve struct {
	key   reserveKey
	bytes int64
	taken bool
}

// noteFrame works out the reservation of the frame about to be served
// (event loop): a large read, a SHARD_CALL of one, or a BATCH holding
// some; zero for anything else.
func (s *Server) noteFrame(c *conn, f protocol.Frame) {
	c.admitting = pendingReserve{}
	switch f.Op {
	case protocol.OpBatch:
		b, err := protocol.ParseBatch(f.Payload)
		if err != nil {
			return // refused whole by serveBatch
		}
		var n int64
		for e, ok := b.Next(); ok; e, ok = b.Next() {
			if op, isDomain := e.Op.Engine(); isDomain && largeRead(op) {
				n += s.budget.estimate(op, c.maxFrameOut)
			}
		}
		// The reply is one frame: more than the client's frame limit is
		// answered too_large.
		c.admitting = pendingReserve{key: reserveKey{f.ReqID, opBatch}, bytes: min(n, int64(c.maxFrameOut))}
	case protocol.OpShardCall:
		// The payload's third byte is the engine op (protocol/shardcall.go).
		if len(f.Payload) > 2 && largeRead(engine.Op(f.Payload[2])) {
			op := engine.Op(f.Payload[2])
			c.admitting = pendingReserve{key: reserveKey{f.ReqID, op}, bytes: s.budget.estimate(op, c.maxFrameOut)}
		}
	default:
		if op, ok := f.Op.Engine(); ok && largeRead(op) {
			c.admitting = pendingReserve{key: reserveKey{f.ReqID, op}, bytes: s.budget.estimate(op, c.maxFrameOut)}
		}
	}
}

// reserveAdmitted reserves the admitted frame's reply (event loop).
func (c *conn) reserveAdmitted() {
	p := &c.admitting
	if p.bytes == 0 {
		return
	}
	c.mu.Lock()
	if !c.closed {
		if c.reserved == nil {
			c.reserved = make(map[reserveKey]reservation)
		}
		r := c.reserved[p.key]
		c.reserved[p.key] = reservation{n: r.n + 1, bytes: r.bytes + p.bytes}
		c.reservedSum += p.bytes
		c.account(p.bytes)
		p.taken = true
	}
	c.mu.Unlock()
}

// unreserveAdmitted gives back the reservation of a frame refused after
// admit (event loop).
func (c *conn) unreserveAdmitted() {
	if !c.admitting.taken {
		return
	}
	c.admitting.taken = false
	c.mu.Lock()
	c.release(c.admitting.key)
	c.mu.Unlock()
}

// release gives back one request's share of what key reserved (under mu).
func (c *conn) release(key reserveKey) {
	r, ok := c.reserved[key]
	if !ok || c.closed {
		return
	}
	part := r.bytes / int64(r.n)
	if r.n == 1 {
		part = r.bytes
		delete(c.reserved, key)
	} else {
		c.reserved[key] = reservation{n: r.n - 1, bytes: r.bytes - part}
	}
	c.reservedSum -= part
	c.account(-part)
}

// answered counts the reply to an admitted request, appended or dropped
// (under mu): one frame fewer in flight, and its reservation given back,
// the reply itself being counted in out from now on.
func (c *conn) answered(reqID uint32, op engine.Op) {
	c.inflight.Add(-1)
	if len(c.reserved) > 0 {
		c.release(reserveKey{reqID, op})
	}
}

// dropHeld takes everything c held out of the node's count (OnClose, on
// the loop, under mu, once closed is set).
func (c *conn) dropHeld() {
	c.account(-int64(c.outCounted+c.obCounted) - c.reservedSum)
	c.outCounted, c.obCounted, c.reservedSum = 0, 0, 0
	c.reserved = nil
	c.countUnread(0)
	c.setPaused(false)
}

// holdReading reports whether readFrames must stop before the next frame
// because the connection holds over its share (event loop). What waits is
// not a frame late in arriving, so the read timeout does not run.
func (s *Server) holdReading(c *conn) bool {
	if !s.overShare(c) {
		return false
	}
	c.readHeld = true
	c.notePartial(false)
	return true
}

// setPaused records whether whole frames wait unread for the budget.
func (c *conn) setPaused(p bool) {
	if c.readPaused.Load() == p || c.readPaused.Swap(p) == p {
		return
	}
	d := int64(1)
	if !p {
		d = -1
	}
	c.srv.budget.paused.Add(d)
	c.srv.log.Debug("reading paused for the reply budget", "conn", c.id, "paused", p, "held_bytes", c.held.Load())
}

// afterRead, at the end of OnTraffic (after the flush), counts what is
// left unread, keeps the paused state, and resumes a connection whose read
// stopped for the budget once the budget lets it in. It returns why the
// connection must close: a paused peer that kept sending past a frame.
func (s *Server) afterRead(c *conn) cutReason {
	unread := c.gc.InboundBuffered()
	c.countUnread(unread)
	stopped := c.readHeld
	c.readHeld = false
	paused := unread > 0 && s.overShare(c)
	c.setPaused(paused)
	switch {
	case paused && unread > s.cfg.MaxFrameBytes:
		return cutUnread
	case stopped && !paused:
		_ = c.gc.Wake(nil) // frames wait, and the budget lets them in now
	}
	return cutNone
}

// cutSlowConsumer counts and logs the close of a connection whose peer does
// not take its replies.
func (s *Server) cutSlowConsumer(c *conn, why cutReason) {
	s.budget.cuts[why].Inc()
	s.log.Warn("closing a slow consumer", "conn", c.id, "remote", c.remote, "reason", cutReasonNames[why],
		"held_bytes", c.held.Load(), "unread_bytes", c.unread.Load(), "outbound_bytes", c.outbound.Load(),
		"node_bytes", s.budget.total.Load())
}

// sample logs the budget filling, a line for each level reached, and one
// when it is back under a quarter: a node hovering at a level logs once
// (ticker).
func (b *replyBudget) sample(log *slog.Logger) {
	total := b.total.Load()
	attrs := []any{"held_bytes", total, "limit_bytes", b.limit, "holders", b.holders.Load(), "paused", b.paused.Load()}
	switch {
	case total > b.limit && b.level < budgetFull:
		b.level = budgetFull
		log.Warn("reply budget full: only connections holding no replies are read", attrs...)
	case total > b.limit/replyShareFromDivisor && b.level < budgetSharing:
		b.level = budgetSharing
		log.Info("reply budget half used: connections over their share are not read until they drain", attrs...)
	case total <= b.limit/4 && b.level > budgetRoomy:
		b.level = budgetRoomy
		log.Info("reply budget back under a quarter", attrs...)
	}
}
