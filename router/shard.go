package router

import (
	"time"

	"github.com/invsys/inv/engine"
)

// Shard is what the router needs of one shard group on this node.
// raftstore.Shard implements it.
type Shard interface {
	// Propose queues cmd for the shard's log. An error means nothing was
	// queued and done will not be called; otherwise done is called exactly
	// once, on any goroutine, with the result or an error (which may leave
	// the outcome unknown). cmd's bytes are copied before Propose returns.
	Propose(cmd engine.Command, done func(engine.Result, error)) error
	// ProposeGroup is Propose for commands that stay together, in order, in
	// one log entry (a linked chain, a BATCH's share of the shard).
	ProposeGroup(cmds []engine.Command, done func([]engine.Result, error)) error
	// Read serves a read-only command from this node's applied state.
	Read(cmd *engine.Command) engine.Result
	// ReadIndex calls done once this node, as the leader, has confirmed its
	// leadership and applied everything committed before the call.
	ReadIndex(done func(error))
	// IsLeader reports whether this node leads the shard now.
	IsLeader() bool
	// LeaderID returns the leader's raft server id, "" when unknown.
	LeaderID() string
	// IsMember reports whether this node replicates the shard.
	IsMember() bool
	// Peek reads an item's available units and its SKU's per-customer
	// limit from this node's applied state, without a commit and without
	// allocating (engine.Peek): the coordinator of a reserve decides by it
	// whether a claim is needed (docs/adr/0070). ok is false for an
	// unknown item.
	Peek(sku, store []byte) (available, limit int64, ok bool)
	// OutboxPending returns the destinations of the shard's undelivered
	// outbox messages (docs/adr/0070), and Outbox up to max of those to
	// one destination, oldest first: the leader delivers them.
	OutboxPending() []engine.OutboxQueue
	Outbox(to uint16, max int) []engine.Message
	// ClaimsDue and ProvisionalDue list, from the applied state, up to max
	// pending claims (the customer's home) and provisional holds (an
	// item's shard) whose deadline is at or before until: the sweeps
	// settle them.
	ClaimsDue(until int64, max int) []engine.DueClaim
	ProvisionalDue(until int64, max int) []engine.DueHold
}

// LeaderHint is implemented by a Shard's error that refuses a proposal or
// read because this node does not lead the shard (raftstore's
// NotLeaderError): the router turns it into a NotLeaderError that names
// the leader's node.
type LeaderHint interface {
	error
	LeaderHint() (shard uint16, leaderID string)
}

// Forwarder runs commands on shards that another node leads (the server's
// SHARD_CALL pool). Both methods return at once: an error means nothing
// was sent and done will not be called; otherwise done is called exactly
// once, on any goroutine. The commands must stay untouched until done.
// A peer's answer that it holds no replica of the shard is ErrNotHeld.
type Forwarder interface {
	// Forward runs cmd on shard at the node serving addr, following that
	// node's leader hints.
	Forward(shard int, addr string, cmd *engine.Command, done func(engine.Result, error)) error
	// ForwardGroup runs a group as a BATCH at the node serving addr: a
	// linked group of one shard (whose coordinator there takes its
	// claims), or the nodes' own commands of one shard (an outbox
	// delivery, a sweep's reads, a chain's claims), which that node routes
	// by each command's shard (protocol.RouteOf) into one entry.
	ForwardGroup(addr string, cmds []engine.Command, done func([]engine.Result, error)) error
}

// Peers names the other nodes of a cluster.
type Peers interface {
	// NodeOf returns the node id and client address of the node whose raft
	// id is raftID; ok is false for an unknown id and for this node.
	NodeOf(raftID string) (nodeID uint32, addr string, ok bool)
	// Holders returns the client addresses of the other nodes, those the
	// placement puts shard on first: where a node that holds no replica of
	// shard looks for it.
	Holders(shard int) []string
}

// Clock is the router's time: it bounds the steps of coordinations, carts
// and claim releases. The wall clock serves; tests script their own.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once, on its own goroutine, after d, unless stop
	// is called first.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
