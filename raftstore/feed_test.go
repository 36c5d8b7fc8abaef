// Tests of the durable change feed (feed.go) driven through the FSM with
// raft.Log values (no raft group), on real Pebble stores: on disk in
// t.TempDir(), or on Pebble's crashable in-memory file system where a crash
// keeps exactly what was synced. The expected feed is always what the FSM's
// ApplyResponses reported, position by position. They prove that:
//   - every event of every applied entry is stored and read back in order,
//     in pages of any size, and that reading from any position (each one in
//     turn) returns exactly the events from there on;
//   - re-applying entries already recorded (the replay after a restart)
//     writes nothing twice, and later entries continue the feed;
//   - after a crash the feed still holds every event up to the last
//     persisted snapshot (the WAL sync before Persist), and replaying the
//     log after it completes the feed exactly; without that sync the feed
//     would restart after the snapshot and say so, never serve a hole;
//   - installing a snapshot the feed has no events for restarts the feed
//     after it: older positions fail with *EventsPrunedError, waiters wake;
//   - retention by log age and by event count prunes whole entries, oldest
//     first, the floor survives a reopen, a read from before it fails with
//     a clear error naming the oldest position, and a consumer that had read
//     everything pruned resumes without error;
//   - WaitEvents blocks until an apply stores an event at or after its
//     position and returns the context's error or ErrClosed otherwise;
//   - recording syncs nothing, and the pre-snapshot sync is one WAL sync.
package raftstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// feedRig is one shard's FSM writing its feed into a real store.
type feedRig struct {
	t     testing.TB
	fs    vfs.FS
	dir   string
	ret   FeedRetention
	store *Store
	feed  *Feed
	fsm   *FSM
}

func openFeedRig(t testing.TB, fs vfs.FS, dir string, ret FeedRetention) *feedRig {
	t.Helper()
	r := &feedRig{t: t, fs: fs, dir: dir, ret: ret}
	r.open()
	return r
}

func (r *feedRig) open() {
	r.t.Helper()
	var err error
	if r.store, err = Open(r.dir, StoreOptions{FS: r.fs, Logger: testLogger(r.t)}); err != nil {
		r.t.Fatal(err)
	}
	if r.feed, err = openFeed(r.store.DB(), 3, r.ret, testLogger(r.t)); err != nil {
		r.t.Fatal(err)
	}
	r.fsm = NewFSM(FSMConfig{Shard: 3, Engine: testEngineConfig(), Feed: r.feed, Logger: testLogger(r.t)})
}

func (r *feedRig) close() {
	r.t.Helper()
	r.feed.close()
	if err := r.store.Close(); err != nil {
		r.t.Fatal(err)
	}
}

// reopen closes and opens the store again: a clean restart.
func (r *feedRig) reopen() { r.close(); r.open() }

// workload makes n entries from index first on, one minute of log time
// apart, of mixed sizes: some make several events, some none (refusals,
// reads, configuration entries).
func workload(t testing.TB, seed uint64, first uint64, n int) []*raft.Log {
	rnd := rand.New(rand.NewPCG(seed, 7))
	var logs []*raft.Log
	for i := 0; i < n; i++ {
		index := first + uint64(i)
		at := t0 + int64(index)*int64(time.Minute)
		var cmds []engine.Command
		switch k := rnd.IntN(10); {
		case index == 1:
			cmds = append(cmds, putItem("A", "S1", 1_000_000), putItem("B", "S1", 2))
		case k == 0:
			logs = append(logs, &raft.Log{Index: index, Term: 1, Type: raft.LogConfiguration})
			continue
		case k == 1:
			cmds = append(cmds, engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")})
		case k == 2:
			cmds = append(cmds, reserve("B", "S1", "late", 5)) // more than B ever has: refused, no event
		default:
			for j := 0; j <= rnd.IntN(6); j++ {
				cmds = append(cmds, reserve("A", "S1", fmt.Sprintf("c%d-%d", index, j), 1))
			}
			if k == 9 {
				cmds = append(cmds, engine.Command{Op: engine.OpRestock, SKU: []byte("A"), Store: []byte("S1"), Qty: 3})
			}
		}
		logs = append(logs, entryLog(t, index, at, cmds...))
	}
	return logs
}

// applyAll applies logs in ApplyBatch calls of random sizes and returns the
// events the FSM reported, with their positions.
func (r *feedRig) applyAll(seed uint64, logs []*raft.Log) []FeedEvent {
	r.t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 9))
	var want []FeedEvent
	for len(logs) > 0 {
		k := min(len(logs), 1+rnd.IntN(8))
		for _, out := range r.fsm.ApplyBatch(logs[:k]) {
			if resp, ok := out.(*ApplyResponse); ok {
				if resp.Err != nil {
					r.t.Fatal(resp.Err)
				}
				for i, e := range resp.Events {
					want = append(want, FeedEvent{Position: Position{resp.Index, uint32(i)}, Event: e})
				}
			}
		}
		logs = logs[k:]
	}
	return want
}

