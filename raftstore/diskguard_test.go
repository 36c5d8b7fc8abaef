// Tests of the disk reserve (diskguard.go) with an injected free-space
// probe, so that the logic runs on any machine: a node refuses writes with
// ErrDiskFull (code disk_full) once free space drops below the reserve,
// keeps serving reads, resumes by itself only past the resume margin, and
// logs each change of state once however many readings and refusals come
// between; a burst of proposals triggers a reading without waiting for the
// timer; a node without room to open its store refuses to start with one
// message; and in a 3-node cluster a follower on a full disk refuses the
// leader's appends (instead of letting Pebble die on them) while the
// others commit, and catches up once space returns. Each bound is tested
// at its edge and one byte past it.
package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// fakeDisk is a DiskProbe whose free space the test sets.
type fakeDisk struct {
	free  atomic.Uint64
	reads atomic.Int64
}

func newFakeDisk(free uint64) *fakeDisk {
	d := &fakeDisk{}
	d.free.Store(free)
	return d
}

func (d *fakeDisk) probe(string) (uint64, error) {
	d.reads.Add(1)
	return d.free.Load(), nil
}

// logBuffer is a slog destination the test reads back.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count returns the lines holding every one of subs.
func (l *logBuffer) count(subs ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range strings.Split(l.b.String(), "\n") {
		all := line != ""
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogBuffer(level slog.Level) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level})), buf
}

// testMemTable and testReserve: small memtables make a small reserve
// acceptable (diskStartBytes), so that a few proposals add up to a share of
// it.
const (
	testMemTable = 1 << 20
	testReserve  = 4 << 20
)

// diskNodeOptions are testNodeOptions with a fake disk read every few ms.
func diskNodeOptions(t *testing.T, d *fakeDisk, log *slog.Logger) Options {
	o := testNodeOptions(t, t.TempDir())
	o.Shards = 1
	o.Store.MemTableBytes = testMemTable
	o.DiskReserveBytes = testReserve
	o.DiskCheckInterval = 5 * time.Millisecond
	o.DiskFree = d.probe
	o.Logger = log
	return o
}

func TestDiskFullRefusesWritesServesReadsAndResumes(t *testing.T) {
	d := newFakeDisk(10 << 30)
	log, logs := newLogBuffer(slog.LevelInfo)
	n := openTestNode(t, diskNodeOptions(t, d, log))
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	do(t, s, putItem("A", "S1", 100))

	// At the reserve exactly, writes go on; one byte below, they stop.
	d.free.Store(testReserve)
	waitReads(t, d, 3)
	if r := do(t, s, reserve("A", "S1", "c1", 1)); r.Code != engine.OK {
		t.Fatalf("reserve at the reserve's edge: %v", r.Code)
	}
	d.free.Store(testReserve - 1)
	waitFor(t, "the disk to be full", 5*time.Second, func() bool { return n.DiskStatus().Full })
	for i := range 5 {
		err := s.Propose(reserve("A", "S1", fmt.Sprint("late", i), 1), func(engine.Result, error) {
			t.Error("a refused proposal resolved")
		})
		if !errors.Is(err, ErrDiskFull) || Code(err) != engine.CodeDiskFull {
			t.Fatalf("propose on a full disk: %v (code %v)", err, Code(err))
		}
	}
	if err := s.ProposeGroup([]engine.Command{reserve("A", "S1", "g", 1)}, func([]engine.Result, error) {}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("group on a full disk: %v", err)
	}
	if r := s.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")}); r.Code != engine.OK || r.Item.Held != 1 {
		t.Fatalf("read on a full disk: %+v", r)
	}
	if st := n.DiskStatus(); st.Refused != 6 || st.FreeBytes != testReserve-1 || st.ReserveBytes != testReserve {
		t.Fatalf("status %+v", st)
	}

	// Back at the reserve is not enough: writes resume at the margin.
	resume := uint64(testReserve + testReserve/diskResumeDivisor)
	d.free.Store(resume - 1)
	waitReads(t, d, 5)
	if !n.DiskStatus().Full {
		t.Fatal("writes resumed below the resume margin")
	}
	d.free.Store(resume)
	waitFor(t, "writes to resume", 5*time.Second, func() bool { return !n.DiskStatus().Full })
	if r := do(t, s, reserve("A", "S1", "c2", 1)); r.Code != engine.OK {
		t.Fatalf("reserve after space returned: %v", r.Code)
	}

	// Dozens of readings and six refusals: one line each way.
	if full, back := logs.count(`msg="disk full`), logs.count("disk space back", "refused_while_full=6"); full != 1 || back != 1 {
		t.Fatalf("%d full and %d back lines (%d readings):\n%s", full, back, d.reads.Load(), logs)
	}
}

// waitReads waits until the probe was read k more times: the state then
// reflects the value the test set.
func waitReads(t *testing.T, d *fakeDisk, k int64) {
	t.Helper()
	from := d.reads.Load()
	waitFor(t, "disk readings", 5*time.Second, func() bool { return d.reads.Load() >= from+k })
}

