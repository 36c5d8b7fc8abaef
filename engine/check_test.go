package engine

import (
	"strings"
	"testing"
	"time"
)

// TestCheckFindsAPendingHoldWithoutItsExpiry: the consistency check that
// a restore runs refuses a state whose held or confirmed reservation has
// no expiry entry of its own in the due heap, whether the entry is gone
// or only a stale one (another time) names it; the intact state passes.
func TestCheckFindsAPendingHoldWithoutItsExpiry(t *testing.T) {
	build := func() (*Engine, []uint64) {
		e := New(Config{PickupSecret: []byte("check")})
		now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC).UnixNano()
		e.Apply(now, []Command{{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S"), Stock: 100}})
		var ids []uint64
		for _, c := range []string{"c1", "c2", "c3"} {
			res, _ := e.Apply(now, []Command{{Op: OpReserve, SKU: []byte("A"), Store: []byte("S"), Customer: []byte(c), Qty: 1}})
			if res[0].Code != OK {
				t.Fatalf("reserve: %v", res[0].Code)
			}
			ids = append(ids, res[0].ID)
		}
		if err := e.CheckInvariants(); err != nil {
			t.Fatalf("an intact state: %v", err)
		}
		return e, ids
	}
	dropDue := func(e *Engine, id uint64, stale bool) {
		for i := range e.st.due {
			if e.st.due[i].id == id {
				if stale {
					e.st.due[i].at++ // keeps its place in the heap order among these
					return
				}
				rest := append(dueHeap[uint64](nil), e.st.due[:i]...)
				rest = append(rest, e.st.due[i+1:]...)
				e.st.due = nil
				for _, d := range rest {
					e.st.due.push(d)
				}
				return
			}
		}
		t.Fatalf("no due entry for %x", id)
	}
	for _, stale := range []bool{false, true} {
		e, ids := build()
		dropDue(e, ids[1], stale)
		err := e.CheckInvariants()
		if err == nil || !strings.Contains(err.Error(), "without an expiry entry") {
			t.Fatalf("stale %v: check says %v", stale, err)
		}
	}
}

// TestCheckFindsUnitsOwnedShort: the check sums a customer's units in
// active reservations per SKU from its list, and refuses a state whose
// customer record owns fewer (for any SKU, with reservations on several
// items and SKUs); the intact state, and one owning more (picked-up units
// outlive their records), pass.
func TestCheckFindsUnitsOwnedShort(t *testing.T) {
	e := New(Config{PickupSecret: []byte("check")})
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC).UnixNano()
	for _, it := range [][2]string{{"A", "S1"}, {"A", "S2"}, {"B", "S1"}} {
		e.Apply(now, []Command{{Op: OpPutItem, SKU: []byte(it[0]), Store: []byte(it[1]), Stock: 100}})
	}
	for _, r := range []struct {
		sku, store, cust string
		qty              int64
	}{{"A", "S1", "c1", 2}, {"A", "S2", "c1", 3}, {"B", "S1", "c1", 1}, {"A", "S1", "c2", 4}} {
		res, _ := e.Apply(now, []Command{{Op: OpReserve, SKU: []byte(r.sku), Store: []byte(r.store), Customer: []byte(r.cust), Qty: r.qty}})
		if res[0].Code != OK {
			t.Fatalf("reserve: %v", res[0].Code)
		}
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatalf("an intact state: %v", err)
	}
	_, c1 := e.st.findCustomer([]byte("c1"))
	if len(c1.owns) != 2 {
		t.Fatalf("c1 owns %+v, want two SKUs", c1.owns)
	}
	for k := range c1.owns {
		want := c1.owns[k].units
		c1.owns[k].units = want + 1
		if err := e.CheckInvariants(); err != nil {
			t.Fatalf("owning more of sku %d: %v", c1.owns[k].sku, err)
		}
		c1.owns[k].units = want - 1
		err := e.CheckInvariants()
		if err == nil || !strings.Contains(err.Error(), "owns") {
			t.Fatalf("owning one unit short of sku %d: check says %v", c1.owns[k].sku, err)
		}
		c1.owns[k].units = want
	}
}
