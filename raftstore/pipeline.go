package raftstore

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// A guard around hashicorp/raft's pipelined replication (v1.8.0).
//
// raft replicates to a follower through an AppendPipeline: its replicate
// loop sends (AppendEntries), and a decoder goroutine, pipelineDecode,
// consumes the responses. The decoder returns on the first failed or
// stale-term response, and nothing consumes responses after that. The
// transport's own decoder then blocks handing the next response over, its
// in-flight queue (128 requests) fills, and the replicate loop blocks in
// AppendEntries for good: it only notices the decoder's end between sends,
// and only closing the pipeline unblocks a send. raft.Shutdown then waits
// for that loop forever. Seen as a hang of Node.Close after leadership
// moved while a follower was being fed (a goroutine dump shows
// pipelineSend in netPipeline.AppendEntries and decodeResponses blocked
// for minutes).
//
// guardedPipeline hands responses to raft through a channel of its own and
// closes the transport's pipeline when one of them waits longer than
// pipelineStallTimeout to be taken: the send in progress then fails, the
// replicate loop stops pipelining (as after any send error) and starts
// again from the follower's last good index. A slow but live decoder takes
// responses in microseconds, so the guard fires only on a dead one.

// pipelineStallTimeout is how long a response may wait for raft's decoder
// before the pipeline is presumed abandoned: far above the decoder's time
// per response (it updates counters), below any timeout a client sees.
const pipelineStallTimeout = 2 * time.Second

// guardedTransport is the shard's raft transport with guarded pipelines.
// Every other method (and the optional interfaces raft looks for: close,
// peers, pre-vote) is the network transport's.
type guardedTransport struct {
	*raft.NetworkTransport
	stall time.Duration
}

// AppendEntriesPipeline returns the transport's pipeline to target behind
// the guard.
func (t *guardedTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := t.NetworkTransport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return newGuardedPipeline(p, t.stall), nil
}

type guardedPipeline struct {
	inner raft.AppendPipeline
	out   chan raft.AppendFuture
	stall time.Duration

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

// guardedQueue matches the transport's in-flight bound (rpcMaxPipeline),
// so the guard adds no back-pressure of its own.
const guardedQueue = 128

func newGuardedPipeline(inner raft.AppendPipeline, stall time.Duration) *guardedPipeline {
	g := &guardedPipeline{inner: inner, out: make(chan raft.AppendFuture, guardedQueue),
		stall: stall, closed: make(chan struct{})}
	go g.forward()
	return g
}

// forward hands the transport's responses to raft, and closes the
// pipeline when raft stops taking them.
func (g *guardedPipeline) forward() {
	t := time.NewTimer(g.stall)
	defer t.Stop()
	in := g.inner.Consumer()
	for {
		var f raft.AppendFuture
		select {
		case f = <-in:
		case <-g.closed:
			return
		}
		select {
		case g.out <- f:
			continue
		default:
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(g.stall)
		select {
		case g.out <- f:
		case <-t.C:
			_ = g.Close() // raft's decoder is gone: unblock its sender
			return
		case <-g.closed:
			return
		}
	}
}

func (g *guardedPipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	return g.inner.AppendEntries(args, resp)
}

func (g *guardedPipeline) Consumer() <-chan raft.AppendFuture { return g.out }

func (g *guardedPipeline) Close() error {
	g.closeOnce.Do(func() {
		close(g.closed)
		g.closeErr = g.inner.Close()
	})
	return g.closeErr
}
