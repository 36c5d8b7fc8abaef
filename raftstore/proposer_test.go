// Tests of the proposer (group commit) against a fake raft whose commits
// the test releases by hand, so batching is observed exactly rather than
// hoped for. They prove that commands from many callers share entries while
// earlier entries await commit, each caller getting its own result; that
// linked groups stay contiguous and in order inside one entry whatever the
// interleaving; that the queue bound answers ErrBusy at once; that a lone
// command waits at least BatchMaxDelay for company; that stamped times never
// go backwards, nor below the last applied time; that not-leader, lost
// leadership and oversized fields map to the named errors and codes; and
// that close fails what was queued and waits for what was in flight; and
// that an entry raft never answers because it shut down underneath resolves
// as of unknown outcome instead of hanging its caller and close.
package raftstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// fakeRaft commits entries into a real FSM, either at once or when the test
// calls release.
type fakeRaft struct {
	fsm    *FSM
	leader atomic.Bool
	down   atomic.Bool // raft shut down

	mu      sync.Mutex
	hold    bool
	next    uint64
	entries [][]byte
	pending []*fakeFuture
	applies chan struct{} // one token per Apply call
}

type fakeFuture struct {
	log  *raft.Log
	done chan struct{}
	resp any
	err  error
}

func (f *fakeFuture) Error() error  { <-f.done; return f.err }
func (f *fakeFuture) Response() any { <-f.done; return f.resp }
func (f *fakeFuture) Index() uint64 { return f.log.Index }

func newFakeRaft(t *testing.T, hold bool) *fakeRaft {
	r := &fakeRaft{
		fsm:     NewFSM(FSMConfig{Engine: testEngineConfig(), Logger: testLogger(t)}),
		hold:    hold,
		applies: make(chan struct{}, 1<<16),
	}
	r.leader.Store(true)
	return r
}

func (r *fakeRaft) Apply(data []byte, _ time.Duration) raft.ApplyFuture {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	f := &fakeFuture{log: &raft.Log{Index: r.next, Term: 1, Type: raft.LogCommand, Data: data}, done: make(chan struct{})}
	r.entries = append(r.entries, data)
	if r.hold {
		r.pending = append(r.pending, f)
	} else {
		r.commitLocked(f, nil)
	}
	r.applies <- struct{}{}
	return f
}

func (r *fakeRaft) commitLocked(f *fakeFuture, err error) {
	if err == nil {
		f.resp = r.fsm.Apply(f.log)
	}
	f.err = err
	close(f.done)
}

// release commits (or fails with err) every entry held so far, in order,
// and stops holding new ones if hold is false.
func (r *fakeRaft) release(err error, hold bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.pending {
		r.commitLocked(f, err)
	}
	r.pending = nil
	r.hold = hold
}

func (r *fakeRaft) State() raft.RaftState {
	if r.down.Load() {
		return raft.Shutdown
	}
	if r.leader.Load() {
		return raft.Leader
	}
	return raft.Follower
}

func (r *fakeRaft) LeaderWithID() (raft.ServerAddress, raft.ServerID) {
	if r.leader.Load() {
		return "", ""
	}
	return "10.0.0.9:7000", "n9"
}

func (r *fakeRaft) entryCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

func (r *fakeRaft) waitApplies(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-r.applies:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d raft.Apply calls came", i, n)
		}
	}
}

func testProposerConfig() proposerConfig {
	return proposerConfig{
		batchMaxCommands: 64, batchMaxBytes: 1 << 20, batchMaxDelay: 200 * time.Microsecond,
		maxInFlight: 1, queueMaxCommands: 4096, applyTimeout: time.Second,
	}
}

func newTestProposer(t *testing.T, r *fakeRaft, cfg proposerConfig) *proposer {
	p := newProposer(0, r, r.fsm.Now, nil, cfg, testLogger(t))
	t.Cleanup(func() { r.release(nil, false); p.close() })
	return p
}

// result is what a done callback received.
type result struct {
	r   engine.Result
	rs  []engine.Result
	err error
}

func proposeOne(t *testing.T, p *proposer, cmd engine.Command) <-chan result {
	t.Helper()
	ch := make(chan result, 1)
	if err := p.propose([]engine.Command{cmd}, waiter{one: func(r engine.Result, err error) { ch <- result{r: r, err: err} }}); err != nil {
		t.Fatalf("propose: %v", err)
	}
	return ch
}

func wait(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no result within 5s")
		return result{}
	}
}

