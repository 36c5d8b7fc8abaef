package client

import (
	"encoding/binary"
	"runtime"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The writer side of a connection. Each round it takes every queued call,
// packs the batchable ones into BATCH frames (as many entries as the
// server's max_batch_ops and frame limit allow), gives every other call a
// frame of its own, registers each frame under a fresh request id, and
// writes the whole round with one syscall. A call that is alone in its
// round goes out as a plain frame: batching never delays or enlarges a lone
// call.

// writeTimeout bounds one write: a server that takes no bytes for this long
// is stuck, and the calls waiting on this connection are better retried
// elsewhere.
const writeTimeout = 10 * time.Second

// keepWriteBytes bounds the write buffer kept between rounds: a burst that
// grew it should not pin megabytes on an idle connection.
const keepWriteBytes = 4 << 20

func (c *conn) writeLoop() {
	delay := c.cl.opts.batchDelay
	var gather *time.Timer
	if delay > 0 {
		gather = time.NewTimer(delay)
		gather.Stop()
	}
	for {
		select {
		case <-c.wake:
		case <-c.dead:
			return
		}
		if gather != nil {
			// Let the calls of the next moments join this round.
			gather.Reset(delay)
			select {
			case <-gather.C:
			case <-c.dead:
				return
			}
		} else {
			// One reply batch wakes many callers at once; yielding lets
			// those already runnable queue their next call before this
			// round is taken, so they share one write. With nothing else
			// runnable this returns at once: a lone call waits for nothing.
			runtime.Gosched()
		}
		for {
			if !c.waitRoom() {
				return
			}
			c.mu.Lock()
			calls := c.queue
			if c.closed || len(calls) == 0 {
				c.mu.Unlock()
				break
			}
			c.queue = c.spare[:0]
			c.spare = nil
			budget := c.maxInFlight - c.inflight
			c.mu.Unlock()

			ok := c.writeRound(calls, budget)
			clear(calls)
			c.mu.Lock()
			c.spare = calls[:0]
			c.mu.Unlock()
			if !ok {
				return
			}
		}
	}
}

// waitRoom waits until the server's in-flight bound leaves room for a frame.
func (c *conn) waitRoom() bool {
	for {
		c.mu.Lock()
		ok := c.inflight < c.maxInFlight
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return false
		}
		if ok {
			return true
		}
		select {
		case <-c.room:
		case <-c.dead:
			return false
		}
	}
}

// writeRound encodes and writes calls, opening at most budget frames (the
// server's in-flight bound); the calls that would open more go back to the
// front of the queue. It reports false when the connection failed.
func (c *conn) writeRound(calls []*call, budget int) bool {
	buf := c.wbuf[:0]
	frames := 0
	solos := c.solos[:0]
	var ok bool
	i := 0
	for ; i < len(calls); i++ {
		k := calls[i]
		if k.abandoned() {
			k.finish() // recycles it: its caller has gone
			continue
		}
		opensFrame := !k.kind.batchable() || !c.fits(k)
		if opensFrame && frames+len(solos)+c.openFrames() >= budget {
			break
		}
		if !k.kind.batchable() {
			solos = append(solos, k)
			continue
		}
		if buf, frames, ok = c.addBatchable(buf, frames, k); !ok {
			return c.abortRound(calls[i:], solos)
		}
	}
	if buf, frames, ok = c.closeBatch(buf, frames); !ok {
		return c.abortRound(calls[i:], solos)
	}
	for j, k := range solos {
		start := len(buf)
		buf = appendSolo(buf, k)
		if buf, ok = c.register(buf, start, pend{c: k}); !ok {
			return c.abortRound(calls[i:], solos[j+1:])
		}
	}
	clear(solos)
	c.solos = solos[:0]
	if i < len(calls) {
		c.requeue(calls[i:])
	}
	if len(buf) > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(buf); err != nil {
			c.fail(err)
			return false
		}
	}
	if cap(buf) > keepWriteBytes {
		buf = nil
	}
	c.wbuf = buf[:0]
	return true
}

// openFrames is 1 while a frame of batchable calls is being filled.
func (c *conn) openFrames() int {
	if c.batch != nil || c.first != nil {
		return 1
	}
	return 0
}

// callSize returns a batchable call's entries and the bound of its bytes.
func callSize(k *call) (entries, size int) {
	if k.kind == kindCart {
		for j := range k.cmds {
			size += cmdBytesMax(&k.cmds[j])
		}
		return len(k.cmds), size
	}
	return 1, cmdBytesMax(&k.cmd)
}

// fits reports whether a batchable call joins the frame being filled
// (false when there is none, or it is full).
func (c *conn) fits(k *call) bool {
	if c.batch == nil && c.first == nil {
		return false
	}
	n, size := callSize(k)
	entries := n
	if c.batch != nil {
		entries += c.batch.entries
	} else {
		entries += entriesOf(c.first)
	}
	return entries <= c.maxBatchOps && c.bytes+size <= c.maxFrame-protocol.HeaderSize-batchSlack
}

// addBatchable adds a batchable call to the frame being filled, closing it
// first and starting another when the call does not fit.
func (c *conn) addBatchable(buf []byte, frames int, k *call) ([]byte, int, bool) {
	_, size := callSize(k)
	if !c.fits(k) {
		var ok bool
		if buf, frames, ok = c.closeBatch(buf, frames); !ok {
			return buf, frames, false
		}
		c.first, c.bytes = k, size
		return buf, frames, true
	}
	if c.batch == nil {
		c.batch = c.getRec()
		c.bw.Begin(buf, 0, false)
		c.addEntries(c.first)
		c.first = nil
	}
	c.addEntries(k)
	c.bytes += size
	return buf, frames, true
}

