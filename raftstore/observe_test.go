// The apply observer, driven directly with raft.Log values: after each
// ApplyBatch round it is told the commands of every command entry, in
// order (configuration entries are not counted), and the round's duration;
// rounds are reported separately; and a nil observer stops the reports.
// The snapshot observer and counts: a snapshot persisted, one released by
// raft without being persisted, a restore and a restore of damaged bytes
// are each counted once, and each reaches the observer with its shard,
// kind and outcome, even when it came before the observer was set.
package raftstore

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestApplyObserver(t *testing.T) {
	f := NewFSM(FSMConfig{Shard: 3, Engine: testEngineConfig()})
	type round struct {
		shard    uint16
		took     time.Duration
		commands []int
	}
	var rounds []round
	f.SetApplyObserver(func(shard uint16, took time.Duration, commands []int) {
		rounds = append(rounds, round{shard, took, slices.Clone(commands)})
	})
	f.ApplyBatch([]*raft.Log{
		entryLog(t, 1, t0, putItem("A", "S1", 5)),
		{Index: 2, Term: 1, Type: raft.LogConfiguration},
		entryLog(t, 3, t0, putItem("B", "S1", 5), putItem("C", "S1", 5), putItem("D", "S1", 5)),
	})
	f.ApplyBatch([]*raft.Log{entryLog(t, 4, t0, putItem("E", "S1", 5), putItem("F", "S1", 5))})
	if len(rounds) != 2 || rounds[0].shard != 3 || !slices.Equal(rounds[0].commands, []int{1, 3}) ||
		!slices.Equal(rounds[1].commands, []int{2}) || rounds[0].took <= 0 {
		t.Fatalf("rounds: %+v", rounds)
	}
	f.SetApplyObserver(nil)
	f.ApplyBatch([]*raft.Log{entryLog(t, 5, t0, putItem("G", "S1", 5))})
	if len(rounds) != 2 {
		t.Fatalf("observed after SetApplyObserver(nil): %+v", rounds)
	}
}

func TestSnapshotObserver(t *testing.T) {
	f := NewFSM(FSMConfig{Shard: 2, Engine: testEngineConfig(), Logger: testLogger(t)})
	type seen struct {
		shard  uint16
		kind   SnapshotKind
		failed bool
	}
	var got []seen
	obs := func(shard uint16, kind SnapshotKind, took time.Duration, err error) {
		if err == nil && took <= 0 {
			t.Errorf("%s took %v", kind, took)
		}
		got = append(got, seen{shard, kind, err != nil})
	}
	f.SetSnapshotObserver(obs)
	f.ApplyBatch([]*raft.Log{entryLog(t, 1, t0, putItem("A", "S1", 5))})

	state := snapshotOf(t, f) // persisted, then released: one report
	dropped, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	dropped.Release() // raft gave up on it before Persist
	// A restore before the observer is set (as at a node's open) reaches
	// it when it is set.
	g := NewFSM(FSMConfig{Shard: 2, Engine: testEngineConfig(), Logger: testLogger(t)})
	if err := g.Restore(io.NopCloser(bytes.NewReader(state))); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("reported before the observer was set: %+v", got)
	}
	g.SetSnapshotObserver(obs)
	if err := g.Restore(io.NopCloser(bytes.NewReader(state[:len(state)/2]))); err == nil {
		t.Fatal("half a snapshot restored")
	}
	want := []seen{{2, SnapshotPersisted, false}, {2, SnapshotPersisted, true},
		{2, SnapshotRestored, false}, {2, SnapshotRestored, true}}
	if !slices.Equal(got, want) {
		t.Fatalf("observed %+v, want %+v", got, want)
	}
	// Both were copied under the lock (this FSM has no log to rebuild from).
	if st := f.SnapshotStats(); st.CaptureMax <= 0 ||
		(st != SnapshotStats{Persisted: 1, PersistFailed: 1, Copied: 2, CaptureMax: st.CaptureMax}) {
		t.Errorf("snapshot stats of the FSM that snapshotted: %+v", st)
	}
	if st := g.SnapshotStats(); st != (SnapshotStats{Restored: 1, RestoreFailed: 1}) {
		t.Errorf("snapshot stats of the FSM that restored: %+v", st)
	}

	// Counted without an observer too; the observer hears no more.
	f.SetSnapshotObserver(nil)
	snapshotOf(t, f)
	if st := f.SnapshotStats(); st.Persisted != 2 || len(got) != len(want) {
		t.Errorf("after SetSnapshotObserver(nil): %+v, %d reports", st, len(got))
	}
}
