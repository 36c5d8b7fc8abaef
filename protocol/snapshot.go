package protocol

// SNAPSHOT asks a node to take a raft snapshot of every shard it holds, now
// (an operator's "snapshot now", before a backup or an upgrade). The request
// has an empty payload; the reply lists every shard of the node with what
// became of it. A shard with nothing applied since its last snapshot is not
// a failure: it reports SnapshotUnchanged and the index of the snapshot it
// already has.

// SnapshotStatus is what became of one shard's snapshot.
type SnapshotStatus uint8

const (
	// SnapshotTaken: a snapshot was taken and persisted; Index is its raft index.
	SnapshotTaken SnapshotStatus = 1
	// SnapshotUnchanged: nothing was applied since the shard's last
	// snapshot, so none was taken; Index is the newest snapshot's index
	// (0: the shard has none and nothing to snapshot).
	SnapshotUnchanged SnapshotStatus = 2
	// SnapshotFailed: the snapshot failed; Index is 0 and Message says why.
	SnapshotFailed SnapshotStatus = 3
)

var snapshotStatusNames = [...]string{SnapshotTaken: "taken", SnapshotUnchanged: "unchanged", SnapshotFailed: "failed"}

// String returns taken, unchanged or failed.
func (s SnapshotStatus) String() string {
	if s.Valid() {
		return snapshotStatusNames[s]
	}
	return "snapshot_status_" + hex2(uint8(s))
}

// Valid reports whether s is a status of this protocol version.
func (s SnapshotStatus) Valid() bool { return s >= SnapshotTaken && s <= SnapshotFailed }

// SnapshotReply is the reply to SNAPSHOT.
type SnapshotReply struct {
	NodeID uint32          // the node that took the snapshots
	Shards []SnapshotShard // one per shard of the node, in increasing shard order
}

// SnapshotShard is one shard's outcome.
type SnapshotShard struct {
	Shard   uint16
	Status  SnapshotStatus
	Index   uint64 // the snapshot's raft index (see SnapshotStatus); 0 when failed
	Message string // why it failed; empty unless Status is SnapshotFailed
}

// SNAPSHOT request: empty payload.
// SNAPSHOT reply payload: node_id u32, u16 shard count (<= MaxShards), then
// per shard, in strictly increasing shard order: shard u16, status u8,
// index u64, message str16 (<= MaxMessageBytes).

const minSnapshotShardBytes = 2 + 1 + 8 + 2

// AppendSnapshotRequest appends a SNAPSHOT request.
func AppendSnapshotRequest(dst []byte, reqID uint32) []byte {
	return AppendFrameHeader(dst, OpSnapshot, 0, reqID, 0)
}

// AppendSnapshotReply appends the reply to SNAPSHOT. It panics on a reply
// the decoder would refuse (an unknown status, shards out of order, an
// index or message where none belongs).
func AppendSnapshotReply(dst []byte, reqID uint32, r *SnapshotReply) []byte {
	dst, start := beginFrame(dst, OpSnapshot, FlagReply, reqID)
	dst = appendU32(dst, r.NodeID)
	dst = appendCount(dst, len(r.Shards), MaxShards, "snapshot shards")
	for i := range r.Shards {
		s := &r.Shards[i]
		if err := checkSnapshotShard(s); err != nil {
			panic("protocol: encoding SNAPSHOT reply: " + err.Error())
		}
		if i > 0 && s.Shard <= r.Shards[i-1].Shard {
			panic("protocol: encoding SNAPSHOT reply: shards out of order")
		}
		dst = appendU16(dst, s.Shard)
		dst = appendU8(dst, uint8(s.Status))
		dst = appendU64(dst, s.Index)
		dst = appendStr16(dst, s.Message, MaxMessageBytes, "snapshot message")
	}
	return finishFrame(dst, start)
}

func checkSnapshotShard(s *SnapshotShard) error {
	switch {
	case !s.Status.Valid():
		return malformed("SNAPSHOT reply with an unknown status")
	case s.Status == SnapshotTaken && s.Index == 0:
		return malformed("SNAPSHOT reply: a snapshot taken at index 0")
	case s.Status == SnapshotFailed && s.Index != 0:
		return malformed("SNAPSHOT reply: a failed snapshot with an index")
	case s.Status != SnapshotFailed && s.Message != "":
		return malformed("SNAPSHOT reply: a message on a snapshot that did not fail")
	}
	return nil
}

// DecodeSnapshotReply decodes the payload of the reply to SNAPSHOT. The
// list is allocated after its count has been checked against the bytes left.
func DecodeSnapshotReply(payload []byte, r *SnapshotReply) error {
	*r = SnapshotReply{}
	c := cursor{b: payload}
	r.NodeID = c.u32()
	n := c.count(MaxShards, minSnapshotShardBytes, "snapshot shards")
	if c.err != nil {
		return c.err
	}
	if n > 0 {
		r.Shards = make([]SnapshotShard, n)
	}
	for i := range r.Shards {
		s := &r.Shards[i]
		s.Shard = c.u16()
		s.Status = SnapshotStatus(c.u8())
		s.Index = c.u64()
		s.Message = string(c.str16(MaxMessageBytes, "snapshot message bytes"))
		if c.err != nil {
			return c.err
		}
		if err := checkSnapshotShard(s); err != nil {
			return err
		}
		if i > 0 && s.Shard <= r.Shards[i-1].Shard {
			return malformed("SNAPSHOT reply: shards out of order")
		}
	}
	return c.end()
}
