package raftstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/invsys/inv/engine"
)

// Peer is one voting member of every shard group: a node's raft id and the
// address of its mux listener.
type Peer struct {
	ID   string
	Addr string
}

// Options configure a Node. Zero fields take the defaults below.
type Options struct {
	// Dir holds the node's Pebble store (Dir/raft) and each shard's
	// snapshots (Dir/shards/<shard>/snapshots).
	Dir string
	// ID is this node's raft server id, the same in every shard group. It
	// must stay the same across restarts (as must the address peers know).
	// Default: the advertised address, which is stable only with a fixed port.
	ID string
	// Listener, if set, is the raft listener to use (tests open it first to
	// learn the port); otherwise the node listens on BindAddr.
	Listener net.Listener
	BindAddr string // default "127.0.0.1:0"
	// Advertise is the address peers dial; default the listener's.
	Advertise string
	// Peers lists every voter (this node included) of a new cluster. Empty
	// means a single-node cluster of this node. Used only to bootstrap a
	// node without state; a restarted node keeps its configuration.
	Peers []Peer
	// NoBootstrap leaves a node without state unbootstrapped, to be added
	// to an existing cluster with raft's AddVoter.
	NoBootstrap bool
	// Replicas is the replication factor of a new cluster: each shard group
	// is bootstrapped on Replicas of the Peers (Placement); 0 or at least
	// len(Peers): on every peer.
	Replicas int

	// Shards is the number of shard groups (default DefaultShards). It is
	// part of the cluster's identity: every node must use the same value.
	Shards int
	// Placement names how items are placed on the shards (the server's
	// shard function). It is recorded in the data folder when the folder is
	// first used; a folder that recorded another one, or that holds state
	// from before placements were recorded, is refused (ErrPlacement).
	// Empty: nothing is recorded or checked.
	Placement string
	// Engine is the engine configuration of every shard (ShardID is set per
	// shard). It must be the same on every node.
	Engine engine.Config

	// Raft timing. Defaults suit a LAN; tests on loopback go much lower.
	HeartbeatTimeout   time.Duration // default 500ms
	ElectionTimeout    time.Duration // default 500ms
	LeaderLeaseTimeout time.Duration // default 250ms
	CommitTimeout      time.Duration // default 20ms
	MaxAppendEntries   int           // entries per AppendEntries RPC, default 64

	// Snapshots and log truncation. An entry holds up to BatchMaxCommands
	// commands, so a few thousand entries are already many megabytes.
	SnapshotInterval  time.Duration // how often to check, default 30s
	SnapshotThreshold uint64        // entries since the last snapshot that trigger one, at least; default 2048
	// SnapshotLogRatio: a shard waits for log bytes of this many times its
	// state's size before its next snapshot (snapsize.go), never fewer than
	// SnapshotThreshold entries. Default 1; below 0: SnapshotThreshold alone.
	SnapshotLogRatio float64
	// SnapshotReplayRatio: and a shard snapshots before its log would take
	// more than this many times its snapshot's restore to replay, at the
	// pace its last rebuild measured both (snapsize.go, docs/adr/0133).
	// Default DefaultSnapshotReplayRatio; below 0: no such bound.
	SnapshotReplayRatio float64
	TrailingLogs        uint64 // entries kept after a snapshot for slow followers, default 2048
	SnapshotsRetained   int    // snapshot files kept per shard, default 2
	// SnapshotsAtOnce bounds the shards of the node that write a
	// snapshot at the same moment (rebuilding and compressing a shard's
	// state takes a core for about a second at 6M items a node); the
	// others wait their turn. Default DefaultSnapshotsAtOnce().
	SnapshotsAtOnce  int
	SnapshotBytesMax int64 // bound on a restored state, default DefaultSnapshotBytesMax
	LogCacheEntries  int   // recent entries raft serves from memory, default 256

	// Proposer (group commit), per shard.
	BatchMaxCommands int           // commands per raft entry, default 1024 (>= engine.MaxLinked)
	BatchMaxBytes    int           // encoded bytes per raft entry, default 1 MiB
	BatchMaxDelay    time.Duration // longest a command waits for company, default 200µs
	MaxInFlight      int           // raft.Apply calls awaiting commit, default 4
	QueueMaxCommands int           // commands queued before Propose answers ErrBusy, default 16384
	ApplyTimeout     time.Duration // bound on handing a batch to raft, default 5s
	ExpiryCheck      time.Duration // how often the leader checks for due expiries, default 200ms

	// Change feed (feed.go, docs/adr/0014): every shard's events are kept in
	// the node's Pebble while they are younger than FeedRetention in log
	// time and among the newest FeedMaxEvents of their shard; a negative
	// value removes that bound. The pruner checks every FeedPruneInterval.
	FeedRetention     time.Duration // default 24h
	FeedMaxEvents     int64         // per shard, default 4,000,000
	FeedPruneInterval time.Duration // default 1 min

	// Disk reserve (diskguard.go, docs/adr/0015): writes are refused with
	// ErrDiskFull while the data folder's filesystem has less than
	// DiskReserveBytes free (0: DefaultDiskReserveBytes; negative: no
	// reserve), read every DiskCheckInterval (default 1s) and after every
	// reserve/16 bytes proposed, by DiskFree (default StatfsFree).
	DiskReserveBytes  int64
	DiskCheckInterval time.Duration
	DiskFree          DiskProbe

	// AcceptDataLoss lets a node start although a shard's recovered raft
	// log ends before what the node acknowledged and no other replica holds
	// the rest (recovery.go, docs/adr/0016): the loss is logged, recorded in
	// Dir/data-loss.log and the shard serves what remains. Without it such
	// a node refuses to start with a *DataLossError.
	AcceptDataLoss bool

	// Faults, if set, is a fault layer over the node's raft connections
	// (fault tests only, faults.go).
	Faults *Faults
	// RaftTLS, if set, runs every raft connection over TLS (mutual when it
	// requires client certificates): see MuxOptions.TLS.
	RaftTLS *tls.Config

	// EventSink, if set, receives every applied event (see EventSink).
	EventSink EventSink
	Logger    *slog.Logger
	Store     StoreOptions
}