// readAll reads the feed from from to its end in pages of page events.
func readAll(t testing.TB, f *Feed, from Position, page int) []FeedEvent {
	t.Helper()
	var got []FeedEvent
	for {
		n := len(got)
		var next Position
		var err error
		got, next, err = f.ReadEvents(from, page, got)
		if err != nil {
			t.Fatalf("read from %v: %v", from, err)
		}
		if len(got) == n {
			if next != from {
				t.Fatalf("empty read from %v moved next to %v", from, next)
			}
			return got
		}
		if want := got[len(got)-1].Position.Next(); next != want {
			t.Fatalf("read from %v: next %v, want %v", from, next, want)
		}
		from = next
	}
}

func sameEvents(t testing.TB, what string, got, want []FeedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: event %d is %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func TestFeedRecordsEveryEventInOrder(t *testing.T) {
	r := openFeedRig(t, nil, t.TempDir(), FeedRetention{})
	defer r.close()
	want := r.applyAll(1, workload(t, 1, 1, 300))
	if len(want) < 500 {
		t.Fatalf("workload made only %d events", len(want))
	}
	for _, page := range []int{1, 7, 0, 10_000} {
		sameEvents(t, fmt.Sprintf("pages of %d", page), readAll(t, r.feed, Position{}, page), want)
	}
	// From positions all along the feed (entries' first events and others), the rest.
	for i := 0; i < len(want); i += 1 + i%13 {
		sameEvents(t, fmt.Sprintf("from %v", want[i].Position), readAll(t, r.feed, want[i].Position, 50), want[i:])
	}
	last := want[len(want)-1].Position
	if got := readAll(t, r.feed, Position{Index: last.Index + 1}, 5); len(got) != 0 {
		t.Fatalf("read past the end: %+v", got)
	}
	if got := readAll(t, r.feed, Position{Index: want[0].Index, Ordinal: 1 << 20}, 5); len(got) == 0 || got[0].Index <= want[0].Index {
		t.Fatalf("read from past an entry's last ordinal: %+v", got[:min(1, len(got))])
	}
	if r.feed.End() != last.Next() || r.feed.Count() != int64(len(want)) || r.feed.Oldest() != (Position{}) {
		t.Fatalf("end %v count %d oldest %v; want %v %d 0.0", r.feed.End(), r.feed.Count(), r.feed.Oldest(), last.Next(), len(want))
	}
}

func TestFeedReplayIsIdempotent(t *testing.T) {
	r := openFeedRig(t, nil, t.TempDir(), FeedRetention{})
	defer func() { r.close() }()
	logs := workload(t, 2, 1, 120)
	want := r.applyAll(2, logs)

	// A restart without a snapshot: raft applies the whole log again to an
	// empty state. The feed must not change or count anything twice.
	r.reopen()
	if r.feed.Count() != int64(len(want)) || r.feed.End() != want[len(want)-1].Next() {
		t.Fatalf("after reopen: count %d end %v", r.feed.Count(), r.feed.End())
	}
	before := r.store.DB().Metrics().WAL.BytesIn
	if again := r.applyAll(3, logs); len(again) != len(want) {
		t.Fatalf("replay made %d events, first run %d", len(again), len(want))
	}
	if wrote := r.store.DB().Metrics().WAL.BytesIn - before; wrote != 0 {
		t.Fatalf("replaying recorded entries wrote %d bytes", wrote)
	}
	if r.feed.Count() != int64(len(want)) {
		t.Fatalf("count %d after replay, want %d", r.feed.Count(), len(want))
	}
	more := r.applyAll(4, workload(t, 4, 121, 30))
	if r.store.DB().Metrics().WAL.BytesIn == before {
		t.Fatal("new entries wrote nothing: the WAL measure above proves nothing")
	}
	sameEvents(t, "after replay", readAll(t, r.feed, Position{}, 64), append(want, more...))
}

// TestFeedCrashAfterSnapshot crashes a store at a point where entries after
// the last snapshot were applied but nothing synced them, then restarts the
// way raft does: restore the snapshot, replay the entries after it. The
// crash keeps exactly the synced bytes, or (partial) a random share of the
// unsynced ones too, which tests that the events and the feed state always
// survive together.
func TestFeedCrashAfterSnapshot(t *testing.T) {
	type crash struct {
		name      string
		syncFirst bool
		unsynced  int // percent of unsynced blocks the crash keeps
		seed      uint64
	}
	crashes := []crash{{"synced", true, 0, 0}, {"unsynced", false, 0, 0}}
	for seed := uint64(1); seed <= 4; seed++ {
		crashes = append(crashes, crash{fmt.Sprint("partial-", seed), true, 50, seed})
	}
	for _, c := range crashes {
		t.Run(c.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			r := openFeedRig(t, mem, "db", FeedRetention{})
			logs := workload(t, 5+c.seed, 1, 60)
			want := r.applyAll(5, logs[:40])
			snap, err := r.fsm.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if !c.syncFirst {
				snap.(*fsmSnapshot).before = nil
			}
			var sink persistSink
			if err := snap.Persist(&sink); err != nil {
				t.Fatal(err)
			}
			want = append(want, r.applyAll(6, logs[40:])...)

			// The crash.
			cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: c.unsynced}
			if c.unsynced > 0 {
				cfg.RNG = rand.New(rand.NewPCG(c.seed, 11))
			}
			crashed := mem.CrashClone(cfg)
			r.close()
			r = openFeedRig(t, crashed, "db", FeedRetention{})
			defer r.close()
			if c.syncFirst {
				if r.feed.st.applied < 40 {
					t.Fatalf("feed applied %d after the crash, below the snapshot at 40", r.feed.st.applied)
				}
			}
			if err := r.fsm.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
				t.Fatal(err)
			}
			r.applyAll(7, logs[40:])
			if c.syncFirst {
				if r.feed.Oldest() != (Position{}) {
					t.Fatalf("feed restarted at %v although the snapshot was covered", r.feed.Oldest())
				}
				sameEvents(t, "after crash and replay", readAll(t, r.feed, Position{}, 32), want)
				if r.feed.Count() != int64(len(want)) {
					t.Fatalf("count %d, want %d", r.feed.Count(), len(want))
				}
				return
			}
			// Without the sync, the events up to the snapshot were lost with
			// the crash: the feed restarts after it and refuses older reads.
			oldest := Position{Index: 41}
			if r.feed.Oldest() != oldest {
				t.Fatalf("oldest %v, want %v", r.feed.Oldest(), oldest)
			}
			_, _, err = r.feed.ReadEvents(Position{}, 10, nil)
			var pe *EventsPrunedError
			if !errors.As(err, &pe) || pe.Oldest != oldest {
				t.Fatalf("read across the lost events: %v", err)
			}
			var tail []FeedEvent
			for _, e := range want {
				if !e.Position.Less(oldest) {
					tail = append(tail, e)
				}
			}
			sameEvents(t, "after the restart point", readAll(t, r.feed, oldest, 32), tail)
		})
	}
}

