package raftstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

func TestSnapshotThreshold(t *testing.T) {
	ms := time.Millisecond
	// A rebuild that restored its base in 1 s and replayed 1,000 entries
	// in 100 ms (100 µs an entry).
	slow := rebuildCost{restore: 1000 * ms, replay: 100 * ms, replayed: 1000}
	for _, tc := range []struct {
		state      int64
		entry      float64
		log, play  float64
		cost       rebuildCost
		floor, out uint64
	}{
		{20 << 20, 2500, 1, -1, rebuildCost{}, 2048, 8389},              // 20 MiB of state, 2.5 KB entries
		{20 << 20, 2500, 2, -1, rebuildCost{}, 2048, 16778},             // twice the log
		{1 << 20, 2500, 1, -1, rebuildCost{}, 2048, 2048},               // a small state: the floor
		{20 << 20, 0, 1, -1, rebuildCost{}, 2048, 2048},                 // no mean entry known
		{20 << 20, 2500, -1, -1, rebuildCost{}, 2048, 2048},             // off
		{1 << 40, 10, 1, -1, rebuildCost{}, 2048, maxSnapshotThreshold}, // bounded
		{1 << 40, 10, 1, -1, rebuildCost{}, 1 << 23, 1 << 23},           // but never below the floor
		{3000, 1000, 1, -1, rebuildCost{}, 1, 3},                        // rounds up

		// The replay's time: 1 s of restore is 10,000 entries at 100 µs.
		{20 << 20, 2500, 1, 1, slow, 2048, 8389},  // the bytes bind first
		{1 << 30, 2500, 1, 1, slow, 2048, 10000},  // the time binds first
		{1 << 30, 2500, 1, 0.5, slow, 2048, 5000}, // half the restore's time
		{1 << 30, 2500, 1, 0.1, slow, 2048, 2048}, // never below the floor
		{1 << 30, 2500, -1, 1, slow, 2048, 10000}, // the time alone
		{1 << 40, 10, -1, 1000, slow, 2048, maxSnapshotThreshold},
		{1 << 30, 2500, 1, 1, rebuildCost{replay: 100 * ms, replayed: 1000}, 2048, 429497},     // from the empty engine: no restore to weigh
		{1 << 30, 2500, 1, 1, rebuildCost{restore: 1000 * ms}, 2048, 429497},                   // nothing replayed
		{1 << 30, 2500, -1, 1, rebuildCost{restore: 1000 * ms}, 2048, 2048},                    // nothing to go by: the floor
		{1 << 30, 2500, 1, 1, rebuildCost{restore: 3 * ms, replay: 2 * ms, replayed: 1}, 1, 2}, // rounds up
	} {
		z := snapSizing{logRatio: tc.log, replayRatio: tc.play, floor: tc.floor}
		if got := z.threshold(tc.state, tc.entry, tc.cost); got != tc.out {
			t.Errorf("%+v.threshold(%d, %v, %+v) = %d, want %d", z, tc.state, tc.entry, tc.cost, got, tc.out)
		}
	}
}

