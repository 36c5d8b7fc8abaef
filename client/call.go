package client

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// A call is one attempt of one request on one connection: what to send, and
// where the connection puts the outcome. Calls are pooled and carry their
// own channel, timer and id buffer, so that an attempt in steady state
// allocates nothing: no call record, no channel, no closure, no copy of the
// caller's strings on the heap.
//
// Ownership passes between the caller that waits and the connection that
// answers through state: the connection finishes every call it accepted
// exactly once (reply, lost connection, or skipped because abandoned); the
// caller either receives on done, or abandons the call (context ended,
// attempt timed out) by a compare-and-swap, after which whichever side
// finishes last puts it back in the pool.
type call struct {
	kind  callKind
	cmd   engine.Command
	cmds  []engine.Command // kindCart: the chain, Linked on every line but the last
	ids   [3*engine.MaxIDBytes + engine.MaxKeyBytes]byte
	nonce uint64                 // kindPing
	stale bool                   // kindSolo: a read any replica may answer (FlagStale)
	admin *protocol.AdminRequest // kindAdmin

	// The outcome, written by the connection before it finishes the call.
	res     engine.Result
	results []engine.Result // kindCart: one per line
	code    engine.Code     // of an ERROR or NOT_LEADER answer; OK when res is the answer
	msg     string
	hint    protocol.NotLeader
	topo    *protocol.Topology
	snap    *protocol.SnapshotReply // kindSnapshot
	status  *protocol.StatusReply   // kindStatus
	adminR  *protocol.AdminReply    // kindAdmin
	err     error                   // a local failure: lost connection, undecodable reply
	sent    bool                    // handed to the socket: if its reply is lost, the outcome is unknown

	state atomic.Uint32
	done  chan struct{} // capacity 1: the connection never blocks on it
	timer *time.Timer
}

type callKind uint8

const (
	kindOp       callKind = iota // one domain command; may share a BATCH frame
	kindSolo                     // one domain command in a frame of its own (list reads)
	kindCart                     // a linked chain of reserves; always in a BATCH frame
	kindTopology                 // TOPOLOGY
	kindPing                     // PING
	kindSnapshot                 // SNAPSHOT (operator)
	kindStatus                   // STATUS (operator)
	kindAdmin                    // ADMIN (operator)
)

// batchable reports whether the call's commands go into BATCH frames.
func (k callKind) batchable() bool { return k == kindOp || k == kindCart }

const (
	statePending   uint32 = iota // queued or in flight; the caller may be waiting
	stateDone                    // finished; done holds a token for the caller
	stateAbandoned               // the caller left; the connection recycles it
)

var callPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &call{done: make(chan struct{}, 1), timer: t}
}}

func getCall(kind callKind) *call {
	k := callPool.Get().(*call)
	k.kind = kind
	return k
}

// release resets the call and returns it to the pool. Only the side that
// owns it last calls it (see call's comment).
func (k *call) release() {
	k.cmd = engine.Command{}
	k.cmds = nil
	k.res = engine.Result{}
	clear(k.results)
	k.results = k.results[:0]
	k.code, k.msg, k.hint, k.topo, k.err, k.sent = engine.OK, "", protocol.NotLeader{}, nil, nil, false
	k.nonce = 0
	k.snap = nil
	k.status = nil
	k.stale, k.admin, k.adminR = false, nil, nil
	k.state.Store(statePending)
	callPool.Put(k)
}

// finish hands the outcome to the waiting caller, or recycles the call if
// the caller has left. The connection calls it exactly once per call.
func (k *call) finish() {
	if k.state.CompareAndSwap(statePending, stateDone) {
		k.done <- struct{}{}
		return
	}
	k.release()
}

// fail finishes the call with a local failure.
func (k *call) fail(err error) {
	k.err = err
	k.finish()
}

// abandoned reports whether the caller has left (the writer then skips it).
func (k *call) abandoned() bool { return k.state.Load() == stateAbandoned }

// errAttemptTimeout ends an attempt whose reply did not come within the
// request timeout; the call is retried with the same key.
var errAttemptTimeout = errors.New("inv: no reply within the request timeout")

// wait waits for the outcome, the context's end or the attempt timeout.
// On nil the outcome is in k and the caller still owns k; on an error the
// caller has given k up and must not touch it again.
func (k *call) wait(ctx context.Context, timeout time.Duration) error {
	var expired <-chan time.Time
	if timeout > 0 {
		k.timer.Reset(timeout)
		expired = k.timer.C
	}
	var cause error
	select {
	case <-k.done:
		k.timer.Stop()
		return nil
	case <-ctx.Done():
		cause = ctx.Err()
	case <-expired:
		cause = errAttemptTimeout
	}
	// Stopped before giving the call up: the next owner resets the timer.
	k.timer.Stop()
	if k.state.CompareAndSwap(statePending, stateAbandoned) {
		return cause
	}
	// The outcome arrived meanwhile: take it after all.
	<-k.done
	return nil
}

// putIDs copies the caller's ids and key into the call's own buffer and
// points the command at them: the writer encodes them later, on another
// goroutine, and the caller's strings cannot become []byte without a copy;
// this copy lands in memory the pool already owns. The lengths were
// checked against the limits (checkID), so the buffer always holds them.
func (k *call) putIDs(sku, store, customer, key string, genKey []byte) {
	b := k.ids[:0]
	put := func(s string) []byte {
		if s == "" {
			return nil
		}
		start := len(b)
		b = append(b, s...)
		return b[start:len(b):len(b)]
	}
	k.cmd.SKU = put(sku)
	k.cmd.Store = put(store)
	k.cmd.Customer = put(customer)
	switch {
	case key != "":
		k.cmd.Key = put(key)
	case len(genKey) > 0:
		start := len(b)
		b = append(b, genKey...)
		k.cmd.Key = b[start:len(b):len(b)]
	}
}
