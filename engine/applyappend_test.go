package engine

import (
	"fmt"
	"testing"
	"time"
)

// TestApplyAppend: ApplyAppend appends one result a command after dst's
// own, as Apply would have given them (linked groups included), leaves
// dst's results alone, and a later Apply does not write into what it gave.
func TestApplyAppend(t *testing.T) {
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC).UnixNano()
	cfg := Config{PickupSecret: []byte("k")}
	batch := func(n int) []Command {
		c := []Command{{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 3}}
		for i := range 4 {
			c = append(c, Command{Op: OpReserve, SKU: []byte("A"), Store: []byte("S1"),
				Customer: fmt.Appendf(nil, "c-%d-%d", n, i), Qty: 1, Linked: i == 1})
		}
		return c
	}
	plain, appended := New(cfg), New(cfg)
	dst := []Result{{Code: CodeNotFound, ID: 99}}
	for n := range 3 {
		want, _ := plain.Apply(now, batch(n))
		want = append([]Result(nil), want...)
		before := len(dst)
		var events []Event
		dst, events = appended.ApplyAppend(now, batch(n), dst)
		if len(dst) != before+len(want) {
			t.Fatalf("batch %d: %d results after %d, want %d", n, len(dst)-before, before, len(want))
		}
		for i, r := range dst[before:] {
			if r.Code != want[i].Code || r.ID != want[i].ID || r.Qty != want[i].Qty {
				t.Fatalf("batch %d result %d: %+v, Apply gave %+v", n, i, r, want[i])
			}
		}
		if len(events) == 0 {
			t.Fatalf("batch %d: no events", n)
		}
	}
	if dst[0].Code != CodeNotFound || dst[0].ID != 99 {
		t.Fatalf("dst's own result changed: %+v", dst[0])
	}
	kept := append([]Result(nil), dst...)
	appended.Apply(now, batch(9)) // the engine's own buffer again
	for i := range kept {
		if dst[i].Code != kept[i].Code || dst[i].ID != kept[i].ID {
			t.Fatalf("result %d changed by a later Apply: %+v, was %+v", i, dst[i], kept[i])
		}
	}
}
