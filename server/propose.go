package server

import (
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
)

// propose hands one command to its shard. On error nothing was queued and
// done will not be called; otherwise done is called exactly once, on a
// proposer goroutine, or at once for a local read.
//
// Read-only ops are served per the read mode (docs/adr/0033): by default
// (ReadIndex) from the leader's state once a read-index round confirmed
// it; with ReadLog through the log like writes (the read takes effect at
// its entry's place in the log); with ReadLocal from the leader's applied
// state at once.
func (s *Server) propose(shard int, cmd *engine.Command, done func(engine.Result, error)) error {
	return s.proposeVia(shard, cmd, false, done)
}

// proposeVia is propose; viaLog sends a read through the log whatever the
// read mode, so that it is answered after the commands proposed to the
// shard before it (a read that follows writes in one BATCH frame).
func (s *Server) proposeVia(shard int, cmd *engine.Command, viaLog bool, done func(engine.Result, error)) error {
	sh := s.shards[shard]
	if sh == nil {
		return errNoShard
	}
	if cmd.Op.ReadOnly() && s.cfg.ReadMode != ReadLog && !viaLog {
		if !sh.IsLeader() {
			return s.hint(&raftstore.NotLeaderError{Shard: uint16(shard)})
		}
		if s.cfg.ReadMode == ReadLocal {
			done(sh.Read(cmd), nil)
			return nil
		}
		own := ownCommands([]engine.Command{*cmd})
		sh.ReadIndex(func(err error) {
			if err != nil {
				done(engine.Result{}, s.hint(err))
				return
			}
			done(sh.Read(&own[0]), nil)
		})
		return nil
	}
	return s.hint(sh.Propose(*cmd, done))
}

// staleRead serves a read-only op from this node's applied state, leader
// or follower (the request's stale flag, docs/adr/0033); a node that does
// not replicate the shard answers NOT_LEADER.
func (s *Server) staleRead(shard int, cmd *engine.Command) (engine.Result, error) {
	sh := s.shards[shard]
	if sh == nil {
		return engine.Result{}, errNoShard
	}
	if s.clustered() && !sh.IsMember() {
		// A node the shard is not placed on holds no state of it.
		return engine.Result{}, &raftstore.NotLeaderError{Shard: uint16(shard)}
	}
	return sh.Read(cmd), nil
}

// ownCommands copies cmds and the bytes they point to (which may alias a
// connection's read buffer) into memory of their own.
func ownCommands(cmds []engine.Command) []engine.Command {
	n := 0
	for i := range cmds {
		c := &cmds[i]
		n += len(c.SKU) + len(c.Store) + len(c.Customer) + len(c.Key)
	}
	buf := make([]byte, 0, n)
	take := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	out := make([]engine.Command, len(cmds))
	for i := range cmds {
		out[i] = cmds[i]
		c := &out[i]
		c.SKU, c.Store, c.Customer, c.Key = take(c.SKU), take(c.Store), take(c.Customer), take(c.Key)
	}
	return out
}

// proposeGroup hands a BATCH's share of one shard to that shard as one
// group, so that it lands in one raft entry and its chains stay whole.
func (s *Server) proposeGroup(shard int, cmds []engine.Command, done func([]engine.Result, error)) error {
	return s.proposeGroupVia(shard, cmds, false, done)
}

// proposeGroupVia is proposeGroup; viaLog sends a group of reads through
// the log whatever the read mode (proposeVia).
func (s *Server) proposeGroupVia(shard int, cmds []engine.Command, viaLog bool, done func([]engine.Result, error)) error {
	sh := s.shards[shard]
	if sh == nil {
		return errNoShard
	}
	if s.cfg.ReadMode != ReadLog && !viaLog && allReadOnly(cmds) {
		if !sh.IsLeader() {
			return s.hint(&raftstore.NotLeaderError{Shard: uint16(shard)})
		}
		readAll := func(cmds []engine.Command) []engine.Result {
			rs := make([]engine.Result, len(cmds))
			for i := range cmds {
				rs[i] = sh.Read(&cmds[i])
			}
			return rs
		}
		if s.cfg.ReadMode == ReadLocal {
			done(readAll(cmds), nil)
			return nil
		}
		own := ownCommands(cmds)
		sh.ReadIndex(func(err error) {
			if err != nil {
				done(nil, s.hint(err))
				return
			}
			done(readAll(own), nil)
		})
		return nil
	}
	if s.clustered() {
		inner := done
		done = func(rs []engine.Result, err error) { inner(rs, s.hint(err)) }
	}
	return s.hint(sh.ProposeGroup(cmds, done))
}

func allReadOnly(cmds []engine.Command) bool {
	for i := range cmds {
		if !cmds[i].Op.ReadOnly() {
			return false
		}
	}
	return true
}
