// Who sees pickup codes, against a real invd with tokens
// (docs/adr/0056-pickup-codes-in-replies.md). Reservation ids are sequential,
// so a reply that carried codes to any storefront token would hand out every
// order's code. The test confirms orders through a storefront token and
// checks that the code comes back in the confirm's reply (and in the replay
// of a confirm retried with its idempotency key, alone and inside a BATCH),
// but in no other reply to a storefront or store token: get_reservation,
// list_reservations, cancel, a BATCH of reads, a pickup by id. An operator
// token reads the codes; the code the storefront got still picks the order
// up, so nothing was changed but what the replies show.
package main_test

import (
	"testing"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
)

func TestPickupCodesOnlyInTheConfirmReply(t *testing.T) {
	p := startInvd(t, 2, tokenConfig(storefrontToken))
	op := dialToken(t, p, operatorToken)
	web := dialToken(t, p, storefrontToken)
	s1 := dialToken(t, p, storeS1Token)
	want(t, op, engine.OK, putItem("PC", "S1", 10))

	h1 := want(t, web, engine.OK, reserve("PC", "S1", "pc-cust", 1))
	h2 := want(t, web, engine.OK, reserve("PC", "S1", "pc-cust", 1))
	confirm := onID(engine.OpConfirm, h1.ID)
	confirm.Key = []byte("pay-h1")
	code1 := want(t, web, engine.OK, confirm).PickupCode
	if code1 == 0 {
		t.Fatal("the confirm's reply carries no pickup code")
	}
	if again := want(t, web, engine.OK, confirm).PickupCode; again != code1 {
		t.Fatalf("the confirm retried with its key: code %d, want %d", again, code1)
	}
	code2 := want(t, web, engine.OK, onID(engine.OpConfirm, h2.ID)).PickupCode

	noCode := func(what string, r engine.Result) {
		t.Helper()
		if r.PickupCode != 0 {
			t.Errorf("%s: reply carries pickup code %d", what, r.PickupCode)
		}
		if r.Reservation != nil && r.Reservation.PickupCode != 0 {
			t.Errorf("%s: reservation carries pickup code %d", what, r.Reservation.PickupCode)
		}
		for _, ri := range r.Reservations {
			if ri.PickupCode != 0 {
				t.Errorf("%s: reservation %d in the list carries its pickup code", what, ri.ID)
			}
		}
	}
	r := want(t, web, engine.OK, onID(engine.OpGetReservation, h1.ID))
	if r.Reservation == nil || r.Reservation.State != engine.StateConfirmed {
		t.Fatalf("get_reservation: %+v", r.Reservation)
	}
	noCode("storefront get_reservation", r)
	list := want(t, web, engine.OK, engine.Command{Op: engine.OpListReservations, Customer: []byte("pc-cust")})
	if len(list.Reservations) != 2 {
		t.Fatalf("list_reservations: %d reservations, want 2", len(list.Reservations))
	}
	noCode("storefront list_reservations", list)

	// A BATCH: the reads hide the code, the replayed confirm keeps it.
	rs, err := web.Batch([]engine.Command{onID(engine.OpGetReservation, h1.ID), confirm,
		{Op: engine.OpListReservations, Customer: []byte("pc-cust")}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if err := wire.ReplyErrorOf(&rs[i]); err != nil {
			t.Fatalf("batch entry %d: %v", i, err)
		}
	}
	noCode("batch get_reservation", rs[0].Result)
	if rs[1].Result.PickupCode != code1 {
		t.Errorf("batch: the replayed confirm's code %d, want %d", rs[1].Result.PickupCode, code1)
	}
	noCode("batch list_reservations", rs[2].Result)

	// The operator reads them.
	if r := want(t, op, engine.OK, onID(engine.OpGetReservation, h1.ID)); r.Reservation.PickupCode != code1 {
		t.Errorf("operator get_reservation: code %d, want %d", r.Reservation.PickupCode, code1)
	}
	if l := want(t, op, engine.OK, engine.Command{Op: engine.OpListReservations, Customer: []byte("pc-cust")}); len(l.Reservations) != 2 ||
		l.Reservations[0].PickupCode == 0 || l.Reservations[1].PickupCode == 0 {
		t.Errorf("operator list_reservations: %+v", l.Reservations)
	}

	// The codes still work: the store picks h1 up with the code the
	// storefront was given, and its reply does not echo the code.
	picked := want(t, s1, engine.OK, engine.Command{Op: engine.OpPickup, ID: h1.ID, Store: []byte("S1"), PickupCode: code1})
	if picked.State != engine.StatePickedUp {
		t.Fatalf("pickup: %+v", picked)
	}
	noCode("store pickup", picked)
	// A storefront's cancel of a confirmed order does not echo it either.
	cancelled := want(t, web, engine.OK, onID(engine.OpCancel, h2.ID))
	noCode("storefront cancel", cancelled)
	if r := want(t, op, engine.OK, onID(engine.OpGetReservation, h2.ID)); r.Reservation.PickupCode != code2 {
		t.Errorf("operator reads the cancelled order's code %d, want %d", r.Reservation.PickupCode, code2)
	}
}
