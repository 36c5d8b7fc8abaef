package raftstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/invsys/inv/engine"
)

// The change feed (docs/adr/0014). Every event the engine makes is written,
// as the FSM applies its entry, to the node's Pebble, all the events of one
// entry under one key (docs/adr/0125: one memtable insert an entry, not one
// an event):
//
//	'g' shard(u16 BE) index(u64 BE) -> the entry's encoded engine.Events
//
// so a shard's events are one key range in log order, and a consumer reads
// them with an iterator from any position. A data folder written before
// keeps its older events one key each,
//
//	'e' shard(u16 BE) index(u64 BE) ordinal(u32 BE) -> encoded engine.Event
//
// all of them before the first 'g' entry: they are read, pruned and reset
// with the rest until retention removes them. Next to them, one key per
// shard,
//
//	'f' shard(u16 BE) -> version(1) applied(u64) count(u64) floor(u64 index, u32 ordinal)
//
// records how far the feed is written (applied: the last raft index whose
// events are all stored), how many events it holds, and its floor (the
// oldest position from which every event is still kept). It is written in
// the same Pebble batch as the events and pruning it describes, so after a
// crash the two agree.
//
// Writes are not synced: the raft log's synced appends share the WAL and
// make the feed's earlier writes durable with them, and whatever a crash
// loses is rewritten when raft replays the log after the last snapshot (an
// entry at or below the recorded applied index is skipped, so replaying is
// idempotent). A snapshot must not cover entries whose events may still be
// lost, so before one is persisted the feed syncs the WAL once.

// Position is a place in a shard's feed: the raft index of the entry whose
// apply made an event, and the event's ordinal among that entry's events
// (from 0). Positions order the feed; the zero Position is before every
// event.
type Position struct {
	Index   uint64
	Ordinal uint32
}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	return p.Index < q.Index || p.Index == q.Index && p.Ordinal < q.Ordinal
}

// Next returns the position right after p: where a consumer that has
// handled the event at p resumes.
func (p Position) Next() Position { return Position{Index: p.Index, Ordinal: p.Ordinal + 1} }

func (p Position) String() string {
	return strconv.FormatUint(p.Index, 10) + "." + strconv.FormatUint(uint64(p.Ordinal), 10)
}

// FeedEvent is one event of a shard's feed and its position.
type FeedEvent struct {
	Position
	Event engine.Event
}

// FeedRetention bounds what each shard's feed keeps. Pruning removes whole
// entries, oldest first, while either bound is exceeded.
type FeedRetention struct {
	// Age keeps the events of entries whose log time (the leader's stamp)
	// is within Age of the newest entry the feed has recorded. 0: no bound.
	Age time.Duration
	// MaxEvents keeps at most this many events. 0: no bound.
	MaxEvents int64
}

// DefaultReadEvents is how many events ReadEvents returns when asked for 0.
const DefaultReadEvents = 256

// pruneRoundMax bounds the events one Prune call removes, so that a large
// backlog (a retention just lowered) is worked off in steps that do not hold
// the feed open for long.
const pruneRoundMax = 1 << 20

// ErrEventsPruned: a read from a position older than the feed still keeps.
// Errors carrying the positions are *EventsPrunedError, which matches it.
var ErrEventsPruned = errors.New("raftstore: change-feed position no longer kept")

// EventsPrunedError is the error of a read from a position before the
// feed's oldest: events between From and Oldest are gone (pruned by
// retention, or never held by this node because it caught up from a
// snapshot). The consumer must resynchronise from a read of the state and
// follow the feed from a current position.
type EventsPrunedError struct {
	Shard  uint16
	From   Position // the position asked for
	Oldest Position // the oldest position the feed can serve
}

func (e *EventsPrunedError) Error() string {
	return fmt.Sprintf("raftstore: shard %d: change feed from %v: events before %v are no longer kept",
		e.Shard, e.From, e.Oldest)
}

