package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Membership and leadership changes (docs/adr/0046). Each is a sequence of
// ADMIN steps: the peer-table steps go to every node of the cluster, each
// shard's step to that shard's leader, following NOT_LEADER. Every step is
// idempotent, so a sequence cut short (a node down, a timeout) is finished
// by running it again. They need an operator token (ErrUnauthorized
// otherwise), are sent once per node and not retried beyond following a
// leader, and wait as long as ctx allows.

// NodeSpec names a node and its addresses.
type NodeSpec struct {
	ID         uint32
	RaftAddr   string // its raft listener, host:port
	ClientAddr string // its protocol listener, host:port
}

// AdminStep is the outcome of one ADMIN step.
type AdminStep struct {
	Node    uint32 // the node that acted (0 if none answered)
	Shard   int    // the shard, -1 for a peer-table step
	Index   uint64 // raft index of the configuration change; 0: none needed
	Message string
	Err     error // nil: done
}

// AdminError is returned when some steps of a change failed; Steps holds
// every step's outcome.
type AdminError struct {
	Steps []AdminStep
}

func (e *AdminError) Error() string {
	var failed []string
	for _, s := range e.Steps {
		if s.Err != nil {
			if s.Shard >= 0 {
				failed = append(failed, fmt.Sprintf("shard %d: %v", s.Shard, s.Err))
			} else {
				failed = append(failed, fmt.Sprintf("node %d: %v", s.Node, s.Err))
			}
		}
	}
	return fmt.Sprintf("inv: %d of %d steps failed: %s", len(failed), len(e.Steps), joinMax(failed, 4))
}

// Unwrap returns the steps' errors, so that errors.Is finds a refusal.
func (e *AdminError) Unwrap() []error {
	var out []error
	for _, s := range e.Steps {
		if s.Err != nil {
			out = append(out, s.Err)
		}
	}
	return out
}

func joinMax(s []string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("%s; and %d more", joinMax(s[:n], n), len(s)-n)
	}
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}

// AdminAt sends one ADMIN step to the node at addr. A NOT_LEADER answer
// comes back as a *NotLeaderError naming the leader.
func (c *Client) AdminAt(ctx context.Context, addr string, req AdminRequest) (AdminReply, error) {
	if err := protocol.CheckAdmin(&req); err != nil {
		return protocol.AdminReply{}, err
	}
	if !c.enter() {
		return protocol.AdminReply{}, ErrClientClosed
	}
	defer c.leave()
	cn, err := c.nodeAt(addr).conn(ctx)
	if err != nil {
		return protocol.AdminReply{}, err
	}
	k := getCall(kindAdmin)
	k.admin = &req
	if !cn.enqueue(k) {
		k.release()
		return protocol.AdminReply{}, errConnLost
	}
	if err := k.wait(ctx, 0); err != nil {
		return protocol.AdminReply{}, err
	}
	defer k.release()
	switch {
	case k.err != nil:
		return protocol.AdminReply{}, k.err
	case k.code == engine.CodeNotLeader:
		return protocol.AdminReply{}, &NotLeaderError{Hint: k.hint}
	case k.code != engine.OK:
		return protocol.AdminReply{}, errorWithMessage(k.code, k.msg)
	}
	return *k.adminR, nil
}

// NotLeaderError is an ADMIN step refused by a node that does not lead the
// shard. errors.Is(err, ErrNotLeader) holds.
type NotLeaderError struct {
	Hint LeaderHint
}

