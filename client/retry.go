package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// request is one logical call as the caller made it, and what came back.
// It lives on the caller's stack; every attempt copies what it needs into
// a pooled call, so that nothing here escapes to the heap.
type request struct {
	kind                 callKind
	cmd                  engine.Command // the numeric fields; the ids are the strings below
	sku, store, customer string
	key                  string
	genKey               [keyBytes]byte // the generated key, when key is empty
	hasGenKey            bool
	cmds                 []engine.Command // kindCart: ids and keys already in place
	stale                bool             // a read any replica may answer (ReadOption Stale)
	staleAt              string           // the node to ask, for StaleAt; "": any
	shard                int              // where the last attempt was routed, for a tracer; -1: no one shard

	res     engine.Result
	results []engine.Result    // kindCart: one per line
	topo    *protocol.Topology // kindTopology
}

// execAttempts runs a request to completion: routes it, sends it, and
// retries it under the retry policy while its outcome is neither an answer
// nor a final failure. An answer, refusals included, is left in r
// (r.res.Code); the error is for calls that got no answer. exec (trace.go)
// calls it between a tracer's start and end.
func (c *Client) execAttempts(ctx context.Context, r *request) error {
	if !c.enter() {
		return ErrClientClosed
	}
	defer c.leave()
	if r.mutating() && r.kind != kindCart && r.key == "" && !r.hasGenKey {
		// One key for the call and every retry of it: a retry after a lost
		// reply is answered with the first outcome, never applied twice.
		// Homed on the request's shard: it never registers (keys.go).
		c.genKeyFor(r)
		r.hasGenKey = true
	}
	pol := &c.opts.retry
	var (
		last     error
		unknown  bool
		hinted   *node
		followed bool
		final    bool // the last failure was final, not a reason to retry
		attempt  int
	)
	for attempt = 1; ; attempt++ {
		o := c.attempt(ctx, r, hinted)
		hinted = nil
		if o.err == nil {
			return nil
		}
		if last == nil || !(errors.Is(o.err, context.DeadlineExceeded) || errors.Is(o.err, context.Canceled)) {
			// An attempt cut by the context says less than the failure
			// before it (busy, not leader ...): keep that one as the cause.
			last = o.err
		}
		unknown = unknown || o.unknown && r.mutating()
		// A stale read pinned to one node (StaleAt) that does not hold the
		// shard will not start holding it: no point asking again.
		final = o.v == verdictFinal || r.staleAt != "" && o.v == verdictLeader
		if final || attempt >= pol.MaxAttempts || ctx.Err() != nil {
			break
		}
		if o.v == verdictLeader && o.leader != nil && !followed {
			// Straight to the hinted leader, once without a pause: the
			// usual case is a map one election old.
			hinted, followed = o.leader, true
			continue
		}
		followed = false
		if o.v == verdictLeader || errors.Is(o.err, ErrUnavailable) {
			c.requestRefresh()
		}
		if !sleep(ctx, backoff(pol, attempt)) {
			break
		}
	}
	ctxErr := ctx.Err()
	if _, ok := ctx.Deadline(); ok && ctxErr == nil && !final && attempt < pol.MaxAttempts {
		// Stopped short of the deadline: the next pause would have passed it.
		ctxErr = context.DeadlineExceeded
	}
	return giveUp(r, attempt, last, unknown, ctxErr)
}

// mutating reports whether the request may change state (its outcome
// matters when a reply is lost).
func (r *request) mutating() bool {
	switch r.kind {
	case kindCart:
		return true
	case kindOp, kindSolo:
		return r.cmd.Op.Mutating()
	}
	return false // ping, topology
}

// outcome is what one attempt came to.
type outcome struct {
	v       verdict
	err     error // nil: r holds the answer
	unknown bool  // the attempt may have been applied
	leader  *node // NOT_LEADER's hint
}

