// Tests of the FSM adapter, driven directly with raft.Log values (no raft
// group). They prove that an entry's batch runs at the leader's time and
// yields one result per command; that results and events returned for one
// entry stay intact after later entries reuse the engine's buffers; that
// the event sink sees every event with the entry's raft index; that a corrupt
// entry is refused without touching the state; that a snapshot restores into
// a fresh FSM with byte-identical state and applied index; that a corrupt,
// foreign or oversized snapshot is refused and leaves the old state in place;
// and (under -race) that metrics reads are safe while entries apply.
package raftstore

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

const t0 = int64(1_700_000_000_000_000_000) // a fixed leader time, 2023-11-14

func testEngineConfig() engine.Config {
	return engine.Config{PickupSecret: []byte("test-secret")}
}

func entryLog(t testing.TB, index uint64, now int64, cmds ...engine.Command) *raft.Log {
	t.Helper()
	data, err := EncodeEntry(now, cmds)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: data}
}

func putItem(sku, store string, stock int64) engine.Command {
	return engine.Command{Op: engine.OpPutItem, SKU: []byte(sku), Store: []byte(store), Stock: stock}
}

func reserve(sku, store, cust string, qty int64) engine.Command {
	return engine.Command{Op: engine.OpReserve, SKU: []byte(sku), Store: []byte(store),
		Customer: []byte(cust), Qty: qty}
}

func stateBytes(t testing.TB, f *FSM) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.StateBytes(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type sinkRecord struct {
	index  uint64
	events []engine.Event
}

func TestFSMApply(t *testing.T) {
	var mu sync.Mutex
	var seen []sinkRecord
	f := NewFSM(FSMConfig{Shard: 4, Engine: testEngineConfig(), Logger: testLogger(t),
		Sink: func(shard uint16, index uint64, ev []engine.Event) {
			if shard != 4 {
				t.Errorf("sink got shard %d", shard)
			}
			mu.Lock()
			seen = append(seen, sinkRecord{index, ev})
			mu.Unlock()
		}})

	out := f.ApplyBatch([]*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogConfiguration},
		entryLog(t, 2, t0, putItem("A", "S1", 3), reserve("A", "S1", "c1", 2), reserve("A", "S1", "c2", 2)),
	})
	if out[0] != nil {
		t.Fatalf("configuration entry answered %v", out[0])
	}
	first := out[1].(*ApplyResponse)
	if first.Err != nil || first.Index != 2 || first.Now != t0 || len(first.Results) != 3 {
		t.Fatalf("response %+v", first)
	}
	if c := first.Results[1].Code; c != engine.OK {
		t.Fatalf("reserve: %v", c)
	}
	if c := first.Results[2].Code; c != engine.CodeSoldOut {
		t.Fatalf("second reserve: %v, want sold_out", c)
	}
	heldID := first.Results[1].ID
	if engine.ShardOfID(heldID) != 4 {
		t.Fatalf("reservation id %x not issued by shard 4", heldID)
	}
	firstEvents := append([]engine.Event(nil), first.Events...)

	// A later entry, at an earlier time (a new leader with a slower clock):
	// the engine keeps its clock, and the earlier response's results are
	// untouched (its events are the FSM's until its next batch).
	second := f.Apply(entryLog(t, 3, t0-5, engine.Command{Op: engine.OpCancel, ID: heldID})).(*ApplyResponse)
	if second.Err != nil || second.Results[0].Code != engine.OK || second.Now != t0 {
		t.Fatalf("cancel: %+v", second)
	}
	if first.Results[1].ID != heldID || first.Results[2].Code != engine.CodeSoldOut {
		t.Fatal("first response changed by the next apply")
	}
	if len(firstEvents) == 0 {
		t.Fatal("the first entry reported no events")
	}
	if f.AppliedIndex() != 3 || f.Now() != t0 {
		t.Fatalf("applied %d now %d", f.AppliedIndex(), f.Now())
	}

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0].index != 2 || seen[1].index != 3 {
		t.Fatalf("sink saw %+v", seen)
	}
	if len(seen[0].events) == 0 || seen[1].events[len(seen[1].events)-1].Kind != engine.EvCancelled {
		t.Fatalf("sink events %+v", seen)
	}
}

