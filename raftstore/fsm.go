package raftstore

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/failpoint"
)

// EventSink receives the events of every applied entry, in log order, on
// raft's FSM goroutine (so it must be quick: hand off, don't block). index is
// the entry's raft index, the position a change feed resumes from; events of
// one entry come in the order the engine made them. The slice is the FSM's
// and is reused by its next batch: read it during the call, copy what you
// keep, never modify it.
//
// A replica replaying its log after a restart delivers those events again,
// with the same positions, so a consumer can drop what it already has.
type EventSink func(shard uint16, index uint64, events []engine.Event)

// ApplyResponse is what FSM.Apply returns for a command entry: the raft
// ApplyFuture's Response on the node that proposed it. Results are the
// response's own, valid forever (the engine's own slices are reused by its
// next batch); an entry no proposal of this process can wait for (of a term
// the log had reached when the shard opened: FSMConfig.NoWaiterTerm) has
// none.
// Events are valid until the FSM's next ApplyBatch: the feed and the sink
// read them before ApplyBatch returns, and nothing after it does, so they
// are gathered in one buffer the FSM reuses instead of a fresh copy an
// entry (a bulk put's entry has thousands).
type ApplyResponse struct {
	Index   uint64          // raft index of the entry
	Now     int64           // the leader's time the batch ran at
	Results []engine.Result // one per command, in order
	Events  []engine.Event
	Err     error // the entry did not decode; nothing was applied
}

// FSMConfig configures an FSM.
type FSMConfig struct {
	Shard  uint16
	Engine engine.Config // must be the same on every replica of the shard
	Sink   EventSink     // optional
	// Feed, if set, is the shard's durable change feed: every applied
	// entry's events are written to it before ApplyBatch returns.
	Feed *Feed
	// SnapshotBytesMax bounds a restored state's decompressed size
	// (default DefaultSnapshotBytesMax).
	SnapshotBytesMax int64
	Logger           *slog.Logger
	// Logs and Snaps, if both set, are the shard's log and snapshot store:
	// a snapshot is then rebuilt from them off the apply path (snapbuild.go)
	// instead of copied under the lock.
	Logs  raft.LogStore
	Snaps raft.SnapshotStore
	// RestoreBuffer, if set, is the memory a restore reads the snapshot's
	// state into, shared with the node's other shards that open after
	// this one on the same goroutine (openShards); DropRestoreBuffer lets
	// go of it once the shard is open.
	RestoreBuffer *[]byte
	// SnapshotSlots, if set, holds a token for each snapshot being written
	// on the node (Options.SnapshotsAtOnce): a snapshot's Persist takes
	// one before it writes and waits while none is free.
	SnapshotSlots chan struct{}
	// NoWaiterTerm is the term of the last entry the shard's log held when
	// it opened. This process proposes only as a leader of a later term
	// (a node's term is at least its log's, and an election raises it),
	// so nothing here waits for the results of an entry of this term or
	// before, and the restart that replays them does not keep them
	// (docs/adr/0133).
	NoWaiterTerm uint64
}

