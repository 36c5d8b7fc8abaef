// Tests of ShardStore against the behaviour hashicorp/raft expects of a
// LogStore and StableStore (the same cases raft-boltdb and raft's InmemStore
// are held to): empty store, store and get, first/last index, range deletes
// at the front (compaction), the back (conflict truncation) and everywhere,
// ErrLogNotFound for missing entries, and stable values with "not set"
// reading as nil/0. Beyond that they prove that shards sharing one Pebble
// never see each other's keys, and that everything survives close and reopen.
// All run on a real Pebble directory under t.TempDir().
package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

func openTestStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, StoreOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testLog(index, term uint64) *raft.Log {
	return &raft.Log{
		Index: index, Term: term, Type: raft.LogCommand,
		Data:       []byte(fmt.Sprintf("entry-%d", index)),
		AppendedAt: time.Unix(0, int64(index)*1000),
	}
}

func storeRange(t testing.TB, s *ShardStore, from, to, term uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := from; i <= to; i++ {
		logs = append(logs, testLog(i, term))
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
}

func wantIndexes(t testing.TB, s *ShardStore, first, last uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	if f != first || l != last {
		t.Fatalf("shard %d: first/last = %d/%d, want %d/%d", s.ShardID(), f, l, first, last)
	}
}

func wantLog(t testing.TB, s *ShardStore, index, term uint64) {
	t.Helper()
	var got raft.Log
	if err := s.GetLog(index, &got); err != nil {
		t.Fatalf("shard %d: GetLog(%d): %v", s.ShardID(), index, err)
	}
	if want := testLog(index, term); !logsEqual(&got, want) {
		t.Fatalf("shard %d: GetLog(%d) = %+v, want %+v", s.ShardID(), index, got, want)
	}
}

func wantNoLog(t testing.TB, s *ShardStore, index uint64) {
	t.Helper()
	var got raft.Log
	if err := s.GetLog(index, &got); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("shard %d: GetLog(%d) err = %v, want ErrLogNotFound", s.ShardID(), index, err)
	}
}

func TestLogStoreEmpty(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(3)
	wantIndexes(t, s, 0, 0)
	wantNoLog(t, s, 1)
	wantNoLog(t, s, 0)
	if err := s.DeleteRange(1, 100); err != nil { // deleting nothing is fine
		t.Fatal(err)
	}
	if err := s.StoreLogs(nil); err != nil {
		t.Fatal(err)
	}
	wantIndexes(t, s, 0, 0)
}

func TestLogStoreStoreAndGet(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(0)
	if err := s.StoreLog(testLog(1, 1)); err != nil {
		t.Fatal(err)
	}
	storeRange(t, s, 2, 10, 2)
	wantIndexes(t, s, 1, 10)
	wantLog(t, s, 1, 1)
	for i := uint64(2); i <= 10; i++ {
		wantLog(t, s, i, 2)
	}
	wantNoLog(t, s, 11)
	// Overwriting an index (a follower replacing a conflicting suffix) wins.
	storeRange(t, s, 9, 12, 5)
	wantLog(t, s, 8, 2)
	wantLog(t, s, 9, 5)
	wantIndexes(t, s, 1, 12)
	// Large entries and every field survive.
	big := &raft.Log{Index: 13, Term: 5, Type: raft.LogConfiguration,
		Data: bytes.Repeat([]byte("x"), 1<<20), Extensions: []byte("ext")}
	if err := s.StoreLog(big); err != nil {
		t.Fatal(err)
	}
	var got raft.Log
	if err := s.GetLog(13, &got); err != nil || !logsEqual(&got, big) {
		t.Fatalf("big entry: %v", err)
	}
}

