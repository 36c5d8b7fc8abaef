package server

import (
	"sync"
	"time"

	"github.com/invsys/inv/engine"
)

// call is one single-shard domain request in flight. Calls are pooled and
// each carries its completion function bound once, at creation, so that a
// reserve costs no allocation in the server: neither the record nor the
// closure the proposer calls back.
type call struct {
	c     *conn
	reqID uint32
	op    engine.Op
	start time.Time
	done  func(engine.Result, error) // = (*call).complete, bound once

	// A request that may come back claim_required keeps a copy of itself
	// (coordinator.go); buf holds its bytes and is reused with the call.
	coord bool
	shard int
	cmd   engine.Command
	buf   []byte
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

func (k *call) release() {
	k.c = nil
	k.coord = false
	k.cmd = engine.Command{}
	callPool.Put(k)
}

// keep copies cmd into the call, for the coordinator to run it again on
// shard with a claim.
func (k *call) keep(cmd *engine.Command, shard int) {
	n := len(cmd.SKU) + len(cmd.Store) + len(cmd.Customer) + len(cmd.Key)
	if cap(k.buf) < n {
		k.buf = make([]byte, 0, n)
	}
	b := k.buf[:0]
	part := func(src []byte) []byte {
		if src == nil {
			return nil
		}
		b = append(b, src...)
		return b[len(b)-len(src) : len(b) : len(b)]
	}
	k.cmd = *cmd
	k.cmd.SKU, k.cmd.Store, k.cmd.Customer, k.cmd.Key = part(cmd.SKU), part(cmd.Store), part(cmd.Customer), part(cmd.Key)
	k.buf = b
	k.coord, k.shard = true, shard
}

// complete runs on the shard's proposer goroutine once the command has been
// applied (or has failed): it encodes the reply and hands the call back.
func (k *call) complete(r engine.Result, err error) {
	if err == nil && r.Code == engine.CodeClaimRequired && k.coord {
		go k.coordinate(r) // blocking steps on other shards: off the proposer's goroutine
		return
	}
	c, reqID, op, start := k.c, k.reqID, k.op, k.start
	k.release()
	c.srv.finishOp(c, reqID, op, &r, err, start)
}

// coordinate takes the claim the request needs and runs it again.
func (k *call) coordinate(first engine.Result) {
	c, reqID, op, start := k.c, k.reqID, k.op, k.start
	cmds := []engine.Command{k.cmd}
	rs, err := c.srv.coordinate(k.shard, cmds, []engine.Result{first})
	var r engine.Result
	if err == nil {
		r = rs[0]
	}
	k.release()
	c.srv.finishOp(c, reqID, op, &r, err, start)
}

// finishOp answers a single domain request: metrics, reply, in-flight count.
// Any goroutine.
func (s *Server) finishOp(c *conn, reqID uint32, op engine.Op, r *engine.Result, err error, start time.Time) {
	err = s.hint(err)
	s.met.observe(op, resultCode(r, err), start)
	c.lock()
	if !c.closed {
		c.appendOutcome(reqID, op, r, err)
	}
	c.answered(reqID, op)
	c.unlock(false)
	s.inflight.Add(-1)
}
