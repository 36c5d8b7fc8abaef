package server

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

// ADMIN (docs/adr/0046): membership and leadership changes, one step on
// one node. Sharded steps run on the shard's leader (elsewhere NOT_LEADER
// names it); peer-table steps change this node's table. The steps run on
// their own goroutine, off the event loop: a configuration change waits
// for a commit, a leadership transfer for an election.

// adminTimeout bounds one configuration change or leadership transfer.
const adminTimeout = 10 * time.Second

// aliveTimeout bounds the dial that tells whether a voter is up before a
// removal.
const aliveTimeout = 300 * time.Millisecond

// serveAdmin answers ADMIN (event loop); the request was admitted.
func (s *Server) serveAdmin(c *conn, f protocol.Frame) {
	var req protocol.AdminRequest
	if err := protocol.DecodeAdminRequest(f.Payload, &req); err != nil {
		s.unadmit(c)
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return
	}
	reqID := f.ReqID
	go func() {
		reply, err := s.admin(&req)
		level := s.log.Info
		if err != nil {
			level = s.log.Warn
		}
		level("admin", "conn", c.id, "remote", c.remote, "cmd", req.Cmd.String(), "shard", req.Shard,
			"node", req.Node, "index", reply.Index, "result", reply.Message, "error", err)
		c.lock()
		if !c.closed {
			if err == nil {
				start := len(c.out)
				c.out = protocol.AppendAdminReply(c.out, reqID, &reply)
				c.finishFrame(start, reqID)
			} else if nl, ok := notLeaderOf(err); ok {
				c.out = protocol.AppendNotLeader(c.out, reqID, &nl)
			} else {
				msg := err.Error()
				var r *refusal
				if errors.As(err, &r) {
					msg = r.Msg
				}
				c.appendError(reqID, codeOf(err), clip(msg))
			}
		}
		c.inflight.Add(-1)
		c.unlock(false)
		s.inflight.Add(-1)
	}()
}

// adminRefused is an ADMIN step refused for what it asks: nothing changed.
func adminRefused(format string, args ...any) error {
	return &refusal{Code: engine.CodeBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// admin runs one ADMIN step.
func (s *Server) admin(req *protocol.AdminRequest) (protocol.AdminReply, error) {
	reply := protocol.AdminReply{NodeID: s.cfg.NodeID}
	if !s.clustered() {
		return reply, adminRefused("this node runs alone (started without peers): membership changes need cluster mode")
	}
	if s.draining.Load() {
		return reply, errDraining
	}
	if req.Cmd.Sharded() {
		return s.adminShard(req, reply)
	}
	var changed bool
	var err error
	switch req.Cmd {
	case protocol.AdminSetPeer:
		changed, err = s.setPeer(req)
		reply.Message = fmt.Sprintf("node %d is at raft %s, client %s", req.Node, req.RaftAddr, req.ClientAddr)
	case protocol.AdminForgetPeer:
		changed, err = s.forgetPeer(req.Node)
		reply.Message = fmt.Sprintf("node %d forgotten", req.Node)
	case protocol.AdminDrain, protocol.AdminUndrain:
		on := req.Cmd == protocol.AdminDrain
		changed, err = s.peers.update(func(list []Peer) ([]Peer, bool) {
			for i := range list {
				if list[i].NodeID == req.Node && list[i].Drained != on {
					list[i].Drained = on
					return list, true
				}
			}
			return list, false
		})
		if _, ok := s.peers.byID(req.Node); !ok && err == nil {
			err = adminRefused("unknown node %d", req.Node)
		}
		reply.Message = fmt.Sprintf("node %d drained: %v", req.Node, on)
	}
	if err != nil {
		return reply, err
	}
	if !changed {
		reply.Message += " (unchanged)"
	}
	return reply, nil
}

// setPeer records a node's addresses. A known node id keeps its raft id;
// two nodes may not share an address.
func (s *Server) setPeer(req *protocol.AdminRequest) (bool, error) {
	for _, a := range []string{req.RaftAddr, req.ClientAddr} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return false, adminRefused("address %q: %v", a, err)
		}
	}
	var conflict error
	changed, err := s.peers.update(func(list []Peer) ([]Peer, bool) {
		for _, p := range list {
			if p.NodeID != req.Node && (p.RaftAddr == req.RaftAddr || p.ClientAddr == req.ClientAddr) {
				conflict = adminRefused("node %d already uses raft %s / client %s", p.NodeID, p.RaftAddr, p.ClientAddr)
				return list, false
			}
		}
		for i := range list {
			if list[i].NodeID == req.Node {
				if list[i].RaftAddr == req.RaftAddr && list[i].ClientAddr == req.ClientAddr {
					return list, false
				}
				if req.Node == s.cfg.NodeID {
					conflict = adminRefused("node %d is this node: its addresses come from its own configuration", req.Node)
					return list, false
				}
				list[i].RaftAddr, list[i].ClientAddr = req.RaftAddr, req.ClientAddr
				return list, true
			}
		}
		return append(list, Peer{NodeID: req.Node, RaftID: RaftIDOf(req.Node),
			RaftAddr: req.RaftAddr, ClientAddr: req.ClientAddr}), true
	})
	if conflict != nil {
		return false, conflict
	}
	return changed, err
}