func TestFeedSnapshotInstallRestartsFeed(t *testing.T) {
	r := openFeedRig(t, nil, t.TempDir(), FeedRetention{})
	defer r.close()
	logs := workload(t, 8, 1, 80)
	r.applyAll(8, logs[:10])

	// A leader far ahead sends its snapshot at 50.
	leader := NewFSM(FSMConfig{Shard: 3, Engine: testEngineConfig(), Logger: testLogger(t)})
	for _, l := range logs[:50] {
		leader.Apply(l)
	}
	snap := snapshotOf(t, leader)

	waited := make(chan error, 1)
	go func() { waited <- r.feed.WaitEvents(context.Background(), r.feed.End()) }()
	time.Sleep(20 * time.Millisecond)
	if err := r.fsm.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("waiter: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reset did not wake a waiter")
	}
	if r.feed.Oldest() != (Position{Index: 51}) || r.feed.Count() != 0 {
		t.Fatalf("after the install: oldest %v count %d", r.feed.Oldest(), r.feed.Count())
	}
	if _, _, err := r.feed.ReadEvents(Position{Index: 5}, 10, nil); !errors.Is(err, ErrEventsPruned) {
		t.Fatalf("read from before the install: %v", err)
	}
	want := r.applyAll(9, logs[50:])
	sameEvents(t, "after the install", readAll(t, r.feed, r.feed.Oldest(), 16), want)
	r.reopen()
	if r.feed.Oldest() != (Position{Index: 51}) {
		t.Fatalf("oldest after reopen %v", r.feed.Oldest())
	}
}

