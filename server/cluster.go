package server

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

// Peer is one node of a cluster as the server knows it from its
// configuration (docs/adr/0045): the id clients see in TOPOLOGY and
// NOT_LEADER, the raft server id and address of every shard group, and the
// client address it serves the protocol on. Every node is configured with
// the same list, so every node can name every shard's leader by its client
// address.
type Peer struct {
	NodeID     uint32 `json:"node_id"`
	RaftID     string `json:"raft_id"` // raft.ServerID in every shard group
	RaftAddr   string `json:"raft_addr"`
	ClientAddr string `json:"client_addr"`
	// Drained: the leader balancer gives the node no leaderships
	// (docs/adr/0046).
	Drained bool `json:"drained,omitempty"`
}

// RaftIDOf is the raft server id invd gives node id n. It must stay the
// same across restarts.
func RaftIDOf(n uint32) string { return "node-" + strconv.FormatUint(uint64(n), 10) }

// peerByRaftID finds the peer with raft id id, or nil.
func (s *Server) peerByRaftID(id raft.ServerID) *Peer {
	peers := s.peerList()
	for i := range peers {
		if peers[i].RaftID == string(id) {
			return &peers[i]
		}
	}
	return nil
}

// clustered reports whether the server runs as a node of a cluster.
func (s *Server) clustered() bool { return s.peers != nil }

// peerList is the current peer table (peers.go), nil for a single node.
func (s *Server) peerList() []Peer {
	if s.peers == nil {
		return nil
	}
	return s.peers.list()
}

// Members returns the cluster's nodes as this node knows them, sorted by
// node id (nil for a single node). The caller must not change the slice.
func (s *Server) Members() []Peer { return s.peerList() }

// clusterPeers is the peer table as the router sees it (router.Peers):
// leaders named by raft id, and the nodes that hold a shard.
type clusterPeers struct{ s *Server }

// NodeOf names the node with raft id raftID; not this node, whose own
// shards the router never forwards to.
func (p clusterPeers) NodeOf(raftID string) (uint32, string, bool) {
	peer := p.s.peerByRaftID(raft.ServerID(raftID))
	if peer == nil || peer.NodeID == p.s.cfg.NodeID {
		return 0, "", false // unknown, or an election is on: the client asks TOPOLOGY
	}
	return peer.NodeID, peer.ClientAddr, true
}

// Holders lists the client addresses of the other nodes, those the
// placement (raftstore.Placement) puts shard on first: where a node that
// does not replicate shard looks for it.
func (p clusterPeers) Holders(shard int) []string {
	peers := p.s.peerList()
	ids := make([]string, 0, len(peers))
	byID := make(map[string]string, len(peers))
	for _, peer := range peers {
		if peer.NodeID == p.s.cfg.NodeID {
			continue
		}
		ids = append(ids, peer.RaftID)
		byID[peer.RaftID] = peer.ClientAddr
	}
	addrs := make([]string, 0, len(ids))
	for _, id := range raftstore.Placement(uint16(shard), ids, 0) {
		addrs = append(addrs, byID[id])
	}
	return addrs
}

// clusterTopology describes the whole cluster: every node of the peer
// table with its client address, and for each shard the members of its
// raft group (from the group's configuration, as this node knows it) and
// the leader this node knows of. Version is the sum of the shards' raft
// terms and configuration indexes, which grows whenever any shard elects a
// leader or changes its members.
func (s *Server) clusterTopology() protocol.Topology {
	peers := s.peerList()
	t := protocol.Topology{
		Hash:   protocol.HashName,
		Nodes:  make([]protocol.Node, 0, len(peers)),
		Shards: make([]protocol.ShardPlacement, len(s.shards)),
	}
	for _, p := range peers {
		addr := p.ClientAddr
		if p.NodeID == s.cfg.NodeID {
			addr = s.advertiseAddr()
		}
		t.Nodes = append(t.Nodes, protocol.Node{ID: p.NodeID, Addr: addr})
	}
	for i, sh := range s.shards {
		t.Version += sh.Term()
		pl := &t.Shards[i]
		pl.Replicas = s.replicasOf(sh, &t.Version)
		if sh.IsLeader() {
			pl.Leader = s.cfg.NodeID
		} else if id := sh.LeaderID(); id != "" {
			if p := s.peerByRaftID(raft.ServerID(id)); p != nil {
				pl.Leader = p.NodeID
			}
		}
	}
	return t
}

