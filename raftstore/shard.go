package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync/atomic"
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
	trans *guardedTransport
	raft  *raft.Raft
	fsm   *FSM
	feed  *Feed
	prop  *proposer
	ri    readIndexer // linearizable reads without a log entry (readindex.go)
	gate  *voteGate   // the transport's vote gate after a loss (votegate.go); nil: none

	readTimeout time.Duration // bound on a read round (Options.ApplyTimeout)
	local       raft.ServerID // this node's raft id
	timedLogs   *timedLogs    // logs as raft appends to them, timed (stages.go)
}

// shardTransportTimeout bounds one raft RPC on the wire (InstallSnapshot
// scales it by size). Loopback and LAN answers take well under a second.
const shardTransportTimeout = 10 * time.Second

// shardTransportPool is the connections kept per peer and shard: raft uses
// one for pipelined appends and one for the rest.
const shardTransportPool = 2

// shardDeps are what a shard shares with its node, or what the node decided
// for it before it opens.
type shardDeps struct {
	peers []raft.Server // the configuration to bootstrap with if the shard has no state (nil: none)
	snaps *snapshotStore
	disk  *diskGuard
	marks *markFile
	// persistMarks: every append records the log's end in marks (a
	// cluster node); otherwise the proposer records what it acknowledges.
	persistMarks bool
	// lost, if set, is the mark the shard's log lost entries up to: its
	// vote is withheld until the log is back (votegate.go).
	lost *ShardLoss
	// restoreBuf, if set, is the memory the shard's restore at open reads
	// its snapshot into (FSMConfig.RestoreBuffer).
	restoreBuf *[]byte
	// snapSlots are the node's turns to write a snapshot
	// (FSMConfig.SnapshotSlots).
	snapSlots chan struct{}
}

// lastTerm is the term of the log's last entry (0: none, or unreadable,
// which makes the FSM keep every entry's results: FSMConfig.NoWaiterTerm).
func lastTerm(logs *ShardStore) uint64 {
	last, err := logs.LastIndex()
	if err != nil || last == 0 {
		return 0
	}
	var l raft.Log
	if err := logs.GetLog(last, &l); err != nil {
		return 0
	}
	return l.Term
}

