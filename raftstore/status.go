package raftstore

import (
	"strconv"

	"github.com/hashicorp/raft"
)

// ShardStatus is one shard's raft position on this node, for operators
// (the STATUS op, invctl cluster status).
type ShardStatus struct {
	State    raft.RaftState
	LeaderID raft.ServerID // the leader this replica knows; empty = none
	Term     uint64
	// LastLogIndex and LastLogTerm name the newest entry the replica holds,
	// in its log or, when that is newer, in its snapshot.
	LastLogIndex      uint64
	LastLogTerm       uint64
	CommitIndex       uint64
	AppliedIndex      uint64
	LastSnapshotIndex uint64
	LastSnapshotTerm  uint64
}

// Status reads the shard's raft position. Each value is raft's own, read
// without waiting for raft's main loop. The applied index is read first,
// then the commit index, then the log: each only grows, so on a running
// replica the result has applied <= commit <= last log although the reads
// are not one atomic cut.
func (s *Shard) Status() ShardStatus {
	st := ShardStatus{AppliedIndex: s.raft.AppliedIndex()}
	st.CommitIndex = s.raft.CommitIndex()
	// Stats is the only public reader of the log's last term and of the
	// last snapshot; it takes raft's state locks briefly, never the main loop.
	stats := s.raft.Stats()
	st.LastLogIndex, st.LastLogTerm = statUint(stats, "last_log_index"), statUint(stats, "last_log_term")
	st.LastSnapshotIndex, st.LastSnapshotTerm = statUint(stats, "last_snapshot_index"), statUint(stats, "last_snapshot_term")
	if st.LastSnapshotIndex > st.LastLogIndex {
		st.LastLogIndex, st.LastLogTerm = st.LastSnapshotIndex, st.LastSnapshotTerm
	}
	st.Term = s.raft.CurrentTerm()
	st.State = s.raft.State()
	_, st.LeaderID = s.raft.LeaderWithID()
	return st
}

func statUint(stats map[string]string, key string) uint64 {
	n, _ := strconv.ParseUint(stats[key], 10, 64)
	return n
}