// batchSlack is room kept in a BATCH frame for its count and for the
// estimate's rounding.
const batchSlack = 64

func (c *conn) addEntries(k *call) {
	b := c.batch
	b.calls = append(b.calls, k)
	if k.kind == kindCart {
		for j := range k.cmds {
			c.bw.AddRequest(&k.cmds[j])
		}
		b.entries += len(k.cmds)
		return
	}
	c.bw.AddRequest(&k.cmd)
	b.entries++
}

func entriesOf(k *call) int {
	if k.kind == kindCart {
		return len(k.cmds)
	}
	return 1
}

// closeBatch finishes the open BATCH (or the held-back lone call) and
// registers it.
func (c *conn) closeBatch(buf []byte, frames int) ([]byte, int, bool) {
	switch {
	case c.batch != nil:
		start := len(buf)
		buf = c.bw.Finish()
		b := c.batch
		c.batch = nil
		var ok bool
		buf, ok = c.register(buf, start, pend{b: b})
		return buf, frames + 1, ok
	case c.first != nil:
		k := c.first
		c.first = nil
		start := len(buf)
		if k.kind == kindCart {
			// A chain is linked only inside a BATCH, even alone.
			b := c.getRec()
			b.calls = append(b.calls, k)
			b.entries = len(k.cmds)
			buf = protocol.AppendBatchRequest(buf, 0, k.cmds)
			var ok bool
			buf, ok = c.register(buf, start, pend{b: b})
			return buf, frames + 1, ok
		}
		buf = appendSolo(buf, k)
		var ok bool
		buf, ok = c.register(buf, start, pend{c: k})
		return buf, frames + 1, ok
	}
	return buf, frames, true
}

// appendSolo encodes a call that takes a frame of its own.
func appendSolo(buf []byte, k *call) []byte {
	switch k.kind {
	case kindTopology:
		return protocol.AppendTopologyRequest(buf, 0)
	case kindPing:
		return protocol.AppendPing(buf, 0, k.nonce, false)
	case kindSnapshot:
		return protocol.AppendSnapshotRequest(buf, 0)
	case kindStatus:
		return protocol.AppendStatusRequest(buf, 0)
	case kindAdmin:
		return protocol.AppendAdminRequest(buf, 0, k.admin)
	}
	if k.stale {
		return protocol.AppendStaleRequest(buf, 0, &k.cmd)
	}
	return protocol.AppendRequest(buf, 0, &k.cmd)
}

// register gives the frame at buf[start:] a request id, records what it
// stands for, and compresses it when the connection negotiated compression
// and the frame is large enough to gain. The frame was encoded with request
// id 0; the id is written into its header here, under the lock that makes
// the id unique among the frames in flight.
func (c *conn) register(buf []byte, start int, p pend) ([]byte, bool) {
	// Marked before the frame becomes visible in pending: from then on the
	// reader or fail may finish (and recycle) its calls at any moment.
	markSent(p)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		failPend(p, false)
		return buf[:start], false
	}
	id := c.nextReqID()
	c.pending[id] = p
	c.inflight++
	c.mu.Unlock()
	binary.LittleEndian.PutUint32(buf[start+6:], id)
	comp := c.hello.Compression
	if min := int(c.hello.Limits.CompressMinBytes); comp != protocol.CompressionNone && min > 0 &&
		len(buf)-start-protocol.HeaderSize >= min {
		c.zbuf = protocol.CompressFrame(c.zbuf[:0], buf[start:], comp)
		buf = append(buf[:start], c.zbuf...)
		if cap(c.zbuf) > keepWriteBytes {
			c.zbuf = nil
		}
	}
	return buf, true
}

// markSent records that a frame's calls are about to be written: from now
// on a lost connection leaves their outcome unknown.
func markSent(p pend) {
	if p.c != nil {
		p.c.sent = true
		return
	}
	for _, k := range p.b.calls {
		k.sent = true
	}
}

func failPend(p pend, sent bool) {
	if p.c != nil {
		p.c.sent = sent
		p.c.fail(errConnLost)
		return
	}
	for _, k := range p.b.calls {
		k.sent = sent
		k.fail(errConnLost)
	}
}

// abortRound fails what the round had not registered when the connection
// failed under it: none of it was sent.
func (c *conn) abortRound(rest, solos []*call) bool {
	if c.batch != nil {
		failPend(pend{b: c.batch}, false)
		c.batch = nil
		c.bw = protocol.BatchWriter{}
	}
	if c.first != nil {
		c.first.fail(errConnLost)
		c.first = nil
	}
	for _, k := range solos {
		k.fail(errConnLost)
	}
	for _, k := range rest {
		k.fail(errConnLost)
	}
	clear(c.solos)
	c.solos = c.solos[:0]
	return false
}

// requeue puts calls the in-flight bound held back at the front of the queue.
func (c *conn) requeue(calls []*call) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		for _, k := range calls {
			k.fail(errConnLost)
		}
		return
	}
	c.queue = append(append(make([]*call, 0, len(calls)+len(c.queue)), calls...), c.queue...)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// cmdBytesMax bounds a command's encoded size as a BATCH entry: entry
// header, mask, the ids with their length bytes, every numeric field.
func cmdBytesMax(cmd *engine.Command) int {
	return 6 + 4 + 7 + len(cmd.SKU) + len(cmd.Store) + len(cmd.Customer) + len(cmd.Key) + len(cmd.Zone) +
		len(cmd.Reason) + len(cmd.Actor) + 1 + 16*8 + // 7 length bytes; 1: update_item's set
		protocol.ItemsBytesMax(cmd.Items) // a bulk put's items (docs/adr/0121)
}