func TestDiskReadAfterABurstOfProposals(t *testing.T) {
	d := newFakeDisk(10 << 30)
	o := diskNodeOptions(t, d, testLogger(t))
	o.DiskCheckInterval = time.Hour // only the bytes proposed ask for a reading
	n := openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	do(t, s, putItem("A", "S1", 1<<20))
	before := d.reads.Load()
	// Groups of 1024 reserves with 50-byte ids: over 100 KiB each, so four
	// add up to more than testReserve/diskProbeDivisor (256 KiB).
	for g := range 4 {
		cmds := make([]engine.Command, DefaultBatchMaxCommands)
		for i := range cmds {
			cmds[i] = reserve("A", "S1", fmt.Sprintf("%050d", g*len(cmds)+i), 1)
			cmds[i].Key = []byte(fmt.Sprintf("k%049d", g*len(cmds)+i))
		}
		ch := make(chan error, 1)
		if err := s.ProposeGroup(cmds, func(_ []engine.Result, err error) { ch <- err }); err != nil {
			t.Fatal(err)
		}
		if err := within(t, ch, "a group"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a reading triggered by the bytes proposed", 5*time.Second, func() bool { return d.reads.Load() > before })
}

func TestOpenNodeNeedsRoomToStart(t *testing.T) {
	need := uint64(diskStartMemTables * testMemTable)
	log, logs := newLogBuffer(slog.LevelInfo)
	o := diskNodeOptions(t, newFakeDisk(need-1), log)
	if _, err := OpenNode(o); err == nil || !strings.Contains(err.Error(), "free space and start again") {
		t.Fatalf("opened with %d bytes free: %v", need-1, err)
	}
	// At the edge it starts, below its reserve: reads served, writes refused.
	o.DiskFree = newFakeDisk(need).probe
	n := openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	if st := n.DiskStatus(); !st.Full || st.FreeBytes != need {
		t.Fatalf("status %+v", st)
	}
	if err := n.Shard(0).Propose(putItem("A", "S1", 1), func(engine.Result, error) {}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write on a node started on a full disk: %v", err)
	}
	if r := n.Shard(0).Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")}); r.Code != engine.CodeUnknownItem {
		t.Fatalf("read: %v", r.Code)
	}
	if c := logs.count(`msg="disk full`); c != 1 {
		t.Fatalf("%d disk full lines:\n%s", c, logs)
	}
}

func TestDiskReserveOptions(t *testing.T) {
	o := testNodeOptions(t, t.TempDir())
	o.DiskReserveBytes = int64(diskStartMemTables*DefaultStoreMemTableBytes) - 1
	if _, err := o.withDefaults(); err == nil {
		t.Fatal("a reserve below what a restart needs was accepted")
	}
	o.DiskReserveBytes++
	if _, err := o.withDefaults(); err != nil {
		t.Fatalf("a reserve of exactly what a restart needs: %v", err)
	}
	o.DiskReserveBytes = 0
	if got, _ := o.withDefaults(); got.DiskReserveBytes != DefaultDiskReserveBytes {
		t.Fatalf("default reserve %d", got.DiskReserveBytes)
	}
	// Off: no reading at all, nothing refused.
	d := newFakeDisk(0)
	o = diskNodeOptions(t, d, testLogger(t))
	o.DiskReserveBytes = -1
	n := openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	do(t, n.Shard(0), putItem("A", "S1", 1))
	if st := n.DiskStatus(); st.Enabled || d.reads.Load() != 0 {
		t.Fatalf("reserve off: status %+v after %d readings", st, d.reads.Load())
	}
}

func TestFollowerOnFullDiskRefusesAppendsAndCatchesUp(t *testing.T) {
	disks := []*fakeDisk{newFakeDisk(10 << 30), newFakeDisk(10 << 30), newFakeDisk(10 << 30)}
	logs := make([]*logBuffer, 3)
	c := newTestClusterWith(t, 3, 1, func(i int, o *Options) {
		o.Store.MemTableBytes = testMemTable
		o.DiskReserveBytes = testReserve
		o.DiskCheckInterval = 5 * time.Millisecond
		o.DiskFree = disks[i].probe
		o.Logger, logs[i] = newLogBuffer(slog.LevelInfo)
	})
	c.doRetry(0, putItem("A", "S1", 1000))
	leader := c.leader(0)
	fi := 0
	for i, n := range c.nodes {
		if n != leader {
			fi = i
			break
		}
	}
	f := c.nodes[fi]
	c.converged(0)
	disks[fi].free.Store(testReserve - 1)
	waitFor(t, "the follower's disk to be full", 5*time.Second, func() bool { return f.DiskStatus().Full })
	held := f.Shard(0).Status().LastLogIndex

	// The leader and the other follower go on committing.
	for i := range 40 {
		if r := c.doRetry(0, reserve("A", "S1", fmt.Sprint("c", i), 1)); r.Code != engine.OK {
			t.Fatalf("reserve %d: %v", i, r.Code)
		}
	}
	if got := f.Shard(0).Status().LastLogIndex; got != held {
		t.Fatalf("the full follower's log grew from %d to %d", held, got)
	}
	if lead := c.leader(0).Shard(0).Status().LastLogIndex; lead < held+40 {
		t.Fatalf("leader's log at %d, follower held at %d", lead, held)
	}
	// Its own log said so once; raft's failed appends are not repeated.
	if full, appends := logs[fi].count(`msg="disk full`), logs[fi].count("failed to append"); full != 1 || appends != 0 {
		t.Fatalf("follower logged %d full and %d append lines:\n%s", full, appends, logs[fi])
	}
	leaderWarns := logs[c.indexOf(c.leader(0))].count("appendEntries rejected")
	t.Logf("leader logged %d rejected appends while the follower was full", leaderWarns)

	disks[fi].free.Store(10 << 30)
	c.converged(0)
	if st := f.Shard(0).Stats(); st.ActiveHolds != 40 {
		t.Fatalf("caught-up follower holds %d, want 40", st.ActiveHolds)
	}
}

// indexOf returns n's index among the cluster's nodes.
func (c *testCluster) indexOf(n *Node) int {
	for i, m := range c.nodes {
		if m == n {
			return i
		}
	}
	c.t.Fatalf("node %s not in the cluster", n.ID())
	return -1
}