func TestProposerGroupsCommands(t *testing.T) {
	r := newFakeRaft(t, true)
	p := newTestProposer(t, r, testProposerConfig())
	first := proposeOne(t, p, putItem("A", "S1", 1_000_000))
	r.waitApplies(t, 1) // the first entry is in flight and holds the only slot

	const callers, each = 10, 100
	chans := make([][]<-chan result, callers)
	var wg sync.WaitGroup
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				cust := fmt.Sprintf("c%d-%d", c, i)
				chans[c] = append(chans[c], proposeOne(t, p, reserve("A", "S1", cust, int64(1+i%5))))
			}
		}()
	}
	wg.Wait()
	r.release(nil, false)
	if res := wait(t, first); res.err != nil || res.r.Code != engine.OK {
		t.Fatalf("put item: %+v", res)
	}
	ids := map[uint64]bool{}
	for c := range chans {
		for i, ch := range chans[c] {
			res := wait(t, ch)
			if res.err != nil || res.r.Code != engine.OK || res.r.Qty != int64(1+i%5) {
				t.Fatalf("caller %d request %d: %+v", c, i, res)
			}
			if ids[res.r.ID] {
				t.Fatalf("reservation id %x given twice", res.r.ID)
			}
			ids[res.r.ID] = true
		}
	}
	st := p.stats()
	if st.Commands != callers*each+1 {
		t.Fatalf("stats %+v", st)
	}
	// 1000 commands, at most 64 per entry: 16 entries is the best possible.
	if st.Entries > 40 {
		t.Fatalf("%d commands took %d entries; expected them grouped", st.Commands, st.Entries)
	}
	t.Logf("%d commands in %d entries", st.Commands, st.Entries)
}

func TestProposerKeepsLinkedGroupsContiguous(t *testing.T) {
	r := newFakeRaft(t, false)
	cfg := testProposerConfig()
	cfg.maxInFlight = 2
	p := newTestProposer(t, r, cfg)
	wait(t, proposeOne(t, p, putItem("A", "S1", 1_000_000)))

	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				cust := fmt.Sprintf("cart-%d-%d", g, i)
				if i%3 == 0 {
					wait(t, proposeOne(t, p, reserve("A", "S1", cust, 1)))
					continue
				}
				lines := make([]engine.Command, 1+i%5)
				for l := range lines {
					lines[l] = reserve("A", "S1", cust, int64(l+1))
					lines[l].Linked = l < len(lines)-1
				}
				ch := make(chan result, 1)
				if err := p.propose(lines, waiter{many: func(rs []engine.Result, err error) { ch <- result{rs: rs, err: err} }}); err != nil {
					t.Error(err)
					return
				}
				res := wait(t, ch)
				if res.err != nil || len(res.rs) != len(lines) {
					t.Errorf("cart %s: %+v", cust, res)
					return
				}
				for l, lr := range res.rs {
					if lr.Code != engine.OK || lr.Qty != int64(l+1) {
						t.Errorf("cart %s line %d: %+v", cust, l, lr)
					}
				}
			}
		}()
	}
	wg.Wait()

	// Every entry: each chain runs unbroken, in order, and ends inside it.
	r.mu.Lock()
	defer r.mu.Unlock()
	for e, data := range r.entries {
		_, cmds, err := DecodeEntry(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cmds {
			if !c.Linked {
				continue
			}
			if i+1 == len(cmds) {
				t.Fatalf("entry %d ends inside a linked chain", e)
			}
			next := cmds[i+1]
			if string(next.Customer) != string(c.Customer) || next.Qty != c.Qty+1 {
				t.Fatalf("entry %d: chain of %s broken at command %d by %s", e, c.Customer, i, next.Customer)
			}
		}
	}
}

