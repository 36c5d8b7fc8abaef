package server

import (
	"sync"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// batchCall is one BATCH frame in flight: the router splits it by shard
// and answers every entry (router.ServeBatch); the reply frame is written
// once, entries in request order.
type batchCall struct {
	s     *Server
	c     *conn
	reqID uint32
	start time.Time
	ops   []engine.Op
	fn    func([]engine.Result, []error) // finish, bound once: the record is pooled
}

var batchCallPool sync.Pool // of *batchCall (getBatchCall)

func getBatchCall() *batchCall {
	if b, ok := batchCallPool.Get().(*batchCall); ok {
		return b
	}
	b := &batchCall{}
	b.fn = b.finish
	return b
}

// batchCallKeepOps bounds the ops a pooled record keeps room for.
const batchCallKeepOps = 4096

// serveBatch decodes and dispatches a BATCH (event loop). It reports
// whether the batch was accepted (it then counts as one frame in flight).
func (s *Server) serveBatch(c *conn, f protocol.Frame, start time.Time) bool {
	cmds, err := protocol.DecodeBatchRequest(f.Payload, c.cmds[:0])
	// The commands alias the frame; the router copies what it keeps, and
	// the scratch slice is cleared so that it pins no read buffer.
	defer func() { clear(cmds); c.cmds = cmds[:0] }()
	if err != nil {
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return false
	}
	// A BATCH is refused whole if its role may not send one of its
	// commands: nothing of it runs (auth.go, pickuplimit.go).
	for i := range cmds {
		if !s.authorize(c, f.ReqID, &cmds[i]) || !s.pickupAllowed(c, f.ReqID, &cmds[i]) {
			return false
		}
	}
	b := getBatchCall()
	b.s, b.c, b.reqID, b.start = s, c, f.ReqID, start
	for i := range cmds {
		b.ops = append(b.ops, cmds[i].Op)
	}
	s.router.ServeBatch(cmds, f.Flags.Stale(), b.fn)
	return true
}

// finish writes the BATCH reply (any goroutine).
func (b *batchCall) finish(results []engine.Result, errs []error) {
	s, c := b.s, b.c
	for i, op := range b.ops {
		s.met.count(op, resultCode(&results[i], errs[i]))
	}
	s.met.observeBatch(len(b.ops), b.start)
	c.lock()
	if !c.closed {
		start := len(c.out)
		var w protocol.BatchWriter
		w.Begin(c.out, b.reqID, true)
		for i, op := range b.ops {
			r := &results[i]
			if c.hideCodes.Load() {
				r = hidePickupCodes(op, r)
			}
			addBatchEntry(&w, op, r, errs[i])
		}
		c.out = w.Finish()
		c.finishFrame(start, b.reqID)
	}
	c.answered(b.reqID, opBatch)
	c.unlock(false)
	s.inflight.Add(-1)
	b.s, b.c, b.ops = nil, nil, b.ops[:0]
	if cap(b.ops) > batchCallKeepOps {
		b.ops = nil
	}
	batchCallPool.Put(b)
}

func addBatchEntry(w *protocol.BatchWriter, op engine.Op, r *engine.Result, err error) {
	if err != nil {
		if nl, ok := notLeaderOf(err); ok {
			w.AddNotLeader(&nl)
			return
		}
		w.AddError(&protocol.ErrorReply{Code: codeOf(err), Message: clip(err.Error())})
		return
	}
	if r.Code == engine.OK && hasReadData(r) {
		if cerr := protocol.CheckResult(r); cerr != nil {
			w.AddError(&protocol.ErrorReply{Code: engine.CodeTooLarge, Message: clip(cerr.Error())})
			return
		}
	}
	w.AddResult(op, r)
}

func clip(msg string) string {
	if len(msg) > maxErrorMessageBytes {
		return msg[:maxErrorMessageBytes]
	}
	return msg
}
