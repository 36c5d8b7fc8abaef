package protocol

// Reference vectors of review (marks.go, docs/adr/0107): a hold-back rule
// (engine.RuleHoldBack in the rule's word), release_review, and replies
// whose review rides in the result's extension (xReview, xListReview).
// Together with golden_test.go they prove the bytes both ways;
// TestReviewMalformed proves that a review byte of 0 or of unknown bits,
// one without the reservation it annotates, and a list review without a
// list or other than 0 or 1 are refused.

import (
	"testing"

	"github.com/invsys/inv/engine"
)

func reviewVectors() []vector {
	held := vRes
	held.Marks, held.UnderReview = engine.MarkSharedDevice, true
	return []vector{
		requestVector("set_mark_rule_hold", "hold back the item's reserves marked shared_device", 64,
			engine.Command{Op: engine.OpSetMarkRule, SKU: vSKU, Store: vStore, Marks: engine.MarkSharedDevice | engine.RuleHoldBack}),
		requestVector("release_review", "release a held-back hold", 65,
			engine.Command{Op: engine.OpReleaseReview, ID: vID, Key: []byte("rel-1")}),
		resultVector("reserve_held_back", "held, under review, with its marks", 60, engine.OpReserve,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow, Marks: engine.MarkSharedDevice, UnderReview: true}),
		resultVector("confirm_under_review", "refused: the hold is under review", 66, engine.OpConfirm,
			engine.Result{Code: engine.CodeUnderReview}),
		resultVector("release_review_ok", "released: the hold as it stands", 65, engine.OpReleaseReview,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow, Marks: engine.MarkSharedDevice}),
		resultVector("get_reservation_under_review", "a reservation under review", 30, engine.OpGetReservation,
			engine.Result{Reservation: &held}),
		resultVector("list_by_mark_review", "one reservation under review, one not", 63, engine.OpListByMark,
			engine.Result{Reservations: []engine.ReservationInfo{held, vRes2}}),
	}
}

func TestReviewMalformed(t *testing.T) {
	var r engine.Result
	const rev, list = 1 << xReview, 1 << xListReview
	for name, p := range map[string][]byte{
		"review byte 0":            {0, 0, 0, 0x80, rev, 0, 0},
		"review unknown bit":       {0, 0, 0, 0x80, rev, 0, 4},
		"reservation review alone": {0, 0, 0, 0x80, rev, 0, 2},
		"list review without list": {0, 0, 0, 0x80, list, 0, 1},
		"coupons' bit 4":           {0, 0, 0, 0x80, 1 << 4, 0, 1},
	} {
		if err := DecodeResult(p, &r); err == nil {
			t.Errorf("result %s: decoded", name)
		}
	}
	if err := DecodeResult([]byte{0, 0, 0, 0x80, rev, 0, 1}, &r); err != nil || !r.UnderReview {
		t.Errorf("own review: %v, %v", err, r.UnderReview)
	}
}
