package router

import (
	"errors"
	"log/slog"
	"sync/atomic"
)

// ReadMode is how a read without the stale flag is served (docs/adr/0033).
type ReadMode uint8

const (
	// ReadIndex: the leader confirms its leadership with a heartbeat round
	// and answers from its state once it has applied what was committed.
	ReadIndex ReadMode = iota
	// ReadLog: reads ride in the log like writes.
	ReadLog
	// ReadLocal: the leader answers from its applied state at once.
	ReadLocal
)

// DefaultGroupMaxCommands is the size of a proposed group when Config
// names none: raftstore's default batch of one raft entry.
const DefaultGroupMaxCommands = 1024

// Config is what a Router is made of.
type Config struct {
	// Shards are this node's shard groups, by shard id: every shard of the
	// cluster (a group this node is not a member of holds no state). A nil
	// entry is a shard this node holds nothing of.
	Shards []Shard
	// ReadMode serves reads (default ReadIndex).
	ReadMode ReadMode
	// GroupMaxCommands is the most commands one proposed group holds (a
	// BATCH's share of one shard is cut into groups between chains); it
	// must not pass what a Shard takes in one group. Default
	// DefaultGroupMaxCommands.
	GroupMaxCommands int
	// Forwarder and Peers make the router a node of a cluster: it forwards
	// to other nodes and names leaders in its hints. Both nil: a node alone.
	Forwarder Forwarder
	Peers     Peers
	// Logger gets the few things worth a line (a claim that could not be
	// released, a cart line left held). Default slog.Default().
	Logger *slog.Logger
	// Clock bounds steps in time. Default: the wall clock.
	Clock Clock
}

// Router routes decoded commands to a node's shards (see the package
// comment). It is safe for concurrent use.
type Router struct {
	shards     []Shard
	readMode   ReadMode
	groupMax   int
	fwd        Forwarder
	peers      Peers
	log        *slog.Logger
	clock      Clock
	releaseNow chan struct{} // capacity 1: a release round is wanted now
	stats      counters
}

// New returns a router over cfg.Shards.
func New(cfg Config) (*Router, error) {
	if len(cfg.Shards) < 1 {
		return nil, errors.New("router: no shards")
	}
	if (cfg.Forwarder == nil) != (cfg.Peers == nil) {
		return nil, errors.New("router: a cluster node needs both a Forwarder and Peers")
	}
	r := &Router{shards: cfg.Shards, readMode: cfg.ReadMode, groupMax: cfg.GroupMaxCommands,
		fwd: cfg.Forwarder, peers: cfg.Peers, log: cfg.Logger, clock: cfg.Clock,
		releaseNow: make(chan struct{}, 1)}
	if r.groupMax <= 0 {
		r.groupMax = DefaultGroupMaxCommands
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.clock == nil {
		r.clock = wallClock{}
	}
	return r, nil
}

// Shards returns the number of shards.
func (r *Router) Shards() int { return len(r.shards) }

// shard returns shard i's group on this node, nil if it holds none.
func (r *Router) shard(i int) Shard {
	if i < 0 || i >= len(r.shards) {
		return nil
	}
	return r.shards[i]
}

// Stats are the router's running counts, for metrics.
type Stats struct {
	Forwarded        uint64 // commands and groups sent to another node
	Coordinated      uint64 // requests that took claims on a customer's shard
	Carts            uint64 // carts held shard by shard
	ReleasesSent     uint64 // claim releases delivered and marked done
	ReleasesDeferred uint64 // release rounds of a shard cut short by a failure
}

type counters struct {
	forwarded, coordinated, carts, releasesSent, releasesDeferred atomic.Uint64
}

// Stats returns the running counts.
func (r *Router) Stats() Stats {
	c := &r.stats
	return Stats{Forwarded: c.forwarded.Load(), Coordinated: c.coordinated.Load(), Carts: c.carts.Load(),
		ReleasesSent: c.releasesSent.Load(), ReleasesDeferred: c.releasesDeferred.Load()}
}
