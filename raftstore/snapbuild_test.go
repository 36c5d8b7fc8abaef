// What this file proves: a snapshot whose state is rebuilt off the apply
// path (snapbuild.go, docs/adr/0120) holds exactly the live state at the
// index it was taken at, byte for byte, from the empty engine and from a
// previous snapshot, across configuration, no-op and undecodable entries;
// that taking it needs no engine lock and copies nothing, so applies (and
// reads) go on while it persists; and that when the log no longer reaches
// back to the base, or the base is gone from the store, the snapshot falls
// back to the copy under the lock instead of failing for ever.
//
// How: an FSM over raft's in-memory log store and a file snapshot store in
// a temporary folder, driven directly with raft.Log values that are stored
// in the log as they are applied (as raft does). Persisted snapshots are
// read back and compared with the live state captured at the same index.
package raftstore

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// buildRig is an FSM whose snapshots are rebuilt from a log and a store.
type buildRig struct {
	t     *testing.T
	fsm   *FSM
	logs  *raft.InmemStore
	snaps *raft.FileSnapshotStore
	next  uint64 // next raft index
}

func newBuildRig(t *testing.T) *buildRig {
	snaps, err := raft.NewFileSnapshotStore(t.TempDir(), 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := raft.NewInmemStore()
	f := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t), Logs: logs, Snaps: snaps})
	return &buildRig{t: t, fsm: f, logs: logs, snaps: snaps, next: 1}
}

// apply stores l in the log at the next index and applies it.
func (r *buildRig) apply(l *raft.Log) {
	r.t.Helper()
	l.Index, l.Term = r.next, 1
	r.next++
	if err := r.logs.StoreLog(l); err != nil {
		r.t.Fatal(err)
	}
	r.fsm.ApplyBatch([]*raft.Log{l})
}

// load applies n entries of a few commands each: items, holds, confirms.
func (r *buildRig) load(from, n int) {
	for i := from; i < from+n; i++ {
		sku, store := fmt.Sprintf("sku-%d", i%7), fmt.Sprintf("store-%d", i)
		r.apply(entryLog(r.t, 0, t0+int64(i)*1e6,
			putItem(sku, store, 10),
			reserve(sku, store, fmt.Sprintf("cust-%d", i), 2),
			reserve(sku, fmt.Sprintf("store-%d", i/2), fmt.Sprintf("cust-%d", i+1), 1)))
	}
}