// Defaults of Options.
const (
	DefaultShards              = 16
	DefaultHeartbeatTimeout    = 500 * time.Millisecond
	DefaultElectionTimeout     = 500 * time.Millisecond
	DefaultLeaderLeaseTimeout  = 250 * time.Millisecond
	DefaultCommitTimeout       = 20 * time.Millisecond
	DefaultMaxAppendEntries    = 64
	DefaultSnapshotInterval    = 30 * time.Second
	DefaultSnapshotThreshold   = 2048
	DefaultTrailingLogs        = 2048
	DefaultSnapshotsRetained   = 2
	DefaultSnapshotLogRatio    = 1.0
	DefaultSnapshotReplayRatio = 1.0
	DefaultLogCacheEntries     = 256
	DefaultBatchMaxCommands    = 1024
	DefaultBatchMaxBytes       = 1 << 20
	DefaultBatchMaxDelay       = 200 * time.Microsecond
	DefaultMaxInFlight         = 4
	DefaultQueueMaxCommands    = 16384
	DefaultApplyTimeout        = 5 * time.Second
	DefaultExpiryCheck         = 200 * time.Millisecond
	DefaultFeedRetention       = 24 * time.Hour
	DefaultFeedMaxEvents       = 4_000_000 // about 250 MB of one shard's events
	DefaultFeedPruneInterval   = time.Minute

	// MaxShards bounds Shards: shard ids are 16 bits, and every group costs
	// goroutines, timers and heartbeats.
	MaxShards = 1024
)

// DefaultSnapshotsAtOnce is a quarter of the cores (GOMAXPROCS), at least
// one: snapshots run in the background and must leave most of the cores
// to the requests. On two cores four shards snapshotting at once took
// both: reserves' p99 rose 13-fold while they ran, against 2-fold one at a
// time (docs/BENCHMARKS.md, "Snapshots one at a time").
func DefaultSnapshotsAtOnce() int { return max(1, runtime.GOMAXPROCS(0)/4) }

