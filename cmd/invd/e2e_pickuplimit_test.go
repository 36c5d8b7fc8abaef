// Pickup brute force against a real invd: guesses of pickup codes are
// bounded per connection and per store by token buckets in the server
// (pickup_rate_per_conn/_store and their bursts). A connection that spends
// its burst is answered rate_limited without reaching the engine; a second
// connection at the same store gets only what is left of the store's
// burst; another store is unaffected; the buckets refill with time. A
// genuine pickup after the guessing still works once the bucket refills,
// and the guesses changed nothing.
package main_test

import (
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
)

const pickupLimitConfig = `
pickup_rate_per_conn = 2
pickup_burst_per_conn = 4
pickup_rate_per_store = 2
pickup_burst_per_store = 6
`

// guess tries a pickup by code alone and reports whether it reached the
// engine (any result) or was rate limited; anything else fails the test.
func guess(t *testing.T, c *wire.Conn, store string, code uint64) bool {
	t.Helper()
	cmd := engine.Command{Op: engine.OpPickup, Store: []byte(store), PickupCode: code}
	_, err := c.Do(&cmd)
	switch wire.CodeOf(err) {
	case engine.CodeInternal:
		if err != nil {
			t.Fatalf("pickup: %v", err)
		}
		return true
	case engine.CodeRateLimited:
		return false
	default:
		t.Fatalf("pickup: %v", err)
	}
	return false
}

func TestPickupRateLimits(t *testing.T) {
	p := startInvd(t, 2, pickupLimitConfig)
	op := dial(t, p)
	want(t, op, engine.OK, putItem("P", "S1", 10))
	h := want(t, op, engine.OK, reserve("P", "S1", "pl-1", 1))
	code := want(t, op, engine.OK, onID(engine.OpConfirm, h.ID)).PickupCode
	wrong := func(i int) uint64 { return (code + uint64(i) + 1) % 1_000_000_000_000 }

	a, b, other := dial(t, p), dial(t, p), dial(t, p)
	reached := 0
	for i := range 10 {
		if guess(t, a, "S1", wrong(i)) {
			reached++
		}
	}
	if reached != 4 {
		t.Fatalf("connection a: %d of 10 guesses reached the engine, want its burst of 4", reached)
	}
	reached = 0
	for i := range 10 {
		if guess(t, b, "S1", wrong(100+i)) {
			reached++
		}
	}
	if reached != 2 {
		t.Fatalf("connection b at the same store: %d guesses reached the engine, want the store's 6 - 4 = 2", reached)
	}
	if !guess(t, other, "S2", wrong(200)) {
		t.Fatal("another store was limited by S1's guesses")
	}
	if r := want(t, op, engine.OK, onID(engine.OpGetReservation, h.ID)); r.Reservation.State != engine.StateConfirmed {
		t.Fatalf("after guessing: %+v", r.Reservation)
	}

	time.Sleep(1100 * time.Millisecond) // two attempts back in each bucket
	pick := engine.Command{Op: engine.OpPickup, ID: h.ID, Store: []byte("S1"), PickupCode: code}
	if r := want(t, b, engine.OK, pick); r.State != engine.StatePickedUp {
		t.Fatalf("genuine pickup after refill: %+v", r)
	}
}