// Is makes errors.Is(err, ErrEventsPruned) true.
func (e *EventsPrunedError) Is(target error) bool { return target == ErrEventsPruned }

// feedState is what the 'f' key of a shard holds.
type feedState struct {
	applied uint64   // last raft index whose events are all stored
	count   int64    // events stored
	floor   Position // oldest position from which every event is kept
}

const (
	feedStateVersion byte = 1
	feedStateLen          = 1 + 8 + 8 + 8 + 4
)

func (s *feedState) append(dst []byte) []byte {
	dst = append(dst, feedStateVersion)
	dst = binary.BigEndian.AppendUint64(dst, s.applied)
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.count))
	dst = binary.BigEndian.AppendUint64(dst, s.floor.Index)
	return binary.BigEndian.AppendUint32(dst, s.floor.Ordinal)
}

func (s *feedState) decode(b []byte) error {
	if len(b) != feedStateLen || b[0] != feedStateVersion {
		return fmt.Errorf("raftstore: feed state of %d bytes, version %d: %w", len(b), b[0], errEventCorrupt)
	}
	s.applied = binary.BigEndian.Uint64(b[1:])
	s.count = int64(binary.BigEndian.Uint64(b[9:]))
	s.floor = Position{Index: binary.BigEndian.Uint64(b[17:]), Ordinal: binary.BigEndian.Uint32(b[25:])}
	if s.count < 0 {
		return fmt.Errorf("raftstore: feed state counts %d events: %w", s.count, errEventCorrupt)
	}
	return nil
}

// Feed is one shard's durable change feed: written by the shard's FSM as it
// applies entries, read by any number of consumers (ReadEvents, WaitEvents),
// pruned by retention (Prune). Safe for concurrent use.
type Feed struct {
	db    *pebble.DB
	shard uint16
	ret   FeedRetention
	log   *slog.Logger

	// life keeps the DB open under readers, writers and the pruner: each
	// holds it shared; Close takes it exclusively.
	life sync.RWMutex

	// mu serialises the writers (apply, prune, reset) and guards their state.
	mu       sync.Mutex
	st       feedState // as stored, or ahead of it by applied only (dirty)
	dirty    bool      // st.applied moved past the stored one by entries without events
	newestAt int64     // log time of the newest entry recorded (0: none yet)
	gen      uint64    // bumped by every reset, so a prune planned before one is dropped
	buf      []byte    // scratch for keys (under mu)
	vbuf     []byte    // scratch for an entry's value (under mu)
	// legacy: the shard may hold events one key each, as written before
	// docs/adr/0125; cleared by a reset, and by a prune that removed them.
	legacy atomic.Bool
	// eventBytes: bytes per encoded event to reserve in the next tail
	// chunk (under mu)
	eventBytes int

	pruneMu sync.Mutex // one Prune at a time

	// nmu guards what readers and waiters look at. The writers update it
	// before committing a prune or reset (so a reader that sees the old
	// floor after opening its iterator still finds the events in it) and
	// after committing new events (so a woken waiter finds them).
	nmu    sync.Mutex
	floor  Position      // = st.floor, raised before the delete commits
	end    Position      // just after the newest event stored
	failed error         // a write failed: the feed stopped recording (set under mu and nmu)
	closed bool          // set under life and nmu
	wake   chan struct{} // closed when end, floor, failed or closed change; nil when nobody waits
	tail   feedTail      // the newest events, in memory too (feedtail.go)

	diskReads atomic.Uint64 // ReadEvents calls the tail could not serve
}

