package pages

import (
	"context"
	"slices"

	"github.com/invsys/inv/engine"
)

// Backend is the pages' door into the server: who a token is, running a
// command through the router, the protocol's pickup rate limits, and the
// node's figures. The server implements it; the tests fake it.
type Backend interface {
	// Access returns what a token lets its bearer do, false for a token
	// the server does not know. A server without tokens answers every
	// caller as an operator (Access.Open), as its protocol port does.
	Access(token string) (Access, bool)
	// Do runs one domain command as a client's request would run (routed,
	// forwarded, linearizable) and returns its outcome. The result is the
	// server's own: it carries pickup codes, which the pages never send on.
	Do(ctx context.Context, cmd *engine.Command) (engine.Result, error)
	// AllowPickup spends one pickup attempt of the caller (as the protocol
	// spends one of the connection) and of the store, false past either
	// bound (docs/SECURITY.md).
	AllowPickup(caller, store string) bool
	// Node returns the node's raft and overload figures.
	Node() NodeStatus
}

// Roles as the server names them (server.Role's String).
const (
	RoleOperator   = "operator"
	RoleStore      = "store"
	RoleStorefront = "storefront"
)

// Access is what one token allows, as the protocol's HELLO decides it.
type Access struct {
	Role   string   // RoleOperator, RoleStore or RoleStorefront
	Stores []string // RoleStore: the stores it serves
	// Caller names the bearer for the pickup rate limit (the token's hash),
	// the same for every request it makes.
	Caller string
	// Open: the server has no tokens; every caller is an operator, and
	// only loopback addresses reach it.
	Open bool
}

// serves reports whether the access may work the counter of store: a
// store token at its own stores, an operator at any.
func (a *Access) serves(store string) bool {
	switch a.Role {
	case RoleOperator:
		return true
	case RoleStore:
		return slices.Contains(a.Stores, store)
	}
	return false
}

// NodeStatus is the node's part of the console: who it is, its shards'
// raft state, and the signals of overload at its edge.
type NodeStatus struct {
	NodeID   uint32        `json:"node_id"`
	Name     string        `json:"name"`
	Uptime   float64       `json:"uptime_seconds"`
	Ready    bool          `json:"ready"`    // every shard has a leader
	Draining bool          `json:"draining"` // shutting down
	Shards   []ShardStatus `json:"shards"`
	// Connections past HELLO and before it, requests in flight.
	Connections int64 `json:"connections"`
	PreHello    int64 `json:"pre_hello"`
	InFlight    int64 `json:"in_flight"`
	// The reply budget (docs/adr/0037): bytes held for clients, its
	// limit, and the connections not read until they drain.
	ReplyBytes  int64 `json:"reply_bytes"`
	ReplyLimit  int64 `json:"reply_limit"`
	PausedConns int64 `json:"paused_connections"`
}

// ShardStatus is one shard's raft state on this node and its proposer's
// counts.
type ShardStatus struct {
	Shard    int    `json:"shard"`
	State    string `json:"state"`  // leader, follower, candidate, shutdown
	Leader   uint32 `json:"leader"` // the leader's node id; 0: none known
	Term     uint64 `json:"term"`
	LastLog  uint64 `json:"last_log_index"`
	Commit   uint64 `json:"commit_index"`
	Applied  uint64 `json:"applied_index"`
	Snapshot uint64 `json:"snapshot_index"`
	Busy     uint64 `json:"busy"`     // proposals refused busy (queue full)
	Commands uint64 `json:"commands"` // commands proposed here
}
