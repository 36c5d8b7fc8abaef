package raftstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// Shard is one shard group on this node: its raft.Raft, FSM (engine), log
// and stable store view, snapshot store, transport and proposer.
type Shard struct {
	id    uint16
	logs  *ShardStore
	snaps *snapshotStore
	trans *raft.NetworkTransport
	raft  *raft.Raft
	fsm   *FSM
	feed  *Feed
	prop  *proposer
	ri    readIndexer // linearizable reads without a log entry (readindex.go)

	readTimeout time.Duration // bound on a read round (Options.ApplyTimeout)
	local       raft.ServerID // this node's raft id
}

// shardTransportTimeout bounds one raft RPC on the wire (InstallSnapshot
// scales it by size). Loopback and LAN answers take well under a second.
const shardTransportTimeout = 10 * time.Second

// shardTransportPool is the connections kept per peer and shard: raft uses
// one for pipelined appends and one for the rest.
const shardTransportPool = 2

// openShard starts one shard group. peers is the configuration to bootstrap
// with if the shard has no state yet (nil: do not bootstrap).
func openShard(id uint16, o *Options, store *Store, mux *Mux, localID raft.ServerID, peers []raft.Server) (*Shard, error) {
	log := o.Logger.With("shard", id)
	hl := newHCLog(log, "raft", hclog.Debug)
	s := &Shard{id: id, logs: store.Shard(id), readTimeout: o.ApplyTimeout, local: localID}
	var err error
	if s.feed, err = openFeed(store.db, id, o.feedRetention(), log); err != nil {
		return nil, err
	}
	// Every shard knows how many there are: a customer's limit counts
	// across them (engine/claim.go).
	eng := o.Engine
	eng.Shards = o.Shards
	s.fsm = NewFSM(FSMConfig{Shard: id, Engine: eng, Sink: o.EventSink, Feed: s.feed,
		SnapshotBytesMax: o.SnapshotBytesMax, Logger: log})

	// The file store adds its own "snapshots" folder: Dir/shards/<id>/snapshots.
	snapDir := filepath.Join(o.Dir, "shards", strconv.Itoa(int(id)))
	// Before raft reads it: leftovers of a crash go, and a damaged newest
	// snapshot is passed over only when the log can rebuild its state
	// (snapdir.go).
	if err := prepareSnapshots(id, snapDir, s.logs, log); err != nil {
		return nil, err
	}
	files, err := raft.NewFileSnapshotStoreWithLogger(snapDir, o.SnapshotsRetained, hl)
	if err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: snapshot store: %w", id, err)
	}
	s.snaps = &snapshotStore{FileSnapshotStore: files, logs: s.logs}
	layer, err := mux.Layer(id)
	if err != nil {
		return nil, err
	}
	s.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: shardTransportPool, Timeout: shardTransportTimeout, Logger: hl,
	})
	fail := func(err error) (*Shard, error) {
		_ = s.trans.Close()
		return nil, fmt.Errorf("raftstore: shard %d: %w", id, err)
	}

	conf := raftConfig(o, localID, hl)
	if peers != nil {
		has, err := raft.HasExistingState(s.logs, s.logs, s.snaps)
		if err != nil {
			return fail(err)
		}
		if !has {
			if err := raft.BootstrapCluster(conf, s.logs, s.logs, s.snaps, s.trans,
				raft.Configuration{Servers: peers}); err != nil {
				return fail(fmt.Errorf("bootstrap: %w", err))
			}
		}
	}
	// Raft reads recent entries back to replicate them; the cache serves
	// those from memory instead of Pebble.
	cached, err := raft.NewLogCache(o.LogCacheEntries, s.logs)
	if err != nil {
		return fail(err)
	}
	if s.raft, err = raft.NewRaft(conf, s.fsm, cached, s.logs, s.snaps, s.trans); err != nil {
		if rerr := s.fsm.lastRestoreError(); rerr != nil {
			// Raft says only that no snapshot could be loaded; the FSM
			// knows why the newest failed, and the store that it passed
			// its checksum (raft checks it before the FSM reads it).
			de := &SnapshotDamagedError{Shard: id, File: filepath.Join(snapDir, snapshotsDirName),
				Problem: "its checksum holds but its state does not restore: " + rerr.Error(),
				Why:     "no older snapshot that the log continues could be restored instead"}
			if metas, lerr := files.List(); lerr == nil && len(metas) > 0 {
				de.File = filepath.Join(de.File, metas[0].ID, snapshotStateName)
			}
			err = de
		}
		return fail(err)
	}
	s.prop = newProposer(id, s.raft, s.fsm.Now, s.fsm.NextDue, proposerConfig{
		batchMaxCommands: o.BatchMaxCommands,
		batchMaxBytes:    o.BatchMaxBytes,
		batchMaxDelay:    o.BatchMaxDelay,
		maxInFlight:      o.MaxInFlight,
		queueMaxCommands: o.QueueMaxCommands,
		applyTimeout:     o.ApplyTimeout,
		expiryCheck:      o.ExpiryCheck,
	}, log)
	return s, nil
}