func TestFeedRetention(t *testing.T) {
	t.Run("age", func(t *testing.T) {
		r := openFeedRig(t, nil, t.TempDir(), FeedRetention{Age: 30 * time.Minute})
		defer func() { r.close() }()
		want := r.applyAll(10, workload(t, 10, 1, 100)) // entry i at t0 + i minutes
		pruned, err := r.feed.Prune()
		if err != nil {
			t.Fatal(err)
		}
		cut := t0 + 100*int64(time.Minute) - int64(30*time.Minute)
		var kept []FeedEvent
		lastGone := Position{}
		for _, e := range want {
			if e.Event.At >= cut {
				kept = append(kept, e)
			} else {
				lastGone = e.Position
			}
		}
		if pruned != int64(len(want)-len(kept)) || r.feed.Count() != int64(len(kept)) {
			t.Fatalf("pruned %d, count %d; want %d and %d", pruned, r.feed.Count(), len(want)-len(kept), len(kept))
		}
		if r.feed.Oldest() != lastGone.Next() {
			t.Fatalf("oldest %v, want %v", r.feed.Oldest(), lastGone.Next())
		}
		checkPruned(t, r.feed, lastGone, kept)
		if n, err := r.feed.Prune(); n != 0 || err != nil {
			t.Fatalf("second prune: %d, %v", n, err)
		}
		r.reopen()
		if r.feed.Oldest() != lastGone.Next() || r.feed.Count() != int64(len(kept)) {
			t.Fatalf("after reopen: oldest %v count %d", r.feed.Oldest(), r.feed.Count())
		}
		checkPruned(t, r.feed, lastGone, kept)
	})
	t.Run("count", func(t *testing.T) {
		const maxEvents = 50
		r := openFeedRig(t, nil, t.TempDir(), FeedRetention{MaxEvents: maxEvents})
		defer r.close()
		want := r.applyAll(11, workload(t, 11, 1, 100))
		if _, err := r.feed.Prune(); err != nil {
			t.Fatal(err)
		}
		n := int(r.feed.Count())
		kept := want[len(want)-n:]
		// Whole entries go, so up to one entry's events fewer than the bound.
		if n > maxEvents || n <= maxEvents-8 {
			t.Fatalf("%d events kept, bound %d", n, maxEvents)
		}
		if kept[0].Ordinal != 0 {
			t.Fatalf("pruned part of entry %d", kept[0].Index)
		}
		lastGone := want[len(want)-n-1].Position
		checkPruned(t, r.feed, lastGone, kept)
	})
}

