package router

import (
	"sync"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Serve routes one decoded client command and calls done exactly once
// with its outcome (any goroutine, perhaps before Serve returns). cmd may
// alias a connection's read buffer: what outlives Serve is copied.
//
// stale serves a read of one shard from this node's applied state, leader
// or not (docs/adr/0033); reads of every shard ignore it. A limited
// reserve of a customer of another shard, at the item shard's leader,
// takes its claim and its hold in one round (round.go); a client's request
// for a shard another node leads is answered with the leader (the client
// goes there, so the leader coordinates). A cancel or return of a claimed
// reservation is answered once its claim's release reached the customer's
// home (cancelwait.go). A single request allocates nothing here: its
// record is pooled and carries a completion function bound once.
func (r *Router) Serve(cmd *engine.Command, stale bool, done func(engine.Result, error)) {
	kind, shard := protocol.RouteOf(cmd, len(r.shards))
	if kind == protocol.RouteShard {
		// A key homed elsewhere is registered there first (keys.go), by
		// the shard's leader: any other node answers NOT_LEADER at once.
		if home, ok := r.keyHome(cmd, shard); ok && r.leads(shard) {
			r.registerThenServe(home, shard, cmd, done)
			return
		}
	}
	switch {
	case kind == protocol.RouteNone:
		done(engine.Result{Code: engine.CodeNotFound}, nil) // no shard issued the id
	case kind == protocol.RouteAll:
		r.fanOut(cmd, false, done)
	case cmd.Op == engine.OpGetCustomer && len(r.shards) > 1 && !stale:
		r.getCustomer(shard, cmd, false, done)
	case stale:
		done(r.staleRead(shard, cmd))
	default:
		r.serveShard(shard, cmd, done)
	}
}

// ServeHere runs cmd on shard, here only: a SHARD_CALL from another node,
// which named the shard. It is never routed, fanned out or forwarded again,
// so forwarding cannot loop (a limited reserve still takes its round here,
// whose claim may go to another node's shard: claims never coordinate). A
// node that does not lead the shard answers with its leader hint; one that
// holds no replica of it (and knows no leader), ErrNotHeld.
func (r *Router) ServeHere(shard int, cmd *engine.Command, done func(engine.Result, error)) {
	r.serveShard(shard, cmd, func(res engine.Result, err error) {
		if err != nil && r.unheld(shard, err) {
			err = ErrNotHeld
		}
		done(res, err)
	})
}

// serveShard runs one command on one shard: in a round when it is a
// limited reserve that needs one, else proposed plain.
func (r *Router) serveShard(shard int, cmd *engine.Command, done func(engine.Result, error)) {
	start := r.clock.Now()
	if limit, ok := r.needsRound(shard, cmd); ok {
		q := r.newRound(shard, cmd, "", start)
		q.done = done
		r.startRound(shard, limit, q)
		return
	}
	if limit, ok := r.needsJoinClaim(shard, cmd); ok {
		r.joinWithClaim(shard, cmd, limit, done)
		return
	}
	q := newRequest(r, shard, done)
	q.start = start
	if len(r.shards) > 1 && needsCoordinator(cmd.Op) {
		q.keep(cmd) // it may come back asking for a claim
	}
	if err := r.proposeHere(shard, cmd, false, q.complete); err != nil {
		q.release()
		done(engine.Result{}, err)
	}
}

// request is one single-shard request in flight.
type request struct {
	r        *Router
	shard    int
	start    time.Time
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
// answers, waits for a cancel's release, or hands what asks for a claim to
// the coordinator.
func (q *request) finish(res engine.Result, err error) {
	r, shard, done := q.r, q.shard, q.done
	switch {
	case err != nil:
	case res.Code == engine.CodeClaimRequired && q.coord:
		q.claimAsked(&res)
		return
	case q.coord && namedClaim(&res) != "":
		q.settleNamed(&res)
		return
	case res.Sent.Seq != 0 && len(r.shards) > 1:
		q.release()
		r.waitRelease(shard, &res, done, nil, 0)
		return
	case len(res.Copies) > 0:
		q.release()
		r.waitCopies(shard, &res, done, nil, 0)
		return
	}
	q.release()
	done(res, r.Hint(err))
}

// claimAsked hands a claim_required on to the coordinator: a reserve whose
// read was stale takes its round now, a join its claim (waitjoin.go); a confirm, extend or reschedule of a
// provisional hold settles it first.
func (q *request) claimAsked(res *engine.Result) {
	r, shard, done, cmd := q.r, q.shard, q.done, &q.cmds[0]
	if cmd.Op == engine.OpJoinWaitlist {
		r.stats.stalePeeks.Add(1)
		join := engine.CloneCommands(q.cmds)
		q.release()
		r.joinWithClaim(shard, &join[0], res.Qty, done)
		return
	}
	if cmd.Op == engine.OpReserve {
		r.stats.stalePeeks.Add(1)
		rq := r.newRound(shard, cmd, "", q.start)
		rq.done = done
		q.release()
		r.startRound(shard, res.Qty, rq)
		return
	}
	cmds := engine.CloneCommands(q.cmds)
	q.release()
	r.settleHold(shard, cmds, res, 0, func(rs []engine.Result, err error) {
		if err != nil {
			done(engine.Result{}, err)
			return
		}
		done(rs[0], nil)
	})
}

// settleNamed: a reserve's replay names its provisional hold's claim (its
// coordinator did not resolve it): the claim's answer decides it before
// the answer, in a round whose hold is already there.
func (q *request) settleNamed(res *engine.Result) {
	r, shard := q.r, q.shard
	limit := r.namedLimit(shard, &q.cmds[0])
	rq := r.newRound(shard, &q.cmds[0], namedClaim(res), q.start)
	rq.done = q.done
	q.release()
	r.settleNamed(rq, res, limit)
}
