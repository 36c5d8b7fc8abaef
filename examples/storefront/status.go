package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/invsys/inv/client"
)

// statuses maps each refusal of the engine to the HTTP status a shop's
// front end acts on, in one table:
//
//   - 409 Conflict: the request is fine but the stock, window, limit or the
//     order's state say no right now (sold out, window full, limit,
//     not open yet, sale closed, wrong state, key reused for another order,
//     a pickup before its window, an order held back for review);
//   - 403 Forbidden: the customer is blocked or the order's screening marks
//     are refused; the pickup is at another store or with a wrong code;
//   - 404 Not Found, 410 Gone (the hold expired: reserve again),
//     422 Unprocessable (well-formed JSON, impossible request: an unknown
//     window, or none for an item that has windows), 423 Locked;
//   - 429 Too Many Requests: the customer's rate limit;
//   - 503 Service Unavailable: no answer from the engine (busy, no leader,
//     timeout, outcome unknown): retry with the same Idempotency-Key.
var statuses = []struct {
	err    error
	status int
}{
	{client.ErrSoldOut, http.StatusConflict},
	{client.ErrAlreadyRedeemed, http.StatusConflict},
	{client.ErrWindowFull, http.StatusConflict},
	{client.ErrTooEarly, http.StatusConflict},
	{client.ErrLimitExceeded, http.StatusConflict},
	{client.ErrNotOpen, http.StatusConflict},
	{client.ErrClosed, http.StatusConflict},
	{client.ErrWrongState, http.StatusConflict},
	{client.ErrKeyConflict, http.StatusConflict},
	{client.ErrBelowPromised, http.StatusConflict},
	{client.ErrUnderReview, http.StatusConflict}, // held back for review: paid, not confirmable until staff release it
	{client.ErrMarked, http.StatusForbidden},     // the item's rule refuses orders with these marks
	{client.ErrBlocked, http.StatusForbidden},
	{client.ErrWrongStore, http.StatusForbidden},
	{client.ErrBadCode, http.StatusForbidden},
	{client.ErrUnauthorized, http.StatusForbidden},
	{client.ErrNotFound, http.StatusNotFound},
	{client.ErrUnknownItem, http.StatusNotFound},
	{client.ErrUnknownIssue, http.StatusNotFound},
	{client.ErrExpired, http.StatusGone},
	{client.ErrBadRequest, http.StatusUnprocessableEntity},
	{client.ErrUnknownWindow, http.StatusUnprocessableEntity},
	{client.ErrWindowRequired, http.StatusUnprocessableEntity},
	{client.ErrTooMany, http.StatusUnprocessableEntity},
	{client.ErrLocked, http.StatusLocked},
	{client.ErrRateLimited, http.StatusTooManyRequests},
	{client.ErrBusy, http.StatusServiceUnavailable},
	{client.ErrUnavailable, http.StatusServiceUnavailable},
	{client.ErrNotLeader, http.StatusServiceUnavailable},
	{client.ErrTimeout, http.StatusServiceUnavailable},
	{client.ErrUnknownOutcome, http.StatusServiceUnavailable},
	{context.DeadlineExceeded, http.StatusServiceUnavailable},
}

// statusOf returns the HTTP status and the error code name for an error of
// the client. A refusal keeps the engine's code name ("sold_out"); errors
// without a code are "unavailable" (503) or "internal" (500).
func statusOf(err error) (int, string) {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.status, codeName(err, s.status)
		}
	}
	var se *client.ServerError
	if errors.As(err, &se) {
		return http.StatusInternalServerError, se.Code.String()
	}
	if errors.Is(err, context.Canceled) {
		return 499, "cancelled" // the shopper went away; nginx's convention
	}
	// No code at all: the engine could not be reached.
	return http.StatusServiceUnavailable, "unavailable"
}

func codeName(err error, status int) string {
	if errors.Is(err, client.ErrUnknownOutcome) {
		return "outcome_unknown"
	}
	if code, ok := client.CodeOf(err); ok {
		return code.String()
	}
	if status == http.StatusServiceUnavailable {
		return "unavailable"
	}
	return "internal"
}