// FSM is raft's state machine for one shard: it decodes each entry, runs its
// batch through the engine at the leader's time, and returns the results
// (ApplyResponse). It implements raft.BatchingFSM, so raft hands it every
// committed entry of a round at once.
//
// Raft calls Apply, ApplyBatch, Snapshot and Restore from one goroutine, but
// the engine is also read from others (metrics, local reads, the expiry
// timer); mu serialises those reads with the writes.
type FSM struct {
	shard    uint16
	cfg      engine.Config
	sink     EventSink
	feed     *Feed
	bytesMax int64
	log      *slog.Logger

	mu      sync.RWMutex // Peek reads under RLock; everything else takes Lock
	eng     *engine.Engine
	scratch []engine.Command // decoded commands, reused across entries (under mu)
	events  []engine.Event   // the round's events, the responses' Events (FSM goroutine only)
	// results: the responses' Results, appended by the engine (under mu).
	// Never written over: a full one is left to the responses that point
	// into it and a fresh one taken, so one allocation serves many entries
	// and no entry's results are copied.
	results []engine.Result
	// noWaiterTerm: FSMConfig.NoWaiterTerm.
	noWaiterTerm uint64

	applied  atomic.Uint64 // last raft index applied (commands and configuration entries)
	lastTime atomic.Int64  // time of the last applied batch

	observer      atomic.Pointer[ApplyObserver] // observe.go; nil: none
	roundCommands []int                         // commands per entry of the current round (FSM goroutine only)

	snapWatch  snapshotWatch // observe.go
	snapCounts snapshotCounts

	build *rebuilder   // nil: every snapshot is copied under the lock
	base  snapshotBase // the newest persisted snapshot a rebuild starts from

	// restoreMu is held through a restore, so that once DropRestoreBuffer
	// returns no restore still reads into restoreBuf (FSMConfig.RestoreBuffer).
	restoreMu  sync.Mutex
	restoreBuf *[]byte

	snapSlots chan struct{} // FSMConfig.SnapshotSlots

	// logBytes counts the bytes of the command entries applied (FSM
	// goroutine; read by Snapshot, on the same goroutine). sized, if set,
	// is told of each persisted snapshot: its state's bytes, and the mean
	// bytes of an entry since the snapshot before it (snapsize.go).
	logBytes uint64
	lastMu   sync.Mutex
	lastSnap struct{ index, logBytes uint64 } // under lastMu
	sized    atomic.Pointer[func(stateBytes int64, entryBytes float64, cost rebuildCost)]

	outboxHook atomic.Pointer[func()] // called after a round that appended outbox messages; nil: none
	outboxSeen uint64                 // the engine's OutboxAppended after the last round (under mu)
}

var _ raft.BatchingFSM = (*FSM)(nil)

// eventsKeep is the most events the round buffer keeps room for between
// rounds (about 200 bytes each); a larger one, left by a bulk load, is
// dropped.
const eventsKeep = 1 << 14

// NewFSM returns an FSM around an empty engine.
func NewFSM(cfg FSMConfig) *FSM {
	cfg.Engine.ShardID = cfg.Shard
	if cfg.SnapshotBytesMax <= 0 {
		cfg.SnapshotBytesMax = DefaultSnapshotBytesMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &FSM{
		shard:    cfg.Shard,
		cfg:      cfg.Engine,
		sink:     cfg.Sink,
		feed:     cfg.Feed,
		bytesMax: cfg.SnapshotBytesMax,
		log:      cfg.Logger,
		eng:      engine.New(cfg.Engine),

		restoreBuf: cfg.RestoreBuffer,
		snapSlots:  cfg.SnapshotSlots,

		noWaiterTerm: cfg.NoWaiterTerm,
	}
	if cfg.Logs != nil && cfg.Snaps != nil {
		f.build = &rebuilder{shard: cfg.Shard, cfg: cfg.Engine, bytesMax: cfg.SnapshotBytesMax,
			logs: cfg.Logs, snaps: cfg.Snaps}
	}
	// The engine starts empty, the state at index 0 (base's zero value); a
	// restore moves the base to the restored snapshot's index.
	return f
}

// Apply applies one entry. Raft uses ApplyBatch instead; Apply serves
// callers that drive the FSM directly.
func (f *FSM) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch applies committed entries in order. Command entries yield an
// *ApplyResponse; configuration entries (which raft also passes) yield nil.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	start := time.Now()
	out := make([]any, len(logs))
	var resps []*ApplyResponse
	if cap(f.events) > eventsKeep {
		f.events = nil // a burst's buffer is not kept for every later round
	}
	f.events = f.events[:0]
	f.mu.Lock()
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			f.applied.Store(l.Index)
			continue
		}
		if len(resps) > 0 {
			failpoint.Hit(failpoint.FSMApply)
		}
		r, commands := f.applyLocked(l)
		f.logBytes += uint64(len(l.Data))
		out[i] = r
		resps = append(resps, r)
		f.roundCommands = append(f.roundCommands, commands)
	}
	appended := f.eng.OutboxAppended() != f.outboxSeen
	f.outboxSeen = f.eng.OutboxAppended()
	f.mu.Unlock()
	if appended {
		f.outboxAppended()
	}
	// The feed is written before raft counts the entries applied (so before
	// a snapshot can cover them), outside the lock like the sink.
	if f.feed != nil && len(logs) > 0 {
		f.feed.record(logs[len(logs)-1].Index, resps)
	}
	// The sink runs outside the lock so that reads are not held up by it.
	if f.sink != nil {
		for _, r := range resps {
			if len(r.Events) > 0 {
				f.sink(f.shard, r.Index, r.Events)
			}
		}
	}
	f.observeRound(start)
	return out
}

