// Proves the guard around raft's pipelined replication (pipeline.go): a
// fake pipeline that behaves as hashicorp/raft's netPipeline (a bounded
// in-flight queue, a decoder that hands responses over one at a time, a
// send that blocks while the queue is full) deadlocks its sender once
// nobody takes responses, exactly as raft's replicate loop does after its
// decoder returned; behind the guard the blocked send fails within the
// stall timeout instead, and a consumer that keeps taking responses is
// never cut.
package raftstore

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

type pipeFuture struct{ start time.Time }

func (f *pipeFuture) Error() error                          { return nil }
func (f *pipeFuture) Start() time.Time                      { return f.start }
func (f *pipeFuture) Request() *raft.AppendEntriesRequest   { return nil }
func (f *pipeFuture) Response() *raft.AppendEntriesResponse { return nil }

// netLikePipeline mimics netPipeline: AppendEntries queues into inprogress
// (blocking when full), a decoder moves each to done (blocking when full).
type netLikePipeline struct {
	inprogress, done chan raft.AppendFuture
	shutdown         chan struct{}
	once             sync.Once
}

func newNetLike(depth int) *netLikePipeline {
	p := &netLikePipeline{inprogress: make(chan raft.AppendFuture, depth), done: make(chan raft.AppendFuture, depth),
		shutdown: make(chan struct{})}
	go func() {
		for {
			select {
			case f := <-p.inprogress:
				select {
				case p.done <- f:
				case <-p.shutdown:
					return
				}
			case <-p.shutdown:
				return
			}
		}
	}()
	return p
}

func (p *netLikePipeline) AppendEntries(*raft.AppendEntriesRequest, *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	f := &pipeFuture{start: time.Now()}
	select {
	case p.inprogress <- f:
		return f, nil
	case <-p.shutdown:
		return nil, raft.ErrPipelineShutdown
	}
}

func (p *netLikePipeline) Consumer() <-chan raft.AppendFuture { return p.done }
func (p *netLikePipeline) Close() error                       { p.once.Do(func() { close(p.shutdown) }); return nil }

// sendUntilBlocked sends until a send has not returned for wait; it
// returns that send's outcome channel.
func sendUntilBlocked(t *testing.T, p raft.AppendPipeline, wait time.Duration) chan error {
	t.Helper()
	for i := 0; i < 10_000; i++ {
		res := make(chan error, 1)
		go func() { _, err := p.AppendEntries(nil, nil); res <- err }()
		select {
		case err := <-res:
			if err != nil {
				return res2(err)
			}
		case <-time.After(wait):
			return res
		}
	}
	t.Fatal("sends never blocked")
	return nil
}

func res2(err error) chan error { c := make(chan error, 1); c <- err; return c }

func TestPipelineDeadlocksWithoutTheGuard(t *testing.T) {
	p := newNetLike(4)
	defer p.Close()
	res := sendUntilBlocked(t, p, 50*time.Millisecond)
	select {
	case err := <-res:
		t.Fatalf("the unguarded send returned (%v): the hazard this guard exists for is gone", err)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestGuardUnblocksAnAbandonedPipeline(t *testing.T) {
	inner := newNetLike(4)
	g := newGuardedPipeline(inner, 100*time.Millisecond)
	defer g.Close()
	res := sendUntilBlocked(t, g, 20*time.Millisecond)
	select {
	case err := <-res:
		if !errors.Is(err, raft.ErrPipelineShutdown) {
			t.Fatalf("the blocked send ended with %v, want the pipeline shut down", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the guarded send is still blocked 5 s after nobody took a response")
	}
}

func TestGuardKeepsALiveConsumer(t *testing.T) {
	inner := newNetLike(4)
	g := newGuardedPipeline(inner, 50*time.Millisecond)
	defer g.Close()
	const n = 2000
	got := make(chan int)
	go func() {
		k := 0
		for range g.Consumer() {
			if k++; k == n {
				got <- k
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		if _, err := g.AppendEntries(nil, nil); err != nil {
			t.Fatalf("send %d: %v: a live consumer must never be cut", i, err)
		}
		if i%500 == 0 {
			time.Sleep(10 * time.Millisecond) // bursts, with the consumer keeping up
		}
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("not every response reached the consumer")
	}
}
