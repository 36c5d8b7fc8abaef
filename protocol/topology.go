package protocol

// Topology is the cluster map a client routes by: how many shards, which
// hash places a key in a shard, the nodes, and who leads each shard.
type Topology struct {
	// Version increases whenever the map changes (0 = unknown); a client
	// keeps the newest map it has seen.
	Version uint64
	// Hash names the shard function; HashName (FNV-1a 64 over length-prefixed
	// ids, see ShardOf) is the only one of this protocol version.
	Hash   string
	Nodes  []Node
	Shards []ShardPlacement // index = shard id; len = number of shards (>= 1)
}

// Node is one server of the cluster.
type Node struct {
	ID   uint32 // never 0: 0 means "no node" in ShardPlacement
	Addr string // host:port clients connect to
}

// ShardPlacement says where one shard lives.
type ShardPlacement struct {
	Leader   uint32   // node id of the current leader; 0 = none known (election in progress)
	Replicas []uint32 // node ids of every member of the shard's Raft group, leader included
}

// TOPOLOGY request: empty payload.
// TOPOLOGY reply payload: version u64, hash str8, u16 node count, nodes ×
// (id u32, addr str8), u16 shard count (>= 1), shards × (leader u32,
// u16 replica count, replica ids u32 × count).

const (
	minNodeBytes  = 4 + 1
	minShardBytes = 4 + 2
)

// AppendTopologyRequest appends a TOPOLOGY request.
func AppendTopologyRequest(dst []byte, reqID uint32) []byte {
	return AppendFrameHeader(dst, OpTopology, 0, reqID, 0)
}

// AppendTopology appends a TOPOLOGY reply.
func AppendTopology(dst []byte, reqID uint32, t *Topology) []byte {
	dst, start := beginFrame(dst, OpTopology, FlagReply, reqID)
	dst = appendU64(dst, t.Version)
	dst = appendStr8(dst, t.Hash, MaxHashNameBytes, "hash name")
	dst = appendCount(dst, len(t.Nodes), MaxNodes, "nodes")
	for i := range t.Nodes {
		dst = appendU32(dst, t.Nodes[i].ID)
		dst = appendStr8(dst, t.Nodes[i].Addr, MaxAddrBytes, "node address")
	}
	if len(t.Shards) == 0 {
		panic("protocol: encoding a topology of zero shards")
	}
	dst = appendCount(dst, len(t.Shards), MaxShards, "shards")
	for i := range t.Shards {
		s := &t.Shards[i]
		dst = appendU32(dst, s.Leader)
		dst = appendCount(dst, len(s.Replicas), MaxReplicas, "replicas")
		for _, id := range s.Replicas {
			dst = appendU32(dst, id)
		}
	}
	return finishFrame(dst, start)
}

// DecodeTopology decodes a TOPOLOGY reply payload. It allocates the lists,
// each only after its count has been checked against the bytes left.
func DecodeTopology(payload []byte, t *Topology) error {
	*t = Topology{}
	c := cursor{b: payload}
	t.Version = c.u64()
	t.Hash = string(c.str8(MaxHashNameBytes, "hash name bytes"))
	if n := c.count(MaxNodes, minNodeBytes, "nodes"); n > 0 {
		t.Nodes = make([]Node, n)
		for i := range t.Nodes {
			t.Nodes[i].ID = c.u32()
			t.Nodes[i].Addr = string(c.str8(MaxAddrBytes, "node address bytes"))
		}
	}
	n := c.count(MaxShards, minShardBytes, "shards")
	if c.err != nil {
		return c.err
	}
	if n == 0 {
		return malformed("topology of zero shards")
	}
	t.Shards = make([]ShardPlacement, n)
	// One backing array for every shard's replicas: a few thousand shards
	// cost one allocation, not one each. Its size is bounded by the payload.
	replicas := make([]uint32, 0, len(c.b)/4)
	for i := range t.Shards {
		s := &t.Shards[i]
		s.Leader = c.u32()
		r := c.count(MaxReplicas, 4, "replicas")
		from := len(replicas)
		for j := 0; j < r; j++ {
			replicas = append(replicas, c.u32())
		}
		if r > 0 {
			s.Replicas = replicas[from:len(replicas):len(replicas)]
		}
	}
	return c.end()
}
