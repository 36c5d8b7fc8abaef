// Benchmarks of the change feed's cost on the apply path and of reading it
// back. BenchmarkFSMApplyFeed applies entries of 1024 reserves (one event
// each) through the FSM with and without a feed on a real Pebble store, so
// the difference per reserve is what recording the feed adds to the FSM
// goroutine; BenchmarkFeedRead reads the stored events in pages of 256.
// They prove nothing by themselves; they measure.
package raftstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

const benchEntryCommands = 1024

func feedBenchEntries(b *testing.B, n int) []*raft.Log {
	logs := []*raft.Log{entryLog(b, 1, t0, putItem("4710088432018", "S0231", engine.MaxStock))}
	for i := 0; len(logs) < n+1; i++ {
		cmds := make([]engine.Command, benchEntryCommands)
		for j := range cmds {
			cmds[j] = reserve("4710088432018", "S0231", fmt.Sprintf("member-%d-%d", i, j), 1)
		}
		logs = append(logs, entryLog(b, uint64(len(logs)+1), t0, cmds...))
	}
	return logs
}

func BenchmarkFSMApplyFeed(b *testing.B) {
	for _, withFeed := range []bool{false, true} {
		b.Run(fmt.Sprintf("feed=%v", withFeed), func(b *testing.B) {
			logs := feedBenchEntries(b, b.N)
			store, err := Open(b.TempDir(), StoreOptions{Logger: testLogger(b)})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			cfg := FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(b)}
			if withFeed {
				if cfg.Feed, err = openFeed(store.DB(), 1, FeedRetention{}, testLogger(b)); err != nil {
					b.Fatal(err)
				}
				defer cfg.Feed.close()
			}
			f := NewFSM(cfg)
			f.Apply(logs[0])
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				f.ApplyBatch(logs[i : i+1])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntryCommands), "ns/reserve")
		})
	}
}

func BenchmarkFeedRead(b *testing.B) {
	store, err := Open(b.TempDir(), StoreOptions{Logger: testLogger(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	feed, err := openFeed(store.DB(), 1, FeedRetention{}, testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer feed.close()
	f := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Feed: feed, Logger: testLogger(b)})
	f.ApplyBatch(feedBenchEntries(b, 64))
	buf := make([]FeedEvent, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	pos, read := Position{}, 0
	for i := 0; i < b.N; i++ {
		evs, next, err := feed.ReadEvents(pos, 256, buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		if len(evs) == 0 {
			next = Position{}
		}
		pos, read = next, read+len(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(read, 1)), "ns/event")
}

// BenchmarkFeedFollow is a consumer that keeps up with a busy shard: after
// each applied entry of 8 reserves it reads the feed from where it stopped,
// on a store whose older events were flushed to tables. ns/read is the
// read alone, what the pages' follower and a SUBSCRIBE pay per commit.
func BenchmarkFeedFollow(b *testing.B) {
	store, err := Open(b.TempDir(), StoreOptions{Logger: testLogger(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	feed, err := openFeed(store.DB(), 1, FeedRetention{}, testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer feed.close()
	f := NewFSM(FSMConfig{Shard: 1, Engine: testEngineConfig(), Logger: testLogger(b), Feed: feed})
	old := feedBenchEntries(b, 64)
	f.ApplyBatch(old)
	if err := store.DB().Flush(); err != nil {
		b.Fatal(err)
	}
	logs := make([]*raft.Log, b.N)
	for i := range logs {
		cmds := make([]engine.Command, 8)
		for j := range cmds {
			cmds[j] = reserve("4710088432018", "S0231", fmt.Sprintf("follow-%d-%d", i, j), 1)
		}
		logs[i] = entryLog(b, uint64(len(old)+1+i), t0, cmds...)
	}
	buf := make([]FeedEvent, 0, 1024)
	pos := feed.End()
	var reading time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := range logs {
		f.ApplyBatch(logs[i : i+1])
		start := time.Now()
		evs, next, err := feed.ReadEvents(pos, 1024, buf[:0])
		reading += time.Since(start)
		if err != nil || len(evs) != 8 {
			b.Fatalf("read %d events from %v: %v", len(evs), pos, err)
		}
		pos = next
	}
	b.ReportMetric(float64(reading.Nanoseconds())/float64(b.N), "ns/read")
}