func (e *NotLeaderError) Error() string {
	if e.Hint.LeaderAddr == "" {
		return fmt.Sprintf("inv: not_leader: shard %d has no known leader", e.Hint.Shard)
	}
	return fmt.Sprintf("inv: not_leader: shard %d is led by node %d at %s", e.Hint.Shard, e.Hint.LeaderID, e.Hint.LeaderAddr)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// adminLeaderTries bounds how many leaders one shard's step follows.
const adminLeaderTries = 8

// adminShard sends req (for one shard) to the shard's leader, following
// NOT_LEADER hints and, when no leader is known, asking the topology again
// after a pause.
func (c *Client) adminShard(ctx context.Context, req protocol.AdminRequest) AdminStep {
	step := AdminStep{Shard: int(req.Shard)}
	addr := ""
	for try := 0; try < adminLeaderTries; try++ {
		if addr == "" {
			t, err := c.Topology(ctx)
			if err != nil {
				step.Err = err
				return step
			}
			addr = leaderAddr(&t, int(req.Shard))
			if addr == "" {
				step.Err = fmt.Errorf("inv: shard %d has no known leader", req.Shard)
				if !sleep(ctx, 200*time.Millisecond) {
					return step
				}
				continue
			}
		}
		rep, err := c.AdminAt(ctx, addr, req)
		var nl *NotLeaderError
		switch {
		case err == nil:
			step.Node, step.Index, step.Message, step.Err = rep.NodeID, rep.Index, rep.Message, nil
			return step
		case errors.As(err, &nl):
			step.Err = err
			addr = nl.Hint.LeaderAddr
			if addr == "" && !sleep(ctx, 200*time.Millisecond) {
				return step
			}
		default:
			step.Err = err
			return step
		}
	}
	return step
}

func leaderAddr(t *protocol.Topology, shard int) string {
	if shard >= len(t.Shards) || t.Shards[shard].Leader == 0 {
		return ""
	}
	for _, n := range t.Nodes {
		if n.ID == t.Shards[shard].Leader {
			return n.Addr
		}
	}
	return ""
}

// broadcast sends a peer-table step to every node of the topology and to
// the extra addresses.
func (c *Client) broadcast(ctx context.Context, t *protocol.Topology, req protocol.AdminRequest, extra ...string) []AdminStep {
	addrs := make([]string, 0, len(t.Nodes)+len(extra))
	for _, n := range t.Nodes {
		addrs = append(addrs, n.Addr)
	}
	for _, a := range extra {
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	steps := make([]AdminStep, len(addrs))
	for i, a := range addrs {
		rep, err := c.AdminAt(ctx, a, req)
		steps[i] = AdminStep{Node: rep.NodeID, Shard: -1, Message: rep.Message, Err: err}
		if err != nil {
			steps[i].Message = a
			for _, n := range t.Nodes {
				if n.Addr == a {
					steps[i].Node = n.ID
				}
			}
		}
	}
	return steps
}

func stepsErr(steps []AdminStep) error {
	for _, s := range steps {
		if s.Err != nil {
			return &AdminError{Steps: steps}
		}
	}
	return nil
}

// shardsOf returns the given shards, or every shard of t when none.
func shardsOf(t *protocol.Topology, shards []int) ([]int, error) {
	if len(shards) == 0 {
		out := make([]int, len(t.Shards))
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	for _, s := range shards {
		if s < 0 || s >= len(t.Shards) {
			return nil, fmt.Errorf("inv: no shard %d (the cluster has %d)", s, len(t.Shards))
		}
	}
	return shards, nil
}

// AddNode adds a node to the cluster: every node (and the new one) learns
// its addresses, then each shard's leader adds it as a voter of the
// shard's group (every shard, or the given ones), from where it catches up.
// The node must run (invd --join) for the groups to reach it.
func (c *Client) AddNode(ctx context.Context, n NodeSpec, shards ...int) ([]AdminStep, error) {
	if n.ID == 0 || n.RaftAddr == "" || n.ClientAddr == "" {
		return nil, fmt.Errorf("inv: add node: want a node id above 0, a raft and a client address")
	}
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	list, err := shardsOf(&t, shards)
	if err != nil {
		return nil, err
	}
	steps := c.broadcast(ctx, &t, protocol.AdminRequest{Cmd: protocol.AdminSetPeer, Node: n.ID,
		RaftAddr: n.RaftAddr, ClientAddr: n.ClientAddr}, n.ClientAddr)
	if err := stepsErr(steps); err != nil {
		// A node that does not know the new one could not name it in
		// TOPOLOGY or NOT_LEADER: stop before any group changes.
		return steps, err
	}
	for _, s := range list {
		steps = append(steps, c.adminShard(ctx, protocol.AdminRequest{Cmd: protocol.AdminAddVoter, Shard: uint16(s), Node: n.ID}))
	}
	return steps, stepsErr(steps)
}

// RemoveNode removes a node from every shard group it is a member of (a
// leader asked to remove itself first hands its leadership over), then has
// every other node forget it. Given shards, it removes the node from those
// groups only and every node keeps it (moving replicas between nodes).
// Without force, a removal that would leave a group with fewer live voters
// than a majority is refused; the last voter is never removed.
func (c *Client) RemoveNode(ctx context.Context, id uint32, force bool, shards ...int) ([]AdminStep, error) {
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	only, err := shardsOf(&t, shards)
	if err != nil {
		return nil, err
	}
	known := false
	for _, n := range t.Nodes {
		known = known || n.ID == id
	}
	if !known {
		return nil, fmt.Errorf("%w: node %d is not a node of the cluster", ErrNotFound, id)
	}
	var steps []AdminStep
	for _, s := range only {
		if slices.Contains(t.Shards[s].Replicas, id) {
			steps = append(steps, c.adminShard(ctx, protocol.AdminRequest{Cmd: protocol.AdminRemove,
				Shard: uint16(s), Node: id, Force: force}))
		}
	}
	if err := stepsErr(steps); err != nil || len(shards) > 0 {
		return steps, err
	}
	rest := t
	rest.Nodes = slices.DeleteFunc(slices.Clone(t.Nodes), func(n protocol.Node) bool { return n.ID == id })
	steps = append(steps, c.broadcast(ctx, &rest, protocol.AdminRequest{Cmd: protocol.AdminForgetPeer, Node: id})...)
	return steps, stepsErr(steps)
}

// TransferLeader hands the leadership of the given shards to node to (0:
// to another voter of the leader's choosing).
func (c *Client) TransferLeader(ctx context.Context, to uint32, shards ...int) ([]AdminStep, error) {
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	if len(shards) == 0 {
		return nil, errors.New("inv: transfer leader: name the shards")
	}
	list, err := shardsOf(&t, shards)
	if err != nil {
		return nil, err
	}
	var steps []AdminStep
	for _, s := range list {
		steps = append(steps, c.adminShard(ctx, protocol.AdminRequest{Cmd: protocol.AdminTransfer, Shard: uint16(s), Node: to}))
	}
	return steps, stepsErr(steps)
}

// DrainNode marks a node drained on every node, so that leader balancing
// gives it no leaderships, then hands every shard it leads to node to (0:
// to other voters). The node keeps its replicas and serves stale reads.
func (c *Client) DrainNode(ctx context.Context, id, to uint32) ([]AdminStep, error) {
	if id == to {
		return nil, fmt.Errorf("inv: drain: node %d cannot take its own leaderships", id)
	}
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	steps := c.broadcast(ctx, &t, protocol.AdminRequest{Cmd: protocol.AdminDrain, Node: id})
	if err := stepsErr(steps); err != nil {
		return steps, err
	}
	for s, pl := range t.Shards {
		if pl.Leader == id {
			steps = append(steps, c.adminShard(ctx, protocol.AdminRequest{Cmd: protocol.AdminTransfer, Shard: uint16(s), Node: to}))
		}
	}
	return steps, stepsErr(steps)
}

// UndrainNode clears a node's drained mark on every node: leader
// balancing gives it its share again.
func (c *Client) UndrainNode(ctx context.Context, id uint32) ([]AdminStep, error) {
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	steps := c.broadcast(ctx, &t, protocol.AdminRequest{Cmd: protocol.AdminUndrain, Node: id})
	return steps, stepsErr(steps)
}
