package raftstore

import (
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	dto "github.com/prometheus/client_model/go"
)

// Where a proposal's time goes, stage by stage, for the server's metrics
// (docs/OPERATIONS.md, "Where the time goes"). The stages are measured
// where they happen, with clock reads per batch and per log write, never
// per request: a batch is stamped when its first command arrives (as
// before), when it is sealed full (or, open, found ready by the flusher,
// which read the clock anyway) and when raft takes it (the entry's time
// stamp); its resolution is stamped once the future answers. The observers are set after the node
// opens; until then nothing is measured beyond what the proposer already
// stamped.

// EntryTimes is where the time of one raft entry of this node's proposer
// went, from the arrival of its first command to its future's answer.
// The stages follow each other: their sum is the first command's time in
// the proposer.
type EntryTimes struct {
	Commands int // commands in the entry
	// Queued runs from the first command's arrival to the batch being due:
	// full, or found by the flusher with its BatchMaxDelay run out (the
	// timer's lateness included). The group commit's wait for company.
	Queued time.Duration
	// InflightWait runs from due to raft.Apply: waiting for an in-flight
	// slot while MaxInFlight entries await commit. An open batch keeps
	// taking commands meanwhile; a full one is sealed.
	InflightWait time.Duration
	// Commit runs from raft.Apply to the future's answer: the log write
	// and its fsync, replication to a quorum, and the FSM's apply.
	Commit time.Duration
}

// EntryObserver is told about each entry the shard's proposer resolved
// without error. It runs on the proposer's resolver goroutine before the
// entry's requests are answered: it must be quick and must not block.
type EntryObserver func(shard uint16, t EntryTimes)

// LogWriteObserver is told about each append to the shard's log on this
// node, as leader or follower: the entries appended and how long the
// synced Pebble commit took (its fsync included, shared or not with other
// shards' commits). It runs on raft's goroutine that appends: it must be
// quick and must not block.
type LogWriteObserver func(shard uint16, entries int, took time.Duration)

// SetEntryObserver makes o observe every later entry the shard's proposer
// resolves (nil: none).
func (s *Shard) SetEntryObserver(o EntryObserver) {
	if o == nil {
		s.prop.observer.Store(nil)
		return
	}
	s.prop.observer.Store(&o)
}

// SetLogWriteObserver makes o observe every later append to the shard's
// log (nil: none).
func (s *Shard) SetLogWriteObserver(o LogWriteObserver) {
	if o == nil {
		s.timedLogs.observer.Store(nil)
		return
	}
	s.timedLogs.observer.Store(&o)
}

// observeEntry tells the observer, if any, where b's time went; b's future
// has just answered.
func (p *proposer) observeEntry(b *batch) {
	o := p.observer.Load()
	if o == nil {
		return
	}
	(*o)(p.shard, EntryTimes{
		Commands:     b.count,
		Queued:       b.sealed.Sub(b.started),
		InflightWait: b.submitted.Sub(b.sealed),
		Commit:       time.Since(b.submitted),
	})
}

// timedLogs is the shard's log store as raft writes it: the ShardStore,
// its appends timed for a LogWriteObserver. A wrapper rather than lines in
// StoreLogs, so that the store stays about durability; without an observer
// an append costs one atomic load more.
type timedLogs struct {
	*ShardStore
	observer atomic.Pointer[LogWriteObserver]
}

// StoreLog stores one entry (through StoreLogs, timed).
func (t *timedLogs) StoreLog(l *raft.Log) error { return t.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries as ShardStore.StoreLogs does and tells the
// observer how long that took. A failed append is not observed: its
// duration says nothing about the disk's pace.
func (t *timedLogs) StoreLogs(logs []*raft.Log) error {
	o := t.observer.Load()
	if o == nil {
		return t.ShardStore.StoreLogs(logs)
	}
	start := time.Now()
	err := t.ShardStore.StoreLogs(logs)
	if err == nil {
		(*o)(t.shard, len(logs), time.Since(start))
	}
	return err
}

// WALSyncs returns the fsyncs of Pebble's write-ahead log since the store
// opened, and their total duration. Every synced commit waits for one, and
// one serves every commit queued behind the sync in progress, of any shard
// (StoreLogs): the raft entries appended per fsync are the group commit's
// second stage. It reads Pebble's metrics, which takes Pebble's lock and
// allocates: call it when scraped, not per request.
func (s *Store) WALSyncs() (count uint64, took time.Duration) {
	h := s.db.Metrics().LogWriter.FsyncLatency
	if h == nil {
		return 0, 0
	}
	var m dto.Metric
	if err := h.Write(&m); err != nil || m.Histogram == nil {
		return 0, 0
	}
	// Pebble observes each fsync's latency in nanoseconds.
	return m.Histogram.GetSampleCount(), time.Duration(m.Histogram.GetSampleSum())
}