// resultsChunk is the results an FSM's results buffer takes at a time:
// a few entries' worth at sale load, a few hundred KB.
const resultsChunk = 1024

// applyLocked decodes and applies one command entry. A bad entry is the same
// bad entry on every replica, so refusing it keeps replicas identical; it
// can only come from a bug, hence the error log.
func (f *FSM) applyLocked(l *raft.Log) (r *ApplyResponse, commands int) {
	defer f.applied.Store(l.Index)
	now, cmds, err := DecodeEntry(l.Data, f.scratch)
	f.scratch = cmds
	if err != nil {
		f.log.Error("raftstore: undecodable entry skipped", "shard", f.shard, "index", l.Index, "error", err)
		return &ApplyResponse{Index: l.Index, Err: fmt.Errorf("entry %d: %w", l.Index, err)}, 0
	}
	r = &ApplyResponse{Index: l.Index}
	var events []engine.Event
	if f.noWaiterTerm > 0 && l.Term <= f.noWaiterTerm {
		_, events = f.eng.Apply(now, cmds)
	} else {
		if cap(f.results)-len(f.results) < len(cmds) {
			f.results = make([]engine.Result, 0, max(resultsChunk, len(cmds)))
		}
		n := len(f.results)
		f.results, events = f.eng.ApplyAppend(now, cmds, f.results)
		r.Results = f.results[n:len(f.results):len(f.results)]
	}
	f.lastTime.Store(f.eng.Now())
	r.Now = f.eng.Now()
	if len(events) > 0 {
		// Appended to the round's buffer: growing it leaves the earlier
		// responses' slices on the old array, unchanged.
		n := len(f.events)
		f.events = append(f.events, events...)
		r.Events = f.events[n:len(f.events):len(f.events)]
	}
	// The commands' byte fields point into l.Data, which raft keeps in its
	// log cache; drop them so the scratch slice does not pin old entries.
	clear(f.scratch)
	return r, len(cmds)
}

// Snapshot captures the state to persist. With a rebuilder it records only
// the applied index (snapbuild.go): Persist rebuilds the state at that index
// while applies go on. Otherwise, or when the rebuilder's base is unusable,
// it copies the engine's state into memory under the lock, and applies wait
// meanwhile (raft calls Snapshot on the FSM goroutine). Either way the time
// spent here, the apply stall, is kept in SnapshotStats.CaptureMax.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	start := time.Now()
	index := f.applied.Load()
	logBytes := f.logBytes
	snap := &fsmSnapshot{index: index, start: start, slots: f.snapSlots,
		done: func(start time.Time, err error) { f.observeSnapshot(SnapshotPersisted, start, err) }}
	base, id := f.base.get()
	if f.build != nil && base != 0 && base != baseUnknown && id == "" {
		id = f.build.find(base) // once after a restore
		if id == "" {
			base = baseUnknown
		}
		f.base.set(base, id)
	}
	if f.build != nil && f.build.covers(base, index) {
		snap.rebuild = func(w io.Writer) error { return f.build.state(w, base, id, index, &snap.cost) }
	} else {
		if f.build != nil {
			f.log.Info("raftstore: snapshot copied under the apply lock: the log does not reach back to the base",
				"shard", f.shard, "index", index, "base", base)
		}
		if err := f.copyState(snap); err != nil {
			f.observeSnapshot(SnapshotPersisted, start, err)
			return nil, err
		}
	}
	snap.persisted = func(id string) {
		f.base.set(snap.index, id)
		f.snapshotSized(snap.index, logBytes, snap.stateBytes, snap.cost)
	}
	snap.failed = func() {
		if snap.rebuild != nil {
			// A rebuild that failed (its base gone or unreadable) must not
			// fail every later snapshot: the next copies under the lock.
			f.base.set(baseUnknown, "")
		}
	}
	if f.feed != nil {
		// Once the snapshot is persisted raft may drop the log before it:
		// the feed must hold every event up to its index durably by then.
		f.feed.checkpoint()
		snap.before = f.feed.sync
	}
	f.snapCounts.observeCapture(time.Since(start), snap.state != nil)
	return snap, nil
}

