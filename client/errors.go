package client

import (
	"errors"
	"strconv"

	"github.com/invsys/inv/engine"
)

// ServerError is an answer of the server that is not a success: a refusal
// of the engine (sold out, window full ...) or a refusal of the server or
// protocol (busy, unauthorized, too large ...). Code comes from the
// project's single code table (engine/codes.go); Message, when the server
// sent one, is a sentence for humans: programs act on Code.
//
// Every code has a sentinel below, itself a *ServerError, and
// errors.Is(err, ErrSoldOut) matches any ServerError of the same code, so a
// caller tests refusals with errors.Is and reads the code with errors.As.
type ServerError struct {
	Code    Code
	Message string
}

// Error returns "inv: <code name>" and the message, if any.
func (e *ServerError) Error() string {
	if e.Message == "" {
		return "inv: " + e.Code.String()
	}
	return "inv: " + e.Code.String() + ": " + e.Message
}

// Is matches any *ServerError of the same code (the sentinels included).
func (e *ServerError) Is(target error) bool {
	t, ok := target.(*ServerError)
	return ok && t.Code == e.Code
}

// Sentinels, one per code of engine/codes.go. A refusal of the engine is
// returned as the sentinel itself (no allocation on the hot path of a flash
// sale, where most answers are ErrSoldOut); an ERROR frame, which carries a
// message, is returned as a new *ServerError that errors.Is matches to the
// sentinel of its code.
var (
	// Refusals of the engine: the request was applied and refused; nothing changed.
	ErrBadRequest     = sentinel(CodeBadRequest)
	ErrUnknownItem    = sentinel(CodeUnknownItem)
	ErrSoldOut        = sentinel(CodeSoldOut)
	ErrWindowFull     = sentinel(CodeWindowFull)
	ErrLimitExceeded  = sentinel(CodeLimitExceeded)
	ErrBlocked        = sentinel(CodeBlocked)
	ErrNotOpen        = sentinel(CodeNotOpen)
	ErrClosed         = sentinel(CodeClosed) // the item's sale window has closed (not the client: see ErrClientClosed)
	ErrRateLimited    = sentinel(CodeRateLimited)
	ErrKeyConflict    = sentinel(CodeKeyConflict)
	ErrNotFound       = sentinel(CodeNotFound)
	ErrExpired        = sentinel(CodeExpired)
	ErrWrongState     = sentinel(CodeWrongState)
	ErrWrongStore     = sentinel(CodeWrongStore) // a pickup by id at another store than the reservation's
	ErrBadCode        = sentinel(CodeBadCode)    // also a pickup by code alone whose code is another store's
	ErrLocked         = sentinel(CodeLocked)
	ErrBelowPromised  = sentinel(CodeBelowPromised)
	ErrUnknownWindow  = sentinel(CodeUnknownWindow)
	ErrWindowConflict = sentinel(CodeWindowConflict)
	ErrLinkFailed     = sentinel(CodeLinkFailed)
	ErrTooMany        = sentinel(CodeTooMany)
	// ErrClaimRequired: a limited SKU whose customer's counters live on
	// another shard. The server takes that claim itself for a reserve and
	// for a waitlist join (docs/adr/0070, 0112); only a node older than
	// docs/adr/0112 refuses such a join with it.
	ErrClaimRequired = sentinelSaying(CodeClaimRequired,
		"the SKU has a per-customer limit counted on the customer's home shard, and the node that answered "+
			"is too old to take that claim for a waitlist join")
	// ErrWindowRequired: the item has pickup windows, and a reserve must
	// name one (ReserveRequest.Window); GetItem lists them.
	ErrWindowRequired = sentinelSaying(CodeWindowRequired,
		"the item has pickup windows: reserve into one of them (GetItem lists them)")
	// ErrTooEarly: a pickup before the reservation's pickup window starts;
	// nothing was counted against the customer. Pickup returns, with it,
	// a Result whose Window is the window's start.
	ErrTooEarly = sentinelSaying(CodeTooEarly,
		"the pickup window has not started yet: come back at its start")

	// Refusals of the server and protocol: the request was not applied,
	// except ErrTimeout and ErrInternal, whose outcome is unknown. The
	// client retries busy, not_leader, unavailable, timeout and internal
	// itself (RetryPolicy); a caller sees them only once retries ran out.
	ErrUnauthorized = sentinel(CodeUnauthorized)
	ErrBusy         = sentinel(CodeBusy)
	ErrNotLeader    = sentinel(CodeNotLeader)
	ErrTooLarge     = sentinel(CodeTooLarge)
	ErrUnknownOp    = sentinel(CodeUnknownOp)
	ErrProtocol     = sentinel(CodeProtocol)
	ErrNoHello      = sentinel(CodeNoHello)
	ErrUnavailable  = sentinel(CodeUnavailable)
	ErrTimeout      = sentinel(CodeTimeout)
	ErrInternal     = sentinel(CodeInternal)
	// ErrNotHeld is a node's answer to another node (a node that holds no
	// replica of a shard); a client is not sent it, and retries it.
	ErrNotHeld = sentinel(CodeNotHeld)
	// ErrDiskFull: the shard leader's disk is below its free-space reserve;
	// writes are refused (not applied) until the operator frees space,
	// reads still work. It is not retried: space rarely returns within a
	// back-off.
	ErrDiskFull = sentinel(CodeDiskFull)
)