// replicasOf returns the node ids of shard's raft group members that the
// peer table knows, sorted, and adds the configuration's index to version.
func (s *Server) replicasOf(sh *raftstore.Shard, version *uint64) []uint32 {
	servers, err := sh.Configuration()
	if err != nil {
		return nil
	}
	index, _ := sh.ConfigurationIndex()
	*version += index
	var out []uint32
	for _, srv := range servers {
		if p := s.peerByRaftID(srv.ID); p != nil {
			out = append(out, p.NodeID)
		}
	}
	slices.Sort(out)
	return out
}

// ShardHash is one replica's view of a shard: the index it has applied and
// the sha256 of its engine state, which every replica that applied the same
// index must share.
type ShardHash struct {
	Shard   int    `json:"shard"`
	Node    uint32 `json:"node"`
	Leader  bool   `json:"leader"`
	Member  bool   `json:"member"` // the node replicates the shard (false: an empty group, docs/adr/0046)
	Applied uint64 `json:"applied"`
	Hash    string `json:"hash"`
}

// ShardHash hashes shard's engine state on this node.
func (s *Server) ShardHash(shard int) (ShardHash, error) {
	if shard < 0 || shard >= len(s.shards) {
		return ShardHash{}, fmt.Errorf("no shard %d", shard)
	}
	sh := s.shards[shard]
	applied, sum, err := sh.StateHash()
	if err != nil {
		return ShardHash{}, err
	}
	return ShardHash{Shard: shard, Node: s.cfg.NodeID, Leader: sh.IsLeader(), Member: sh.IsMember(), Applied: applied,
		Hash: hex.EncodeToString(sum[:])}, nil
}

// clusterHTTP registers the cluster's admin endpoints:
//
//	/debug/shardhash[?shard=N]  each shard's applied index and state hash
//	/debug/faults               the raft fault layer, when the node has one
//	                            (fault_injection = true): ?partition=a,b cuts
//	                            this node off from those raft addresses,
//	                            ?delay=20ms, ?drop=0.01, ?heal=1; no
//	                            parameter: what is in force
func (s *Server) clusterHTTP(mux *http.ServeMux) {
	mux.HandleFunc("/debug/shardhash", s.serveShardHash)
	if f := s.node.Faults(); f != nil {
		mux.HandleFunc("/debug/faults", func(w http.ResponseWriter, r *http.Request) { serveFaults(f, w, r) })
	}
}

func serveFaults(f *raftstore.Faults, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("heal") != "" {
		f.Heal()
	}
	if p := q.Get("partition"); p != "" {
		f.Partition(strings.Split(p, ",")...)
	}
	if d := q.Get("delay"); d != "" {
		v, err := time.ParseDuration(d)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.SetDelay(v)
	}
	if d := q.Get("drop"); d != "" {
		v, err := strconv.ParseFloat(d, 64)
		if err != nil || v < 0 || v > 1 {
			http.Error(w, "drop wants a probability", http.StatusBadRequest)
			return
		}
		f.SetDrop(v)
	}
	_, _ = fmt.Fprintln(w, f.String())
}

// serveShardHash answers /debug/shardhash?shard=N (JSON ShardHash), or
// every shard's without ?shard.
func (s *Server) serveShardHash(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if q := r.URL.Query().Get("shard"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil {
			http.Error(w, "bad shard", http.StatusBadRequest)
			return
		}
		sh, err := s.ShardHash(n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(sh)
		return
	}
	all := make([]ShardHash, 0, len(s.shards))
	for i := range s.shards {
		sh, err := s.ShardHash(i)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		all = append(all, sh)
	}
	_ = json.NewEncoder(w).Encode(all)
}
