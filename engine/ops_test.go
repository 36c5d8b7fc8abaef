// What this file proves: op values keep the ranges command.go documents,
// on which ReadOnly and Mutating rest: every op that changes state lies
// below 32, every op from 32 up is a read, and a read applied through the
// log leaves the whole state (the snapshot bytes) as it was. A change op
// appended above 31 would be served from a replica's state without the log;
// this test fails first.
package engine

import (
	"bytes"
	"testing"
)

func TestOpRanges(t *testing.T) {
	e := tbNewEngine(t, nil)
	res, _ := e.Apply(e.Now(), []Command{{Op: OpReserve, SKU: []byte("W"), Store: []byte("S1"), Customer: []byte("c1"),
		Qty: 1, Window: tbAbs(tbWindows[1][0])}})
	if res[0].Code != OK {
		t.Fatalf("reserve: %v", res[0].Code)
	}
	id := res[0].ID
	for o := Op(1); o < 255; o++ {
		if !o.Valid() {
			continue
		}
		if o > OpLast {
			t.Errorf("%v = %d is past OpLast %d", o, o, OpLast)
		}
		if o.ReadOnly() != (o >= 32 && o != OpRegisterKey && o != OpSetMarkRule && o != OpUpdateItem && o != OpPutItems && o != OpReleaseReview && !o.Message() && !o.WaitlistChange() && !o.CouponChange()) {
			t.Errorf("%v = %d: ReadOnly %v", o, o, o.ReadOnly())
		}
		if o.Mutating() == o.ReadOnly() && o != OpExpire && !o.Internal() {
			t.Errorf("%v = %d: Mutating %v, ReadOnly %v", o, o, o.Mutating(), o.ReadOnly())
		}
		if !o.ReadOnly() {
			continue
		}
		before := refSnap(t, e)
		c := Command{Op: o, SKU: []byte("W"), Store: []byte("S1"), Customer: []byte("c1"), ID: id,
			Window: tbAbs(tbWindows[1][0]), Qty: 1, Key: []byte("k"), Claim: []byte("k"), PickupCode: 1}
		// The nodes' own reads (get_claim, get_claim_hold) know no claim
		// here, nor the coupon reads a serial or an issue.
		unknown := o.Internal() || o == OpGetCoupon || o == OpGetCouponIssue
		if r, _ := e.Apply(e.Now(), []Command{c}); r[0].Code != OK &&
			!(unknown && (r[0].Code == CodeNotFound || r[0].Code == CodeUnknownIssue)) {
			t.Errorf("%v: %v", o, r[0].Code)
		}
		if !bytes.Equal(before, refSnap(t, e)) {
			t.Errorf("%v = %d changed the state: a read may not", o, o)
		}
	}
}
