package protocol

// Reference vectors of the screening marks (marks.go, docs/adr/0104): a
// reserve with fingerprints, the rule and list ops, and replies whose
// marks ride in the result's extension. Together with golden_test.go they
// prove the bytes both ways; TestMarksMalformed proves that a prints mask
// of 0 or of unknown kinds, a zero hash, and extension fields without
// what they annotate are refused.

import (
	"testing"

	"github.com/invsys/inv/engine"
)

func markVectors() []vector {
	marked := vRes
	marked.Marks = engine.MarkFirstOrder | engine.MarkSharedDevice
	return []vector{
		requestVector("reserve_prints", "a reserve with its payment and device fingerprints (no address)", 60,
			engine.Command{Op: engine.OpReserve, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 1,
				Prints: [engine.NumPrints]uint64{engine.PrintPayment: 0x1122334455667788, engine.PrintDevice: 0xd1ce}}),
		requestVector("set_mark_rule", "refuse the item's reserves marked shared_device or velocity", 61,
			engine.Command{Op: engine.OpSetMarkRule, SKU: vSKU, Store: vStore, Marks: engine.MarkSharedDevice | engine.MarkVelocity}),
		requestVector("get_mark_rule", "read the item's mark rule", 62,
			engine.Command{Op: engine.OpGetMarkRule, SKU: vSKU, Store: vStore}),
		requestVector("list_by_mark", "held and confirmed reservations marked shared_device", 63,
			engine.Command{Op: engine.OpListByMark, Marks: engine.MarkSharedDevice}),
		resultVector("reserve_marked_ok", "held, with its marks", 60, engine.OpReserve,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow, Marks: engine.MarkFirstOrder | engine.MarkSharedDevice}),
		resultVector("reserve_marked_refused", "refused: the marks hit the item's rule; the reply names them", 60, engine.OpReserve,
			engine.Result{Code: engine.CodeMarked, Marks: engine.MarkSharedDevice}),
		resultVector("set_mark_rule_ok", "the rule set", 61, engine.OpSetMarkRule,
			engine.Result{Marks: engine.MarkSharedDevice | engine.MarkVelocity}),
		resultVector("get_mark_rule", "the item's rule", 62, engine.OpGetMarkRule,
			engine.Result{Marks: engine.MarkSharedDevice | engine.MarkVelocity}),
		resultVector("get_reservation_marked", "a reservation with its marks", 30, engine.OpGetReservation,
			engine.Result{Reservation: &marked}),
		resultVector("list_by_mark", "one marked and one unmarked reservation", 63, engine.OpListByMark,
			engine.Result{Reservations: []engine.ReservationInfo{marked, vRes2}}),
	}
}

func TestMarksMalformed(t *testing.T) {
	req := func(payload ...byte) error {
		var cmd engine.Command
		return DecodeRequest(DomainOp(engine.OpListByMark), payload, &cmd)
	}
	if err := req(0, 0, 0, 0); err != nil {
		t.Fatalf("list_by_mark without a filter: %v", err)
	}
	reserve := func(prints ...byte) error {
		var cmd engine.Command
		b := appendU32(nil, 1<<fSKU|1<<fStore|1<<fCustomer|1<<fQty|1<<fPrints)
		for _, s := range []string{"A", "S", "c"} {
			b = appendStr8(b, []byte(s), MaxIDBytes, "id")
		}
		b = appendI64(b, 1)
		return DecodeRequest(DomainOp(engine.OpReserve), append(b, prints...), &cmd)
	}
	one := []byte{9, 0, 0, 0, 0, 0, 0, 0} // a u64, little endian
	for name, p := range map[string][]byte{
		"mask 0":       {0},
		"unknown kind": append([]byte{1 << engine.NumPrints}, one...),
		"zero hash":    {1 << engine.PrintDevice, 0, 0, 0, 0, 0, 0, 0, 0},
		"missing hash": {1<<engine.PrintDevice | 1<<engine.PrintAddress, 9, 0, 0, 0, 0, 0, 0, 0},
	} {
		if err := reserve(p...); err == nil {
			t.Errorf("prints %s: decoded", name)
		}
	}
	if err := reserve(append([]byte{1 << engine.PrintAddress}, one...)...); err != nil {
		t.Errorf("one address print: %v", err)
	}
	var r engine.Result
	for name, p := range map[string][]byte{
		"empty extension":         {0, 0, 0, 0x80, 0, 0},
		"unknown extension bit":   {0, 0, 0, 0x80, 0x80, 0},
		"reservation marks alone": {0, 0, 0, 0x80, 2, 0, 1, 0},
		"list marks without list": {0, 0, 0, 0x80, 4, 0, 1, 0},
		"zero marks":              {0, 0, 0, 0x80, 1, 0, 0, 0},
	} {
		if err := DecodeResult(p, &r); err == nil {
			t.Errorf("result %s: decoded", name)
		}
	}
	if err := DecodeResult([]byte{0, 0, 0, 0x80, 1, 0, 9, 0}, &r); err != nil || r.Marks != 9 {
		t.Errorf("marks 9: %v, %v", err, r.Marks)
	}
}