// copyState copies the engine's state into snap under the lock.
func (f *FSM) copyState(snap *fsmSnapshot) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var buf bytes.Buffer
	if err := f.eng.Snapshot(&buf); err != nil {
		return fmt.Errorf("raftstore: shard %d: snapshot: %w", f.shard, err)
	}
	snap.index = f.applied.Load()
	snap.state = buf.Bytes()
	return nil
}

// Restore replaces the state with a snapshot's. On error the old state stays.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := failpoint.Err(failpoint.SnapshotRestoreBefore); err != nil {
		return err
	}
	start := time.Now()
	f.restoreMu.Lock()
	eng, index, err := readSnapshot(rc, f.cfg, f.bytesMax, f.restoreBuf)
	f.restoreMu.Unlock()
	if err != nil {
		err = fmt.Errorf("raftstore: shard %d: %w", f.shard, err)
		f.observeSnapshot(SnapshotRestored, start, err)
		return err
	}
	f.mu.Lock()
	f.eng = eng
	f.applied.Store(index)
	f.lastTime.Store(eng.Now())
	f.outboxSeen = eng.OutboxAppended()
	f.mu.Unlock()
	f.base.set(index, "") // its id is looked up at the next snapshot
	f.restoredAt(index)
	f.outboxAppended() // the restored state may hold undelivered messages
	if f.feed != nil {
		f.feed.restored(index)
	}
	f.observeSnapshot(SnapshotRestored, start, nil)
	failpoint.Hit(failpoint.SnapshotRestoreAfter)
	return nil
}

// DropRestoreBuffer lets go of FSMConfig.RestoreBuffer: a later restore
// (a snapshot installed by the leader) reads into memory of its own. It
// waits for a restore under way.
func (f *FSM) DropRestoreBuffer() {
	f.restoreMu.Lock()
	f.restoreBuf = nil
	f.restoreMu.Unlock()
}

// Read serves a read-only command from the local state. On a follower, or a
// leader that has not yet applied everything it committed, it may be stale;
// linearizable reads go through the log (Propose) instead.
func (f *FSM) Read(cmd *engine.Command) engine.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.Read(cmd)
}

// Peek reads an item's available units and its SKU's limit from the
// applied state (engine.Peek), under the read lock: Peeks run beside each
// other and allocate nothing.
func (f *FSM) Peek(sku, store []byte) (available, limit int64, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.eng.Peek(sku, store)
}

// ClaimsDue lists the pending claims the home's sweep settles (engine.ClaimsDue).
func (f *FSM) ClaimsDue(until int64, max int) []engine.DueClaim {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.ClaimsDue(until, max)
}

// ProvisionalDue lists the provisional holds the item shard's sweep
// resolves (engine.ProvisionalDue).
func (f *FSM) ProvisionalDue(until int64, max int) []engine.DueHold {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.ProvisionalDue(until, max)
}

// SetOutboxHook makes hook run after every apply round that appended
// outbox messages, and after a restore (nil: none), on raft's FSM
// goroutine: it must return at once (the router's deliverer takes a kick).
func (f *FSM) SetOutboxHook(hook func()) {
	if hook == nil {
		f.outboxHook.Store(nil)
		return
	}
	f.outboxHook.Store(&hook)
}

func (f *FSM) outboxAppended() {
	if h := f.outboxHook.Load(); h != nil {
		(*h)()
	}
}

// Stats returns the engine's counts (for metrics; safe from any goroutine).
func (f *FSM) Stats() engine.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.Stats()
}

// OutboxPending returns the destinations of the shard's undelivered outbox
// messages (docs/adr/0070): its leader delivers them.
func (f *FSM) OutboxPending() []engine.OutboxQueue {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.OutboxPending()
}

// Outbox returns up to max undelivered messages to shard to, oldest first.
func (f *FSM) Outbox(to uint16, max int) []engine.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.Outbox(to, max)
}

// NextDue returns the engine's next expiry time, 0 if none.
func (f *FSM) NextDue() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.NextDue()
}

// StateBytes writes the engine's snapshot bytes (uncompressed) to w: two
// replicas with the same state give the same bytes.
func (f *FSM) StateBytes(w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.Snapshot(w)
}

// AppliedIndex returns the raft index of the last entry applied.
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

// Now returns the leader's time of the last applied batch. A new leader
// stamps its batches no earlier than this.
func (f *FSM) Now() int64 { return f.lastTime.Load() }