// openFeed loads shard's feed state from db.
func openFeed(db *pebble.DB, shard uint16, ret FeedRetention, log *slog.Logger) (*Feed, error) {
	if log == nil {
		log = slog.Default()
	}
	f := &Feed{db: db, shard: shard, ret: ret, log: log}
	val, closer, err := db.Get(shardPrefix(prefixFeedState, shard))
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("raftstore: shard %d: feed state: %w", shard, err)
	default:
		err = f.st.decode(val)
		_ = closer.Close()
		if err != nil {
			return nil, fmt.Errorf("raftstore: shard %d: %w", shard, err)
		}
	}
	f.floor = f.st.floor
	f.end = f.st.floor

	// The newest entry's events give the end and the newest time: in the
	// 'g' range, else (a folder written before it) in the 'e' range.
	for _, tag := range []byte{prefixEvent, prefixEntryEvs} {
		last, at, found, err := lastStored(db, shard, tag)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		if tag == prefixEvent {
			f.legacy.Store(true)
		}
		if f.end.Less(last.Next()) {
			f.end = last.Next()
		}
		f.newestAt = at
	}
	f.tail.reset(f.end)
	f.eventBytes = 64
	return f, nil
}

// lastStored returns the position and time of the newest event stored
// under tag ('e' or 'g') for shard; found is false when there is none.
func lastStored(db *pebble.DB, shard uint16, tag byte) (last Position, at int64, found bool, err error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: shardPrefix(tag, shard), UpperBound: shardPrefixEnd(tag, shard)})
	if err != nil {
		return last, 0, false, fmt.Errorf("raftstore: shard %d: feed iterator: %w", shard, err)
	}
	defer it.Close()
	if !it.Last() {
		return last, 0, false, it.Error()
	}
	val, err := it.ValueAndErr()
	if err != nil {
		return last, 0, false, fmt.Errorf("raftstore: shard %d: feed event: %w", shard, err)
	}
	corrupt := fmt.Errorf("raftstore: shard %d: feed key %x: %w", shard, it.Key(), errEventCorrupt)
	if tag == prefixEvent {
		p, ok := eventKeyPosition(it.Key())
		at, aerr := eventValueAt(val)
		if !ok || aerr != nil {
			return last, 0, false, corrupt
		}
		return p, at, true, nil
	}
	index, ok := entryEventsKeyIndex(it.Key())
	at, count, aerr := entryValueAt(val)
	if !ok || aerr != nil {
		return last, 0, false, corrupt
	}
	return Position{Index: index, Ordinal: uint32(count - 1)}, at, true, nil
}

// entryValueAt returns the time of an entry's events (they share it: the
// entry's) and their count, decoding only the first.
func entryValueAt(b []byte) (at int64, count int, err error) {
	r, err := openEntryEvents(b)
	if err != nil {
		return 0, 0, err
	}
	ev, ok := r.next()
	if !ok {
		return 0, 0, errEventCorrupt
	}
	at, err = eventValueAt(ev)
	return at, r.count, err
}

// Shard returns the shard the feed belongs to.
func (f *Feed) Shard() uint16 { return f.shard }

// Oldest returns the oldest position the feed can serve: every event at or
// after it is kept. A read from before it fails with *EventsPrunedError.
func (f *Feed) Oldest() Position {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	return f.floor
}

// End returns the position just after the newest event stored (the floor
// when there is none): a read from End waits for the next event.
func (f *Feed) End() Position {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	return f.end
}

// Count returns the number of events the feed keeps.
func (f *Feed) Count() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.count
}

