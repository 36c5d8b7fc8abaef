package raftstore

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"

	"github.com/invsys/inv/internal/failpoint"
)

// ShardStore is one shard group's view of the node's Store: its
// raft.LogStore, raft.MonotonicLogStore and raft.StableStore. Every method is
// safe for concurrent use (raft reads logs from replication goroutines while
// its main loop appends).
type ShardStore struct {
	db    *pebble.DB
	shard uint16
	first *logFirst // the cached first log index (logfirst.go)
	// refuseAppends, when set, reports whether appends are refused now: on
	// a follower whose disk is below its reserve (diskguard.go), the
	// leader's entries would eat the reserve that keeps Pebble alive. raft
	// answers the leader with a failure and the leader retries with a
	// back-off; the follower catches up once space returns. nil: never.
	refuseAppends func() bool
	// persistMark, when set, records the log's new end in the marks file
	// (marks.go) after each append: a cluster node's record of the entries
	// it acknowledged, to its leader or, as the leader, to its own count
	// towards a commit. nil: none.
	persistMark func(index, term uint64) (*markRound, error)
}

var (
	_ raft.LogStore          = (*ShardStore)(nil)
	_ raft.MonotonicLogStore = (*ShardStore)(nil)
	_ raft.StableStore       = (*ShardStore)(nil)
)

// ShardID returns the shard this view belongs to.
func (s *ShardStore) ShardID() uint16 { return s.shard }

// FirstIndex returns the first stored index, 0 when there is none.
// It is read from memory, except once after each change of the log's
// first entry (logfirst.go).
func (s *ShardStore) FirstIndex() (uint64, error) {
	return s.first.get(func() (uint64, error) { return s.edgeIndex(true) })
}

// LastIndex returns the last stored index, 0 when there is none.
func (s *ShardStore) LastIndex() (uint64, error) { return s.edgeIndex(false) }

// edgeIndex reads the first or last key of the shard's log range with an
// iterator bounded to that range, so neither another shard's logs nor its
// stable keys are ever visited.
func (s *ShardStore) edgeIndex(first bool) (uint64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: shardPrefix(prefixLog, s.shard),
		UpperBound: shardPrefixEnd(prefixLog, s.shard),
	})
	if err != nil {
		return 0, fmt.Errorf("raftstore: shard %d: iterator: %w", s.shard, err)
	}
	var found bool
	if first {
		found = it.First()
	} else {
		found = it.Last()
	}
	var index uint64
	if found {
		var ok bool
		if index, ok = logKeyIndex(it.Key()); !ok {
			_ = it.Close()
			return 0, fmt.Errorf("raftstore: shard %d: malformed log key %x", s.shard, it.Key())
		}
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("raftstore: shard %d: iterator: %w", s.shard, err)
	}
	return index, nil
}

// GetLog reads the entry at index into l, or returns raft.ErrLogNotFound.
//
// Read in order, entries are read ahead (logahead.go).
func (s *ShardStore) GetLog(index uint64, l *raft.Log) error {
	a := &s.first.ahead
	ok, token := a.take(index, l)
	if ok {
		return nil
	}
	if token != 0 {
		ents, err := s.readAhead(index)
		if err == nil && len(ents) > 0 {
			*l = ents[0]
			a.keep(token, ents[1:])
			return nil
		}
		a.keep(token, nil)
	}
	var kb [logKeyLen]byte
	val, closer, err := s.db.Get(appendLogKey(kb[:0], s.shard, index))
	if isNotFound(err) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: get log %d: %w", s.shard, index, err)
	}
	err = decodeLog(val, l)
	_ = closer.Close()
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: log %d: %w", s.shard, index, err)
	}
	if l.Index != index {
		// The value names its own index; a mismatch means the key space is damaged.
		return fmt.Errorf("raftstore: shard %d: log %d holds index %d: %w", s.shard, index, l.Index, errLogCorrupt)
	}
	return nil
}