// openShard starts one shard group.
func openShard(id uint16, o *Options, store *Store, mux *Mux, localID raft.ServerID, d shardDeps) (*Shard, error) {
	log := o.Logger.With("shard", id)
	hl := newHCLog(log, "raft", hclog.Debug)
	s := &Shard{id: id, logs: store.Shard(id), snaps: d.snaps, readTimeout: o.ApplyTimeout, local: localID}
	s.timedLogs = &timedLogs{ShardStore: s.logs}
	running := s.guardAppends(d)
	var err error
	if s.feed, err = openFeed(store.db, id, o.feedRetention(), log); err != nil {
		return nil, err
	}
	// Every shard knows how many there are: a customer's limit counts
	// across them (engine/claim.go).
	eng := o.Engine
	eng.Shards = o.Shards
	fc := FSMConfig{Shard: id, Engine: eng, Sink: o.EventSink, Feed: s.feed,
		SnapshotBytesMax: o.SnapshotBytesMax, Logger: log, RestoreBuffer: d.restoreBuf,
		SnapshotSlots: d.snapSlots, NoWaiterTerm: lastTerm(s.logs)}
	if d.snaps != nil {
		fc.Logs, fc.Snaps = s.logs, d.snaps // snapshots rebuilt off the apply path (snapbuild.go)
	}
	s.fsm = NewFSM(fc)

	layer, err := mux.Layer(id)
	if err != nil {
		return nil, err
	}
	s.trans = &guardedTransport{stall: pipelineStallTimeout, NetworkTransport: raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: shardTransportPool, Timeout: shardTransportTimeout, Logger: hl,
	})}
	var trans raft.Transport = s.trans
	if d.lost != nil {
		s.gate = newVoteGate(s.trans, id, d.lost.Acknowledged, d.lost.markTerm(), log)
		trans = s.gate
	}
	fail := func(err error) (*Shard, error) {
		_ = s.closeTransport()
		return nil, fmt.Errorf("raftstore: shard %d: %w", id, err)
	}

	conf := raftConfig(o, localID, hl)
	if d.peers != nil {
		has, err := raft.HasExistingState(s.logs, s.logs, s.snaps)
		if err != nil {
			return fail(err)
		}
		if !has {
			if err := raft.BootstrapCluster(conf, s.logs, s.logs, s.snaps, trans,
				raft.Configuration{Servers: d.peers}); err != nil {
				return fail(fmt.Errorf("bootstrap: %w", err))
			}
		}
	}
	// Raft reads recent entries back to replicate them; the cache serves
	// those from memory instead of Pebble.
	cached, err := raft.NewLogCache(o.LogCacheEntries, s.timedLogs)
	if err != nil {
		return fail(err)
	}
	s.raft, err = raft.NewRaft(conf, s.fsm, cached, s.logs, s.snaps, trans)
	s.fsm.DropRestoreBuffer() // NewRaft restored the newest snapshot, if any
	if err != nil {
		if rerr := s.fsm.lastRestoreError(); rerr != nil {
			// Raft says only that no snapshot could be loaded; the FSM
			// knows why the newest failed, and the store that it passed
			// its checksum (raft checks it before the FSM reads it).
			de := &SnapshotDamagedError{Shard: id, File: filepath.Join(snapshotDir(o, id), snapshotsDirName),
				Problem: "its checksum holds but its state does not restore: " + rerr.Error(),
				Why:     "no older snapshot that the log continues could be restored instead"}
			if metas, lerr := s.snaps.FileSnapshotStore.List(); lerr == nil && len(metas) > 0 {
				de.File = filepath.Join(de.File, metas[0].ID, snapshotStateName)
			}
			err = de
		}
		return fail(err)
	}
	running.Store(s.raft)
	if s.gate != nil {
		s.gate.start(func() (uint64, uint64) { st := s.Status(); return st.LastLogIndex, st.LastLogTerm })
	} else {
		s.electIfAlone(log)
	}
	s.sizeSnapshots(snapSizing{logRatio: o.SnapshotLogRatio, replayRatio: o.SnapshotReplayRatio, floor: o.SnapshotThreshold}, log)
	s.prop = newProposer(id, s.raft, s.fsm.Now, s.fsm.NextDue, proposerConfig{
		batchMaxCommands: o.BatchMaxCommands,
		batchMaxBytes:    o.BatchMaxBytes,
		batchMaxDelay:    o.BatchMaxDelay,
		maxInFlight:      o.MaxInFlight,
		queueMaxCommands: o.QueueMaxCommands,
		applyTimeout:     o.ApplyTimeout,
		expiryCheck:      o.ExpiryCheck,
		disk:             d.disk,
		ack:              s.ackMark(d),
	}, log)
	return s, nil
}

// electIfAlone has a shard that is the only voter of its group (a single
// node) stand for election now. Raft starts every group as a follower
// that waits a heartbeat timeout (here 500 ms to 1 s) for word from a
// leader, which cannot exist when it is the only voter: after the last
// shard's restore that wait was the last part of a start, on every
// start. A shorter heartbeat timeout fires a follower's timer at once
// (raft.ReloadConfig); it is set back straight after (the timer reads the
// shorter one once at most, for its next round). A node with peers, or
// whose vote is withheld (votegate.go), waits as raft intends.
func (s *Shard) electIfAlone(log *slog.Logger) {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	srv := f.Configuration().Servers
	if len(srv) != 1 || srv[0].ID != s.local || srv[0].Suffrage != raft.Voter {
		return
	}
	rc := s.raft.ReloadableConfig()
	short := rc
	short.HeartbeatTimeout = rc.HeartbeatTimeout - time.Millisecond
	if err := s.raft.ReloadConfig(short); err != nil {
		log.Debug("raftstore: the election waits its heartbeat timeout", "error", err)
		return
	}
	if err := s.raft.ReloadConfig(rc); err != nil {
		log.Error("raftstore: heartbeat timeout not set back", "error", err, "heartbeat_timeout", short.HeartbeatTimeout)
	}
}

