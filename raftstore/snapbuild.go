package raftstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

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
// snapshot), or baseUnknown.
type snapshotBase struct {
	index atomic.Uint64
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

// state rebuilds the engine at index from base and writes its snapshot
// bytes (engine.Snapshot) to w.
func (b *rebuilder) state(w io.Writer, base, index uint64) error {
	eng, err := b.open(base)
	if err != nil {
		return err
	}
	if err := b.replay(eng, base, index); err != nil {
		return err
	}
	return eng.Snapshot(w)
}

// open returns the engine at base: empty at 0, else restored from the
// store's newest snapshot whose state stands at base. Raft's index for a
// snapshot may be above the FSM's (raft does not pass its no-op entries to
// the FSM), so each candidate's own header says where its state stands.
func (b *rebuilder) open(base uint64) (*engine.Engine, error) {
	if base == 0 {
		return engine.New(b.cfg), nil
	}
	metas, err := b.snaps.List()
	if err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: list snapshots: %w", b.shard, err)
	}
	for _, m := range metas {
		if m.Index < base {
			continue
		}
		eng, err := b.openAt(m.ID, base)
		if eng != nil || err != nil {
			return eng, err
		}
	}
	return nil, fmt.Errorf("raftstore: shard %d: %w (index %d)", b.shard, errBaseGone, base)
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
	eng, _, err := readSnapshot(io.MultiReader(bytes.NewReader(h[:]), rc), b.cfg, b.bytesMax)
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
func (b *rebuilder) replay(eng *engine.Engine, base, index uint64) error {
	var l raft.Log
	var scratch []engine.Command
	for i := base + 1; i <= index; i++ {
		if err := b.logs.GetLog(i, &l); err != nil {
			return fmt.Errorf("raftstore: shard %d: replay entry %d: %w", b.shard, i, err)
		}
		if l.Type != raft.LogCommand {
			continue
		}
		now, cmds, err := DecodeEntry(l.Data, scratch)
		scratch = cmds
		if err != nil {
			continue
		}
		eng.Apply(now, cmds)
		clear(scratch)
	}
	return nil
}
