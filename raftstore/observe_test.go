// The apply observer, driven directly with raft.Log values: after each
// ApplyBatch round it is told the commands of every command entry, in
// order (configuration entries are not counted), and the round's duration;
// rounds are reported separately; and a nil observer stops the reports.
package raftstore

import (
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