func raftConfig(o *Options, localID raft.ServerID, hl hclog.Logger) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = localID
	c.Logger = hl
	c.HeartbeatTimeout = o.HeartbeatTimeout
	c.ElectionTimeout = o.ElectionTimeout
	c.LeaderLeaseTimeout = o.LeaderLeaseTimeout
	c.CommitTimeout = o.CommitTimeout
	c.MaxAppendEntries = o.MaxAppendEntries
	// Let raft take several pending Applies at once into one append (and
	// one StoreLogs): the proposer keeps up to MaxInFlight of them queued.
	c.BatchApplyCh = true
	c.SnapshotInterval = o.SnapshotInterval
	c.SnapshotThreshold = o.SnapshotThreshold
	c.TrailingLogs = o.TrailingLogs
	c.NoLegacyTelemetry = true
	return c
}

// shutdownRaft stops the raft group and its transport.
func (s *Shard) shutdownRaft() error {
	err := s.raft.Shutdown().Error()
	// Raft does not close its transport: without this, the transport's
	// accept loop and the handlers of connections peers still hold would
	// outlive the shard, waiting for a raft that no longer reads them.
	if cerr := s.trans.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: shutdown: %w", s.id, err)
	}
	return nil
}

// ID returns the shard id.
func (s *Shard) ID() uint16 { return s.id }

// Raft returns the shard's raft group (membership changes, stats, leadership).
func (s *Shard) Raft() *raft.Raft { return s.raft }

// FSM returns the shard's state machine.
func (s *Shard) FSM() *FSM { return s.fsm }

// Logs returns the shard's log and stable store.
func (s *Shard) Logs() *ShardStore { return s.logs }

// IsLeader reports whether this node leads the shard now.
func (s *Shard) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader returns the shard leader's address and id, empty if unknown.
func (s *Shard) Leader() (raft.ServerAddress, raft.ServerID) { return s.raft.LeaderWithID() }

// AppliedIndex returns the last raft index applied on this node.
func (s *Shard) AppliedIndex() uint64 { return s.raft.AppliedIndex() }

// Propose queues one command for the shard's log. It returns at once: an
// error means the command was not queued (ErrBusy, *NotLeaderError,
// ErrClosed, ErrBadGroup, ErrFieldTooLarge) and done will not be called;
// otherwise done is called exactly once with the command's result, or with
// an error (see errors.go for which errors leave the outcome unknown).
//
// The command's byte slices are copied before Propose returns. done runs on
// a proposer goroutine and must not block; it may call Propose.
func (s *Shard) Propose(cmd engine.Command, done func(engine.Result, error)) error {
	return s.prop.propose([]engine.Command{cmd}, waiter{one: done})
}

// ProposeGroup queues commands that must stay together and in order in one
// raft entry: a linked chain (a cart's lines, every command but the last
// with Linked set) or any sequence. The last command must not be Linked and
// the group may hold at most Options.BatchMaxCommands commands. done gets
// one result per command.
func (s *Shard) ProposeGroup(cmds []engine.Command, done func([]engine.Result, error)) error {
	return s.prop.propose(cmds, waiter{many: done})
}

// ProposerStats returns the proposer's counts (entries, commands, refusals).
func (s *Shard) ProposerStats() ProposerStats { return s.prop.stats() }

// Read serves a read-only command from this node's state, which may lag the
// leader's. Call Barrier first, on the leader, for an up-to-date read.
func (s *Shard) Read(cmd *engine.Command) engine.Result { return s.fsm.Read(cmd) }

// Stats returns the engine's counts.
func (s *Shard) Stats() engine.Stats { return s.fsm.Stats() }

// Barrier waits, on the leader, until everything committed before it is
// applied (e.g. the log replayed after a restart).
func (s *Shard) Barrier(timeout time.Duration) error {
	return s.raft.Barrier(timeout).Error()
}

// Snapshot takes a snapshot now (and truncates the log per TrailingLogs).
func (s *Shard) Snapshot() error { return s.raft.Snapshot().Error() }

// SnapshotNow takes a snapshot now, unless nothing was applied since the
// shard's newest snapshot (an operator's "snapshot now" on an idle shard):
// then taken is false and index is that snapshot's index (0 when the shard
// has none and nothing to snapshot). When taken, index is the new
// snapshot's raft index. It blocks until the snapshot is persisted.
func (s *Shard) SnapshotNow() (index uint64, taken bool, err error) {
	newest := s.newestSnapshotIndex()
	if applied := s.fsm.AppliedIndex(); applied == 0 || applied <= newest {
		return newest, false, nil
	}
	f := s.raft.Snapshot()
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return s.newestSnapshotIndex(), false, nil
		}
		return 0, false, fmt.Errorf("raftstore: shard %d: snapshot: %w", s.id, err)
	}
	meta, rc, err := f.Open()
	if err != nil {
		return 0, false, fmt.Errorf("raftstore: shard %d: snapshot taken but not readable: %w", s.id, err)
	}
	_ = rc.Close()
	return meta.Index, true, nil
}

// newestSnapshotIndex is the raft index of the shard's newest snapshot on
// disk, 0 if it has none (or the store cannot be listed).
func (s *Shard) newestSnapshotIndex() uint64 {
	metas, err := s.snaps.List()
	if err != nil || len(metas) == 0 {
		return 0
	}
	return metas[0].Index
}
