package client

import (
	"context"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Snapshot asks the node at the client's first address (the first address
// given to Dial) to take a raft snapshot of every shard it holds, now: an
// operator's "snapshot now", for instance before a backup of its data
// folder. It needs an operator token (ErrUnauthorized otherwise).
//
// The reply lists every shard of the node: SnapshotTaken with the new
// snapshot's index, SnapshotUnchanged when nothing was applied since the
// shard's last snapshot (not a failure), or SnapshotFailed with a message.
// A failed shard does not make Snapshot return an error: check the
// statuses. Snapshot is sent once, not retried, and waits as long as ctx
// allows (the request timeout does not apply: a large state takes a while
// to write).
func (c *Client) Snapshot(ctx context.Context) (SnapshotReply, error) {
	return c.SnapshotAt(ctx, c.seeds[0])
}

// SnapshotAt is Snapshot on the node at addr (host:port, a client address
// of any node of the cluster: followers snapshot too).
func (c *Client) SnapshotAt(ctx context.Context, addr string) (SnapshotReply, error) {
	if !c.enter() {
		return protocol.SnapshotReply{}, ErrClientClosed
	}
	defer c.leave()
	cn, err := c.nodeAt(addr).conn(ctx)
	if err != nil {
		return protocol.SnapshotReply{}, err
	}
	k := getCall(kindSnapshot)
	if !cn.enqueue(k) {
		k.release()
		return protocol.SnapshotReply{}, errConnLost
	}
	if err := k.wait(ctx, 0); err != nil {
		return protocol.SnapshotReply{}, err
	}
	defer k.release()
	switch {
	case k.err != nil:
		return protocol.SnapshotReply{}, k.err
	case k.code != engine.OK:
		return protocol.SnapshotReply{}, errorWithMessage(k.code, k.msg)
	}
	return *k.snap, nil
}