// ScanLogs calls fn with each entry from first to last, in order, read
// with one iterator: a snapshot's rebuild replays thousands of entries,
// and a GetLog each (a point lookup through every level's index blocks,
// most of them read from the disk again) was 19 % of a node's CPU under a
// sustained flash-spread. An entry missing in the range is
// raft.ErrLogNotFound; fn's entry is valid only during the call.
func (s *ShardStore) ScanLogs(first, last uint64, fn func(l *raft.Log) error) error {
	if first > last {
		return nil
	}
	var lo, hi [logKeyLen]byte
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: appendLogKey(lo[:0], s.shard, first),
		UpperBound: appendLogKey(hi[:0], s.shard, last+1),
	})
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: scan logs: %w", s.shard, err)
	}
	defer it.Close()
	var l raft.Log
	want := first
	for ok := it.First(); ok; ok = it.Next() {
		index, ok := logKeyIndex(it.Key())
		if !ok {
			return fmt.Errorf("raftstore: shard %d: a log key %x: %w", s.shard, it.Key(), errLogCorrupt)
		}
		if index != want {
			return fmt.Errorf("raftstore: shard %d: log %d: %w", s.shard, want, raft.ErrLogNotFound)
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("raftstore: shard %d: scan log %d: %w", s.shard, index, err)
		}
		if err := decodeLog(val, &l); err != nil {
			return fmt.Errorf("raftstore: shard %d: log %d: %w", s.shard, index, err)
		}
		if l.Index != index {
			return fmt.Errorf("raftstore: shard %d: log %d holds index %d: %w", s.shard, index, l.Index, errLogCorrupt)
		}
		if err := fn(&l); err != nil {
			return err
		}
		want++
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("raftstore: shard %d: scan logs: %w", s.shard, err)
	}
	if want <= last {
		return fmt.Errorf("raftstore: shard %d: log %d: %w", s.shard, want, raft.ErrLogNotFound)
	}
	return nil
}

// StoreLog stores one entry.
func (s *ShardStore) StoreLog(l *raft.Log) error {
	return s.StoreLogs([]*raft.Log{l})
}

// StoreLogs stores entries in one Pebble batch committed with Sync. Each
// value is encoded in place inside the batch (no intermediate buffer).
//
// Commits of many shards arriving at the same moment share one WAL fsync:
// Pebble's commit pipeline queues every synced commit behind the sync in
// progress and its single flush loop syncs once for all of them (see
// record.LogWriter's flushLoop and docs/adr/0010). So no commit group of our
// own is needed in front of Pebble; BenchmarkStoreLogsConcurrentShards shows
// the syncs per commit this gives.
func (s *ShardStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	if s.refuseAppends != nil && s.refuseAppends() {
		return fmt.Errorf("raftstore: shard %d: store logs %d..%d: %w",
			s.shard, logs[0].Index, logs[len(logs)-1].Index, ErrDiskFull)
	}
	size := 0
	for _, l := range logs {
		size += logKeyLen + encodedLogLen(l) + 16 // + batch record overhead
	}
	b := s.db.NewBatchWithSize(size)
	defer b.Close()
	for _, l := range logs {
		valueLen := encodedLogLen(l)
		op := b.SetDeferred(logKeyLen, valueLen)
		appendLogKey(op.Key[:0], s.shard, l.Index)
		if got := len(appendLog(op.Value[:0], l)); got != valueLen {
			panic(fmt.Sprintf("raftstore: log encoding length %d, computed %d", got, valueLen))
		}
		if err := op.Finish(); err != nil {
			return fmt.Errorf("raftstore: shard %d: batch: %w", s.shard, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("raftstore: shard %d: store logs %d..%d: %w",
			s.shard, logs[0].Index, logs[len(logs)-1].Index, err)
	}
	s.first.appended()
	s.first.ahead.changed(logs[0].Index)
	if err := s.markAppend(logs[len(logs)-1]); err != nil {
		return err
	}
	return failpoint.Err(failpoint.RaftAfterLogWrite)
}

// markAppend records the log's new end in the marks file and waits until
// that is on disk, before raft hears of the append (and a follower acks
// it). Only after the batch is synced, not beside it: a mark ahead of the
// log would read, after a crash, as a loss that never happened, and nodes
// crashed together mid-append could then all withhold their votes from
// each other (docs/adr/0016).
func (s *ShardStore) markAppend(last *raft.Log) error {
	if s.persistMark == nil {
		return nil
	}
	r, err := s.persistMark(last.Index, last.Term)
	if err == nil {
		err = r.wait()
	}
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: mark %d: %w", s.shard, last.Index, err)
	}
	return nil
}

// DeleteRange deletes entries min..max inclusive with one range tombstone:
// constant cost whatever the number of entries, which is why the store can
// declare itself monotonic (raft then drops the whole log after installing a
// snapshot instead of relying on gaps).
func (s *ShardStore) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	if err := s.checkSuffixDelete(min); err != nil {
		return err
	}
	start := appendLogKey(nil, s.shard, min)
	var end []byte
	if max == ^uint64(0) {
		end = shardPrefixEnd(prefixLog, s.shard)
	} else {
		end = appendLogKey(nil, s.shard, max+1)
	}
	err := s.db.DeleteRange(start, end, pebble.Sync)
	s.first.changed() // even on error: what the failed delete did is unknown
	s.first.ahead.changed(0)
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: delete logs %d..%d: %w", s.shard, min, max, err)
	}
	// Read the new first index here, on raft's goroutine that compacts,
	// not later on the FSM's when it captures a snapshot.
	_, _ = s.FirstIndex()
	return nil
}