// forgetPeer drops a node that no shard group on this node still holds.
func (s *Server) forgetPeer(id uint32) (bool, error) {
	if id == s.cfg.NodeID {
		return false, adminRefused("node %d is this node", id)
	}
	// The removal was committed on the leaders; wait a little for it to
	// reach this node's copy of every configuration.
	rid := raft.ServerID(RaftIDOf(id))
	deadline := time.Now().Add(adminTimeout)
	for i := 0; i < len(s.shards); {
		if !s.shards[i].HasMember(rid) {
			i++
			continue
		}
		if time.Now().After(deadline) || s.draining.Load() {
			return false, adminRefused("node %d is still a member of shard %d: remove it first", id, i)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s.peers.update(func(list []Peer) ([]Peer, bool) {
		for i := range list {
			if list[i].NodeID == id {
				return append(list[:i], list[i+1:]...), true
			}
		}
		return list, false
	})
}

// adminShard runs a step on one shard's group, which this node must lead.
func (s *Server) adminShard(req *protocol.AdminRequest, reply protocol.AdminReply) (protocol.AdminReply, error) {
	if int(req.Shard) >= len(s.shards) {
		return reply, adminRefused("no shard %d (the cluster has %d)", req.Shard, len(s.shards))
	}
	sh := s.shards[req.Shard]
	var target Peer
	if req.Node != 0 {
		p, ok := s.peers.byID(req.Node)
		if !ok {
			return reply, adminRefused("unknown node %d: set its addresses first (set_peer)", req.Node)
		}
		target = p
	}
	id := raft.ServerID(target.RaftID)
	var err error
	switch req.Cmd {
	case protocol.AdminAddVoter:
		reply.Index, err = sh.AddVoter(id, raft.ServerAddress(target.RaftAddr), adminTimeout)
		reply.Message = fmt.Sprintf("shard %d: node %d is a voter", req.Shard, req.Node)
	case protocol.AdminRemove:
		reply.Index, err = sh.RemoveServer(id, req.Force, s.peerAlive, adminTimeout)
		reply.Message = fmt.Sprintf("shard %d: node %d is not a member", req.Shard, req.Node)
	case protocol.AdminTransfer:
		err = sh.TransferLeadership(id)
		if req.Node == 0 {
			reply.Message = fmt.Sprintf("shard %d: leadership handed over", req.Shard)
		} else {
			reply.Message = fmt.Sprintf("shard %d: node %d leads", req.Shard, req.Node)
		}
	}
	if errors.Is(err, raftstore.ErrMembership) {
		return reply, adminRefused("%s", err.Error())
	}
	return reply, s.router.Hint(err)
}

// peerAlive reports whether a node's client port accepts a connection
// (invd opens it once it has joined its shard groups). This node is alive.
func (s *Server) peerAlive(id raft.ServerID) bool {
	p := s.peerByRaftID(id)
	if p == nil {
		return false
	}
	if p.NodeID == s.cfg.NodeID {
		return true
	}
	c, err := net.DialTimeout("tcp", p.ClientAddr, aliveTimeout)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