// Errors of the client itself.
var (
	// ErrClientClosed is returned by calls made after Close.
	ErrClientClosed = errors.New("inv: client closed")

	// ErrUnknownOutcome marks a call that gave up without learning whether
	// the server applied it: a reply was lost with its connection, or did
	// not come in time, or the server answered timeout or internal, and
	// retries ran out (or the context ended). The request may or may not
	// have taken effect. Calling again with the same idempotency key (the
	// request's Key field) is safe: the server answers with the first
	// outcome and changes nothing twice.
	ErrUnknownOutcome = errors.New("inv: outcome unknown: the request may or may not have been applied; retry with the same idempotency key")

	// ErrFeedGap ends a subscription whose resume position the server no
	// longer keeps: the consumer missed changes and must resynchronise from
	// a read (ListItems, GetReservation) before subscribing again.
	ErrFeedGap = errors.New("inv: the change feed no longer holds the resume position; resynchronise from a read")
)

// sentinels is the one table from code to sentinel. Codes are below 128
// (engine: < 64; server and protocol: 64..74); an array keeps the lookup a
// bounds check and a load.
var sentinels [128]*ServerError

func sentinel(code engine.Code) *ServerError { return sentinelSaying(code, "") }

// sentinelSaying is a sentinel whose message says what to do about it.
func sentinelSaying(code engine.Code, msg string) *ServerError {
	e := &ServerError{Code: code, Message: msg}
	sentinels[code] = e
	return e
}

// errorOf returns the error for a code: nil for OK, the sentinel for a
// known code, a new *ServerError for a code this client does not know
// (future servers append codes; they are refusals of unknown kind).
func errorOf(code engine.Code) error {
	if code == engine.OK {
		return nil
	}
	if int(code) < len(sentinels) && sentinels[code] != nil {
		return sentinels[code]
	}
	return &ServerError{Code: code}
}

// errorWithMessage returns the error of an ERROR frame: the code with the
// server's message (allocates; ERROR frames are the rare path).
func errorWithMessage(code engine.Code, msg string) error {
	if msg == "" {
		return errorOf(code)
	}
	return &ServerError{Code: code, Message: msg}
}

// CodeOf returns the code of the *ServerError in err's chain: OK for nil,
// and false when err carries no code (a context error, a dial failure ...).
func CodeOf(err error) (Code, bool) {
	if err == nil {
		return engine.OK, true
	}
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code, true
	}
	return 0, false
}

// CartError says which line of a cart (ReserveMany) was refused. Err is that
// line's refusal (errors.Is(err, ErrSoldOut) sees through the CartError);
// the other lines were not held, or were released again.
type CartError struct {
	Line int // index in CartRequest.Lines
	Err  error
}

func (e *CartError) Error() string {
	return "inv: cart line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

func (e *CartError) Unwrap() error { return e.Err }

// What the client does about a code it got instead of a result.
type verdict uint8

const (
	verdictFinal   verdict = iota // return it to the caller
	verdictRetry                  // not applied: retry after a back-off
	verdictUnknown                // maybe applied: retry with the same key after a back-off
	verdictLeader                 // not applied: go to the shard's leader and retry
)

// verdictOf classifies a code of an ERROR frame. Refusals of the engine
// never come here: they are answers, not failures, and are never retried.
func verdictOf(code engine.Code) verdict {
	switch code {
	case engine.CodeBusy, engine.CodeUnavailable, engine.CodeNotHeld:
		return verdictRetry
	case engine.CodeNotLeader:
		return verdictLeader
	case engine.CodeTimeout, engine.CodeInternal:
		// The proposal may have committed. Every mutating call carries an
		// idempotency key, so asking again returns the first outcome.
		return verdictUnknown
	}
	return verdictFinal
}