// checkSuffixDelete refuses to clear a log suffix while appends are
// refused: raft clears a conflicting suffix just before it appends the
// leader's entries, and when that append fails it keeps believing the
// cleared entries are there. Deleting a prefix (compaction) frees space
// and always goes ahead.
func (s *ShardStore) checkSuffixDelete(min uint64) error {
	if s.refuseAppends == nil || !s.refuseAppends() {
		return nil
	}
	first, err := s.FirstIndex()
	if err != nil {
		return err
	}
	if min > first {
		return fmt.Errorf("raftstore: shard %d: clear log from %d: %w", s.shard, min, ErrDiskFull)
	}
	return nil
}

// IsMonotonic reports that raft should never leave gaps in this log (see
// DeleteRange).
func (s *ShardStore) IsMonotonic() bool { return true }

// Set stores a stable-store value, synced: raft writes its term and vote
// here and must not forget them after a crash.
func (s *ShardStore) Set(key, val []byte) error {
	if len(key) > maxStableKey {
		return fmt.Errorf("raftstore: shard %d: stable key of %d bytes", s.shard, len(key))
	}
	if err := s.db.Set(appendStableKey(nil, s.shard, key), val, pebble.Sync); err != nil {
		return fmt.Errorf("raftstore: shard %d: set %q: %w", s.shard, key, err)
	}
	return nil
}

// Get returns a stable-store value, or nil (and no error) when the key was
// never set, as raft.StableStore documents. Returning nil rather than an
// empty slice matters: raft treats a non-nil last-vote candidate as a vote.
func (s *ShardStore) Get(key []byte) ([]byte, error) {
	val, closer, err := s.db.Get(appendStableKey(nil, s.shard, key))
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: get %q: %w", s.shard, key, err)
	}
	out := append([]byte(nil), val...)
	_ = closer.Close()
	return out, nil
}

// SetUint64 stores a big-endian uint64.
func (s *ShardStore) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns a uint64 set by SetUint64, or 0 when the key was never set.
func (s *ShardStore) GetUint64(key []byte) (uint64, error) {
	val, err := s.Get(key)
	if err != nil || val == nil {
		return 0, err
	}
	if len(val) != 8 {
		return 0, fmt.Errorf("raftstore: shard %d: %q holds %d bytes, not a uint64", s.shard, key, len(val))
	}
	return binary.BigEndian.Uint64(val), nil
}