// checkPruned checks a feed whose events up to lastGone were pruned and
// which keeps the events kept.
func checkPruned(t *testing.T, f *Feed, lastGone Position, kept []FeedEvent) {
	t.Helper()
	for _, from := range []Position{{}, {Index: lastGone.Index}, lastGone} {
		_, next, err := f.ReadEvents(from, 10, nil)
		var pe *EventsPrunedError
		if !errors.As(err, &pe) || !errors.Is(err, ErrEventsPruned) || pe.From != from || pe.Oldest != lastGone.Next() || pe.Shard != 3 || next != from {
			t.Fatalf("read from %v before the oldest %v: %v", from, lastGone.Next(), err)
		}
	}
	// A consumer that handled every pruned event resumes where it was.
	sameEvents(t, "from the oldest", readAll(t, f, lastGone.Next(), 9), kept)
	sameEvents(t, "from the first kept", readAll(t, f, kept[0].Position, 9), kept)
}

func TestFeedWaitEvents(t *testing.T) {
	r := openFeedRig(t, nil, t.TempDir(), FeedRetention{})
	want := r.applyAll(12, workload(t, 12, 1, 20))
	end := r.feed.End()
	ctx := context.Background()

	// Something at or after the position: no wait.
	if err := r.feed.WaitEvents(ctx, want[len(want)-1].Position); err != nil {
		t.Fatal(err)
	}
	// Nothing yet: waits until an apply stores an event.
	waited := make(chan error, 1)
	go func() { waited <- r.feed.WaitEvents(ctx, end) }()
	select {
	case err := <-waited:
		t.Fatalf("returned %v with nothing new", err)
	case <-time.After(50 * time.Millisecond):
	}
	// At the time already applied, so that no hold expires (an event).
	now := r.fsm.Now()
	r.fsm.Apply(entryLog(t, 21, now, engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")}))
	select {
	case err := <-waited:
		t.Fatalf("an entry without events woke the waiter: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	r.fsm.Apply(entryLog(t, 22, now, reserve("A", "S1", "waiter", 1)))
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("new event did not wake the waiter")
	}
	if got, _, err := r.feed.ReadEvents(end, 0, nil); err != nil || len(got) != 1 || got[0].Position != (Position{Index: 22}) {
		t.Fatalf("after the wake: %+v, %v", got, err)
	}

	// The context ends the wait.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if err := r.feed.WaitEvents(cctx, r.feed.End()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait past its deadline: %v", err)
	}
	// Closing wakes waiters with ErrClosed; reads fail the same way.
	go func() { waited <- r.feed.WaitEvents(ctx, r.feed.End()) }()
	time.Sleep(20 * time.Millisecond)
	r.close()
	select {
	case err := <-waited:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("wait at close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not wake the waiter")
	}
	if _, _, err := r.feed.ReadEvents(Position{}, 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := r.feed.Prune(); !errors.Is(err, ErrClosed) {
		t.Fatalf("prune after close: %v", err)
	}
}

func TestFeedSyncs(t *testing.T) {
	fs := &syncCountingFS{FS: vfs.NewMem()}
	r := openFeedRig(t, fs, "db", FeedRetention{})
	defer r.close()
	before := fs.walSyncs.Load()
	r.applyAll(13, workload(t, 13, 1, 50))
	if n := fs.walSyncs.Load() - before; n != 0 {
		t.Fatalf("recording events made %d WAL syncs", n)
	}
	if err := r.feed.sync(); err != nil {
		t.Fatal(err)
	}
	if n := fs.walSyncs.Load() - before; n != 1 {
		t.Fatalf("the pre-snapshot sync made %d WAL syncs", n)
	}
}