func TestLogStoreDeleteRange(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(1)
	storeRange(t, s, 1, 100, 1)

	// Compaction after a snapshot removes a prefix.
	if err := s.DeleteRange(1, 40); err != nil {
		t.Fatal(err)
	}
	wantIndexes(t, s, 41, 100)
	wantNoLog(t, s, 40)
	wantLog(t, s, 41, 1)

	// A follower drops a conflicting suffix.
	if err := s.DeleteRange(90, 100); err != nil {
		t.Fatal(err)
	}
	wantIndexes(t, s, 41, 89)
	wantNoLog(t, s, 90)

	// A range reaching past the end, up to the largest index.
	if err := s.DeleteRange(80, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	wantIndexes(t, s, 41, 79)

	// min > max deletes nothing.
	if err := s.DeleteRange(60, 50); err != nil {
		t.Fatal(err)
	}
	wantIndexes(t, s, 41, 79)

	// Everything (what raft does after installing a snapshot on a monotonic store).
	if err := s.DeleteRange(41, 79); err != nil {
		t.Fatal(err)
	}
	wantIndexes(t, s, 0, 0)

	// Appending after a full delete starts where the snapshot left off.
	storeRange(t, s, 500, 510, 3)
	wantIndexes(t, s, 500, 510)
	if !s.IsMonotonic() {
		t.Fatal("store must declare itself monotonic")
	}
}

func TestStableStore(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(2)

	if v, err := s.Get([]byte("CurrentTerm")); err != nil || v != nil {
		t.Fatalf("unset Get = %q, %v; want nil, nil", v, err)
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 0 {
		t.Fatalf("unset GetUint64 = %d, %v; want 0, nil", v, err)
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("node-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 1<<40+7); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get([]byte("LastVoteCand")); string(v) != "node-2" {
		t.Fatalf("Get = %q", v)
	}
	if v, _ := s.GetUint64([]byte("CurrentTerm")); v != 1<<40+7 {
		t.Fatalf("GetUint64 = %d", v)
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("node-3")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get([]byte("LastVoteCand")); string(v) != "node-3" {
		t.Fatalf("overwrite: Get = %q", v)
	}
	if _, err := s.GetUint64([]byte("LastVoteCand")); err == nil {
		t.Fatal("GetUint64 of a 6-byte value must fail")
	}
	if err := s.Set(bytes.Repeat([]byte("k"), maxStableKey+1), nil); err == nil {
		t.Fatal("oversized stable key accepted")
	}
	// Stable keys never show up as logs of the same shard.
	wantIndexes(t, s, 0, 0)
}

func TestShardsDoNotSeeEachOther(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	a, b, last := st.Shard(0), st.Shard(1), st.Shard(0xFFFF)
	storeRange(t, a, 1, 10, 1)
	storeRange(t, b, 5, 7, 2)
	storeRange(t, last, 100, 101, 3)
	wantIndexes(t, a, 1, 10)
	wantIndexes(t, b, 5, 7)
	wantIndexes(t, last, 100, 101)
	wantIndexes(t, st.Shard(2), 0, 0)
	wantNoLog(t, b, 1)
	wantNoLog(t, a, 100)

	// A full-range delete on one shard (including the edge shard, whose
	// range ends at the next tag) leaves the others alone.
	if err := last.DeleteRange(0, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteRange(0, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	wantIndexes(t, a, 0, 0)
	wantIndexes(t, last, 0, 0)
	wantIndexes(t, b, 5, 7)

	if err := a.SetUint64([]byte("CurrentTerm"), 4); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.GetUint64([]byte("CurrentTerm")); v != 0 {
		t.Fatalf("shard 1 sees shard 0's term %d", v)
	}
}

func TestStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	st := openTestStore(t, dir)
	storeRange(t, st.Shard(0), 1, 50, 1)
	storeRange(t, st.Shard(9), 1, 5, 4)
	if err := st.Shard(0).DeleteRange(1, 20); err != nil {
		t.Fatal(err)
	}
	if err := st.Shard(9).SetUint64([]byte("CurrentTerm"), 4); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openTestStore(t, dir)
	defer st.Close()
	wantIndexes(t, st.Shard(0), 21, 50)
	wantIndexes(t, st.Shard(9), 1, 5)
	wantLog(t, st.Shard(0), 21, 1)
	wantLog(t, st.Shard(9), 5, 4)
	if v, _ := st.Shard(9).GetUint64([]byte("CurrentTerm")); v != 4 {
		t.Fatalf("term after reopen = %d", v)
	}
}

// TestLogStoreScanLogs: ScanLogs reads a range in order, each entry as
// GetLog reads it, within its own shard; an entry missing at the range's
// start, inside it (a hole in the key space) or at its end is
// raft.ErrLogNotFound; fn's error stops the scan.
func TestLogStoreScanLogs(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(2)
	storeRange(t, s, 1, 50, 3)
	storeRange(t, st.Shard(3), 1, 80, 4) // another shard's entries beside
	if err := s.DeleteRange(1, 9); err != nil {
		t.Fatal(err)
	}
	scan := func(first, last uint64) ([]uint64, error) {
		var got []uint64
		err := s.ScanLogs(first, last, func(l *raft.Log) error {
			var want raft.Log
			if err := s.GetLog(l.Index, &want); err != nil || !logsEqual(l, &want) {
				t.Fatalf("scan gives %+v for %d, GetLog %+v (%v)", l, l.Index, want, err)
			}
			got = append(got, l.Index)
			return nil
		})
		return got, err
	}
	got, err := scan(10, 50)
	if err != nil || len(got) != 41 || got[0] != 10 || got[40] != 50 {
		t.Fatalf("scan 10..50: %v %v", got, err)
	}
	if got, err := scan(20, 19); err != nil || len(got) != 0 {
		t.Fatalf("an empty range: %v %v", got, err)
	}
	for _, c := range []struct {
		first, last uint64
		name        string
	}{{5, 20, "start deleted"}, {40, 51, "past the end"}} {
		if _, err := scan(c.first, c.last); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("%s: %v, want ErrLogNotFound", c.name, err)
		}
	}
	// A hole inside the range.
	var kb [logKeyLen]byte
	if err := st.DB().Delete(appendLogKey(kb[:0], 2, 30), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if got, err := scan(25, 35); !errors.Is(err, raft.ErrLogNotFound) || len(got) != 5 {
		t.Fatalf("a hole at 30: %v %v, want 25..29 then ErrLogNotFound", got, err)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.ScanLogs(10, 20, func(*raft.Log) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("fn's error: %v after %d entries", err, n)
	}
}
