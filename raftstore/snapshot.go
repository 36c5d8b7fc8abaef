package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/zstd"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/failpoint"
)

// The FSM's snapshot, as raft's snapshot store keeps it and as it travels to
// a follower that fell behind:
//
//	magic   4 bytes  "INVS"
//	version 1 byte   (snapshotVersion)
//	index   uint64   big-endian: the last raft index applied to the state
//	state   zstd stream of engine.Snapshot bytes
//
// The index lets a restored FSM keep numbering its event positions from the
// right place. The state is compressed because raft ships it whole to
// lagging followers and keeps Retain copies on disk; engine snapshots are
// varint-heavy and compress several-fold.
const (
	snapshotMagic     = "INVS"
	snapshotVersion   = 1
	snapshotHeaderLen = 4 + 1 + 8

	// DefaultSnapshotBytesMax bounds the decompressed state a restore will
	// read: a hostile or corrupt snapshot cannot make a node allocate more.
	DefaultSnapshotBytesMax = 4 << 30
	// snapshotWindowMax bounds the zstd decoder's window (its memory). Our
	// encoder uses the default 8 MiB window; 64 MiB leaves room for another
	// writer's settings while refusing absurd ones.
	snapshotWindowMax = 64 << 20
)

var errSnapshotTooLarge = errors.New("raftstore: snapshot state over its size bound")

// fsmSnapshot is a point-in-time copy of one engine's state, taken on the FSM
// goroutine (Snapshot) and compressed and written later (Persist), while
// applies continue.
type fsmSnapshot struct {
	index uint64
	state []byte // engine.Snapshot bytes, copied under the lock; or
	// rebuild, if set, writes the engine.Snapshot bytes of the state at
	// index, rebuilt off the apply path (snapbuild.go).
	rebuild func(w io.Writer) error
	// persisted, if set, runs once the snapshot is durable in the store;
	// failed, if set, once it failed to get there.
	persisted func(id string)
	failed    func()
	// before, if set, runs before anything is written (the change feed
	// syncs its writes: see Feed.sync).
	before func() error
	// start is when the FSM began capturing the state; done, if set, is
	// told once how the snapshot ended: persisted (nil) or not. Raft may
	// drop a snapshot without persisting it (the store could not create a
	// sink, a configuration change is pending): Release reports that.
	start    time.Time
	done     func(start time.Time, err error)
	reported bool
	// slots, if set, are the node's turns to write a snapshot: persist
	// holds one while it writes (FSMConfig.SnapshotSlots).
	slots chan struct{}
	// stateBytes is the engine state's size, uncompressed, once written;
	// cost, what its rebuild measured (zero for a copy under the lock).
	stateBytes int64
	cost       rebuildCost
}

// errSnapshotDropped: raft released a snapshot it never asked to persist.
var errSnapshotDropped = errors.New("raftstore: snapshot released without being persisted")

// report tells done, once, how the snapshot ended.
func (s *fsmSnapshot) report(err error) {
	if s.reported || s.done == nil {
		return
	}
	s.reported = true
	s.done(s.start, err)
}

var _ raft.FSMSnapshot = (*fsmSnapshot)(nil)

// Persist writes the snapshot to sink, or cancels the sink on error.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := s.persist(sink)
	switch {
	case err == nil && s.persisted != nil:
		s.persisted(sink.ID())
	case err != nil && s.failed != nil:
		s.failed()
	}
	s.report(err)
	return err
}

func (s *fsmSnapshot) persist(sink raft.SnapshotSink) error {
	if s.slots != nil {
		s.slots <- struct{}{}
		defer func() { <-s.slots }()
	}
	if s.before != nil {
		if err := s.before(); err != nil {
			_ = sink.Cancel()
			return err
		}
	}
	if err := failpoint.Err(failpoint.SnapshotPersistBeforeWrite); err != nil {
		_ = sink.Cancel()
		return err
	}
	write := s.rebuild
	if write == nil {
		write = func(w io.Writer) error { _, err := w.Write(s.state); return err }
	}
	counted := func(w io.Writer) error {
		cw := &countingWriter{w: w}
		err := write(cw)
		s.stateBytes = cw.n
		return err
	}
	if err := writeSnapshotFrom(sink, s.index, counted); err != nil {
		_ = sink.Cancel()
		return err
	}
	if err := failpoint.Err(failpoint.SnapshotPersistBeforeClose); err != nil {
		_ = sink.Cancel()
		return err
	}
	if err := sink.Close(); err != nil {
		return err
	}
	failpoint.Hit(failpoint.SnapshotPersistAfterClose)
	return nil
}

// Release drops the state copy.
func (s *fsmSnapshot) Release() {
	s.report(errSnapshotDropped)
	s.state = nil
}

// writeSnapshot writes the header and the compressed state to w.
func writeSnapshot(w io.Writer, index uint64, state []byte) error {
	return writeSnapshotFrom(w, index, func(w io.Writer) error { _, err := w.Write(state); return err })
}

// writeSnapshotFrom writes the header, then the state that state writes,
// compressed, to w.
func writeSnapshotFrom(w io.Writer, index uint64, state func(io.Writer) error) error {
	var h [snapshotHeaderLen]byte
	copy(h[:], snapshotMagic)
	h[4] = snapshotVersion
	binary.BigEndian.PutUint64(h[5:], index)
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("raftstore: snapshot header: %w", err)
	}
	// One encoder goroutine: snapshots run in the background and must not
	// take every core from the hot path.
	zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return fmt.Errorf("raftstore: zstd writer: %w", err)
	}
	if err := state(zw); err != nil {
		zw.Close()
		return fmt.Errorf("raftstore: snapshot write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("raftstore: snapshot write: %w", err)
	}
	return nil
}

// readSnapshot reads a snapshot written by writeSnapshot and rebuilds the
// engine from it. The input is untrusted (it may come from another node or a
// damaged disk): the decoder's memory and the decompressed length are
// bounded, and the engine's own restore checks every field. buf, if set,
// is the memory the state is read into (engine.RestoreInto).
func readSnapshot(r io.Reader, cfg engine.Config, bytesMax int64, buf *[]byte) (*engine.Engine, uint64, error) {
	var h [snapshotHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, fmt.Errorf("raftstore: snapshot header: %w", err)
	}
	if string(h[:4]) != snapshotMagic || h[4] != snapshotVersion {
		return nil, 0, fmt.Errorf("raftstore: not an inv snapshot (magic %q, version %d)", h[:4], h[4])
	}
	index := binary.BigEndian.Uint64(h[5:])
	zr, err := zstd.NewReader(r,
		zstd.WithDecoderMaxMemory(snapshotWindowMax),
		zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, 0, fmt.Errorf("raftstore: zstd reader: %w", err)
	}
	defer zr.Close()
	e, err := engine.RestoreInto(cfg, &boundedReader{r: zr, left: bytesMax}, buf)
	if err != nil {
		return nil, 0, fmt.Errorf("raftstore: restore engine: %w", err)
	}
	return e, index, nil
}

// boundedReader fails once more than left bytes were read, instead of
// silently truncating as io.LimitReader would: a state cut short must not
// restore as if it were whole.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the bound: only the end of the stream may follow.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, errSnapshotTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
