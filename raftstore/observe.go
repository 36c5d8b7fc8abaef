package raftstore

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ApplyObserver is told about each round of committed entries a shard's FSM
// applies: how long the round took (decoding, the engine, the change feed),
// and the number of commands of each entry it applied, in order. It runs on
// the shard's FSM goroutine, between rounds: it must be quick and must not
// block, and it must not keep commandsPerEntry, which is reused.
type ApplyObserver func(shard uint16, took time.Duration, commandsPerEntry []int)

// SetApplyObserver makes o observe every later apply round (nil: none). A
// server sets it once the node is open, for its metrics.
func (f *FSM) SetApplyObserver(o ApplyObserver) {
	if o == nil {
		f.observer.Store(nil)
		return
	}
	f.observer.Store(&o)
}

// observeRound tells the observer, if any, about a round that began at start.
func (f *FSM) observeRound(start time.Time) {
	if o := f.observer.Load(); o != nil {
		(*o)(f.shard, time.Since(start), f.roundCommands)
	}
	f.roundCommands = f.roundCommands[:0]
}

// SnapshotKind says what a SnapshotObserver is told about.
type SnapshotKind uint8

const (
	// SnapshotPersisted: the FSM's state was captured and written to the
	// snapshot store, whole and durable. took runs from the capture to the
	// end of the write.
	SnapshotPersisted SnapshotKind = 1
	// SnapshotRestored: the FSM's state was replaced by a snapshot's, when
	// the shard opened or when its leader sent one. took is the read and
	// rebuild of the state.
	SnapshotRestored SnapshotKind = 2
)

// SnapshotObserver is told about each snapshot the shard's FSM persisted
// or restored, with its duration, or the error that made it fail (took is
// then meaningless). It runs on raft's goroutines: it must be quick.
type SnapshotObserver func(shard uint16, kind SnapshotKind, took time.Duration, err error)

// SnapshotStats counts a shard's snapshots on this node since it opened.
type SnapshotStats struct {
	Persisted     uint64 // snapshots taken and persisted
	PersistFailed uint64 // snapshots begun that did not reach the store
	Restored      uint64 // states restored from a snapshot (at open, or sent by the leader)
	RestoreFailed uint64 // snapshots that could not be restored
	// CaptureMax is the longest a snapshot's capture held up the shard's
	// applies (FSM.Snapshot, on the FSM goroutine; docs/adr/0120), and
	// Copied the snapshots whose state was copied under the apply lock
	// instead of rebuilt off the apply path.
	CaptureMax time.Duration
	Copied     uint64
}

// snapshotCounts are the FSM's SnapshotStats, kept from the moment the FSM
// exists, before any observer is set: the restore at open happens inside
// raft.NewRaft, before a server can watch.
type snapshotCounts struct {
	persisted, persistFailed, restored, restoreFailed atomic.Uint64
	captureMax                                        atomic.Int64 // nanoseconds
	copied                                            atomic.Uint64
}

// observeCapture records how long a snapshot's capture held up applies.
func (c *snapshotCounts) observeCapture(took time.Duration, copied bool) {
	for {
		old := c.captureMax.Load()
		if int64(took) <= old || c.captureMax.CompareAndSwap(old, int64(took)) {
			break
		}
	}
	if copied {
		c.copied.Add(1)
	}
}

// snapshotPendingMax bounds the reports kept for an observer not yet set:
// the restore at open and the few snapshots a node may take before its
// server starts; more would only be an observer that never comes.
const snapshotPendingMax = 16

type snapshotReport struct {
	kind SnapshotKind
	took time.Duration
	err  error
}

// snapshotWatch is the observer and the reports waiting for one. Snapshots
// and restores are rare, so a mutex is cheap here.
type snapshotWatch struct {
	mu       sync.Mutex
	observer SnapshotObserver
	pending  []snapshotReport
	// restoreErr is the last restore's error (nil after a success): when
	// no snapshot restores at open, raft says only that, and the shard's
	// error adds this.
	restoreErr error
}

// lastRestoreError returns why the last restore failed, nil if it did not.
func (f *FSM) lastRestoreError() error {
	w := &f.snapWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.restoreErr
}

// SetSnapshotObserver makes o observe every later snapshot and restore
// (nil: none). Reports made while no observer was set (at most
// snapshotPendingMax, the oldest kept: the restore at open comes first) are
// delivered to o before SetSnapshotObserver returns, so a server that sets
// it after the node opened still sees the restore the shard opened with.
// SnapshotStats counts everything regardless.
func (f *FSM) SetSnapshotObserver(o SnapshotObserver) {
	w := &f.snapWatch
	w.mu.Lock()
	w.observer = o
	var pending []snapshotReport
	if o != nil {
		pending, w.pending = w.pending, nil
	}
	w.mu.Unlock()
	for _, r := range pending {
		o(f.shard, r.kind, r.took, r.err)
	}
}

// SnapshotStats returns the shard's snapshot counts (any goroutine).
func (f *FSM) SnapshotStats() SnapshotStats {
	c := &f.snapCounts
	return SnapshotStats{Persisted: c.persisted.Load(), PersistFailed: c.persistFailed.Load(),
		Restored: c.restored.Load(), RestoreFailed: c.restoreFailed.Load(),
		CaptureMax: time.Duration(c.captureMax.Load()), Copied: c.copied.Load()}
}

// observeSnapshot counts one snapshot or restore that began at start and
// tells the observer, or keeps the report for one.
func (f *FSM) observeSnapshot(kind SnapshotKind, start time.Time, err error) {
	took := time.Since(start)
	c := &f.snapCounts
	switch {
	case kind == SnapshotPersisted && err == nil:
		c.persisted.Add(1)
	case kind == SnapshotPersisted:
		c.persistFailed.Add(1)
	case err == nil:
		c.restored.Add(1)
	default:
		c.restoreFailed.Add(1)
	}
	if err != nil {
		f.log.Warn("raftstore: snapshot failed", "shard", f.shard, "kind", kind.String(), "error", err)
	} else {
		f.log.Debug("raftstore: snapshot done", "shard", f.shard, "kind", kind.String(), "took", took)
	}
	w := &f.snapWatch
	w.mu.Lock()
	if kind == SnapshotRestored {
		w.restoreErr = err
	}
	o := w.observer
	if o == nil && len(w.pending) < snapshotPendingMax {
		w.pending = append(w.pending, snapshotReport{kind, took, err})
	}
	w.mu.Unlock()
	if o != nil {
		o(f.shard, kind, took, err)
	}
}

// String returns persisted or restored.
func (k SnapshotKind) String() string {
	switch k {
	case SnapshotPersisted:
		return "persisted"
	case SnapshotRestored:
		return "restored"
	}
	return "snapshot_kind_" + strconv.Itoa(int(k))
}
