package client

import (
	"context"
	"time"

	"github.com/invsys/inv/engine"
)

// Tracer observes every call a program makes that sends a request and
// waits for its answer: the domain calls (Reserve, Confirm, ReserveMany,
// the reads ...), Ping and Topology. The client's own background work
// (its periodic topology refresh) is not traced. It is shaped like
// pgx's tracers and go-redis's hooks, so that an OpenTelemetry or
// Prometheus adapter is a few lines: start a span in TraceRequestStart and
// return the context carrying it; end it in TraceRequestEnd, which gets
// that context back. One logical call is one start and one end, however
// many attempts its retries took. A subscription's stream is not a request
// and is not traced.
//
// Both methods run on the caller's goroutine, inline with the call: they
// must be quick and must not call back into the Client.
type Tracer interface {
	TraceRequestStart(ctx context.Context, s RequestStart) context.Context
	TraceRequestEnd(ctx context.Context, e RequestEnd)
}

// RequestStart describes a request as the caller made it.
type RequestStart struct {
	Op string // "reserve", "confirm", "reserve_many", "get_item", "ping", "topology" ...
}

// RequestEnd is how a request ended.
type RequestEnd struct {
	Op string
	// Shard is the shard the request was routed to (a cart's first line's),
	// or -1 for a request not bound to one shard (ping, topology, a read of
	// every shard, or a call that failed before it was routed).
	Shard    int
	Duration time.Duration // from start to end, retries and pauses included
	// Code is the server's answer: OK, or the refusal (CodeSoldOut ...).
	// When no answer came, Err says why and Code is the code Err carries
	// (CodeBusy after retries ran out ...), or OK for a local failure (a
	// lost connection, the context's end).
	Code Code
	Err  error // nil when the server answered, refusals included
}

// WithTracer sets the tracer of every request (nil: none, the default).
func WithTracer(t Tracer) Option { return func(o *options) { o.tracer = t } }

// exec runs a request (execAttempts) between the tracer's start and end.
// Without a tracer it costs one comparison.
func (c *Client) exec(ctx context.Context, r *request) error {
	t := c.opts.tracer
	if t == nil {
		return c.execAttempts(ctx, r)
	}
	r.shard = -1
	op := r.opName()
	start := time.Now()
	ctx = t.TraceRequestStart(ctx, RequestStart{Op: op})
	err := c.execAttempts(ctx, r)
	e := RequestEnd{Op: op, Shard: r.shard, Duration: time.Since(start), Err: err}
	if err != nil {
		e.Code, _ = CodeOf(err)
	} else {
		e.Code = r.answerCode()
	}
	t.TraceRequestEnd(ctx, e)
	return err
}

// answerCode is the code of an answered request: a cart's refusal is the
// refusal of the line that failed.
func (r *request) answerCode() Code {
	switch r.kind {
	case kindOp, kindSolo:
		return r.res.Code
	case kindCart:
		_, code := chainRefusal(r.results)
		return code
	}
	return engine.OK
}