func TestFSMRefusesCorruptEntry(t *testing.T) {
	f := NewFSM(FSMConfig{Engine: testEngineConfig(), Logger: testLogger(t)})
	f.Apply(entryLog(t, 1, t0, putItem("A", "S1", 3)))
	before := stateBytes(t, f)
	bad := entryLog(t, 2, t0, reserve("A", "S1", "c1", 1))
	bad.Data = bad.Data[:len(bad.Data)-1]
	r := f.Apply(bad).(*ApplyResponse)
	if r.Err == nil || r.Results != nil {
		t.Fatalf("corrupt entry applied: %+v", r)
	}
	if !bytes.Equal(before, stateBytes(t, f)) {
		t.Fatal("corrupt entry changed the state")
	}
	if f.AppliedIndex() != 2 {
		t.Fatalf("applied index %d: a refused entry is still consumed", f.AppliedIndex())
	}
}

// persistSink is a raft.SnapshotSink over a buffer.
type persistSink struct {
	bytes.Buffer
	cancelled, closed bool
}

func (s *persistSink) ID() string    { return "test" }
func (s *persistSink) Cancel() error { s.cancelled = true; return nil }
func (s *persistSink) Close() error  { s.closed = true; return nil }

func snapshotOf(t testing.TB, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var sink persistSink
	if err := snap.Persist(&sink); err != nil || !sink.closed {
		t.Fatalf("persist: %v (closed %v)", err, sink.closed)
	}
	return sink.Bytes()
}

func TestFSMSnapshotRestore(t *testing.T) {
	f := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t)})
	var cmds []engine.Command
	for i := 0; i < 200; i++ {
		sku := string(rune('A' + i%20))
		cmds = append(cmds, putItem(sku, "S1", 100), reserve(sku, "S1", "cust"+sku, 1))
	}
	f.Apply(entryLog(t, 10, t0, cmds...))
	snap := snapshotOf(t, f)
	state := stateBytes(t, f)
	if len(snap) >= len(state) {
		t.Logf("compressed %d bytes from %d", len(snap), len(state))
	}

	g := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t)})
	if err := g.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(state, stateBytes(t, g)) {
		t.Fatal("restored state differs")
	}
	if g.AppliedIndex() != 10 || g.Now() != t0 {
		t.Fatalf("restored applied %d now %d", g.AppliedIndex(), g.Now())
	}
	if g.Stats() != f.Stats() {
		t.Fatalf("stats differ: %+v vs %+v", g.Stats(), f.Stats())
	}

	// Bad snapshots are refused and the state in place survives.
	bad := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), snap[4:]...),
		"truncated": snap[:len(snap)/2],
		"not zstd":  append(append([]byte(nil), snap[:snapshotHeaderLen]...), bytes.Repeat([]byte{7}, 64)...),
	}
	for name, b := range bad {
		if err := g.Restore(io.NopCloser(bytes.NewReader(b))); err == nil {
			t.Errorf("%s snapshot restored", name)
		}
	}
	if !bytes.Equal(state, stateBytes(t, g)) {
		t.Fatal("a refused snapshot changed the state")
	}

	// A state larger than the bound is refused, not truncated.
	small := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t), SnapshotBytesMax: int64(len(state) / 2)})
	if err := small.Restore(io.NopCloser(bytes.NewReader(snap))); err == nil {
		t.Fatal("oversized snapshot restored")
	}
	exact := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t), SnapshotBytesMax: int64(len(state))})
	if err := exact.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatalf("snapshot of exactly the bound: %v", err)
	}
}

func TestFSMConcurrentReads(t *testing.T) {
	f := NewFSM(FSMConfig{Engine: testEngineConfig(), Logger: testLogger(t)})
	f.Apply(entryLog(t, 1, t0, putItem("A", "S1", 1_000_000)))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		get := engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")}
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = f.Stats()
			_ = f.NextDue()
			if r := f.Read(&get); r.Code != engine.OK {
				t.Errorf("read: %v", r.Code)
				return
			}
		}
	}()
	for i := uint64(2); i < 300; i++ {
		f.Apply(entryLog(t, i, t0+int64(i)*int64(time.Millisecond), reserve("A", "S1", "c", 1)))
	}
	close(stop)
	wg.Wait()
	if got := f.Stats().ActiveHolds; got != 298 {
		t.Fatalf("active holds %d, want 298", got)
	}
}

// overlapSink is a persistSink that counts the snapshots being written at
// once through all the sinks sharing its counters, and takes its time.
type overlapSink struct {
	persistSink
	now, most *atomic.Int32
	entered   bool
}