func TestProposerBusy(t *testing.T) {
	r := newFakeRaft(t, true)
	cfg := testProposerConfig()
	cfg.queueMaxCommands = 64
	p := newTestProposer(t, r, cfg)
	inFlight := proposeOne(t, p, putItem("A", "S1", 1000))
	r.waitApplies(t, 1)

	var queued []<-chan result
	for i := 0; i < 64; i++ {
		queued = append(queued, proposeOne(t, p, reserve("A", "S1", fmt.Sprint("c", i), 1)))
	}
	err := p.propose([]engine.Command{reserve("A", "S1", "late", 1)}, waiter{one: func(engine.Result, error) {
		t.Error("done called for a refused proposal")
	}})
	if !errors.Is(err, ErrBusy) || Code(err) != engine.CodeBusy {
		t.Fatalf("65th queued command: %v", err)
	}
	if p.stats().Busy != 1 {
		t.Fatalf("stats %+v", p.stats())
	}
	r.release(nil, false)
	wait(t, inFlight)
	for _, ch := range queued {
		if res := wait(t, ch); res.err != nil || res.r.Code != engine.OK {
			t.Fatalf("queued: %+v", res)
		}
	}
	// Room again.
	if res := wait(t, proposeOne(t, p, reserve("A", "S1", "later", 1))); res.r.Code != engine.OK {
		t.Fatalf("after the queue drained: %+v", res)
	}
}

func TestProposerWaitsForCompany(t *testing.T) {
	r := newFakeRaft(t, false)
	cfg := testProposerConfig()
	cfg.batchMaxDelay = 50 * time.Millisecond
	p := newTestProposer(t, r, cfg)
	start := time.Now()
	wait(t, proposeOne(t, p, putItem("A", "S1", 10)))
	if waited := time.Since(start); waited < cfg.batchMaxDelay {
		t.Fatalf("lone command sent after %v, before BatchMaxDelay %v", waited, cfg.batchMaxDelay)
	}
	// A full batch does not wait.
	cfg.batchMaxDelay = time.Hour
	p2 := newTestProposer(t, r, cfg)
	cmds := make([]engine.Command, 64)
	for i := range cmds {
		cmds[i] = reserve("A", "S1", "c", 1)
	}
	ch := make(chan result, 1)
	if err := p2.propose(cmds, waiter{many: func(rs []engine.Result, err error) { ch <- result{rs: rs, err: err} }}); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, ch); res.err != nil || len(res.rs) != 64 {
		t.Fatalf("full batch: %+v", res)
	}
}

func TestProposerTimeNeverGoesBack(t *testing.T) {
	r := newFakeRaft(t, false)
	future := time.Now().Add(time.Hour).UnixNano()
	var floor atomic.Int64
	floor.Store(future) // the previous leader's clock ran an hour ahead
	p := newProposer(0, r, floor.Load, nil, testProposerConfig(), testLogger(t))
	defer p.close()
	var last int64
	for i := 0; i < 20; i++ {
		if i == 10 {
			floor.Store(0)
		}
		wait(t, proposeOne(t, p, engine.Command{Op: engine.OpExpire}))
		r.mu.Lock()
		now, _, err := DecodeEntry(r.entries[len(r.entries)-1], nil)
		r.mu.Unlock()
		if err != nil || now < future || now < last {
			t.Fatalf("entry %d stamped %d (floor %d, previous %d): %v", i, now, future, last, err)
		}
		last = now
	}
}

func TestProposerErrors(t *testing.T) {
	r := newFakeRaft(t, true)
	p := newTestProposer(t, r, testProposerConfig())
	noop := waiter{one: func(engine.Result, error) {}}

	linked := reserve("A", "S1", "c", 1)
	linked.Linked = true
	if err := p.propose([]engine.Command{linked}, noop); !errors.Is(err, ErrBadGroup) {
		t.Fatalf("trailing Linked: %v", err)
	}
	if err := p.propose(make([]engine.Command, 65), noop); !errors.Is(err, ErrBadGroup) {
		t.Fatalf("group over the batch size: %v", err)
	}
	huge := reserve("A", "S1", "c", 1)
	huge.Key = make([]byte, MaxFieldBytes+1)
	if err := p.propose([]engine.Command{huge}, noop); !errors.Is(err, ErrFieldTooLarge) || Code(err) != engine.CodeTooLarge {
		t.Fatalf("oversized field: %v", err)
	}

	// Leadership lost while in flight: outcome unknown.
	ch := proposeOne(t, p, putItem("A", "S1", 1))
	r.waitApplies(t, 1)
	r.release(raft.ErrLeadershipLost, true)
	if res := wait(t, ch); !errors.Is(res.err, ErrOutcomeUnknown) || Code(res.err) != engine.CodeTimeout {
		t.Fatalf("leadership lost: %+v", res)
	}

	// Not the leader: refused at once, naming the leader.
	r.leader.Store(false)
	err := p.propose([]engine.Command{putItem("A", "S1", 1)}, noop)
	var nl *NotLeaderError
	if !errors.As(err, &nl) || !errors.Is(err, ErrNotLeader) || nl.LeaderAddr != "10.0.0.9:7000" || Code(err) != engine.CodeNotLeader {
		t.Fatalf("not leader: %v", err)
	}
}

