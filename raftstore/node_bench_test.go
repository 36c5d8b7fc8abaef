// Benchmarks of the whole write path: Propose → group commit → raft append
// (Pebble, synced) → FSM → engine → result, with many callers at once, as
// the server drives it, on one node and on a 3-node cluster in one process.
// Besides ns/op (per reserve) they report the commands per raft entry the
// proposer achieved, the figure group commit is for.
package raftstore

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

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
	benchReserves(b, s)
}

// BenchmarkClusterProposeReserve is the same on the leader of a 3-node
// cluster: each entry is also appended and synced on the followers.
func BenchmarkClusterProposeReserve(b *testing.B) {
	c := newTestClusterWith(b, 3, 1, func(_ int, o *Options) {
		// Three nodes on a loaded machine: timeouts that load alone does
		// not trip, or the benchmark measures elections.
		o.HeartbeatTimeout, o.ElectionTimeout, o.LeaderLeaseTimeout = 2*time.Second, 2*time.Second, time.Second
	})
	s := c.leader(0).Shard(0)
	do(b, s, putItem("A", "S1", engine.MaxStock))
	benchReserves(b, s)
}

// benchReserves runs b.N reserves through s from many callers at once.
func benchReserves(b *testing.B, s *Shard) {

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
