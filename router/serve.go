package router

import (
	"sync"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Serve routes one decoded client command and calls done exactly once
// with its outcome (any goroutine, perhaps before Serve returns). cmd may
// alias a connection's read buffer: what outlives Serve is copied.
//
// stale serves a read of one shard from this node's applied state, leader
// or not (docs/adr/0033); reads of every shard ignore it. A reserve,
// confirm or extend answered claim_required goes to the coordinator
// (coordinator.go). A single request on one shard allocates nothing here:
// its record is pooled and carries a completion function bound once.
func (r *Router) Serve(cmd *engine.Command, stale bool, done func(engine.Result, error)) {
	kind, shard := protocol.RouteOf(cmd, len(r.shards))
	switch {
	case kind == protocol.RouteNone:
		done(engine.Result{Code: engine.CodeNotFound}, nil) // no shard issued the id
	case kind == protocol.RouteAll:
		r.fanOut(cmd, false, done)
	case stale:
		done(r.staleRead(shard, cmd))
	default:
		q := newRequest(r, shard, done)
		if len(r.shards) > 1 && needsCoordinator(cmd.Op) {
			q.keep(cmd) // it may need a claim on the customer's shard
		}
		if err := r.proposeHere(shard, cmd, false, q.complete); err != nil {
			q.release()
			done(engine.Result{}, err)
		}
	}
}

// ServeHere runs cmd on shard, here only: a SHARD_CALL from another node,
// which named the shard. It is never routed, fanned out, forwarded or
// coordinated again, so forwarding cannot loop. A node that does not lead
// the shard answers with its leader hint; one that holds no replica of it
// (and knows no leader), ErrNotHeld.
func (r *Router) ServeHere(shard int, cmd *engine.Command, done func(engine.Result, error)) {
	q := newRequest(r, shard, done)
	if err := r.proposeHere(shard, cmd, false, q.complete); err != nil {
		q.release()
		if r.unheld(shard, err) {
			err = ErrNotHeld
		}
		done(engine.Result{}, err)
	}
}

// request is one single-shard request in flight.
type request struct {
	r        *Router
	shard    int
	done     func(engine.Result, error)
	complete func(engine.Result, error) // = (*request).finish, bound once

	// A request that may come back claim_required keeps a copy of itself
	// for the coordinator; buf holds its bytes and is reused with the record.
	coord bool
	cmds  []engine.Command // capacity 1
	buf   []byte
}

var requestPool sync.Pool

func init() {
	// Set here, not in the declaration: New refers to finish, which puts
	// records back into the pool.
	requestPool.New = func() any {
		q := &request{cmds: make([]engine.Command, 0, 1)}
		q.complete = q.finish
		return q
	}
}

func newRequest(r *Router, shard int, done func(engine.Result, error)) *request {
	q := requestPool.Get().(*request)
	q.r, q.shard, q.done = r, shard, done
	return q
}

func (q *request) release() {
	q.r, q.done, q.coord = nil, nil, false
	clear(q.cmds[:cap(q.cmds)])
	q.cmds = q.cmds[:0]
	requestPool.Put(q)
}

// keep copies cmd into the record, for the coordinator to run it again
// with a claim.
func (q *request) keep(cmd *engine.Command) {
	q.cmds, q.buf = engine.CloneCommandsInto(q.cmds[:0], q.buf, []engine.Command{*cmd})
	q.coord = true
}

// finish runs once the shard has applied the command (or failed): it
// answers, or hands a claim_required to the coordinator.
func (q *request) finish(res engine.Result, err error) {
	if err == nil && res.Code == engine.CodeClaimRequired && q.coord {
		q.r.coordinate(q.shard, q.cmds, []engine.Result{res}, q.coordinated)
		return
	}
	r, done := q.r, q.done
	q.release()
	done(res, r.Hint(err))
}

func (q *request) coordinated(rs []engine.Result, err error) {
	var res engine.Result
	if err == nil {
		res = rs[0]
	}
	done := q.done
	q.release()
	done(res, err)
}
