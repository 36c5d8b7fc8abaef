package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/raftstore"
	"github.com/invsys/inv/server"
)

// Cluster mode (docs/adr/0045): invd is one node of several, each holding a
// replica of every shard. It is told its node id, its raft address and the
// whole member list, the same on every node:
//
//	invd --node-id 1 --raft 127.0.0.1:7430 --listen 127.0.0.1:7420 \
//	     --peers 1=127.0.0.1:7430=127.0.0.1:7420,2=127.0.0.1:7440=127.0.0.1:7422,3=...
//
// Each member is node-id=raft-address=client-address. A node without state
// bootstraps the shard groups the placement gives it (replicas = 3 by
// default: each shard on 3 of the members, chosen by rendezvous hashing,
// raftstore/placement.go); a node with state resumes it. The client
// addresses let any node name a shard's leader in NOT_LEADER and TOPOLOGY.
// The pickup secret and the engine's rules must be the same on every node,
// so cluster mode wants pickup_secret set (in the shared config file).

// defaultReplicas is the replication factor of a new cluster: each shard on
// 3 nodes (all of them in a cluster of 3 or fewer).
const defaultReplicas = 3

// parsePeers parses the --peers list.
func parsePeers(spec string) ([]server.Peer, error) {
	var peers []server.Peer
	seen := map[uint32]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, "=")
		if len(parts) != 3 {
			return nil, fmt.Errorf("peer %q: want id=raft-address=client-address", item)
		}
		id, err := strconv.ParseUint(parts[0], 10, 32)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("peer %q: node id must be a number above 0", item)
		}
		if seen[uint32(id)] {
			return nil, fmt.Errorf("peer %q: node id %d twice", item, id)
		}
		seen[uint32(id)] = true
		for _, a := range parts[1:] {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return nil, fmt.Errorf("peer %q: %v", item, err)
			}
		}
		peers = append(peers, server.Peer{NodeID: uint32(id), RaftID: server.RaftIDOf(uint32(id)),
			RaftAddr: parts[1], ClientAddr: parts[2]})
	}
	return peers, nil
}

// applyCluster fills the node's raft options from the cluster settings and
// returns the members (nil for a single node).
func applyCluster(cfg *config, opts *raftstore.Options) ([]server.Peer, error) {
	if cfg.PeersSpec == "" {
		return nil, nil
	}
	peers, err := parsePeers(cfg.PeersSpec)
	if err != nil {
		return nil, err
	}
	if cfg.PickupSecretHex == "" {
		return nil, fmt.Errorf("cluster mode needs pickup_secret in the config, the same on every node")
	}
	if cfg.Node.Replicas < 0 {
		return nil, fmt.Errorf("replicas %d: want 1 or more", cfg.Node.Replicas)
	}
	if cfg.Node.Replicas == 0 {
		cfg.Node.Replicas = defaultReplicas
	}
	opts.Replicas = cfg.Node.Replicas
	if cfg.Join {
		// A joining node is in no group yet: it bootstraps nothing, and
		// lists itself from its own addresses if --peers does not.
		opts.NoBootstrap = true
		listed := false
		for _, p := range peers {
			listed = listed || p.NodeID == cfg.Server.NodeID
		}
		if !listed {
			if cfg.Node.BindAddr == "" {
				return nil, fmt.Errorf("--join needs this node's --raft address")
			}
			client := cfg.Server.Advertise
			if client == "" {
				client = cfg.Listen
			}
			for _, a := range []string{cfg.Node.BindAddr, client} {
				if _, _, err := net.SplitHostPort(a); err != nil {
					return nil, fmt.Errorf("--join: %v", err)
				}
			}
			peers = append(peers, server.Peer{NodeID: cfg.Server.NodeID, RaftID: server.RaftIDOf(cfg.Server.NodeID),
				RaftAddr: cfg.Node.BindAddr, ClientAddr: client})
		}
	}
	var self *server.Peer
	for i := range peers {
		if peers[i].NodeID == cfg.Server.NodeID {
			self = &peers[i]
		}
		opts.Peers = append(opts.Peers, raftstore.Peer{ID: peers[i].RaftID, Addr: peers[i].RaftAddr})
	}
	if self == nil {
		return nil, fmt.Errorf("--peers does not list this node (--node-id %d)", cfg.Server.NodeID)
	}
	if opts.BindAddr == "" {
		opts.BindAddr = self.RaftAddr
	}
	opts.Advertise = self.RaftAddr
	if cfg.Server.Advertise == "" {
		cfg.Server.Advertise = self.ClientAddr
	}
	return peers, nil
}

// startBalancer spreads shard leaders over the members (raftstore/balance.go)
// as the server's peer table lists them now, leaving out drained nodes
// (docs/adr/0046); a member counts as up when its client port accepts a
// connection, which invd opens only once it has joined every shard group.
func startBalancer(node *raftstore.Node, srv *server.Server, log *slog.Logger, stop <-chan struct{}) {
	if len(srv.Members()) == 0 {
		return
	}
	members := func() []raft.ServerID {
		var out []raft.ServerID
		for _, p := range srv.Members() {
			if !p.Drained {
				out = append(out, raft.ServerID(p.RaftID))
			}
		}
		return out
	}
	alive := func(id raft.ServerID) bool {
		addr := ""
		for _, p := range srv.Members() {
			if p.RaftID == string(id) {
				addr = p.ClientAddr
			}
		}
		if addr == "" {
			return false
		}
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
	go node.BalanceLeaders(raftstore.BalanceOptions{MembersFunc: members, Alive: alive, Logger: log}, stop)
}
