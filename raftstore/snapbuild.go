package raftstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// Snapshots without stalls (docs/adr/0120). Raft calls FSM.Snapshot on the
// FSM goroutine, so whatever it does delays every apply of the shard. A
// copy of the engine under the lock costs time in proportion to the state
// (about 100 ns an item), which at millions of items a shard is a stall of
// tens to hundreds of milliseconds. Instead Snapshot records only the index
// it stands at; Persist, on raft's snapshot goroutine, rebuilds the state at
// that index off to the side: it restores the shard's previous snapshot (the
// base) into a fresh engine and replays the log's entries after it up to the
// index. The engine is deterministic (every replica replays the same log to
// the same state), so the rebuilt state is the live state at that index, and
// its bytes are those the old copy would have written: the format does not
// change.
//
// The log holds every entry after the newest snapshot: raft compacts only up
// to a persisted snapshot's index, less TrailingLogs. When the base cannot
// be used (no base is known, or the log no longer reaches back to it),
// Snapshot falls back to the copy under the lock, which makes a new base.

// baseUnknown marks the FSM's base as unusable: the next snapshot is copied
// under the lock. Base indexes are raft indexes, far below this.
const baseUnknown = ^uint64(0)

// snapshotBase is the shard's newest persisted snapshot, the state a
// rebuild starts from: its raft index (0: the empty engine, before any
// snapshot), or baseUnknown; and its id in the store ("" until known: a
// restored snapshot's id is looked up once, by find).
type snapshotBase struct {
	mu    sync.Mutex
	index uint64
	id    string
}

func (b *snapshotBase) get() (uint64, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.index, b.id
}

func (b *snapshotBase) set(index uint64, id string) {
	b.mu.Lock()
	b.index, b.id = index, id
	b.mu.Unlock()
}

// rebuilder rebuilds a shard's state at an index from its snapshot store
// and log, off the apply path.
type rebuilder struct {
	shard    uint16
	cfg      engine.Config
	bytesMax int64
	logs     raft.LogStore
	snaps    raft.SnapshotStore
}

// covers reports whether the log holds every entry after base up to index,
// so that a rebuild from base can reach index. It reads only the log's
// first index: cheap enough for the FSM goroutine.
func (b *rebuilder) covers(base, index uint64) bool {
	if base == baseUnknown || base > index {
		return false
	}
	if base == index {
		return true
	}
	first, err := b.logs.FirstIndex()
	return err == nil && first != 0 && first <= base+1
}

// state rebuilds the engine at index from base (snapshot id, "" for the
// empty engine at 0) and writes its snapshot bytes (engine.Snapshot) to w.
// It opens the base by id, never lists the store: raft's snapshot being
// written sits there as a temporary folder, which a listing warns about.
func (b *rebuilder) state(w io.Writer, base uint64, id string, index uint64, cost *rebuildCost) error {
	// The thread is held while the costs are measured (threadCPU).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock := startCostClock()
	eng := engine.New(b.cfg)
	if base != 0 {
		var err error
		if eng, err = b.openAt(id, base); err != nil {
			return err
		}
		if eng == nil {
			return fmt.Errorf("raftstore: shard %d: snapshot %s: %w (index %d)", b.shard, id, errBaseGone, base)
		}
		cost.restore = clock.lap()
	}
	n, err := b.replay(eng, base, index)
	if err != nil {
		return err
	}
	cost.replay, cost.replayed = clock.lap(), n
	return eng.Snapshot(w)
}

// rebuildCost is what a rebuild measured: the time its base took to
// restore (0: it started from the empty engine), and the time the log's
// command entries after the base took to replay, in the rebuilding
// thread's CPU time (wall time where that is not read). A restart does
// the same two things: they bound the log a shard lets grow (snapsize.go).
type rebuildCost struct {
	restore  time.Duration
	replay   time.Duration
	replayed uint64 // command entries
}

// costClock reads the thread's CPU time, or else the wall clock, in laps.
type costClock struct {
	read func() time.Duration
	last time.Duration
}