// persist persists snap into the rig's store under raft index metaIndex and
// returns the state bytes it holds and the index in its header.
func (r *buildRig) persist(snap raft.FSMSnapshot, metaIndex uint64) ([]byte, uint64, error) {
	r.t.Helper()
	sink, err := r.snaps.Create(raft.SnapshotVersionMax, metaIndex, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	defer snap.Release()
	if err := snap.Persist(sink); err != nil {
		return nil, 0, err
	}
	_, rc, err := r.snaps.Open(sink.ID())
	if err != nil {
		r.t.Fatal(err)
	}
	defer rc.Close()
	eng, index, err := readSnapshot(rc, r.fsm.cfg, DefaultSnapshotBytesMax, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	var b bytes.Buffer
	if err := eng.Snapshot(&b); err != nil {
		r.t.Fatal(err)
	}
	return b.Bytes(), index, nil
}

// snapshot takes a snapshot, records the live state at that moment,
// applies more entries, then persists it: the persisted state must be the
// one recorded. copied says whether it must have been copied under the lock.
func (r *buildRig) snapshot(copied bool, metaIndex uint64) {
	r.t.Helper()
	want, at := stateBytes(r.t, r.fsm), r.fsm.AppliedIndex()
	snap, err := r.fsm.Snapshot()
	if err != nil {
		r.t.Fatal(err)
	}
	if got := snap.(*fsmSnapshot).state != nil; got != copied || r.fsm.SnapshotStats().CaptureMax <= 0 {
		r.t.Fatalf("snapshot at %d copied under the lock: %v, want %v", at, got, copied)
	}
	r.load(int(r.next)*10, 5) // applies go on before it persists
	got, index, err := r.persist(snap, metaIndex)
	if err != nil {
		r.t.Fatalf("persist at %d: %v", at, err)
	}
	if index != at || !bytes.Equal(got, want) {
		r.t.Fatalf("snapshot at %d holds the state at %d (%d bytes, want %d): not the live state it was taken at",
			at, index, len(got), len(want))
	}
}

func TestSnapshotRebuildMatchesLiveState(t *testing.T) {
	r := newBuildRig(t)
	r.load(0, 40)
	r.apply(&raft.Log{Type: raft.LogConfiguration})
	r.apply(&raft.Log{Type: raft.LogCommand, Data: []byte{0xff, 0x01}}) // undecodable: skipped on apply and on replay
	r.load(40, 20)
	r.snapshot(false, r.fsm.AppliedIndex()) // from the empty engine
	r.load(100, 30)
	r.snapshot(false, r.fsm.AppliedIndex()+1) // from the first snapshot; raft's index above the FSM's (a no-op)
	r.load(200, 30)
	r.snapshot(false, r.fsm.AppliedIndex()) // from the second

	// The newest snapshot restores to the live state of its index.
	metas, err := r.snaps.List()
	if err != nil || len(metas) == 0 {
		t.Fatal(metas, err)
	}
	_, rc, err := r.snaps.Open(metas[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	fresh := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t)})
	if err := fresh.Restore(rc); err != nil {
		t.Fatal(err)
	}
	if fresh.AppliedIndex() == 0 {
		t.Fatal("restored FSM has no applied index")
	}
}

// TestAppliesProceedWhileSnapshotPersists holds the engine's lock, as a long
// read or an apply would, while the snapshot is taken: the capture must not
// wait for it. Then, while the snapshot's write is held up in the sink,
// entries apply, and the snapshot still holds the state it was taken at.
func TestAppliesProceedWhileSnapshotPersists(t *testing.T) {
	r := newBuildRig(t)
	r.load(0, 200)
	want, at := stateBytes(t, r.fsm), r.fsm.AppliedIndex()

	r.fsm.mu.RLock()
	taken := make(chan raft.FSMSnapshot, 1)
	go func() {
		snap, err := r.fsm.Snapshot()
		if err != nil {
			t.Error(err)
		}
		taken <- snap
	}()
	var snap raft.FSMSnapshot
	select {
	case snap = <-taken:
	case <-time.After(5 * time.Second):
		r.fsm.mu.RUnlock()
		<-taken
		t.Fatal("Snapshot waited for the engine's lock: every apply of the shard waits while it copies the state")
	}
	r.fsm.mu.RUnlock()

	sink, err := r.snaps.Create(raft.SnapshotVersionMax, at, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	gate := &gatedSink{SnapshotSink: sink, entered: make(chan struct{}), release: make(chan struct{})}
	persisted := make(chan error, 1)
	go func() { persisted <- snap.Persist(gate) }()
	within(t, gate.entered, "the snapshot's first write")
	r.load(1000, 50) // applies go on while the write is held up
	close(gate.release)
	if err := within(t, persisted, "persist"); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	_, rc, err := r.snaps.Open(sink.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	eng, index, err := readSnapshot(rc, r.fsm.cfg, DefaultSnapshotBytesMax, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := eng.Snapshot(&got); err != nil {
		t.Fatal(err)
	}
	if index != at || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("snapshot holds the state at %d, want the live state at %d", index, at)
	}
}

// gatedSink holds up the first write until release is closed.
type gatedSink struct {
	raft.SnapshotSink
	entered, release chan struct{}
	writes           int
}

func (g *gatedSink) Write(p []byte) (int, error) {
	if g.writes++; g.writes == 1 {
		close(g.entered)
		<-g.release
	}
	return g.SnapshotSink.Write(p)
}

func TestSnapshotFallsBackToCopy(t *testing.T) {
	t.Run("log compacted past the base", func(t *testing.T) {
		r := newBuildRig(t)
		r.load(0, 30)
		if err := r.logs.DeleteRange(1, 10); err != nil {
			t.Fatal(err)
		}
		r.snapshot(true, r.fsm.AppliedIndex()) // the base (empty engine) is out of the log's reach
		r.load(100, 10)
		r.snapshot(false, r.fsm.AppliedIndex()) // the copy became the base
	})
	t.Run("base gone from the store", func(t *testing.T) {
		r := newBuildRig(t)
		r.load(0, 30)
		r.snapshot(false, r.fsm.AppliedIndex())
		metas, err := r.snaps.List()
		if err != nil || len(metas) != 1 {
			t.Fatal(metas, err)
		}
		// A store that lists the base but cannot open it.
		r.fsm.build.snaps = brokenStore{r.snaps}
		r.load(100, 10)
		snap, err := r.fsm.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.persist(snap, r.fsm.AppliedIndex()); err == nil {
			t.Fatal("a rebuild without its base persisted")
		}
		r.fsm.build.snaps = r.snaps
		r.snapshot(true, r.fsm.AppliedIndex()) // copied once, not failing for ever
		r.load(200, 10)
		r.snapshot(false, r.fsm.AppliedIndex())
	})
}

// brokenStore lists its snapshots but opens none.
type brokenStore struct{ *raft.FileSnapshotStore }

func (brokenStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	return nil, nil, fmt.Errorf("snapshot %s: unreadable", id)
}
