package router

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
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
	// Clock bounds steps in time and stamps claims' deadlines. Default: the
	// wall clock.
	Clock Clock
	// ClaimWindow is how far ahead of its start a coordination's deadline D
	// lies (docs/adr/0070). Default DefaultClaimWindow; at most
	// engine.MaxClaimWindow.
	ClaimWindow time.Duration
	// CancelWait bounds how long the reply to the cancel or return of a
	// claimed reservation waits for its claim's release to reach the
	// customer's home. Default DefaultCancelWait.
	CancelWait time.Duration
	// CopyWait bounds how long the reply to a block, unblock or set_tier
	// waits for every shard to apply the customer's copy (copywait.go).
	// Default DefaultCopyWait.
	CopyWait time.Duration
	// SweepInterval is how often a shard's leader sweeps the claims and
	// provisional holds whose deadline passed, and retries deliveries that
	// failed. Default DefaultSweepInterval.
	SweepInterval time.Duration
}

// Defaults of Config.
const (
	// DefaultClaimWindow: a coordination takes milliseconds; the window
	// covers a leader change on the customer's home (about a second) and
	// is what a crashed coordination's claim or hold waits for before the
	// sweeps settle it.
	DefaultClaimWindow = 5 * time.Second
	// DefaultCancelWait: a delivery is one commit on the home, milliseconds;
	// a home between leaders takes about a second. Past it the cancel is
	// answered anyway: its release is durable in the outbox.
	DefaultCancelWait = 2 * time.Second
	// DefaultCopyWait: the copies are one commit on each shard, delivered
	// in parallel, milliseconds; it covers a leader change on one of them
	// (about a second) with room, since an operator would rather wait than
	// be told timeout.
	DefaultCopyWait = 5 * time.Second
	// DefaultSweepInterval: a crashed coordination's units come back about
	// this long after its deadline and the clock margin.
	DefaultSweepInterval = time.Second
)

// Router routes decoded commands to a node's shards (see the package
// comment). It is safe for concurrent use.
type Router struct {
	shards   []Shard
	readMode ReadMode
	groupMax int
	fwd      Forwarder
	peers    Peers
	log      *slog.Logger
	clock    Clock

	claimWindow   time.Duration
	cancelWait    time.Duration
	copyWait      time.Duration
	sweepInterval time.Duration

	observer atomic.Pointer[observerBox] // observe.go
	outbox   deliverer                   // outbox.go
	waits    cancelWaits                 // cancelwait.go
	sweeps   sweeper                     // sweep.go

	// Completions bound once, so that the fire-and-forget steps of a
	// coordination (a resolve, a release) allocate no closure.
	afterResolve, afterAnchor, afterRelease func(engine.Result, error)
	expireFn                                func() // = expireWaits

	stats counters
}

// New returns a router over cfg.Shards.
func New(cfg Config) (*Router, error) {
	if len(cfg.Shards) < 1 {
		return nil, errors.New("router: no shards")
	}
	if (cfg.Forwarder == nil) != (cfg.Peers == nil) {
		return nil, errors.New("router: a cluster node needs both a Forwarder and Peers")
	}
	if cfg.ClaimWindow > engine.MaxClaimWindow {
		return nil, fmt.Errorf("router: claim window %v over engine.MaxClaimWindow %v", cfg.ClaimWindow, engine.MaxClaimWindow)
	}
	r := &Router{shards: cfg.Shards, readMode: cfg.ReadMode, groupMax: cfg.GroupMaxCommands,
		fwd: cfg.Forwarder, peers: cfg.Peers, log: cfg.Logger, clock: cfg.Clock,
		claimWindow: orDefault(cfg.ClaimWindow, DefaultClaimWindow), cancelWait: orDefault(cfg.CancelWait, DefaultCancelWait),
		copyWait:      orDefault(cfg.CopyWait, DefaultCopyWait),
		sweepInterval: orDefault(cfg.SweepInterval, DefaultSweepInterval)}
	if r.groupMax <= 0 {
		r.groupMax = DefaultGroupMaxCommands
	}
	r.afterResolve, r.afterAnchor, r.afterRelease, r.expireFn = r.resolved, r.anchored, r.released, r.expireWaits
	r.outbox.init(len(cfg.Shards))
	r.sweeps.init(len(cfg.Shards))
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

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Stats are the router's running counts, for metrics.
type Stats struct {
	Forwarded       uint64 // commands and groups sent to another node
	Coordinated     uint64 // requests that took claims on a customer's home in one round
	StalePeeks      uint64 // reserves whose read of the item was stale: claim_required came back
	Resolved        uint64 // provisional holds a confirm, extend or reschedule had to resolve first
	Carts           uint64 // carts held shard by shard
	Delivered       uint64 // outbox messages delivered and trimmed
	DeliveryRetries uint64 // deliveries cut short by a failure, retried by the slow timer
	SweptClaims     uint64 // pending claims the homes' sweeps anchored or released
	SweptHolds      uint64 // provisional holds the item shards' sweeps resolved
	CancelWaitsLate uint64 // cancels answered before their claim's release arrived (CancelWait passed)
	CopyWaitsLate   uint64 // blocks, unblocks and set_tiers answered timeout before every copy arrived (CopyWait passed)
	// KeyRegistrations counts the idempotency keys registered at a home
	// shard other than their request's (docs/adr/0073): the extra commits
	// of storefront-chosen keys.
	KeyRegistrations uint64
	// JoinClaims counts the waitlist joins that took a claim at the
	// customer's home first (docs/adr/0112).
	JoinClaims uint64
}

type counters struct {
	forwarded, coordinated, stalePeeks, resolved, carts, delivered, deliveryRetries,
	sweptClaims, sweptHolds, cancelWaitsLate, keyRegistrations, copyWaitsLate, joinClaims atomic.Uint64
}

// Stats returns the running counts.
func (r *Router) Stats() Stats {
	c := &r.stats
	return Stats{Forwarded: c.forwarded.Load(), Coordinated: c.coordinated.Load(), StalePeeks: c.stalePeeks.Load(),
		Resolved: c.resolved.Load(), Carts: c.carts.Load(), Delivered: c.delivered.Load(),
		DeliveryRetries: c.deliveryRetries.Load(), SweptClaims: c.sweptClaims.Load(), SweptHolds: c.sweptHolds.Load(),
		CancelWaitsLate: c.cancelWaitsLate.Load(), KeyRegistrations: c.keyRegistrations.Load(),
		CopyWaitsLate: c.copyWaitsLate.Load(), JoinClaims: c.joinClaims.Load()}
}
