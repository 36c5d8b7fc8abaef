package raftstore

import (
	"fmt"
	"testing"
)

// TestFeedTail: reads that start within the in-memory tail are served
// without Pebble and give exactly what the FSM reported; reads from before
// it (the tail dropped its oldest chunks) go to Pebble and run on into
// what the tail also holds without a gap or a repeat; after a reopen (an
// empty tail) every read is Pebble's and gives the same events.
func TestFeedTail(t *testing.T) {
	r := openFeedRig(t, nil, t.TempDir(), FeedRetention{})
	defer func() { r.close() }()
	logs := workload(t, 21, 1, 3000)
	want := r.applyAll(21, logs)
	if len(want) < 2*tailMaxEvents {
		t.Fatalf("workload made only %d events, want over %d", len(want), 2*tailMaxEvents)
	}
	r.feed.nmu.Lock()
	tailFrom, tailN := r.feed.tail.from, r.feed.tail.n
	r.feed.nmu.Unlock()
	if tailN > tailMaxEvents+64 || tailN < tailMaxEvents-64 || !(Position{}).Less(tailFrom) {
		t.Fatalf("tail holds %d events from %v, bound %d", tailN, tailFrom, tailMaxEvents)
	}
	first := 0 // want[first] is the tail's oldest event
	for want[first].Position.Less(tailFrom) {
		first++
	}

	disk := r.feed.diskReads.Load()
	for _, page := range []int{1, 7, 1024, 10_000} {
		sameEvents(t, fmt.Sprintf("tail in pages of %d", page), readAll(t, r.feed, tailFrom, page), want[first:])
	}
	for i := first; i < len(want); i += 1 + i%97 {
		sameEvents(t, fmt.Sprintf("tail from %v", want[i].Position), readAll(t, r.feed, want[i].Position, 100), want[i:])
	}
	if n := r.feed.diskReads.Load() - disk; n != 0 {
		t.Fatalf("%d reads within the tail went to Pebble", n)
	}

	// From before the tail: Pebble, then on into the tail's range.
	for _, i := range []int{0, first / 2, first - 1} {
		disk := r.feed.diskReads.Load()
		sameEvents(t, fmt.Sprintf("from %v, before the tail", want[i].Position), readAll(t, r.feed, want[i].Position, 333), want[i:])
		if r.feed.diskReads.Load() == disk {
			t.Fatalf("a read from %v, before the tail's %v, did not go to Pebble", want[i].Position, tailFrom)
		}
	}

	r.reopen()
	disk = r.feed.diskReads.Load()
	sameEvents(t, "after reopen", readAll(t, r.feed, want[first].Position, 500), want[first:])
	if r.feed.diskReads.Load() == disk {
		t.Fatal("after a reopen the tail served events it never held")
	}
	r.applyAll(23, logs) // raft's replay after the restart: recorded already, the tail stays empty
	more := r.applyAll(22, workload(t, 22, 3001, 40))
	disk = r.feed.diskReads.Load()
	sameEvents(t, "new after reopen", readAll(t, r.feed, more[0].Position, 10), more)
	if n := r.feed.diskReads.Load() - disk; n != 0 {
		t.Fatalf("%d reads of events applied after the reopen went to Pebble", n)
	}
}
