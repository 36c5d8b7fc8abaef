package server

import (
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
)

// propose hands one command to its shard. On error nothing was queued and
// done will not be called; otherwise done is called exactly once, on a
// proposer goroutine, or at once for a local read.
//
// Read-only ops go through the log like writes (linearizable: the read
// takes effect at its entry's place in the log), unless the server runs
// with LocalReads, where the leader answers from its applied state
// (docs/adr/0033).
func (s *Server) propose(shard int, cmd *engine.Command, done func(engine.Result, error)) error {
	sh := s.shards[shard]
	if sh == nil {
		return errNoShard
	}
	if s.cfg.LocalReads && cmd.Op.ReadOnly() {
		if !sh.IsLeader() {
			return s.hint(&raftstore.NotLeaderError{Shard: uint16(shard)})
		}
		done(sh.Read(cmd), nil)
		return nil
	}
	return s.hint(sh.Propose(*cmd, done))
}

// proposeGroup hands a BATCH's share of one shard to that shard as one
// group, so that it lands in one raft entry and its chains stay whole.
func (s *Server) proposeGroup(shard int, cmds []engine.Command, done func([]engine.Result, error)) error {
	sh := s.shards[shard]
	if sh == nil {
		return errNoShard
	}
	if s.cfg.LocalReads && allReadOnly(cmds) {
		if !sh.IsLeader() {
			return s.hint(&raftstore.NotLeaderError{Shard: uint16(shard)})
		}
		rs := make([]engine.Result, len(cmds))
		for i := range cmds {
			rs[i] = sh.Read(&cmds[i])
		}
		done(rs, nil)
		return nil
	}
	if len(s.cfg.Peers) > 0 {
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
