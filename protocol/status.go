package protocol

// STATUS asks a node for its own view of every shard it holds: the raft
// state, term and indexes of each shard's replica on that node, and who it
// believes leads. TOPOLOGY says where shards live; STATUS says how far each
// replica has got, which is what an operator compares across the nodes of
// a cluster (a follower that lags, a shard stuck in elections, a snapshot
// that never happens). The request has an empty payload.

// RaftState is a shard replica's raft role on the node that answers.
type RaftState uint8

const (
	RaftFollower  RaftState = 1
	RaftCandidate RaftState = 2
	RaftLeader    RaftState = 3
	// RaftShutdown: the shard's raft group has stopped on this node (the
	// node is shutting down).
	RaftShutdown RaftState = 4
)

var raftStateNames = [...]string{RaftFollower: "follower", RaftCandidate: "candidate", RaftLeader: "leader",
	RaftShutdown: "shutdown"}

// String returns follower, candidate, leader or shutdown.
func (s RaftState) String() string {
	if s.Valid() {
		return raftStateNames[s]
	}
	return "raft_state_" + hex2(uint8(s))
}

// Valid reports whether s is a state of this protocol version.
func (s RaftState) Valid() bool { return s >= RaftFollower && s <= RaftShutdown }

// StatusReply is the reply to STATUS.
type StatusReply struct {
	NodeID   uint32        // the node that answers, as in TOPOLOGY
	UptimeMs uint64        // milliseconds since the node's server started
	Server   string        // server name and version, as in HELLO's reply
	Shards   []StatusShard // one per shard of the node, in increasing shard order
}

// StatusShard is one shard's replica on the answering node. The indexes are
// read in the order applied, commit, last log, so that on a running node
// applied <= commit <= last log holds in one reply.
type StatusShard struct {
	Shard  uint16
	State  RaftState
	Leader uint32 // node id of the leader this replica knows; 0 = none known
	Term   uint64 // the replica's current raft term
	// LastLogIndex and LastLogTerm: the newest entry in the replica's log
	// (or its snapshot, when that is newer).
	LastLogIndex uint64
	LastLogTerm  uint64
	CommitIndex  uint64 // the highest index known committed
	AppliedIndex uint64 // the highest index applied to the engine
	// LastSnapshotIndex and LastSnapshotTerm: the newest snapshot the
	// replica has taken or installed; 0 = none.
	LastSnapshotIndex uint64
	LastSnapshotTerm  uint64
}

// STATUS request: empty payload.
// STATUS reply payload: node_id u32, uptime_ms u64, server str8 (<=
// MaxNameBytes), u16 shard count (<= MaxShards), then per shard, in
// strictly increasing shard order: shard u16, state u8, leader u32, term
// u64, last_log_index u64, last_log_term u64, commit_index u64,
// applied_index u64, last_snapshot_index u64, last_snapshot_term u64.

const statusShardBytes = 2 + 1 + 4 + 8*7

// AppendStatusRequest appends a STATUS request.
func AppendStatusRequest(dst []byte, reqID uint32) []byte {
	return AppendFrameHeader(dst, OpStatus, 0, reqID, 0)
}

// AppendStatusReply appends the reply to STATUS. It panics on a reply the
// decoder would refuse (an unknown state, shards out of order, a server
// name over its limit).
func AppendStatusReply(dst []byte, reqID uint32, r *StatusReply) []byte {
	dst, start := beginFrame(dst, OpStatus, FlagReply, reqID)
	dst = appendU32(dst, r.NodeID)
	dst = appendU64(dst, r.UptimeMs)
	dst = appendStr8(dst, r.Server, MaxNameBytes, "server name")
	dst = appendCount(dst, len(r.Shards), MaxShards, "status shards")
	for i := range r.Shards {
		s := &r.Shards[i]
		if !s.State.Valid() {
			panic("protocol: encoding STATUS reply with an unknown raft state")
		}
		if i > 0 && s.Shard <= r.Shards[i-1].Shard {
			panic("protocol: encoding STATUS reply: shards out of order")
		}
		dst = appendU16(dst, s.Shard)
		dst = appendU8(dst, uint8(s.State))
		dst = appendU32(dst, s.Leader)
		for _, v := range [...]uint64{s.Term, s.LastLogIndex, s.LastLogTerm, s.CommitIndex, s.AppliedIndex,
			s.LastSnapshotIndex, s.LastSnapshotTerm} {
			dst = appendU64(dst, v)
		}
	}
	return finishFrame(dst, start)
}

// DecodeStatusReply decodes the payload of the reply to STATUS. The list is
// allocated after its count has been checked against the bytes left.
func DecodeStatusReply(payload []byte, r *StatusReply) error {
	*r = StatusReply{}
	c := cursor{b: payload}
	r.NodeID = c.u32()
	r.UptimeMs = c.u64()
	r.Server = string(c.str8(MaxNameBytes, "server name bytes"))
	n := c.count(MaxShards, statusShardBytes, "status shards")
	if c.err != nil {
		return c.err
	}
	if n > 0 {
		r.Shards = make([]StatusShard, n)
	}
	for i := range r.Shards {
		s := &r.Shards[i]
		s.Shard = c.u16()
		s.State = RaftState(c.u8())
		s.Leader = c.u32()
		for _, p := range [...]*uint64{&s.Term, &s.LastLogIndex, &s.LastLogTerm, &s.CommitIndex, &s.AppliedIndex,
			&s.LastSnapshotIndex, &s.LastSnapshotTerm} {
			*p = c.u64()
		}
		if c.err != nil {
			return c.err
		}
		if !s.State.Valid() {
			return malformed("STATUS reply with an unknown raft state")
		}
		if i > 0 && s.Shard <= r.Shards[i-1].Shard {
			return malformed("STATUS reply: shards out of order")
		}
	}
	return c.end()
}
