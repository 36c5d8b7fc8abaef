// What this file proves: Peek answers what get_item would say of an item's
// available units and its SKU's limit (0 outside its sale window, not ok
// for an unknown item or a malformed id) without allocating; and the
// cancel or return of a claimed reservation names, in its Result, the
// outbox message that carries its claim's release (Sent), which
// OutboxAppended counts, while a plain cancel names none.
//
// How: on the table tests' fixture (tbFixture), Peek is compared with
// get_item item by item, before and after holds, and in and out of a sale
// window; testing.AllocsPerRun counts its allocations. A claimed hold is
// made and cancelled, another confirmed, picked up and returned.
package engine

import (
	"testing"
	"time"
)

func TestPeekAgreesWithGetItem(t *testing.T) {
	e := tbNewEngine(t, tbClaimCfg)
	check := func(when string) {
		t.Helper()
		for _, it := range e.Read(&Command{Op: OpListItems}).Items {
			avail, limit, ok := e.Peek([]byte(it.SKU), []byte(it.Store))
			want := it.Available
			if it.OpensAt != 0 && e.Now() < it.OpensAt || it.ClosesAt != 0 && e.Now() >= it.ClosesAt {
				want = 0
			}
			if !ok || avail != want || limit != it.Limit {
				t.Errorf("%s: Peek(%s/%s) = %d, %d, %v; get_item says available %d (open: %d), limit %d",
					when, it.SKU, it.Store, avail, limit, ok, it.Available, want, it.Limit)
			}
		}
	}
	check("fresh")
	e.Apply(e.Now(), []Command{{Op: OpReserve, SKU: []byte("L"), Store: []byte("S1"), Customer: []byte(tbNear), Qty: 2}})
	check("after a hold")
	e.Apply(tbAbs("90m"), []Command{{Op: OpExpire}})
	check("inside F's sale window")
	e.Apply(tbAbs("3h"), []Command{{Op: OpExpire}})
	check("after F's sale window")
	for _, bad := range [][2]string{{"nope", "S1"}, {"", "S1"}, {"A", ""}, {string(make([]byte, 65)), "S1"}} {
		if a, l, ok := e.Peek([]byte(bad[0]), []byte(bad[1])); ok || a != 0 || l != 0 {
			t.Errorf("Peek(%q, %q) = %d, %d, %v", bad[0], bad[1], a, l, ok)
		}
	}
	sku, store := []byte("L"), []byte("S1")
	if n := testing.AllocsPerRun(200, func() { e.Peek(sku, store) }); n != 0 {
		t.Errorf("Peek allocates %v times", n)
	}
}

func TestClaimedEndsNameTheirRelease(t *testing.T) {
	e := tbNewEngine(t, tbClaimCfg)
	dl := e.Now() + int64(5*time.Second)
	hold := func(key string) Result {
		res, _ := e.Apply(e.Now(), []Command{{Op: OpReserve, SKU: []byte("L"), Store: []byte("S1"), Customer: []byte(tbFar),
			Qty: 1, Claim: []byte(key), Deadline: dl}})
		return res[0]
	}
	one := func(c Command) Result { res, _ := e.Apply(e.Now(), []Command{c}); return res[0] }
	h1, h2 := hold("k1"), hold("k2")
	before := e.OutboxAppended()
	if r := one(Command{Op: OpCancel, ID: h1.ID}); r.Code != OK || r.Sent != (MessageRef{To: tbHome, Seq: 1}) {
		t.Fatalf("cancel of a claimed hold: %+v", r)
	}
	if e.OutboxAppended() != before+1 {
		t.Fatalf("OutboxAppended %d → %d", before, e.OutboxAppended())
	}
	if r := one(Command{Op: OpCancel, ID: h1.ID}); r.Sent != (MessageRef{}) {
		t.Fatalf("a second cancel names %+v", r.Sent)
	}
	one(Command{Op: OpResolveClaim, Claim: []byte("k2")})
	c := one(Command{Op: OpConfirm, ID: h2.ID})
	one(Command{Op: OpPickup, ID: h2.ID, Store: []byte("S1"), PickupCode: c.PickupCode})
	if r := one(Command{Op: OpReturn, ID: h2.ID, Restock: true}); r.Code != OK || r.Sent != (MessageRef{To: tbHome, Seq: 2}) {
		t.Fatalf("return of a claimed reservation: %+v", r)
	}
	plain := one(Command{Op: OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte(tbFar), Qty: 1})
	if r := one(Command{Op: OpCancel, ID: plain.ID}); r.Code != OK || r.Sent != (MessageRef{}) {
		t.Fatalf("cancel of a plain hold: %+v", r)
	}
}
