package server

import (
	"sync"
	"time"

	"github.com/invsys/inv/engine"
)

// call is one single-shard domain request in flight. Calls are pooled and
// each carries its completion function bound once, at creation, so that a
// reserve costs no allocation in the server: neither the record nor the
// closure the router calls back (the router's own record is pooled too).
type call struct {
	c     *conn
	reqID uint32
	op    engine.Op
	start time.Time
	done  func(engine.Result, error) // = (*call).complete, bound once
}

var callPool sync.Pool

func init() {
	// Set here, not in the declaration: New refers to complete, which puts
	// calls back into the pool.
	callPool.New = func() any {
		k := new(call)
		k.done = k.complete
		return k
	}
}

func newCall(c *conn, reqID uint32, op engine.Op, start time.Time) *call {
	k := callPool.Get().(*call)
	k.c, k.reqID, k.op, k.start = c, reqID, op, start
	return k
}

// complete runs once the router has the request's outcome (any
// goroutine): it encodes the reply and hands the call back.
func (k *call) complete(r engine.Result, err error) {
	c, reqID, op, start := k.c, k.reqID, k.op, k.start
	k.c = nil
	callPool.Put(k)
	c.srv.finishOp(c, reqID, op, &r, err, start)
}

// finishOp answers a single domain request: metrics, reply, in-flight count.
// Any goroutine.
func (s *Server) finishOp(c *conn, reqID uint32, op engine.Op, r *engine.Result, err error, start time.Time) {
	s.met.observe(op, resultCode(r, err), start)
	c.lock()
	if !c.closed {
		c.appendOutcome(reqID, op, r, err)
	}
	c.answered(reqID, op)
	c.unlock(false)
	s.inflight.Add(-1)
}
