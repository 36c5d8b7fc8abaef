package router

import (
	"errors"
	"fmt"

	"github.com/invsys/inv/engine"
)

// Forwarding decisions (docs/adr/0050): which commands go to another node,
// and to which one. The wire is the Forwarder's (the server's SHARD_CALL
// pool); a command forwarded once is never routed again by the node that
// receives it (ServeHere), so forwarding cannot loop.

// runAny runs cmd on shard wherever its leader is: proposed here when this
// node leads it, forwarded otherwise (a node of a cluster). done is called
// exactly once, with hinted errors. Only a refusal before anything was
// queued here is forwarded: a proposal whose outcome is unknown stays
// answered as such, never sent twice.
func (r *Router) runAny(shard int, cmd *engine.Command, viaLog bool, done func(engine.Result, error)) {
	err := r.proposeHere(shard, cmd, viaLog, func(res engine.Result, err error) { done(res, r.Hint(err)) })
	if err == nil {
		return
	}
	addrs := r.forwardTargets(shard, err)
	if len(addrs) == 0 {
		done(engine.Result{}, err)
		return
	}
	own := engine.CloneCommands([]engine.Command{*cmd}) // the forwarder keeps it until done
	r.forward(shard, addrs, &own[0], done)
}

// forwardTargets decides where a command this node refused goes: to the
// leader a hint names; when this node holds no replica of the shard
// (replicas below the node count), to the nodes the placement puts it on,
// in order (a follower among them names the leader, and the forwarder
// follows it). None: a node alone, or no leader known (an election: the
// caller retries).
func (r *Router) forwardTargets(shard int, err error) []string {
	if r.fwd == nil {
		return nil
	}
	var nl *NotLeaderError
	if errors.As(err, &nl) && nl.Addr != "" {
		return []string{nl.Addr}
	}
	if r.unheld(shard, err) {
		return r.peers.Holders(shard)
	}
	return nil
}

// forward sends cmd to the first of addrs, and to the next while they
// answer that they hold no replica of the shard.
func (r *Router) forward(shard int, addrs []string, cmd *engine.Command, done func(engine.Result, error)) {
	r.stats.forwarded.Add(1)
	err := r.fwd.Forward(shard, addrs[0], cmd, func(res engine.Result, err error) {
		if errors.Is(err, ErrNotHeld) {
			if len(addrs) > 1 {
				r.forward(shard, addrs[1:], cmd, done)
				return
			}
			err = &Refusal{engine.CodeUnavailable, fmt.Sprintf("no node asked holds shard %d", shard)}
		}
		done(res, err)
	})
	if err != nil {
		done(engine.Result{}, err)
	}
}

// forwardGroup runs a linked group at the node serving addr, as a BATCH.
func (r *Router) forwardGroup(addr string, chain []engine.Command, done func([]engine.Result, error)) {
	r.stats.forwarded.Add(1)
	if err := r.fwd.ForwardGroup(addr, chain, done); err != nil {
		done(nil, err)
	}
}
