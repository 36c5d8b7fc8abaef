package client

import (
	"context"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// NodeStatus asks the node at addr (host:port, the client address of any
// node of the cluster, as TOPOLOGY lists it) for its own view of every
// shard it holds: each replica's raft state, term, last log, commit,
// applied and last snapshot indexes, and the leader it knows. Asking every
// node of Topology and comparing the replies shows replicas that lag. It
// needs an operator token (ErrUnauthorized otherwise).
//
// NodeStatus is sent once, not retried (a node that does not answer is
// what the caller wants to know about); it waits at most the request
// timeout, or less if ctx ends first.
func (c *Client) NodeStatus(ctx context.Context, addr string) (StatusReply, error) {
	if !c.enter() {
		return protocol.StatusReply{}, ErrClientClosed
	}
	defer c.leave()
	cn, err := c.nodeAt(addr).conn(ctx)
	if err != nil {
		return protocol.StatusReply{}, err
	}
	k := getCall(kindStatus)
	if !cn.enqueue(k) {
		k.release()
		return protocol.StatusReply{}, errConnLost
	}
	if err := k.wait(ctx, c.opts.requestTimeout); err != nil {
		return protocol.StatusReply{}, err
	}
	defer k.release()
	switch {
	case k.err != nil:
		return protocol.StatusReply{}, k.err
	case k.code != engine.OK:
		return protocol.StatusReply{}, errorWithMessage(k.code, k.msg)
	}
	return *k.status, nil
}