func TestProposerClose(t *testing.T) {
	r := newFakeRaft(t, true)
	cfg := testProposerConfig()
	p := newProposer(0, r, r.fsm.Now, nil, cfg, testLogger(t))
	inFlight := proposeOne(t, p, putItem("A", "S1", 10))
	r.waitApplies(t, 1)
	queued := proposeOne(t, p, reserve("A", "S1", "c", 1))

	closed := make(chan struct{})
	go func() { p.close(); close(closed) }()
	if res := wait(t, queued); !errors.Is(res.err, ErrClosed) || Code(res.err) != engine.CodeUnavailable {
		t.Fatalf("queued at close: %+v", res)
	}
	select {
	case <-closed:
		t.Fatal("close returned with an entry still in flight")
	case <-time.After(50 * time.Millisecond):
	}
	r.release(nil, false)
	if res := wait(t, inFlight); res.err != nil || res.r.Code != engine.OK {
		t.Fatalf("in flight at close: %+v", res)
	}
	<-closed
	if err := p.propose([]engine.Command{putItem("A", "S1", 1)}, waiter{one: func(engine.Result, error) {}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestProposerSurvivesRaftShutdown(t *testing.T) {
	r := newFakeRaft(t, true) // held forever: raft "lost" the future
	p := newProposer(0, r, r.fsm.Now, nil, testProposerConfig(), testLogger(t))
	orphan := proposeOne(t, p, putItem("A", "S1", 1))
	r.waitApplies(t, 1)
	r.down.Store(true)
	start := time.Now()
	if res := wait(t, orphan); !errors.Is(res.err, ErrOutcomeUnknown) {
		t.Fatalf("orphaned entry: %+v", res)
	}
	if waited := time.Since(start); waited > raftDownCheck+raftDownGrace+time.Second {
		t.Fatalf("orphan resolved after %v", waited)
	}
	closed := make(chan struct{})
	go func() { p.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close hangs after raft shut down")
	}
}

// TestProposerEntriesKeepTheirBytes: the open batch fills a scratch buffer
// that the next batch reuses, and a request that would take an entry past
// batchMaxBytes moves to the next one; every entry raft was given must
// still hold exactly its own commands, in order, once later batches have
// filled the scratch again.
func TestProposerEntriesKeepTheirBytes(t *testing.T) {
	r := newFakeRaft(t, true)
	cfg := testProposerConfig()
	cfg.batchMaxBytes = 700
	p := newTestProposer(t, r, cfg)
	first := proposeOne(t, p, putItem("A", "S1", 1_000_000))
	r.waitApplies(t, 1) // in flight, holding the only slot: the rest queue up
	const n = 300
	var chans []<-chan result
	for i := range n {
		// Customers of varying length, so that entries end at varying offsets.
		chans = append(chans, proposeOne(t, p, reserve("A", "S1", fmt.Sprintf("c%0*d", 1+i%17, i), 1)))
	}
	r.release(nil, false)
	if res := wait(t, first); res.err != nil || res.r.Code != engine.OK {
		t.Fatalf("put item: %+v", res)
	}
	for i, ch := range chans {
		if res := wait(t, ch); res.err != nil || res.r.Code != engine.OK || res.r.Qty != 1 {
			t.Fatalf("request %d: %+v", i, res)
		}
	}
	r.mu.Lock()
	entries := append([][]byte(nil), r.entries...)
	r.mu.Unlock()
	next, multi := 0, 0
	for k, data := range entries[1:] {
		_, cmds, err := DecodeEntry(data, nil)
		if err != nil {
			t.Fatalf("entry %d: %v", k+1, err)
		}
		if len(cmds) > 1 {
			multi++
			if len(data) > cfg.batchMaxBytes {
				t.Errorf("entry %d: %d bytes, %d commands, over batchMaxBytes %d", k+1, len(data), len(cmds), cfg.batchMaxBytes)
			}
		}
		for _, c := range cmds {
			if want := fmt.Sprintf("c%0*d", 1+next%17, next); string(c.Customer) != want {
				t.Fatalf("entry %d: customer %q where %q comes next", k+1, c.Customer, want)
			}
			next++
		}
	}
	if next != n || multi == 0 {
		t.Fatalf("%d of %d commands in the entries, %d entries of several", next, n, multi)
	}
}
