// Benchmarks of the log store on a real directory, and the test that one WAL
// sync covers the appends of many shards. The benchmarks report, beside
// ns/op and allocations, the WAL syncs per StoreLogs call ("syncs/op") as
// counted by a wrapping file system: a value well under 1 with 16 concurrent
// shards is Pebble's commit pipeline grouping synced commits, which is what
// the store relies on instead of a commit group of its own (docs/adr/0010).
package raftstore

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"
)

func openCountingStore(tb testing.TB) (*Store, *syncCountingFS) {
	tb.Helper()
	fs := &syncCountingFS{FS: vfs.Default}
	st, err := Open(tb.TempDir(), StoreOptions{FS: fs, Logger: testLogger(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return st, fs
}

func benchEntries(n int, dataBytes int) []*raft.Log {
	logs := make([]*raft.Log, n)
	for i := range logs {
		logs[i] = &raft.Log{Term: 1, Type: raft.LogCommand, Data: make([]byte, dataBytes)}
	}
	return logs
}

func BenchmarkStoreLogs(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			st, fs := openCountingStore(b)
			defer st.Close()
			s := st.Shard(0)
			logs := benchEntries(n, 256)
			next := uint64(1)
			b.SetBytes(int64(n * 256))
			b.ReportAllocs()
			b.ResetTimer()
			before := fs.walSyncs.Load()
			for i := 0; i < b.N; i++ {
				for _, l := range logs {
					l.Index = next
					next++
				}
				if err := s.StoreLogs(logs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(fs.walSyncs.Load()-before)/float64(b.N), "syncs/op")
		})
	}
}

// appendConcurrently makes shards goroutines, one per shard, each append
// perShard single-entry batches with StoreLogs, and returns the WAL syncs
// that took.
func appendConcurrently(tb testing.TB, st *Store, fs *syncCountingFS, shards, perShard int) int64 {
	before := fs.walSyncs.Load()
	var wg sync.WaitGroup
	for sh := 0; sh < shards; sh++ {
		wg.Add(1)
		go func(s *ShardStore) {
			defer wg.Done()
			logs := benchEntries(1, 256)
			for i := 1; i <= perShard; i++ {
				logs[0].Index = uint64(i)
				if err := s.StoreLogs(logs); err != nil {
					tb.Error(err)
					return
				}
			}
		}(st.Shard(uint16(sh)))
	}
	wg.Wait()
	return fs.walSyncs.Load() - before
}

// BenchmarkStoreLogsConcurrentShards: one op is one StoreLogs call of one
// entry, made by 16 shard goroutines at once.
func BenchmarkStoreLogsConcurrentShards(b *testing.B) {
	const shards = 16
	st, fs := openCountingStore(b)
	defer st.Close()
	perShard := b.N/shards + 1
	b.ReportAllocs()
	b.ResetTimer()
	syncs := appendConcurrently(b, st, fs, shards, perShard)
	b.ReportMetric(float64(syncs)/float64(shards*perShard), "syncs/op")
}

// TestOneSyncCoversManyShards proves the grouping the design relies on:
// 16 shards appending concurrently, each commit synced, need far fewer WAL
// syncs than commits. A single shard appending serially needs one per commit
// (the control).
func TestOneSyncCoversManyShards(t *testing.T) {
	st, fs := openCountingStore(t)
	defer st.Close()
	const shards, perShard = 16, 40
	serial := appendConcurrently(t, st, fs, 1, perShard)
	if serial < perShard {
		t.Fatalf("serial appends: %d syncs for %d commits; every synced commit must sync", serial, perShard)
	}
	syncs := appendConcurrently(t, st, fs, shards, perShard)
	commits := int64(shards * perShard)
	t.Logf("%d concurrent commits from %d shards took %d WAL syncs (%.2f per commit)",
		commits, shards, syncs, float64(syncs)/float64(commits))
	if syncs*2 > commits {
		t.Fatalf("%d syncs for %d concurrent commits: expected Pebble to group them", syncs, commits)
	}
}
