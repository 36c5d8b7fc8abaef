// Tests of the stage timings (stages.go). Against the fake raft, whose
// commits the test releases by hand, they prove where each entry's time is
// put: a lone command waits BatchMaxDelay in Queued; a full batch, and an
// open one past its delay, wait for the in-flight slot in InflightWait; a
// held commit is in Commit; and the three stages of an entry never add up
// to more than its caller waited. On a real node they prove
// that every entry the proposer resolves is observed once with its
// commands, that every command reaches the log through a timed append,
// and that the WAL fsyncs Pebble reports are real syncs (no more than the
// file system saw) and at least one per sequential append.
package raftstore

import (
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// entryTimesLog collects what an EntryObserver is told.
type entryTimesLog struct {
	mu      sync.Mutex
	entries []EntryTimes
}

func (l *entryTimesLog) observe(_ uint16, t EntryTimes) {
	l.mu.Lock()
	l.entries = append(l.entries, t)
	l.mu.Unlock()
}

func (l *entryTimesLog) all() []EntryTimes {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]EntryTimes(nil), l.entries...)
}

func TestProposerStagesOfEachEntry(t *testing.T) {
	const held = 20 * time.Millisecond
	r := newFakeRaft(t, true)
	cfg := testProposerConfig()
	cfg.batchMaxCommands = 4
	p := newTestProposer(t, r, cfg)
	var log entryTimesLog
	o := EntryObserver(log.observe)
	p.observer.Store(&o)

	// A: a lone command, in flight with the only slot.
	startA := time.Now()
	a := proposeOne(t, p, putItem("A", "S1", 100))
	r.waitApplies(t, 1)
	// B: four commands fill a batch, sealed at once, waiting for the slot.
	var bs []<-chan result
	for _, c := range []string{"b1", "b2", "b3", "b4"} {
		bs = append(bs, proposeOne(t, p, reserve("A", "S1", c, 1)))
	}
	// C: one more opens a batch that cannot go out before B.
	c := proposeOne(t, p, reserve("A", "S1", "c1", 1))
	time.Sleep(held)
	r.release(nil, true) // A commits; B takes the slot and is held
	resA := wait(t, a)
	tookA := time.Since(startA)
	r.waitApplies(t, 1)
	time.Sleep(held)
	r.release(nil, false) // B commits; C goes out and commits at once
	for _, ch := range append(bs, c) {
		if res := wait(t, ch); res.err != nil || res.r.Code != engine.OK {
			t.Fatalf("reserve: %+v", res)
		}
	}
	if resA.err != nil {
		t.Fatal(resA.err)
	}

	got := log.all()
	if len(got) != 3 {
		t.Fatalf("%d entries observed, want 3: %+v", len(got), got)
	}
	eA, eB, eC := got[0], got[1], got[2]
	if eA.Commands != 1 || eB.Commands != 4 || eC.Commands != 1 {
		t.Fatalf("commands per entry %d %d %d, want 1 4 1", eA.Commands, eB.Commands, eC.Commands)
	}
	// A lone command waits for company, then goes out: the slot was free.
	if eA.Queued < cfg.batchMaxDelay || eA.Commit < held {
		t.Errorf("A: %+v; want Queued >= %v, Commit >= %v", eA, cfg.batchMaxDelay, held)
	}
	if sum := eA.Queued + eA.InflightWait + eA.Commit; sum > tookA {
		t.Errorf("A's stages add up to %v, more than its caller waited (%v)", sum, tookA)
	}
	// B was full at once and waited for A's slot, sealed.
	if eB.InflightWait < held || eB.Commit < held {
		t.Errorf("B: %+v; want InflightWait and Commit >= %v", eB, held)
	}
	// C, open and past its delay, waited for B's slot; before that the
	// flusher was busy waiting for A's, with B first in line.
	if eC.InflightWait < held || eC.Queued+eC.InflightWait < 2*held {
		t.Errorf("C: %+v; want InflightWait >= %v, and %v before raft", eC, held, 2*held)
	}
}

// TestStagesOnANode: sequential reserves on a real node of one shard.
func TestStagesOnANode(t *testing.T) {
	fs := &syncCountingFS{FS: vfs.Default}
	o := testNodeOptions(t, t.TempDir())
	o.Shards = 1
	o.Store.FS = fs
	n := openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	do(t, s, putItem("A", "S1", 1000))

	var entries entryTimesLog
	s.SetEntryObserver(entries.observe)
	var mu sync.Mutex
	var writes, written int
	var writeTook time.Duration
	s.SetLogWriteObserver(func(shard uint16, n int, took time.Duration) {
		mu.Lock()
		writes, written, writeTook = writes+1, written+n, writeTook+took
		mu.Unlock()
	})
	before := s.ProposerStats()
	syncsBefore, _ := n.Store().WALSyncs()
	fsBefore := fs.walSyncs.Load()

	const reserves = 20
	for i := range reserves {
		if r := do(t, s, reserve("A", "S1", "c"+string(rune('a'+i)), 1)); r.Code != engine.OK {
			t.Fatalf("reserve %d: %v", i, r.Code)
		}
	}
	after := s.ProposerStats()
	syncs, syncTook := n.Store().WALSyncs()
	fsSyncs := fs.walSyncs.Load() - fsBefore
	s.SetEntryObserver(nil)
	s.SetLogWriteObserver(nil)

	got := entries.all()
	commands := 0
	for _, e := range got {
		commands += e.Commands
		if e.Queued < 0 || e.InflightWait < 0 || e.Commit <= 0 {
			t.Errorf("an entry's stages: %+v", e)
		}
	}
	if uint64(len(got)) != after.Entries-before.Entries || uint64(commands) != after.Commands-before.Commands {
		t.Errorf("observed %d entries of %d commands; the proposer made %d of %d",
			len(got), commands, after.Entries-before.Entries, after.Commands-before.Commands)
	}
	mu.Lock()
	defer mu.Unlock()
	// Each entry was appended before it committed; an append may carry
	// raft's own entries too.
	if written < len(got) || writes == 0 || writeTook <= 0 {
		t.Errorf("%d appends of %d entries (%v) for %d entries", writes, written, writeTook, len(got))
	}
	// Each append waited for an fsync begun after it was written, and the
	// appends followed each other: one fsync each at least. Pebble counts
	// only syncs the file system saw.
	d := syncs - syncsBefore
	if d < uint64(writes) || int64(d) > fsSyncs || syncTook <= 0 {
		t.Errorf("Pebble counted %d WAL syncs (%v in all) for %d appends; the file system saw %d", d, syncTook, writes, fsSyncs)
	}
}

// BenchmarkStoreLogsTimed: BenchmarkStoreLogs's single entry through the
// timed store raft appends to, with an observer set: the timing must cost
// no allocation.
func BenchmarkStoreLogsTimed(b *testing.B) {
	st, _ := openCountingStore(b)
	defer st.Close()
	tl := &timedLogs{ShardStore: st.Shard(0)}
	var took time.Duration
	o := LogWriteObserver(func(_ uint16, _ int, d time.Duration) { took += d })
	tl.observer.Store(&o)
	logs := benchEntries(1, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		logs[0].Index = uint64(i + 1)
		if err := tl.StoreLogs(logs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if took <= 0 {
		b.Fatal("no append observed")
	}
}

var _ raft.MonotonicLogStore = (*timedLogs)(nil)
