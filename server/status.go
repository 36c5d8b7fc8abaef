package server

import (
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

// serveStatus answers STATUS (event loop): this node's raft view of each of
// its shards. Every value is read from raft's memory without waiting for
// its main loop, so the reply is written at once, like TOPOLOGY's.
func (s *Server) serveStatus(c *conn, reqID uint32) {
	r := s.status()
	c.lock()
	start := len(c.out)
	c.out = protocol.AppendStatusReply(c.out, reqID, &r)
	c.finishFrame(start, reqID)
	c.unlock(true)
}

// status builds the STATUS reply.
func (s *Server) status() protocol.StatusReply {
	r := protocol.StatusReply{NodeID: s.cfg.NodeID, Server: s.cfg.Name,
		Shards: make([]protocol.StatusShard, 0, len(s.shards))}
	if !s.started.IsZero() {
		r.UptimeMs = uint64(time.Since(s.started).Milliseconds())
	}
	for i, sh := range s.shards {
		st := sh.Status()
		r.Shards = append(r.Shards, protocol.StatusShard{
			Shard: uint16(i), State: wireRaftState(st.State), Leader: s.leaderNodeID(st),
			Term: st.Term, LastLogIndex: st.LastLogIndex, LastLogTerm: st.LastLogTerm,
			CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex,
			LastSnapshotIndex: st.LastSnapshotIndex, LastSnapshotTerm: st.LastSnapshotTerm,
		})
	}
	return r
}

// leaderNodeID names a shard's leader by node id, as TOPOLOGY does: this
// node when it leads, the configured peer with the leader's raft id
// otherwise, 0 when none is known.
func (s *Server) leaderNodeID(st raftstore.ShardStatus) uint32 {
	if st.State == raft.Leader {
		return s.cfg.NodeID
	}
	if st.LeaderID == "" {
		return 0
	}
	if p := s.peerByRaftID(st.LeaderID); p != nil {
		return p.NodeID
	}
	return 0
}

func wireRaftState(st raft.RaftState) protocol.RaftState {
	switch st {
	case raft.Follower:
		return protocol.RaftFollower
	case raft.Candidate:
		return protocol.RaftCandidate
	case raft.Leader:
		return protocol.RaftLeader
	}
	return protocol.RaftShutdown
}
