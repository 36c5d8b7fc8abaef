package raftstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

func TestSnapshotThreshold(t *testing.T) {
	for _, tc := range []struct {
		state      int64
		entry      float64
		ratio      float64
		floor, out uint64
	}{
		{20 << 20, 2500, 1, 2048, 8389},              // 20 MiB of state, 2.5 KB entries
		{20 << 20, 2500, 2, 2048, 16778},             // twice the log
		{1 << 20, 2500, 1, 2048, 2048},               // a small state: the floor
		{20 << 20, 0, 1, 2048, 2048},                 // no mean entry known
		{20 << 20, 2500, -1, 2048, 2048},             // off
		{1 << 40, 10, 1, 2048, maxSnapshotThreshold}, // bounded
		{1 << 40, 10, 1, 1 << 23, 1 << 23},           // but never below the floor
		{3000, 1000, 1, 1, 3},                        // rounds up
	} {
		if got := snapshotThreshold(tc.state, tc.entry, tc.ratio, tc.floor); got != tc.out {
			t.Errorf("snapshotThreshold(%d, %v, %v, %d) = %d, want %d", tc.state, tc.entry, tc.ratio, tc.floor, got, tc.out)
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
	hook := func(state int64, entry float64) { calls = append(calls, [2]float64{float64(state), entry}) }
	f.sized.Store(&hook)
	f.logBytes = 7000 // applied before the restore: not the next mean's
	f.restoredAt(100)
	f.logBytes += 5000
	f.snapshotSized(150, f.logBytes, 1<<20) // 50 entries since the restored one
	f.snapshotSized(140, f.logBytes, 1<<20) // older than the last: nothing
	f.logBytes += 3000
	f.snapshotSized(160, f.logBytes, 2<<20) // 10 since the last
	want := [][2]float64{{1 << 20, 100}, {2 << 20, 300}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("told %v, want %v", calls, want)
	}
}
