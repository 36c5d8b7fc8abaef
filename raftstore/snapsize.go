package raftstore

import (
	"io"
	"log/slog"
	"math"
)

// Snapshots as often as the state's size calls for (docs/adr/0132), and
// a log no slower to replay than its snapshot is to restore (0133).
//
// A snapshot writes the whole state of its shard, so its cost grows with
// the shard's items while raft's SnapshotThreshold counts log entries: at
// 2,048 entries a snapshot, a shard of 375,000 items (6M on a node of 16
// shards) spent a core for a second every few seconds of a sale, every
// entry's worth of work again and again. After each persisted snapshot
// the shard sets its threshold to the entries whose bytes reach
// SnapshotLogRatio times the state's (at their mean size since the
// snapshot before), never below the configured SnapshotThreshold: the
// snapshots' cost a logged byte stays the same whatever the state's size.
//
// A restart restores the snapshot and replays the log after it, and a
// logged byte of a sale's requests takes several times longer to replay
// than a byte of state to restore: a log as large as the state made a
// restart five times longer than its restore. So the threshold is also
// bounded by time: the entries that replay, at the pace the last rebuild
// replayed them, in SnapshotReplayRatio times the time it took to restore
// its base (a rebuild does both, as a restart does).

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
// the one restored (restoredAt), or since the log's start, and what its
// rebuild measured.
func (f *FSM) snapshotSized(index, logBytes uint64, stateBytes int64, cost rebuildCost) {
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
	(*hook)(stateBytes, float64(logBytes-last.logBytes)/float64(index-last.index), cost)
}

// restoredAt marks the state restored at index as the last snapshot: the
// entries applied after it are the first mean's.
func (f *FSM) restoredAt(index uint64) {
	f.lastMu.Lock()
	f.lastSnap.index, f.lastSnap.logBytes = index, f.logBytes
	f.lastMu.Unlock()
}

// snapSizing is how a shard bounds its log after a snapshot: logRatio
// times the state's bytes, and replayRatio times its restore's time
// (either at most 0: no such bound), never below floor entries.
type snapSizing struct {
	logRatio, replayRatio float64
	floor                 uint64
}

// threshold is the entries of entryBytes each that reach logRatio times a
// state of stateBytes, or fewer if they would replay, at the pace cost
// measured, in more than replayRatio times cost's restore; within [floor,
// maxSnapshotThreshold]. A rebuild from the empty engine (no restore) or
// of no command entries sets no time bound.
func (z snapSizing) threshold(stateBytes int64, entryBytes float64, cost rebuildCost) uint64 {
	n := math.Inf(1)
	if z.logRatio > 0 && entryBytes > 0 {
		n = math.Ceil(z.logRatio * float64(stateBytes) / entryBytes)
	}
	if z.replayRatio > 0 && cost.restore > 0 && cost.replayed > 0 && cost.replay > 0 {
		pace := float64(cost.replay) / float64(cost.replayed) // per entry
		n = min(n, math.Ceil(z.replayRatio*float64(cost.restore)/pace))
	}
	if math.IsInf(n, 1) {
		return z.floor
	}
	if n >= maxSnapshotThreshold {
		return max(z.floor, maxSnapshotThreshold)
	}
	return max(z.floor, uint64(n))
}

// sizeSnapshots has the shard set its raft's SnapshotThreshold after each
// persisted snapshot (see the top of the file). A change of less than an
// eighth is left alone.
func (s *Shard) sizeSnapshots(z snapSizing, log *slog.Logger) {
	if z.logRatio <= 0 && z.replayRatio <= 0 {
		return
	}
	hook := func(stateBytes int64, entryBytes float64, cost rebuildCost) {
		want := z.threshold(stateBytes, entryBytes, cost)
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
			"state_bytes", stateBytes, "entry_bytes", int64(entryBytes),
			"restore", cost.restore, "replay", cost.replay, "replayed", cost.replayed)
	}
	s.fsm.sized.Store(&hook)
}
