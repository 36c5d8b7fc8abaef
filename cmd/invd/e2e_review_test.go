// End-to-end test of review (docs/adr/0107) against a real invd with 4
// shards, over the raw protocol: the reseller pattern, one device behind
// many accounts, under a hold-back rule on the item. The first two
// accounts' orders go through; the third's and the fourth's are held back
// (the reply and get_reservation say so, the units are taken, list_by_mark
// shows them under review); their confirm answers under_review; an
// operator releases the third, which then confirms, while the fourth still
// answers under_review, and a second release of the third is wrong_state.
package main_test

import (
	"fmt"
	"testing"

	"github.com/invsys/inv/engine"
)

func TestReviewOneDeviceManyAccounts(t *testing.T) {
	const shards, sku, device = 4, "SWITCH2", 0xfeed
	p := startInvd(t, shards, "")
	c := dial(t, p)
	store := storeInShard(sku, 1, shards)
	want(t, c, engine.OK, putItem(sku, store, 100))
	rule := engine.MarkSharedDevice | engine.RuleHoldBack
	want(t, c, engine.OK, engine.Command{Op: engine.OpSetMarkRule, SKU: []byte(sku), Store: []byte(store), Marks: rule})
	if r := want(t, c, engine.OK, engine.Command{Op: engine.OpGetMarkRule, SKU: []byte(sku), Store: []byte(store)}); r.Marks != rule {
		t.Fatalf("get_mark_rule: %v, want the marks with the hold-back action", r.Marks)
	}
	var ids []uint64
	for i := 1; i <= 4; i++ {
		cmd := reserve(sku, store, fmt.Sprintf("acct%d", i), 1)
		cmd.Prints[engine.PrintDevice] = device
		r := want(t, c, engine.OK, cmd)
		if r.UnderReview != (i >= 3) {
			t.Fatalf("acct%d: under review %v", i, r.UnderReview)
		}
		ids = append(ids, r.ID)
	}
	if it := getItem(t, c, sku, store); it.Held != 4 {
		t.Fatalf("held %d, want 4: a held-back order takes its units", it.Held)
	}
	if g := want(t, c, engine.OK, onID(engine.OpGetReservation, ids[2])); !g.Reservation.UnderReview {
		t.Fatal("get_reservation: not under review")
	}
	list := want(t, c, engine.OK, engine.Command{Op: engine.OpListByMark, Marks: engine.MarkSharedDevice})
	if len(list.Reservations) != 2 || !list.Reservations[0].UnderReview || !list.Reservations[1].UnderReview {
		t.Fatalf("list_by_mark: %+v, want the two held-back orders under review", list.Reservations)
	}
	want(t, c, engine.CodeUnderReview, onID(engine.OpConfirm, ids[2]))
	rel := onID(engine.OpReleaseReview, ids[2])
	if r := want(t, c, engine.OK, rel); r.UnderReview || r.State != engine.StateHeld {
		t.Fatalf("release: %+v", r)
	}
	want(t, c, engine.CodeWrongState, rel)
	if r := want(t, c, engine.OK, onID(engine.OpConfirm, ids[2])); r.State != engine.StateConfirmed {
		t.Fatalf("confirm after release: %v", r.State)
	}
	want(t, c, engine.CodeUnderReview, onID(engine.OpConfirm, ids[3]))
}