func (s *overlapSink) Write(p []byte) (int, error) {
	if !s.entered {
		s.entered = true
		n := s.now.Add(1)
		for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s.persistSink.Write(p)
}

func (s *overlapSink) Close() error { s.now.Add(-1); return s.persistSink.Close() }

// TestSnapshotSlotsBoundTheNode: FSMs that share snapshot slots
// (FSMConfig.SnapshotSlots, Options.SnapshotsAtOnce) write at most that
// many snapshots at once, and every snapshot is written; without slots
// several write at once (so the count sees an overlap).
func TestSnapshotSlotsBoundTheNode(t *testing.T) {
	for _, tc := range []struct {
		slots, least, most int
	}{{1, 1, 1}, {2, 1, 2}, {0, 2, 6}} {
		var ch chan struct{}
		if tc.slots > 0 {
			ch = make(chan struct{}, tc.slots)
		}
		var now, most atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for i := range 6 {
			f := NewFSM(FSMConfig{Shard: uint16(i), Engine: testEngineConfig(), Logger: testLogger(t), SnapshotSlots: ch})
			snap, err := f.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer snap.Release()
				sink := &overlapSink{now: &now, most: &most}
				if err := snap.Persist(sink); err != nil || !sink.closed {
					errs <- fmt.Errorf("persist: %v (closed %v)", err, sink.closed)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := int(most.Load()); got < tc.least || got > tc.most {
			t.Errorf("slots %d: %d snapshots written at once at most, want %d to %d", tc.slots, got, tc.least, tc.most)
		}
	}
}

// TestFSMResultsStayPut: every response keeps its own results while the
// FSM applies thousands of entries after it (the results buffer is
// shared by many entries and taken afresh when full: docs/adr/0133), and
// an entry's results are not capped at the buffer's size.
func TestFSMResultsStayPut(t *testing.T) {
	f := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t)})
	f.Apply(entryLog(t, 1, t0, putItem("A", "S1", 1<<20)))
	type kept struct {
		r    *ApplyResponse
		want []engine.Result
	}
	var all []kept
	index := uint64(2)
	for n := range 600 {
		k := 1 + n%7 // entries of 1 to 7 commands
		if n == 300 {
			k = resultsChunk + 5 // one entry larger than a whole buffer
		}
		cmds := make([]engine.Command, k)
		for i := range cmds {
			cmds[i] = reserve("A", "S1", fmt.Sprint("c", n, "-", i), 1)
		}
		r := f.Apply(entryLog(t, index, t0+int64(index), cmds...)).(*ApplyResponse)
		index++
		if len(r.Results) != k {
			t.Fatalf("entry %d: %d results for %d commands", n, len(r.Results), k)
		}
		all = append(all, kept{r, append([]engine.Result(nil), r.Results...)})
	}
	seen := map[uint64]bool{}
	for n, k := range all {
		for i, res := range k.r.Results {
			if !reflect.DeepEqual(res, k.want[i]) {
				t.Fatalf("entry %d result %d changed after later applies: %+v, was %+v", n, i, res, k.want[i])
			}
			if res.Code != engine.OK || seen[res.ID] {
				t.Fatalf("entry %d result %d: %+v (ids must be new)", n, i, res)
			}
			seen[res.ID] = true
		}
	}
}

// TestFSMKeepsNoResultsOfEntriesBeforeItsStart: the entries of a term the
// log had reached when the shard opened (replayed at a restart) are
// applied with their events but keep no results; a later term's keep
// theirs.
func TestFSMKeepsNoResultsOfEntriesBeforeItsStart(t *testing.T) {
	f := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t), NoWaiterTerm: 3})
	old := entryLog(t, 1, t0, putItem("A", "S1", 5), reserve("A", "S1", "c1", 2))
	old.Term = 3
	r := f.Apply(old).(*ApplyResponse)
	if r.Err != nil || r.Results != nil || len(r.Events) == 0 || r.Now != t0 {
		t.Fatalf("replayed entry: %+v, want no results but its events", r)
	}
	// An FSM whose log was empty at open (0) keeps every entry's results,
	// even one without a term.
	fresh := NewFSM(FSMConfig{Shard: 2, Engine: testEngineConfig(), Logger: testLogger(t)})
	bare := entryLog(t, 1, t0, putItem("A", "S1", 5))
	bare.Term = 0
	if r := fresh.Apply(bare).(*ApplyResponse); len(r.Results) != 1 || r.Results[0].Code != engine.OK {
		t.Fatalf("an FSM opened on an empty log: %+v, want the entry's result", r)
	}
	next := entryLog(t, 2, t0+1, reserve("A", "S1", "c2", 2), reserve("A", "S1", "c3", 2))
	next.Term = 4
	r = f.Apply(next).(*ApplyResponse)
	if r.Err != nil || len(r.Results) != 2 || r.Results[0].Code != engine.OK || r.Results[1].Code != engine.CodeSoldOut {
		t.Fatalf("entry of a later term: %+v, want its results (the first entry's reserve applied)", r)
	}
}
