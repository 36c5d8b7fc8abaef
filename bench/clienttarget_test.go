package bench

// Proves the client adapter's translations that need no server (the
// adapter against a real invd is proved by cmd/invbench's end-to-end test):
// the client's errors become the driver's outcomes (refusals of the
// reference workloads are clear refusals with a nil error; any other code,
// an unknown outcome or a context's end is an error the driver counts and
// samples), and times round-trip between Unix nanoseconds and time.Time
// with 0 as "none".

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/client"
)

func TestOutcomeOfErr(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Outcome
		keep bool // the error is passed on
	}{
		{nil, OutcomeOK, false},
		{client.ErrSoldOut, OutcomeSoldOut, false},
		{fmt.Errorf("reserve: %w", client.ErrWindowFull), OutcomeWindowFull, false},
		{client.ErrLimitExceeded, OutcomeLimitExceeded, false},
		{client.ErrNotFound, OutcomeNotFound, false},
		{client.ErrExpired, OutcomeNotFound, false},
		{client.ErrWrongState, OutcomeNotFound, false},
		{client.ErrUnknownItem, OutcomeError, true},
		{client.ErrBusy, OutcomeError, true},
		{&client.ServerError{Code: 72, Message: "late"}, OutcomeError, true},
		{fmt.Errorf("%w: %w", client.ErrUnknownOutcome, client.ErrTimeout), OutcomeError, true},
		{client.ErrUnknownOutcome, OutcomeError, true},
		{context.DeadlineExceeded, OutcomeError, true},
	} {
		got, err := outcomeOfErr(c.err)
		if got != c.want || (err != nil) != c.keep || c.keep && !errors.Is(err, c.err) {
			t.Errorf("%v: %s, %v; want %s, error passed on %v", c.err, got, err, c.want, c.keep)
		}
	}
}

func TestTimes(t *testing.T) {
	if !timeOf(0).IsZero() || nanosOf(time.Time{}) != 0 {
		t.Error("0 must be the zero time and back")
	}
	for w := range 8 {
		ns := WindowStart(w)
		if nanosOf(timeOf(ns)) != ns {
			t.Errorf("window %d: %d does not round-trip", w, ns)
		}
	}
}
