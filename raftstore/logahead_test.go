package raftstore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// aheadHeld is the entries a shard's views hold read ahead, by index.
func aheadHeld(s *ShardStore) []uint64 {
	a := &s.first.ahead
	a.mu.Lock()
	defer a.mu.Unlock()
	var idx []uint64
	for _, l := range a.buf {
		idx = append(idx, l.Index)
	}
	return idx
}

// TestGetLogReadsAhead: the second of two GetLogs in order reads the
// entries after it with one iterator and the calls after it are answered
// from them, the same entries a point read gives; a read out of order
// drops them and reads alone.
func TestGetLogReadsAhead(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(2)
	storeRange(t, s, 1, 200, 3)
	storeRange(t, st.Shard(3), 1, 200, 4) // another shard's entries beside

	wantLog(t, s, 10, 3)
	if held := aheadHeld(s); len(held) != 0 {
		t.Fatalf("one read holds %v ahead, want none", held)
	}
	wantLog(t, s, 11, 3)
	held := aheadHeld(s)
	if len(held) != aheadEntries-1 || held[0] != 12 || held[len(held)-1] != 11+aheadEntries-1 {
		t.Fatalf("after two reads in order: ahead %v, want 12..%d", held, 11+aheadEntries-1)
	}
	// Another view of the shard is answered from them too.
	wantLog(t, st.Shard(2), 12, 3)
	if held := aheadHeld(s); len(held) != aheadEntries-2 || held[0] != 13 {
		t.Fatalf("after another view's read: ahead %v, want 13..", held)
	}
	for i := uint64(13); i <= 200; i++ {
		wantLog(t, s, i, 3)
	}
	wantNoLog(t, s, 201) // past the end
	wantLog(t, s, 50, 3) // out of order: a point read
	if held := aheadHeld(s); len(held) != 0 {
		t.Fatalf("after a read out of order: ahead %v, want none", held)
	}
	// The other shard's entries are its own.
	wantLog(t, st.Shard(3), 51, 4)
	wantLog(t, st.Shard(3), 52, 4)
	wantLog(t, st.Shard(3), 53, 4)
}

// TestReadAheadStopsAtTheEndAndAtAGap: entries are read ahead only as far
// as they run without a gap, and the last entry of the log is served.
func TestReadAheadStopsAtTheEndAndAtAGap(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(1)
	storeRange(t, s, 1, 20, 2)
	wantLog(t, s, 15, 2)
	wantLog(t, s, 16, 2)
	if held := aheadHeld(s); len(held) != 4 || held[3] != 20 {
		t.Fatalf("ahead %v, want 17..20", held)
	}
	for i := uint64(17); i <= 20; i++ {
		wantLog(t, s, i, 2)
	}
	wantNoLog(t, s, 21)

	ents, err := s.readAhead(5)
	if err != nil || len(ents) != 16 || ents[0].Index != 5 || ents[15].Index != 20 {
		t.Fatalf("readAhead(5): %d entries (%v), want 5..20", len(ents), err)
	}
	if ents, err := s.readAhead(21); err != nil || len(ents) != 0 {
		t.Fatalf("readAhead past the end: %d entries, %v", len(ents), err)
	}
	// A hole: the entries stop before it.
	if err := st.DB().Delete(appendLogKey(nil, 1, 9), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if ents, err := s.readAhead(5); err != nil || len(ents) != 4 || ents[3].Index != 8 {
		t.Fatalf("readAhead(5) over a hole at 9: %d entries (%v), want 5..8", len(ents), err)
	}
}

// TestReadAheadBoundedByBytes: large entries are read ahead up to
// aheadBytes, at least one.
func TestReadAheadBoundedByBytes(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(1)
	var logs []*raft.Log
	for i := uint64(1); i <= 10; i++ {
		l := testLog(i, 1)
		l.Data = bytes.Repeat([]byte{byte(i)}, aheadBytes/3)
		logs = append(logs, l)
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	ents, err := s.readAhead(1)
	if err != nil || len(ents) != 3 {
		t.Fatalf("readAhead of entries of a third of aheadBytes: %d entries (%v), want 3", len(ents), err)
	}
	var got raft.Log
	for i := uint64(1); i <= 10; i++ {
		if err := s.GetLog(i, &got); err != nil || len(got.Data) != aheadBytes/3 || got.Data[0] != byte(i) {
			t.Fatalf("GetLog(%d): %d bytes (%v)", i, len(got.Data), err)
		}
	}
}

// TestReadAheadDroppedByChanges: a follower replaces a conflicting suffix
// by deleting it and appending the leader's entries; entries read ahead
// before must not answer for the new ones. An append past them keeps them.
func TestReadAheadDroppedByChanges(t *testing.T) {
	st := openTestStore(t, t.TempDir())
	defer st.Close()
	s := st.Shard(1)
	storeRange(t, s, 1, 100, 2)
	wantLog(t, s, 40, 2)
	wantLog(t, s, 41, 2)
	if len(aheadHeld(s)) == 0 {
		t.Fatal("nothing read ahead")
	}
	storeRange(t, s, 101, 110, 2) // past what is held: kept
	if held := aheadHeld(s); len(held) == 0 || held[0] != 42 {
		t.Fatalf("an append past the entries read ahead dropped them: %v", held)
	}
	if err := s.DeleteRange(60, 110); err != nil {
		t.Fatal(err)
	}
	if held := aheadHeld(s); len(held) != 0 {
		t.Fatalf("a deletion left %v read ahead", held)
	}
	storeRange(t, s, 60, 90, 5) // the new leader's entries, another term
	for i := uint64(42); i < 60; i++ {
		wantLog(t, s, i, 2)
	}
	for i := uint64(60); i <= 90; i++ {
		wantLog(t, s, i, 5)
	}
	wantNoLog(t, s, 91)

	// An overwrite of entries held (without a deletion before it) drops
	// them as well.
	wantLog(t, s, 10, 2)
	wantLog(t, s, 11, 2)
	storeRange(t, s, 30, 35, 6)
	if held := aheadHeld(s); len(held) != 0 {
		t.Fatalf("an append over entries held left %v", held)
	}
	wantLog(t, s, 30, 6)

	// A read ahead that an append past its range ran beside (a leader's
	// new entries while it reads old ones for a follower) is kept.
	a := &s.first.ahead
	begin := func(index uint64) uint64 {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.begin(index)
	}
	token := begin(12)
	ents, err := s.readAhead(12)
	if err != nil || len(ents) == 0 {
		t.Fatal(err)
	}
	storeRange(t, s, 91, 95, 5)
	a.keep(token, ents)
	if held := aheadHeld(s); len(held) != len(ents) || held[0] != 12 {
		t.Fatalf("a read beside an append past it: held %v, want %d entries from 12", held, len(ents))
	}
	a.changed(0)

	// A read ahead that a change overtook is not kept.
	token = begin(12)
	ents, err = s.readAhead(12)
	if err != nil || len(ents) == 0 {
		t.Fatal(err)
	}
	if err := s.DeleteRange(1, 5); err != nil {
		t.Fatal(err)
	}
	a.keep(token, ents)
	if held := aheadHeld(s); len(held) != 0 {
		t.Fatalf("a read overtaken by a deletion was kept: %v", held)
	}
	var l raft.Log
	if err := s.GetLog(4, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog(4) after the deletion: %v", err)
	}
}
