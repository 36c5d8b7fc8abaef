package router

import (
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
)

// within bounds the wait for one step of a request (a claim, the command
// again, a cancel, a release): the returned function passes the step's
// outcome on to done, unless deadline came first, in which case done got
// a timeout refusal (the step's outcome is unknown) and the late outcome
// is dropped. done is called exactly once either way.
func within[T any](r *Router, deadline time.Time, what string, done func(T, error)) func(T, error) {
	var settled atomic.Bool
	stop := r.clock.AfterFunc(deadline.Sub(r.clock.Now()), func() {
		if settled.CompareAndSwap(false, true) {
			var zero T
			done(zero, &Refusal{engine.CodeTimeout, what + " did not finish in time"})
		}
	})
	return func(v T, err error) {
		if settled.CompareAndSwap(false, true) {
			stop()
			done(v, err)
		}
	}
}

// runWithin runs one command on shard wherever its leader is (runAny),
// bounded by deadline.
func (r *Router) runWithin(shard int, cmd *engine.Command, deadline time.Time, what string,
	done func(engine.Result, error)) {
	r.runAny(shard, cmd, false, within(r, deadline, what, done))
}

// runChainWithin runs cmds (one command, or a linked group) on shard,
// bounded by deadline: one command wherever its leader is, a group here
// (a group on another node's shard is refused with the leader's hint).
func (r *Router) runChainWithin(shard int, cmds []engine.Command, deadline time.Time, what string,
	done func([]engine.Result, error)) {
	if len(cmds) == 1 {
		r.runWithin(shard, &cmds[0], deadline, what, func(res engine.Result, err error) {
			done([]engine.Result{res}, err)
		})
		return
	}
	bounded := within(r, deadline, what, done)
	err := r.proposeGroupHere(shard, cmds, false, func(rs []engine.Result, err error) {
		bounded(append([]engine.Result(nil), rs...), err) // the shard may reuse rs
	})
	if err != nil {
		bounded(nil, err)
	}
}
