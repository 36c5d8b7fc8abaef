package raftstore

import (
	"io"
	"log/slog"
	"math"
)

// Snapshots as often as the state's size calls for (docs/adr/0132).
//
// A snapshot writes the whole state of its shard, so its cost grows with
// the shard's items while raft's SnapshotThreshold counts log entries: at
// 2,048 entries a snapshot, a shard of 375,000 items (6M on a node of 16
// shards) spent a core for a second every few seconds of a sale, every
// entry's worth of work again and again. After each persisted snapshot
// the shard sets its threshold to the entries whose bytes reach
// SnapshotLogRatio times the state's (at their mean size since the
// snapshot before), never below the configured SnapshotThreshold: the
// snapshots' cost a logged byte stays the same whatever the state's size,
// and the log a restart replays stays in proportion to the snapshot it
// restores.

// maxSnapshotThreshold bounds the threshold a shard sets itself: a
// shard of a few GB of state at small entries would otherwise keep
// millions of entries in its log.
const maxSnapshotThreshold = 1 << 22

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// snapshotSized tells the sized hook of a persisted snapshot at index,
// taken when logBytes of entries had been applied, its state stateBytes
// long, with the mean entry's bytes since the snapshot before, or since
// the one restored (restoredAt), or since the log's start.
func (f *FSM) snapshotSized(index, logBytes uint64, stateBytes int64) {
	f.lastMu.Lock()
	last := f.lastSnap
	if index > last.index {
		f.lastSnap.index, f.lastSnap.logBytes = index, logBytes
	}
	f.lastMu.Unlock()
	hook := f.sized.Load()
	if hook == nil || index <= last.index || logBytes <= last.logBytes || stateBytes <= 0 {
		return
	}
	(*hook)(stateBytes, float64(logBytes-last.logBytes)/float64(index-last.index))
}

// restoredAt marks the state restored at index as the last snapshot: the
// entries applied after it are the first mean's.
func (f *FSM) restoredAt(index uint64) {
	f.lastMu.Lock()
	f.lastSnap.index, f.lastSnap.logBytes = index, f.logBytes
	f.lastMu.Unlock()
}

// snapshotThreshold is the entries of entryBytes each that reach ratio
// times a state of stateBytes, within [floor, maxSnapshotThreshold].
func snapshotThreshold(stateBytes int64, entryBytes, ratio float64, floor uint64) uint64 {
	if ratio <= 0 || entryBytes <= 0 {
		return floor
	}
	n := math.Ceil(ratio * float64(stateBytes) / entryBytes)
	if n >= maxSnapshotThreshold {
		return max(floor, maxSnapshotThreshold)
	}
	return max(floor, uint64(n))
}

// sizeSnapshots has the shard set its raft's SnapshotThreshold after each
// persisted snapshot (see the top of the file). A change of less than an
// eighth is left alone.
func (s *Shard) sizeSnapshots(ratio float64, floor uint64, log *slog.Logger) {
	if ratio <= 0 {
		return
	}
	hook := func(stateBytes int64, entryBytes float64) {
		want := snapshotThreshold(stateBytes, entryBytes, ratio, floor)
		rc := s.raft.ReloadableConfig()
		have := rc.SnapshotThreshold
		if want == have || max(want, have)-min(want, have) < have/8 {
			return
		}
		rc.SnapshotThreshold = want
		if err := s.raft.ReloadConfig(rc); err != nil {
			log.Warn("raftstore: snapshot threshold not changed", "error", err, "threshold", want)
			return
		}
		log.Debug("raftstore: snapshot threshold", "entries", want, "was", have,
			"state_bytes", stateBytes, "entry_bytes", int64(entryBytes))
	}
	s.fsm.sized.Store(&hook)
}
