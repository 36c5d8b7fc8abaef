// What this file proves: a shard's first log index, kept in memory
// (logfirst.go), always equals the first key Pebble holds in the shard's
// log range, through appends to an empty log, compactions (prefix
// deletes), truncations (suffix deletes) and a delete of everything, seen
// through two views of the same shard while a third shard's log changes
// beside it; and that once known it is served from memory, without a
// Pebble iterator: a log key written straight into Pebble, past the store,
// is not seen until the log's first entry changes through the store.
//
// How: random operations on two shards of a store in a temporary folder,
// each followed by a comparison of FirstIndex through every view with a
// fresh read of Pebble (edgeIndex).
package raftstore

import (
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func TestLogFirstIndexFollowsTheLog(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	a, b, other := st.Shard(1), st.Shard(1), st.Shard(2)
	r := rand.New(rand.NewPCG(5, 6))
	var first, last uint64 // the log of shard 1, as the operations leave it
	for step := 0; step < 400; step++ {
		view := a
		if r.IntN(2) == 0 {
			view = b
		}
		switch k := r.IntN(10); {
		case k < 5 || last == 0: // append
			n := 1 + uint64(r.IntN(5))
			storeRange(t, view, last+1, last+n, 1)
			if first == 0 {
				first = last + 1
			}
			last += n
		case k < 8: // compact a prefix
			upTo := first + uint64(r.IntN(int(last-first+1)))
			if err := view.DeleteRange(first, upTo); err != nil {
				t.Fatal(err)
			}
			first = upTo + 1
		case k < 9: // truncate a suffix
			from := first + uint64(r.IntN(int(last-first+1)))
			if err := view.DeleteRange(from, last); err != nil {
				t.Fatal(err)
			}
			last = from - 1
		default: // everything
			if err := view.DeleteRange(first, ^uint64(0)); err != nil {
				t.Fatal(err)
			}
			last = 0
		}
		if first > last {
			first, last = 0, 0 // empty: appends start again after the old end
		}
		storeRange(t, other, uint64(step)+1, uint64(step)+1, 1)
		fresh, err := a.edgeIndex(true)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range []*ShardStore{a, b, st.Shard(1)} {
			if got, err := v.FirstIndex(); err != nil || got != fresh || got != first {
				t.Fatalf("step %d, view %d: FirstIndex %d (%v), Pebble %d, the log's %d", step, i, got, err, fresh, first)
			}
		}
	}
}

func TestLogFirstIndexServedFromMemory(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	s := st.Shard(3)
	storeRange(t, s, 10, 20, 1)
	if got, _ := s.FirstIndex(); got != 10 {
		t.Fatalf("FirstIndex %d, want 10", got)
	}
	// Behind the store's back: a key below the first.
	if err := st.DB().Set(appendLogKey(nil, 3, 5), appendLog(nil, testLog(5, 1)), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FirstIndex(); got != 10 {
		t.Fatalf("FirstIndex %d after a write past the store: it read Pebble, want the kept 10", got)
	}
	if err := s.DeleteRange(5, 12); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FirstIndex(); got != 13 {
		t.Fatalf("FirstIndex %d after a compaction, want 13", got)
	}
}