// TestSnapshotThresholdFollowsTheState: a shard whose state is large
// against its entries raises its raft's snapshot threshold after a
// snapshot to about the state's bytes over the mean entry's since the
// snapshot before, and with the ratio off keeps the configured one.
func TestSnapshotThresholdFollowsTheState(t *testing.T) {
	for _, ratio := range []float64{1, -1} {
		o := testNodeOptions(t, t.TempDir())
		o.Shards = 1
		o.SnapshotThreshold = 16
		o.SnapshotInterval = time.Hour // only the snapshots asked for below
		o.SnapshotLogRatio = ratio
		o.SnapshotReplayRatio = -1 // the bytes alone (the time: TestRebuildMeasuresItsCost)
		n := openTestNode(t, o)
		waitLeaderOf(t, n)
		s := n.Shard(0)
		items := make([]engine.ItemPut, 2000) // a state of many items, from one entry
		for i := range items {
			items[i] = engine.ItemPut{SKU: fmt.Appendf(nil, "sku-%04d", i), Store: []byte("S1"), Set: engine.ItemSetAll, Stock: 10}
		}
		if r := do(t, s, engine.Command{Op: engine.OpPutItems, Items: items}); r.Code != engine.OK {
			t.Fatalf("put items: %v", r.Code)
		}
		for round := range 2 {
			for i := range 20 { // small entries
				do(t, s, reserve("sku-0001", "S1", fmt.Sprint("c", round, "-", i), 1))
			}
			if _, taken, err := s.SnapshotNow(); err != nil || !taken {
				t.Fatalf("ratio %v, snapshot %d: taken %v, %v", ratio, round, taken, err)
			}
		}
		got := s.raft.ReloadableConfig().SnapshotThreshold
		if ratio < 0 && got != 16 {
			t.Errorf("ratio off: threshold %d, want the configured 16", got)
		}
		if ratio > 0 && got < 100 {
			t.Errorf("ratio %v: threshold %d after a snapshot of 2,000 items at small entries, want it raised well past 16", ratio, got)
		}
		t.Logf("ratio %v: threshold %d", ratio, got)
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSnapshotSizedMeansSinceTheLast: the mean entry is taken over the
// entries since the snapshot before, or since the one restored; a
// snapshot not past the last one tells nothing.
func TestSnapshotSizedMeansSinceTheLast(t *testing.T) {
	f := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(t)})
	var calls [][2]float64
	hook := func(state int64, entry float64, _ rebuildCost) {
		calls = append(calls, [2]float64{float64(state), entry})
	}
	f.sized.Store(&hook)
	f.logBytes = 7000 // applied before the restore: not the next mean's
	f.restoredAt(100)
	f.logBytes += 5000
	f.snapshotSized(150, f.logBytes, 1<<20, rebuildCost{}) // 50 entries since the restored one
	f.snapshotSized(140, f.logBytes, 1<<20, rebuildCost{}) // older than the last: nothing
	f.logBytes += 3000
	f.snapshotSized(160, f.logBytes, 2<<20, rebuildCost{}) // 10 since the last
	want := [][2]float64{{1 << 20, 100}, {2 << 20, 300}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("told %v, want %v", calls, want)
	}
}

// TestRebuildMeasuresItsCost: a snapshot rebuilt from the empty engine
// tells no restore and the command entries it replayed; one rebuilt from
// the snapshot before tells that snapshot's restore and the entries
// after it; and the shard's threshold then keeps replaying the log no
// longer than the restore took, at that pace.
func TestRebuildMeasuresItsCost(t *testing.T) {
	o := testNodeOptions(t, t.TempDir())
	o.Shards = 1
	o.SnapshotThreshold = 1
	o.SnapshotInterval = time.Hour // only the snapshots asked for below
	o.SnapshotLogRatio = -1        // the time alone
	o.SnapshotReplayRatio = 1
	n := openTestNode(t, o)
	waitLeaderOf(t, n)
	s := n.Shard(0)
	var costs []rebuildCost
	var thresholds []uint64
	hook := *s.fsm.sized.Load()
	told := func(state int64, entry float64, cost rebuildCost) {
		costs = append(costs, cost)
		thresholds = append(thresholds, snapSizing{replayRatio: 1, floor: 1}.threshold(state, entry, cost))
		hook(state, entry, cost)
	}
	s.fsm.sized.Store(&told)
	items := make([]engine.ItemPut, 4000)
	for i := range items {
		items[i] = engine.ItemPut{SKU: fmt.Appendf(nil, "sku-%04d", i), Store: []byte("S1"), Set: engine.ItemSetAll, Stock: 10}
	}
	if r := do(t, s, engine.Command{Op: engine.OpPutItems, Items: items}); r.Code != engine.OK {
		t.Fatalf("put items: %v", r.Code)
	}
	for round := range 2 {
		for i := range 10 {
			do(t, s, reserve("sku-0001", "S1", fmt.Sprint("c", round, "-", i), 1))
		}
		if _, taken, err := s.SnapshotNow(); err != nil || !taken {
			t.Fatalf("snapshot %d: taken %v, %v", round, taken, err)
		}
	}
	if len(costs) != 2 {
		t.Fatalf("told %d costs, want 2", len(costs))
	}
	if c := costs[0]; c.restore != 0 || c.replayed < 2 || c.replayed > 11 || c.replay <= 0 {
		t.Errorf("from the empty engine: %+v, want no restore and the put and reserves replayed", c)
	}
	if c := costs[1]; c.restore <= 0 || c.replayed < 1 || c.replayed > 10 || c.replay <= 0 {
		t.Errorf("from the first snapshot: %+v, want its restore and the ten reserves' entries", c)
	}
	if got := s.raft.ReloadableConfig().SnapshotThreshold; got != thresholds[1] {
		t.Errorf("threshold %d, want %d (the restore's time at the replay's pace)", got, thresholds[1])
	}
	t.Logf("costs %+v, thresholds %v", costs, thresholds)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}