func startCostClock() *costClock {
	start := time.Now()
	read := func() time.Duration { return time.Since(start) }
	if _, ok := threadCPU(); ok {
		read = func() time.Duration { d, _ := threadCPU(); return d }
	}
	return &costClock{read: read, last: read()}
}

// lap returns the time since the last lap (or the start).
func (c *costClock) lap() time.Duration {
	now := c.read()
	d := now - c.last
	c.last = now
	return d
}

// find returns the id of the store's newest snapshot whose state stands at
// base ("" if none). Raft's index for a snapshot may be above the FSM's
// (raft does not pass its no-op entries to the FSM), so each candidate's
// own header says where its state stands. It lists the store: the FSM calls
// it once after a restore, before raft creates a snapshot.
func (b *rebuilder) find(base uint64) string {
	metas, err := b.snaps.List()
	if err != nil {
		return ""
	}
	for _, m := range metas {
		if m.Index >= base && b.standsAt(m.ID, base) {
			return m.ID
		}
	}
	return ""
}

// standsAt reports whether snapshot id's header says its state stands at base.
func (b *rebuilder) standsAt(id string, base uint64) bool {
	_, rc, err := b.snaps.Open(id)
	if err != nil {
		return false
	}
	defer rc.Close()
	var h [snapshotHeaderLen]byte
	_, err = io.ReadFull(rc, h[:])
	return err == nil && binary.BigEndian.Uint64(h[5:]) == base
}

// openAt restores snapshot id if its state stands at base; nil, nil if it
// stands elsewhere.
func (b *rebuilder) openAt(id string, base uint64) (*engine.Engine, error) {
	_, rc, err := b.snaps.Open(id)
	if err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: open snapshot %s: %w", b.shard, id, err)
	}
	defer rc.Close()
	var h [snapshotHeaderLen]byte
	if _, err := io.ReadFull(rc, h[:]); err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: snapshot %s header: %w", b.shard, id, err)
	}
	if binary.BigEndian.Uint64(h[5:]) != base {
		return nil, nil
	}
	eng, _, err := readSnapshot(io.MultiReader(bytes.NewReader(h[:]), rc), b.cfg, b.bytesMax, nil)
	if err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: base snapshot %s: %w", b.shard, id, err)
	}
	return eng, nil
}

// errBaseGone: the snapshot a rebuild starts from is no longer in the store.
var errBaseGone = errors.New("no snapshot in the store stands at the base index")

// replay applies the log's command entries after base up to index to eng,
// exactly as FSM.ApplyBatch applied them: one engine batch per entry, at
// the entry's time; an undecodable entry is skipped, as it was then.
func (b *rebuilder) replay(eng *engine.Engine, base, index uint64) (commands uint64, err error) {
	var scratch []engine.Command
	apply := func(l *raft.Log) error {
		if l.Type != raft.LogCommand {
			return nil
		}
		commands++
		now, cmds, err := DecodeEntry(l.Data, scratch)
		scratch = cmds
		if err != nil {
			return nil
		}
		eng.Apply(now, cmds)
		clear(scratch)
		return nil
	}
	if sc, ok := b.logs.(logScanner); ok {
		// One iterator over the range (ShardStore.ScanLogs).
		if err := sc.ScanLogs(base+1, index, apply); err != nil {
			return commands, fmt.Errorf("raftstore: shard %d: replay: %w", b.shard, err)
		}
		return commands, nil
	}
	var l raft.Log
	for i := base + 1; i <= index; i++ {
		if err := b.logs.GetLog(i, &l); err != nil {
			return commands, fmt.Errorf("raftstore: shard %d: replay entry %d: %w", b.shard, i, err)
		}
		_ = apply(&l)
	}
	return commands, nil
}

// logScanner is a log store that reads a range of entries in order with
// one iterator.
type logScanner interface {
	ScanLogs(first, last uint64, fn func(l *raft.Log) error) error
}
