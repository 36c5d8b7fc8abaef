package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/invsys/inv/engine"
)

// Target is the system under test as the driver sees it. The client adapter
// implements it over the client library; the tests implement it over a tiny
// in-memory model. Its methods are called in this order: Load, Connect, the
// run on the connections, Dump. The caller owns the Target and closes it.
type Target interface {
	// Load creates the catalog's items and windows on an empty target (one
	// that cannot be reset must be started fresh: the check counts every
	// hold it finds). It runs before the clock starts and is not measured.
	Load(ctx context.Context, cat *Catalog) error

	// Connect opens n connections. Conns that implement io.Closer are closed
	// when Run returns.
	Connect(ctx context.Context, n int) ([]Conn, error)

	// Dump reads the target's state for the invariant check. It must return
	// every item of the catalog and at least the reservations whose ids are in
	// acked (the holds the driver was told about); it may return every
	// reservation it has, and then sets State.AllHolds.
	Dump(ctx context.Context, cat *Catalog, acked []uint64) (*State, error)
}

// Conn is one connection. The driver calls it from several goroutines at once
// (up to the in-flight depth), so it must be safe for concurrent use; an
// adapter pipelines those calls on one connection. A call blocks until its
// reply or ctx ends.
//
// A non-nil error means the request's outcome is unknown (timeout, broken
// connection, busy server): it is counted as OutcomeError whatever Outcome
// says. A clear refusal is an Outcome with a nil error.
type Conn interface {
	Reserve(ctx context.Context, r *Request) (o Outcome, holdID uint64, err error)
	Confirm(ctx context.Context, r *Request) (Outcome, error)
	Cancel(ctx context.Context, r *Request) (Outcome, error)
}

// Request is one request of one order. The driver reuses a Request and its
// byte slices for the next request of the same slot: a Conn must copy what it
// keeps after the call returns (the engine's Command has the same rule).
type Request struct {
	Kind     Kind
	Order    int64  // order number, also the customer number
	SKU      []byte // ids as in ids.go
	Store    []byte
	Customer []byte
	Key      []byte        // idempotency key: the same for every retry of this request
	Qty      int64         // units; 1 in every reference workload
	Window   int64         // pickup window start, Unix ns; 0 = no window
	TTL      time.Duration // hold TTL; 0 = the server's default (600 s)
	HoldID   uint64        // confirm, cancel: the hold the reserve returned
}

// Outcome classifies one reply.
type Outcome uint8

const (
	OutcomeOK            Outcome = iota
	OutcomeSoldOut               // no units left
	OutcomeWindowFull            // the pickup window's quota is used up
	OutcomeLimitExceeded         // the customer already owns the limit of the SKU
	OutcomeNotFound              // confirm/cancel of a hold that is not held (unknown, expired, wrong state)
	OutcomeError                 // neither success nor clear refusal: timeout, broken connection, busy, unexpected code
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"ok", "sold_out", "window_full", "limit_exceeded", "not_found", "error"}

func (o Outcome) String() string {
	if o < nOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome_%d", uint8(o))
}

// Refused reports whether o is a clear refusal: the request was answered and
// changed nothing.
func (o Outcome) Refused() bool { return o > OutcomeOK && o < OutcomeError }

// OutcomeOfCode classifies an engine result code (the project's one code
// table). Codes that are refusals of something the reference workloads never
// do (bad request, unknown item, blocked ...) are errors: in a benchmark they
// mean the harness or the load went wrong.
func OutcomeOfCode(code engine.Code) Outcome {
	switch code {
	case engine.OK:
		return OutcomeOK
	case engine.CodeSoldOut:
		return OutcomeSoldOut
	case engine.CodeWindowFull:
		return OutcomeWindowFull
	case engine.CodeLimitExceeded:
		return OutcomeLimitExceeded
	case engine.CodeNotFound, engine.CodeExpired, engine.CodeWrongState:
		return OutcomeNotFound
	default:
		return OutcomeError
	}
}