// withDefaults fills zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, errors.New("raftstore: Options.Dir is required")
	}
	if o.BindAddr == "" {
		o.BindAddr = "127.0.0.1:0"
	}
	if o.Replicas < 0 {
		return o, fmt.Errorf("raftstore: Options.Replicas %d below 0", o.Replicas)
	}
	setDefault(&o.Shards, DefaultShards)
	setDefault(&o.HeartbeatTimeout, DefaultHeartbeatTimeout)
	setDefault(&o.ElectionTimeout, DefaultElectionTimeout)
	setDefault(&o.LeaderLeaseTimeout, DefaultLeaderLeaseTimeout)
	setDefault(&o.CommitTimeout, DefaultCommitTimeout)
	setDefault(&o.MaxAppendEntries, DefaultMaxAppendEntries)
	setDefault(&o.SnapshotInterval, DefaultSnapshotInterval)
	setDefault(&o.SnapshotThreshold, DefaultSnapshotThreshold)
	setDefault(&o.TrailingLogs, DefaultTrailingLogs)
	setDefault(&o.SnapshotsRetained, DefaultSnapshotsRetained)
	setDefault(&o.SnapshotsAtOnce, DefaultSnapshotsAtOnce())
	if o.SnapshotLogRatio == 0 {
		o.SnapshotLogRatio = DefaultSnapshotLogRatio
	}
	if o.SnapshotReplayRatio == 0 {
		o.SnapshotReplayRatio = DefaultSnapshotReplayRatio
	}
	setDefault(&o.SnapshotBytesMax, DefaultSnapshotBytesMax)
	setDefault(&o.LogCacheEntries, DefaultLogCacheEntries)
	setDefault(&o.BatchMaxCommands, DefaultBatchMaxCommands)
	setDefault(&o.BatchMaxBytes, DefaultBatchMaxBytes)
	setDefault(&o.BatchMaxDelay, DefaultBatchMaxDelay)
	setDefault(&o.MaxInFlight, DefaultMaxInFlight)
	setDefault(&o.QueueMaxCommands, DefaultQueueMaxCommands)
	setDefault(&o.ApplyTimeout, DefaultApplyTimeout)
	setDefault(&o.ExpiryCheck, DefaultExpiryCheck)
	setDefault(&o.FeedPruneInterval, DefaultFeedPruneInterval)
	setDefault(&o.DiskCheckInterval, DefaultDiskCheckInterval)
	if o.DiskReserveBytes == 0 {
		o.DiskReserveBytes = DefaultDiskReserveBytes
	}
	if o.DiskFree == nil {
		o.DiskFree = StatfsFree
	}
	if o.FeedRetention == 0 {
		o.FeedRetention = DefaultFeedRetention
	}
	if o.FeedMaxEvents == 0 {
		o.FeedMaxEvents = DefaultFeedMaxEvents
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Store.Logger == nil {
		o.Store.Logger = o.Logger
	}
	switch {
	case o.Shards > MaxShards:
		return o, fmt.Errorf("raftstore: %d shards, at most %d", o.Shards, MaxShards)
	case o.BatchMaxCommands < engine.MaxLinked || o.BatchMaxCommands > MaxEntryCommands:
		// A linked group never splits across entries, so one must fit.
		return o, fmt.Errorf("raftstore: BatchMaxCommands %d outside %d..%d",
			o.BatchMaxCommands, engine.MaxLinked, MaxEntryCommands)
	case o.QueueMaxCommands < o.BatchMaxCommands:
		return o, fmt.Errorf("raftstore: QueueMaxCommands %d below BatchMaxCommands %d",
			o.QueueMaxCommands, o.BatchMaxCommands)
	case o.LeaderLeaseTimeout > o.HeartbeatTimeout:
		return o, errors.New("raftstore: LeaderLeaseTimeout must not exceed HeartbeatTimeout")
	case o.DiskReserveBytes > 0 && uint64(o.DiskReserveBytes) < diskStartBytes(&o):
		// A node stopped at its reserve must be able to start again.
		return o, fmt.Errorf("raftstore: DiskReserveBytes %d below the %d bytes a restart needs",
			o.DiskReserveBytes, diskStartBytes(&o))
	}
	return o, nil
}

func setDefault[T int | int64 | uint64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// clusterMode reports whether the node's shard groups (may) have other
// voters: then every append records the log's end in the marks file, since
// a follower's appends count towards commits; a single node records what
// its proposers acknowledge instead.
func (o *Options) clusterMode() bool { return len(o.Peers) > 1 || o.NoBootstrap }

// feedRetention returns the retention of every shard's feed (negative
// options mean no bound, which FeedRetention spells 0).
func (o *Options) feedRetention() FeedRetention {
	return FeedRetention{Age: max(o.FeedRetention, 0), MaxEvents: max(o.FeedMaxEvents, 0)}
}
