package raftstore

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// toPerEventKeys rewrites every entry key of shard 3 ('g') as the per-event
// keys ('e') a folder written before docs/adr/0125 holds, the feed state
// left as it is: what such a folder looks like.
func (r *feedRig) toPerEventKeys() {
	r.t.Helper()
	db := r.store.DB()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: shardPrefix(prefixEntryEvs, 3), UpperBound: shardPrefixEnd(prefixEntryEvs, 3)})
	if err != nil {
		r.t.Fatal(err)
	}
	b := db.NewBatch()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		index, ok := entryEventsKeyIndex(it.Key())
		if !ok {
			r.t.Fatalf("key %x", it.Key())
		}
		evs, err := openEntryEvents(it.Value())
		if err != nil {
			r.t.Fatal(err)
		}
		for o := uint32(0); ; o++ {
			v, ok := evs.next()
			if !ok {
				break
			}
			if err := b.Set(appendEventKey(nil, 3, Position{Index: index, Ordinal: o}), v, nil); err != nil {
				r.t.Fatal(err)
			}
			n++
		}
		if evs.err != nil {
			r.t.Fatal(evs.err)
		}
	}
	if err := it.Close(); err != nil {
		r.t.Fatal(err)
	}
	if err := b.DeleteRange(shardPrefix(prefixEntryEvs, 3), shardPrefixEnd(prefixEntryEvs, 3), nil); err != nil {
		r.t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		r.t.Fatal(err)
	}
	if n == 0 {
		r.t.Fatal("no events to rewrite")
	}
}

// TestFeedReadsPerEventKeys: a folder whose older events are one key each
// (written before docs/adr/0125) is read, from any position, on into the
// events written after the upgrade one entry a key, without a gap or a
// repeat, before and after a reopen; its end and count survive the
// upgrade; retention prunes across the two forms, entry by entry, and
// once no per-event key is left the feed stops looking for them.
func TestFeedReadsPerEventKeys(t *testing.T) {
	r := openFeedRig(t, nil, t.TempDir(), FeedRetention{})
	defer func() { r.close() }()
	logs := workload(t, 31, 1, 200)
	old := r.applyAll(31, logs)
	r.toPerEventKeys()
	r.reopen() // the upgrade: a new binary opens the older folder
	if !r.feed.legacy.Load() {
		t.Fatal("the feed did not find the per-event keys")
	}
	if r.feed.End() != old[len(old)-1].Next() || r.feed.Count() != int64(len(old)) {
		t.Fatalf("after the upgrade: end %v count %d, want %v %d", r.feed.End(), r.feed.Count(), old[len(old)-1].Next(), len(old))
	}
	r.applyAll(35, logs) // raft's replay after the restart: recorded already
	more := r.applyAll(32, workload(t, 32, 201, 200))
	if len(more) < 100 {
		t.Fatalf("the entries after the upgrade made only %d events", len(more))
	}
	want := append(append([]FeedEvent(nil), old...), more...)
	check := func(what string) {
		t.Helper()
		for _, page := range []int{1, 7, 100, 10_000} {
			sameEvents(t, fmt.Sprintf("%s: pages of %d", what, page), readAll(t, r.feed, Position{}, page), want)
		}
		for i := 0; i < len(want); i += 1 + i%29 {
			sameEvents(t, fmt.Sprintf("%s: from %v", what, want[i].Position), readAll(t, r.feed, want[i].Position, 37), want[i:])
		}
	}
	check("after the upgrade")
	r.reopen() // now an empty tail: every read is Pebble's
	check("after a reopen")

	// Retention across the two forms: first part of the older events,
	// then all of them and part of the newer.
	for _, keep := range []int64{int64(len(want)) - int64(len(old))/2, int64(len(more)) / 2} {
		r.ret = FeedRetention{MaxEvents: keep}
		r.reopen()
		r.applyAll(36, logs) // the replay again, as after every restart
		if _, err := r.feed.Prune(); err != nil {
			t.Fatal(err)
		}
		n := int(r.feed.Count())
		if n > int(keep) || n < int(keep)-16 {
			t.Fatalf("kept %d events, bound %d", n, keep)
		}
		kept := want[len(want)-n:]
		if kept[0].Ordinal != 0 {
			t.Fatalf("pruned part of entry %d", kept[0].Index)
		}
		checkPruned(t, r.feed, want[len(want)-n-1].Position, kept)
		stillOld := kept[0].Index <= old[len(old)-1].Index
		if r.feed.legacy.Load() != stillOld {
			t.Fatalf("per-event keys looked for: %v, older events kept: %v", r.feed.legacy.Load(), stillOld)
		}
		want = kept
	}
	r.reopen()
	if r.feed.legacy.Load() {
		t.Fatal("a reopen found per-event keys the prune removed")
	}
	sameEvents(t, "after the prunes and a reopen", readAll(t, r.feed, want[0].Position, 50), want)
}

// TestFeedResetRemovesPerEventKeys: a snapshot the feed has no events for
// removes the older per-event keys with the rest.
func TestFeedResetRemovesPerEventKeys(t *testing.T) {
	r := openFeedRig(t, nil, t.TempDir(), FeedRetention{})
	defer func() { r.close() }()
	old := r.applyAll(33, workload(t, 33, 1, 50))
	r.toPerEventKeys()
	if len(old) == 0 {
		t.Fatal("no events")
	}
	r.reopen()
	last := old[len(old)-1].Position
	r.feed.restored(last.Index + 10)
	if r.feed.legacy.Load() {
		t.Fatal("still looking for per-event keys after a reset")
	}
	it, err := r.store.DB().NewIter(&pebble.IterOptions{LowerBound: shardPrefix(prefixEvent, 3), UpperBound: shardPrefixEnd(prefixEntryEvs, 3)})
	if err != nil {
		t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if k := it.Key(); k[0] == prefixEvent || k[0] == prefixEntryEvs {
			t.Fatalf("key %x left by the reset", k)
		}
	}
	_ = it.Close()
	r.reopen()
	if r.feed.Oldest() != (Position{Index: last.Index + 11}) || r.feed.Count() != 0 {
		t.Fatalf("after the reset and a reopen: oldest %v count %d", r.feed.Oldest(), r.feed.Count())
	}
}