// attempt sends r once, to node to (or where the map routes it) and
// waits for its outcome.
func (c *Client) attempt(ctx context.Context, r *request, to *node) outcome {
	if err := ctx.Err(); err != nil {
		return outcome{v: verdictFinal, err: err}
	}
	k := getCall(r.kind)
	r.fill(k)
	rt := c.route.Load()
	n := to
	if n == nil && r.stale {
		if r.staleAt != "" {
			n = c.nodeAt(r.staleAt)
		} else {
			r.shard = rt.shardOf(&k.cmd)
			n = rt.replicaFor(r.shard, c.rr.Add(1))
		}
	}
	if n == nil {
		var cmd *engine.Command
		switch r.kind {
		case kindOp, kindSolo:
			cmd = &k.cmd
		case kindCart:
			cmd = &k.cmds[0]
		}
		shard := protocol.AllShards
		if cmd != nil {
			shard = rt.shardOf(cmd)
		}
		r.shard = shard
		n = rt.nodeFor(shard, c.rr.Add(1))
	}
	cn, err := n.conn(ctx)
	if err != nil {
		k.release()
		return dialOutcome(ctx, err)
	}
	if !cn.enqueue(k) {
		k.release()
		return outcome{v: verdictRetry, err: errConnLost}
	}
	if err := k.wait(ctx, c.opts.requestTimeout); err != nil {
		// k is no longer ours. Whether it was sent is unknown.
		if err == errAttemptTimeout {
			cn.checkStalled(c.opts.requestTimeout)
			return outcome{v: verdictUnknown, err: err, unknown: true}
		}
		return outcome{v: verdictFinal, err: err, unknown: true}
	}
	defer k.release()
	switch {
	case k.err == errConnLost:
		if k.sent {
			return outcome{v: verdictUnknown, err: errConnLost, unknown: true}
		}
		return outcome{v: verdictRetry, err: errConnLost}
	case k.err != nil:
		return outcome{v: verdictFinal, err: k.err, unknown: k.sent}
	case k.code != engine.OK:
		o := outcome{v: verdictOf(k.code), err: errorWithMessage(k.code, k.msg)}
		o.unknown = o.v == verdictUnknown
		if o.v == verdictLeader {
			o.leader = c.followHint(k.hint)
		}
		return o
	}
	r.take(k)
	if r.kind == kindTopology {
		c.completeTopology(ctx, r.topo, n)
		c.applyTopology(r.topo, n)
	}
	return outcome{}
}

// dialOutcome classifies a failure to get a connection: nothing was sent.
func dialOutcome(ctx context.Context, err error) outcome {
	if ctx.Err() != nil || errors.Is(err, ErrClientClosed) {
		return outcome{v: verdictFinal, err: err}
	}
	var se *ServerError
	if errors.As(err, &se) && verdictOf(se.Code) == verdictFinal {
		return outcome{v: verdictFinal, err: err} // HELLO refused: unauthorized, protocol
	}
	return outcome{v: verdictRetry, err: err}
}

// fill copies the request into an attempt's call.
func (r *request) fill(k *call) {
	switch r.kind {
	case kindOp, kindSolo:
		k.cmd = r.cmd
		var gen []byte
		if r.hasGenKey {
			gen = r.genKey[:]
		}
		k.putIDs(r.sku, r.store, r.customer, r.key, gen)
		k.stale = r.stale
	case kindCart:
		k.cmds = r.cmds
	case kindPing:
		k.nonce = rand.Uint64() | 1
	}
}

// take copies an attempt's answer into the request.
func (r *request) take(k *call) {
	switch r.kind {
	case kindOp, kindSolo:
		r.res = k.res
	case kindCart:
		r.results = append(r.results[:0], k.results...)
	case kindTopology:
		r.topo = k.topo
	}
}

// backoff returns the pause before retry number attempt (1 = the first
// retry): exponential, capped, with equal jitter.
func backoff(p *RetryPolicy, attempt int) time.Duration {
	d := p.MaxBackoff
	if attempt-1 < 30 {
		if b := p.BaseBackoff << (attempt - 1); b > 0 && b < d {
			d = b
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// sleep pauses for d, or reports false if ctx ends first or would end
// before d has passed (a retry after the deadline is pointless).
func sleep(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// callError is a call that got no answer: the last failure, how many
// attempts were made, whether one of them may have been applied, and the
// context's error if it ended the call. errors.Is sees all of them.
type callError struct {
	op       string
	attempts int
	last     error
	unknown  bool
	ctxErr   error
}

func (e *callError) Error() string {
	s := "inv: " + e.op + ": "
	if e.attempts > 1 {
		s += "gave up after " + strconv.Itoa(e.attempts) + " attempts: "
	}
	s += e.last.Error()
	if e.ctxErr != nil && !errors.Is(e.last, e.ctxErr) {
		s += " (" + e.ctxErr.Error() + ")"
	}
	if e.unknown {
		s += "; outcome unknown: retry with the same idempotency key"
	}
	return s
}

func (e *callError) Unwrap() []error {
	errs := []error{e.last}
	if e.unknown {
		errs = append(errs, ErrUnknownOutcome)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

// giveUp builds the error of a call that got no answer. A final error of
// the server on the first attempt (unauthorized, too large ...) is returned
// as it is.
func giveUp(r *request, attempts int, last error, unknown bool, ctxErr error) error {
	if attempts == 1 && !unknown && ctxErr == nil {
		var se *ServerError
		if errors.As(last, &se) {
			return last
		}
	}
	return &callError{op: r.opName(), attempts: attempts, last: last, unknown: unknown, ctxErr: ctxErr}
}

func (r *request) opName() string {
	switch r.kind {
	case kindCart:
		return "reserve_many"
	case kindTopology:
		return "topology"
	case kindPing:
		return "ping"
	}
	return r.cmd.Op.String()
}