// guardAppends sets the log store's checks on appends: the disk reserve,
// and on a cluster node the marks file. It returns where raft goes once it
// runs (nil until then: bootstrap writes go ahead).
func (s *Shard) guardAppends(d shardDeps) *atomic.Pointer[raft.Raft] {
	running := new(atomic.Pointer[raft.Raft])
	// A follower on a full disk refuses the leader's appends; the leader's
	// own appends go on (its proposer refuses new writes instead), or raft
	// would step it down over entries it already accepted.
	if d.disk != nil {
		s.logs.refuseAppends = func() bool {
			r := running.Load()
			return r != nil && d.disk.isFull() && r.State() != raft.Leader
		}
	}
	if d.marks != nil && d.persistMarks {
		id := s.id
		s.logs.persistMark = func(index, term uint64) (*markRound, error) { return d.marks.persist(id, index, term) }
	}
	return running
}

// ackMark returns what the proposer calls before it replies, on a node
// whose proposer records what it acknowledges (nil: none). Everything
// applied is committed, so the mark takes the applied index when that is
// further: the entries resolved next then find it on disk already.
func (s *Shard) ackMark(d shardDeps) func(index uint64) error {
	if d.marks == nil || d.persistMarks {
		return nil
	}
	return func(index uint64) error { return d.marks.ack(s.id, max(index, s.fsm.AppliedIndex())) }
}

// snapshotDir is the folder of shard id's snapshot store (the file store
// adds its own "snapshots" folder inside it).
func snapshotDir(o *Options, id uint16) string {
	return filepath.Join(o.Dir, "shards", strconv.Itoa(int(id)))
}

// openSnapshots opens shard id's snapshot store, Dir/shards/<id>/snapshots,
// after preparing the folder: leftovers of a crash go, and a damaged newest
// snapshot is passed over only when the log can rebuild its state
// (snapdir.go). The store lists only snapshots the log continues.
func openSnapshots(o *Options, id uint16, logs *ShardStore) (*snapshotStore, error) {
	hl := newHCLog(o.Logger.With("shard", id), "raft", hclog.Debug)
	dir := snapshotDir(o, id)
	if err := prepareSnapshots(id, dir, logs, o.Logger.With("shard", id)); err != nil {
		return nil, err
	}
	files, err := raft.NewFileSnapshotStoreWithLogger(dir, o.SnapshotsRetained, hl)
	if err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: snapshot store: %w", id, err)
	}
	return &snapshotStore{FileSnapshotStore: files, logs: logs}, nil
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
	if cerr := s.closeTransport(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: shutdown: %w", s.id, err)
	}
	return nil
}

// closeTransport closes the transport, through its vote gate if any.
func (s *Shard) closeTransport() error {
	if s.gate != nil {
		return s.gate.Close()
	}
	return s.trans.Close()
}

// VoteWithheld reports whether the shard withholds its vote because its
// log lost entries this node acknowledged and has not caught up yet.
func (s *Shard) VoteWithheld() bool { return s.gate != nil && !s.gate.isOpen() }

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
// ErrClosed, ErrBadGroup, ErrFieldTooLarge,
// ErrDiskFull) and done will not be called; otherwise done is called exactly
// once with the command's result, or with an error (see errors.go for which
// errors leave the outcome unknown).
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

// SnapshotThreshold is the log entries after which the shard takes its next
// snapshot: the configured snapshot_threshold, or what its last snapshot
// sized it to (snapsize.go).
func (s *Shard) SnapshotThreshold() uint64 { return s.raft.ReloadableConfig().SnapshotThreshold }

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