// ReadEvents appends to dst up to max events (DefaultReadEvents if max <= 0)
// from position from on, in feed order, and returns them with the position
// to read from next: after the last event returned, or from itself when
// there is none yet. Reading again from next gives every later event
// exactly once.
//
// A from before Oldest fails with an *EventsPrunedError; ErrClosed once the
// node is closing. The events' strings are new (shared between events of
// one call): the caller may keep them.
func (f *Feed) ReadEvents(from Position, max int, dst []FeedEvent) ([]FeedEvent, Position, error) {
	if max <= 0 {
		max = DefaultReadEvents
	}
	f.life.RLock()
	defer f.life.RUnlock()
	if f.closed {
		return dst, from, ErrClosed
	}
	if dst, next, ok, err := f.readTail(from, max, dst); ok {
		return dst, next, err
	}
	f.diskReads.Add(1)
	var legacy *pebble.Iterator
	if f.legacy.Load() {
		lower := appendEventKey(make([]byte, 0, eventKeyLen), f.shard, from)
		it, err := f.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: shardPrefixEnd(prefixEvent, f.shard)})
		if err != nil {
			return dst, from, fmt.Errorf("raftstore: shard %d: feed iterator: %w", f.shard, err)
		}
		legacy = it
		defer legacy.Close()
	}
	lower := appendEntryEventsKey(make([]byte, 0, logKeyLen), f.shard, from.Index)
	it, err := f.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: shardPrefixEnd(prefixEntryEvs, f.shard)})
	if err != nil {
		return dst, from, fmt.Errorf("raftstore: shard %d: feed iterator: %w", f.shard, err)
	}
	defer it.Close()
	// The floor is read after the iterators are open: a prune raises it
	// before its delete commits, so if the delete is in the iterators' view
	// the floor read here is already above from.
	f.nmu.Lock()
	floor, failed := f.floor, f.failed
	f.nmu.Unlock()
	switch {
	case failed != nil:
		return dst, from, failed
	case from.Less(floor):
		return dst, from, &EventsPrunedError{Shard: f.shard, From: from, Oldest: floor}
	}
	next := from
	var prev *engine.Event
	add := func(p Position, val []byte) error {
		dst = append(dst, FeedEvent{Position: p})
		ev := &dst[len(dst)-1].Event
		if err := decodeEventValue(val, ev, prev); err != nil {
			dst = dst[:len(dst)-1]
			return fmt.Errorf("raftstore: shard %d: feed event %v: %w", f.shard, p, err)
		}
		prev = ev
		next = p.Next()
		max--
		return nil
	}
	if legacy != nil {
		for ok := legacy.First(); ok && max > 0; ok = legacy.Next() {
			p, ok := eventKeyPosition(legacy.Key())
			if !ok {
				return dst, next, fmt.Errorf("raftstore: shard %d: feed key %x: %w", f.shard, legacy.Key(), errEventCorrupt)
			}
			val, err := legacy.ValueAndErr()
			if err != nil {
				return dst, next, fmt.Errorf("raftstore: shard %d: feed event %v: %w", f.shard, p, err)
			}
			if err := add(p, val); err != nil {
				return dst, next, err
			}
		}
	}
	for ok := it.First(); ok && max > 0; ok = it.Next() {
		index, ok := entryEventsKeyIndex(it.Key())
		if !ok {
			return dst, next, fmt.Errorf("raftstore: shard %d: feed key %x: %w", f.shard, it.Key(), errEventCorrupt)
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return dst, next, fmt.Errorf("raftstore: shard %d: feed entry %d: %w", f.shard, index, err)
		}
		evs, err := openEntryEvents(val)
		if err != nil {
			return dst, next, fmt.Errorf("raftstore: shard %d: feed entry %d: %w", f.shard, index, err)
		}
		for o := uint32(0); max > 0; o++ {
			val, ok := evs.next()
			if !ok {
				break
			}
			p := Position{Index: index, Ordinal: o}
			if p.Less(from) {
				continue
			}
			if err := add(p, val); err != nil {
				return dst, next, err
			}
		}
		if evs.err != nil {
			return dst, next, fmt.Errorf("raftstore: shard %d: feed entry %d: %w", f.shard, index, evs.err)
		}
	}
	if err := it.Error(); err != nil {
		return dst, next, fmt.Errorf("raftstore: shard %d: feed iterator: %w", f.shard, err)
	}
	return dst, next, nil
}

