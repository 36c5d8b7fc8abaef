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
