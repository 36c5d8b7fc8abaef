// Benchmark of the whole write path on one node: Propose → group commit →
// raft append (Pebble, synced) → FSM → engine → result, with many callers at
// once, as the server drives it. Besides ns/op (per reserve) it reports the
// commands per raft entry the proposer achieved, the figure group commit is
// for.
package raftstore

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/invsys/inv/engine"
)

func BenchmarkProposeReserve(b *testing.B) {
	o := testNodeOptions(b, b.TempDir())
	o.Shards = 1
	n := openTestNode(b, o)
	defer n.Close()
	waitLeaderOf(b, n)
	s := n.Shard(0)
	do(b, s, putItem("A", "S1", engine.MaxStock))

	var seq atomic.Int64
	b.SetParallelism(64) // 64 × GOMAXPROCS callers, each with one request outstanding
	b.ReportAllocs()
	before := s.ProposerStats()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		done := make(chan error, 1)
		for pb.Next() {
			cmd := reserve("A", "S1", fmt.Sprint("c", seq.Add(1)%50000), 1)
			cmd.TTL = engine.DefaultHoldTTL
			err := s.Propose(cmd, func(r engine.Result, err error) {
				if err == nil && r.Code != engine.OK && r.Code != engine.CodeSoldOut {
					err = fmt.Errorf("reserve: %v", r.Code)
				}
				done <- err
			})
			if err == nil {
				err = <-done
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	after := s.ProposerStats()
	if entries := after.Entries - before.Entries; entries > 0 {
		b.ReportMetric(float64(after.Commands-before.Commands)/float64(entries), "cmds/entry")
	}
}
