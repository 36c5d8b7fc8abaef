// Package raftstore makes the reservation engine durable and replicated.
//
// Each shard of inv is its own hashicorp/raft group. This package supplies
// everything such a group needs and ties the groups of one node together:
//
//   - Store / ShardStore: raft.LogStore and raft.StableStore of every shard on
//     ONE Pebble instance per node (keys prefixed by shard), so that one WAL
//     fsync covers the appends of many shards (see docs/adr/0010).
//   - the raft entry encoding: a batch of engine commands stamped with the
//     leader's time (entry.go, docs/adr/0011).
//   - FSM: the raft.FSM / raft.BatchingFSM around engine.Engine, with zstd
//     snapshots (fsm.go, snapshot.go).
//   - Mux / StreamLayer: one TCP listener per node carrying the raft traffic
//     of every shard, each connection naming its shard in a short header
//     (mux.go, docs/adr/0012).
//   - Node / Shard: opens the store, starts one raft group per shard, and
//     offers a group-committing proposer per shard (node.go, shard.go,
//     proposer.go, docs/adr/0013).
//   - stage timings: where a proposal's time goes (queued, in-flight wait,
//     commit, log write), told to observers the server sets (stages.go).
//   - Feed: each shard's change feed, every applied event stored in the same
//     Pebble under (raft index, ordinal), read from any position and tailed
//     live (ReadEvents, WaitEvents), pruned by retention (feed.go,
//     feedcodec.go, docs/adr/0014).
//   - the disk reserve: writes refused with ErrDiskFull while the data
//     folder's free space is below Options.DiskReserveBytes, so that
//     Pebble never meets a full disk (diskguard.go, docs/adr/0015).
//   - the marks file: per shard, what its log is known to hold, kept
//     outside Pebble and compared at start with the recovered log, so a
//     torn write-ahead log is never silent: a single node refuses to start
//     (unless AcceptDataLoss), a cluster node withholds its vote until it
//     catches up (marks.go, recovery.go, votegate.go, docs/adr/0016).
//
// It may import engine, pebble, hashicorp/raft (and its hclog),
// klauspost/compress, log/slog, the standard library, internal/failpoint
// (fault sites that exist only in test builds) and prometheus/client_model
// (to read Pebble's own fsync histogram, stages.go). It must not import
// protocol, server or client: those sit above it.
package raftstore
