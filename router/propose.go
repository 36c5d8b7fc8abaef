package router

import (
	"github.com/invsys/inv/engine"
)

// proposeHere hands one command to this node's shard. On error (hinted)
// nothing was queued and done will not be called; otherwise done is called
// exactly once, on a proposer goroutine, or at once for a local read, with
// the shard's own error if any (the caller hints it).
//
// Read-only ops are served per the read mode (docs/adr/0033): by default
// (ReadIndex) from the leader's state once a read-index round confirmed
// it; with ReadLog through the log like writes (the read takes effect at
// its entry's place in the log); with ReadLocal from the leader's applied
// state at once. viaLog sends a read through the log whatever the mode, so
// that it is answered after the commands proposed to the shard before it
// (a read that follows writes in one BATCH frame).
func (r *Router) proposeHere(shard int, cmd *engine.Command, viaLog bool, done func(engine.Result, error)) error {
	sh := r.shard(shard)
	if sh == nil {
		return ErrNotHeld
	}
	if !cmd.Op.ReadOnly() || r.readMode == ReadLog || viaLog {
		return r.Hint(sh.Propose(*cmd, done))
	}
	if !sh.IsLeader() {
		return r.leaderHint(uint16(shard), "", nil)
	}
	if r.readMode == ReadLocal {
		done(sh.Read(cmd), nil)
		return nil
	}
	own := engine.CloneCommands([]engine.Command{*cmd}) // it outlives the caller's buffer
	sh.ReadIndex(func(err error) {
		if err != nil {
			done(engine.Result{}, err)
			return
		}
		done(sh.Read(&own[0]), nil)
	})
	return nil
}

// proposeGroupHere hands a BATCH's share of one shard to that shard as one
// group, so that it lands in one raft entry and its chains stay whole. Its
// contract is proposeHere's, except that errors given to done are hinted.
func (r *Router) proposeGroupHere(shard int, cmds []engine.Command, viaLog bool, done func([]engine.Result, error)) error {
	return r.proposeGroupRaw(shard, cmds, viaLog, func(rs []engine.Result, err error) { done(rs, r.Hint(err)) })
}

// proposeGroupRaw is proposeGroupHere whose done gets the shard's errors
// as they are: the caller passes them through Hint. It allocates nothing
// on the write path, so that a BATCH's groups (batch.go) cost no closure.
func (r *Router) proposeGroupRaw(shard int, cmds []engine.Command, viaLog bool, done func([]engine.Result, error)) error {
	sh := r.shard(shard)
	if sh == nil {
		return ErrNotHeld
	}
	if r.readMode == ReadLog || viaLog || !allReadOnly(cmds) {
		return r.Hint(sh.ProposeGroup(cmds, done))
	}
	if !sh.IsLeader() {
		return r.leaderHint(uint16(shard), "", nil)
	}
	readAll := func(cmds []engine.Command) []engine.Result {
		rs := make([]engine.Result, len(cmds))
		for i := range cmds {
			rs[i] = sh.Read(&cmds[i])
		}
		return rs
	}
	if r.readMode == ReadLocal {
		done(readAll(cmds), nil)
		return nil
	}
	own := engine.CloneCommands(cmds)
	sh.ReadIndex(func(err error) {
		if err != nil {
			done(nil, r.Hint(err))
			return
		}
		done(readAll(own), nil)
	})
	return nil
}

// staleRead serves a read-only op from this node's applied state, leader
// or follower (the request's stale flag, docs/adr/0033); a node of a
// cluster that does not replicate the shard answers NOT_LEADER.
func (r *Router) staleRead(shard int, cmd *engine.Command) (engine.Result, error) {
	sh := r.shard(shard)
	if sh == nil {
		return engine.Result{}, ErrNotHeld
	}
	if r.peers != nil && !sh.IsMember() {
		// A node the shard is not placed on holds no state of it.
		return engine.Result{}, &NotLeaderError{Shard: uint16(shard)}
	}
	return sh.Read(cmd), nil
}

func allReadOnly(cmds []engine.Command) bool {
	for i := range cmds {
		if !cmds[i].Op.ReadOnly() {
			return false
		}
	}
	return true
}