// WaitEvents returns nil as soon as ReadEvents from position from has
// something to say: an event at or after from is stored, or from is before
// Oldest (the read will fail), or the feed stopped recording. It returns
// ctx.Err() when ctx ends first and ErrClosed when the node closes. It costs
// no polling: the apply that stores new events wakes every waiter.
func (f *Feed) WaitEvents(ctx context.Context, from Position) error {
	for {
		f.nmu.Lock()
		switch {
		case f.closed:
			f.nmu.Unlock()
			return ErrClosed
		case from.Less(f.end), from.Less(f.floor), f.failed != nil:
			f.nmu.Unlock()
			return nil
		}
		if f.wake == nil {
			f.wake = make(chan struct{})
		}
		wake := f.wake
		f.nmu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes every waiter; nmu is held.
func (f *Feed) notifyLocked() {
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
}

// fail stops the feed recording after a write error: a feed with a hole
// must not serve reads across it. Reads fail with the error from now on; a
// restart (or a snapshot install) resets the feed past the hole. mu is held.
func (f *Feed) fail(err error) {
	err = fmt.Errorf("raftstore: shard %d: change feed stopped after a write failed: %w", f.shard, err)
	f.log.Error("raftstore: change feed write failed", "shard", f.shard, "error", err)
	f.nmu.Lock()
	f.failed = err
	f.notifyLocked()
	f.nmu.Unlock()
}

// record stores the events of a batch of applied entries, called on the
// FSM goroutine after each ApplyBatch; last is the raft index of the
// batch's last entry (a command or not). Entries at or below the applied
// index already recorded are skipped: they are a replay after a restart.
// All the batch's events and the new state go in one Pebble batch.
func (f *Feed) record(last uint64, resps []*ApplyResponse) {
	f.life.RLock()
	defer f.life.RUnlock()
	if f.closed {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if last <= f.st.applied || f.failed != nil {
		return
	}
	var n int64
	for _, r := range resps {
		if r.Index > f.st.applied {
			n += int64(len(r.Events))
			f.newestAt = max(f.newestAt, r.Now)
		}
	}
	if n == 0 {
		f.st.applied = last
		f.dirty = true
		return
	}
	// The events are encoded once, into the chunk the tail keeps, and each
	// entry's are copied into its one value, which the batch copies again.
	c := &tailChunk{pos: make([]Position, 0, n), end: make([]uint32, 0, n), data: make([]byte, 0, int(n)*f.eventBytes+16)}
	b := f.db.NewBatchWithSize(int(n)*(f.eventBytes+2) + len(resps)*32 + 64)
	defer b.Close()
	var end Position
	for _, r := range resps {
		if r.Index <= f.st.applied || len(r.Events) == 0 {
			continue
		}
		// Sized for the entry's events at once: grown by append, a burst's
		// value (a sale's holds expiring in one round) was copied over and over.
		f.vbuf = appendEntryEventsHeader(slices.Grow(f.vbuf[:0], len(r.Events)*(f.eventBytes+2)+16), len(r.Events))
		for i := range r.Events {
			p := Position{Index: r.Index, Ordinal: uint32(i)}
			v := len(c.data)
			c.data = appendEventValue(c.data, &r.Events[i])
			f.vbuf = appendEntryEvent(f.vbuf, c.data[v:])
			c.pos = append(c.pos, p)
			c.end = append(c.end, uint32(len(c.data)))
			end = p.Next()
		}
		f.buf = appendEntryEventsKey(f.buf[:0], f.shard, r.Index)
		if err := b.Set(f.buf, f.vbuf, nil); err != nil {
			f.fail(err)
			return
		}
	}
	if cap(f.vbuf) > 1<<20 {
		f.vbuf = nil // a bulk put's entry: not kept for every later one
	}
	st := f.st
	st.applied = last
	st.count += n
	if err := f.commitState(b, &st); err != nil {
		f.fail(err)
		return
	}
	f.st, f.dirty = st, false
	// The next chunk is sized by this one's events, rounded up, so that
	// filling it rarely grows it.
	f.eventBytes = (len(c.data)+int(n)-1)/int(n) + 8
	f.nmu.Lock()
	f.end = end
	f.tail.push(c)
	f.notifyLocked()
	f.nmu.Unlock()
}

// commitState adds st to b and commits b without a sync (see the top of
// this file for why none is needed). mu is held.
func (f *Feed) commitState(b *pebble.Batch, st *feedState) error {
	f.buf = st.append(f.buf[:0])
	if err := b.Set(shardPrefix(prefixFeedState, f.shard), f.buf, nil); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

// checkpoint stores the applied index when entries without events moved it,
// called on the FSM goroutine when raft takes a snapshot: once the snapshot
// exists the log before it may go, and a restart must find that the feed
// has every event up to it.
func (f *Feed) checkpoint() {
	f.life.RLock()
	defer f.life.RUnlock()
	if f.closed {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed != nil {
		return
	}
	// Only the true state is stored: were the FSM ever past what the feed
	// recorded, claiming the snapshot's index would hide a hole, while
	// leaving it lets a restart from this snapshot reset the feed.
	if !f.dirty {
		return
	}
	b := f.db.NewBatch()
	defer b.Close()
	st := f.st
	if err := f.commitState(b, &st); err != nil {
		f.fail(err)
		return
	}
	f.dirty = false
}

// sync makes every feed write so far durable with one WAL sync, before raft
// persists a snapshot (which lets it drop the log the feed could otherwise
// be rebuilt from). It runs on raft's snapshot goroutine, outside mu: the
// records it must cover were committed before the snapshot was taken.
func (f *Feed) sync() error {
	f.life.RLock()
	defer f.life.RUnlock()
	if f.closed {
		return ErrClosed
	}
	if err := f.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("raftstore: shard %d: feed sync: %w", f.shard, err)
	}
	return nil
}

// restored is called when the FSM's state is replaced by a snapshot at
// index. On a restart the feed already holds every event up to index and
// nothing changes. Otherwise (a follower too far behind got the leader's
// snapshot; a node whose feed lost its tail) the events of the entries up
// to index were never written here: the feed restarts at index+1, and
// everything before goes, since a consumer must not read across the hole.
// A successful reset also clears a write failure: every entry after index
// will be applied, so recorded, from now on.
func (f *Feed) restored(index uint64) {
	f.life.RLock()
	defer f.life.RUnlock()
	if f.closed {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if index <= f.st.applied {
		return
	}
	floor := Position{Index: index + 1}
	f.log.Info("raftstore: change feed restarts after a snapshot it has no events for",
		"shard", f.shard, "snapshot_index", index, "feed_applied", f.st.applied, "oldest", floor)
	f.nmu.Lock()
	f.floor = laterPos(f.floor, floor)
	f.end = laterPos(f.end, f.floor)
	f.notifyLocked()
	f.nmu.Unlock()

	b := f.db.NewBatch()
	defer b.Close()
	for _, tag := range []byte{prefixEvent, prefixEntryEvs} {
		if err := b.DeleteRange(shardPrefix(tag, f.shard), shardPrefixEnd(tag, f.shard), nil); err != nil {
			f.fail(err)
			return
		}
	}
	st := feedState{applied: index, floor: floor}
	if err := f.commitState(b, &st); err != nil {
		f.fail(err)
		return
	}
	f.st, f.dirty = st, false
	f.legacy.Store(false)
	f.gen++
	f.nmu.Lock()
	f.failed = nil
	f.floor, f.end = floor, floor
	f.tail.reset(floor)
	f.notifyLocked()
	f.nmu.Unlock()
}

// laterPos returns the later of two positions.
func laterPos(p, q Position) Position {
	if p.Less(q) {
		return q
	}
	return p
}

// Prune removes the oldest entries' events while the retention is
// exceeded, at most pruneRoundMax events per call, with one DeleteRange
// (a range tombstone: constant cost). It returns how many events went. The
// node calls it periodically (Options.FeedPruneInterval); it is safe to
// call at any time.
func (f *Feed) Prune() (int64, error) {
	f.pruneMu.Lock()
	defer f.pruneMu.Unlock()
	f.life.RLock()
	defer f.life.RUnlock()
	if f.closed {
		return 0, ErrClosed
	}
	f.mu.Lock()
	st, newestAt, gen := f.st, f.newestAt, f.gen
	f.mu.Unlock()
	if f.ret.Age <= 0 && (f.ret.MaxEvents <= 0 || st.count <= f.ret.MaxEvents) {
		return 0, nil
	}
	byAge := f.ret.Age > 0 && newestAt != 0
	cut := newestAt - int64(f.ret.Age)

	// Plan outside the writers' lock: what lies below the newest entry only
	// changes by a prune (this one, under pruneMu) or a reset (seen by gen).
	// Entry by entry, oldest first (the older per-event keys before the
	// entries' keys): the first event of an entry decides for the whole
	// entry (its events share one time).
	var (
		deleted int64
		last    Position
		done    bool
	)
	consider := func(index uint64, count int64, at int64) bool {
		if deleted >= pruneRoundMax {
			return false
		}
		tooOld := byAge && at < cut
		tooMany := f.ret.MaxEvents > 0 && st.count-deleted > f.ret.MaxEvents
		if !tooOld && !tooMany {
			return false
		}
		deleted += count
		last = Position{Index: index, Ordinal: uint32(count - 1)}
		return true
	}
	legacy := f.legacy.Load()
	legacyLeft := false // per-event keys remain after this prune
	if legacy {
		var err error
		done, legacyLeft, err = f.planLegacy(st.floor, consider)
		if err != nil {
			return 0, err
		}
	}
	if !done {
		if err := f.planEntries(st.floor, consider); err != nil {
			return 0, err
		}
	}
	if deleted == 0 {
		return 0, nil
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gen != gen || f.failed != nil {
		return 0, nil // a reset removed everything meanwhile
	}
	floor := last.Next() // every event of the entries up to last.Index goes
	f.nmu.Lock()
	f.floor = floor
	f.nmu.Unlock()
	b := f.db.NewBatch()
	defer b.Close()
	if legacy {
		end := appendEventKey(nil, f.shard, Position{Index: last.Index + 1})
		if err := b.DeleteRange(shardPrefix(prefixEvent, f.shard), end, nil); err != nil {
			f.fail(err)
			return 0, err
		}
	}
	end := appendEntryEventsKey(nil, f.shard, last.Index+1)
	if err := b.DeleteRange(shardPrefix(prefixEntryEvs, f.shard), end, nil); err != nil {
		f.fail(err)
		return 0, err
	}
	next := f.st
	next.count -= deleted
	next.floor = floor
	if err := f.commitState(b, &next); err != nil {
		f.fail(err)
		return 0, err
	}
	f.st, f.dirty = next, false
	if legacy && !legacyLeft {
		f.legacy.Store(false)
	}
	f.nmu.Lock()
	f.end = laterPos(f.end, floor)
	f.notifyLocked() // waiters before the new floor must now read their error
	f.nmu.Unlock()
	return deleted, nil
}

// planEntries walks the entries' keys from floor, offering each to consider
// until it declines one.
func (f *Feed) planEntries(floor Position, consider func(index uint64, count, at int64) bool) error {
	lower := appendEntryEventsKey(nil, f.shard, floor.Index)
	it, err := f.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: shardPrefixEnd(prefixEntryEvs, f.shard)})
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: feed iterator: %w", f.shard, err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		index, ok := entryEventsKeyIndex(it.Key())
		if !ok {
			return fmt.Errorf("raftstore: shard %d: feed key %x: %w", f.shard, it.Key(), errEventCorrupt)
		}
		val, err := it.ValueAndErr()
		var at int64
		var count int
		if err == nil {
			at, count, err = entryValueAt(val)
		}
		if err != nil {
			return fmt.Errorf("raftstore: shard %d: feed entry %d: %w", f.shard, index, err)
		}
		if !consider(index, int64(count), at) {
			return nil
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("raftstore: shard %d: feed iterator: %w", f.shard, err)
	}
	return nil
}

// planLegacy walks the per-event keys a folder written before docs/adr/0125
// holds, from floor, entry by entry, offering each to consider until it
// declines one. done: it declined (the newer entries are not looked at);
// left: per-event keys remain past what consider took.
func (f *Feed) planLegacy(floor Position, consider func(index uint64, count, at int64) bool) (done, left bool, err error) {
	lower := appendEventKey(nil, f.shard, floor)
	it, err := f.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: shardPrefixEnd(prefixEvent, f.shard)})
	if err != nil {
		return false, false, fmt.Errorf("raftstore: shard %d: feed iterator: %w", f.shard, err)
	}
	defer it.Close()
	var (
		index uint64
		count int64
		at    int64
		open  bool
	)
	for ok := it.First(); ok; ok = it.Next() {
		p, ok := eventKeyPosition(it.Key())
		if !ok {
			return false, false, fmt.Errorf("raftstore: shard %d: feed key %x: %w", f.shard, it.Key(), errEventCorrupt)
		}
		if open && p.Index == index {
			count++
			continue
		}
		if open && !consider(index, count, at) {
			return true, true, nil
		}
		val, err := it.ValueAndErr()
		if err == nil {
			at, err = eventValueAt(val)
		}
		if err != nil {
			return false, false, fmt.Errorf("raftstore: shard %d: feed event %v: %w", f.shard, p, err)
		}
		index, count, open = p.Index, 1, true
	}
	if err := it.Error(); err != nil {
		return false, false, fmt.Errorf("raftstore: shard %d: feed iterator: %w", f.shard, err)
	}
	if open && !consider(index, count, at) {
		return true, true, nil
	}
	return false, false, nil
}

// close wakes every waiter with ErrClosed and makes later calls fail with
// it; it waits for reads, writes and prunes in progress. The node closes its
// feeds after raft has stopped and before Pebble closes.
func (f *Feed) close() {
	f.life.Lock()
	defer f.life.Unlock()
	f.nmu.Lock()
	f.closed = true
	f.notifyLocked()
	f.nmu.Unlock()
}

// Feed returns the shard's change feed.
func (s *Shard) Feed() *Feed { return s.feed }

// ReadEvents reads the shard's change feed: see Feed.ReadEvents.
func (s *Shard) ReadEvents(from Position, max int, dst []FeedEvent) ([]FeedEvent, Position, error) {
	return s.feed.ReadEvents(from, max, dst)
}

// WaitEvents waits for the shard's feed to have an event at or after from:
// see Feed.WaitEvents.
func (s *Shard) WaitEvents(ctx context.Context, from Position) error {
	return s.feed.WaitEvents(ctx, from)
}

// OldestEvent returns the oldest position the shard's feed can serve.
func (s *Shard) OldestEvent() Position { return s.feed.Oldest() }

// PruneEvents applies the feed's retention now (the node also does it every
// Options.FeedPruneInterval).
func (s *Shard) PruneEvents() (int64, error) { return s.feed.Prune() }

// pruner applies every shard's feed retention every interval until stop
// is closed, then closes done.
func (n *Node) pruner(interval time.Duration, stop <-chan struct{}, done chan<- struct{}, log *slog.Logger) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for _, s := range n.shards {
			for {
				pruned, err := s.feed.Prune()
				if err != nil {
					log.Warn("raftstore: change feed prune", "shard", s.id, "error", err)
				}
				if err != nil || pruned < pruneRoundMax {
					break
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}
	}
}
