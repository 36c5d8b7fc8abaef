// End-to-end test of screening marks (docs/adr/0104) against a real invd
// with 4 shards, over the raw protocol: the reseller pattern a storefront
// sees, one device behind many accounts, marks the third account's order
// and every later one shared_device (in the reserve's reply and in
// get_reservation); an operator's list_by_mark gathers them from every
// shard; a mark rule on the item then refuses the next such account with
// marked, naming the marks, and takes no stock; and a store in another
// shard, which has seen the device behind no account, marks nothing but a
// first order: fingerprints are counted per shard.
package main_test

import (
	"fmt"
	"testing"

	"github.com/invsys/inv/engine"
)

func TestMarksOneDeviceManyAccounts(t *testing.T) {
	const shards, sku, device = 4, "SWITCH2", 0xfeed
	p := startInvd(t, shards, "")
	c := dial(t, p)
	store, other := storeInShard(sku, 1, shards), storeInShard(sku, 2, shards)
	want(t, c, engine.OK, putItem(sku, store, 100))
	want(t, c, engine.OK, putItem(sku, other, 100))
	onDevice := func(st, acct string) engine.Command {
		cmd := reserve(sku, st, acct, 1)
		cmd.Prints[engine.PrintDevice] = device
		return cmd
	}
	var ids []uint64
	for i := 1; i <= 5; i++ {
		r := want(t, c, engine.OK, onDevice(store, fmt.Sprintf("acct%d", i)))
		wantMarks := engine.MarkFirstOrder
		if i >= 3 {
			wantMarks |= engine.MarkSharedDevice
			ids = append(ids, r.ID)
		}
		if r.Marks != wantMarks {
			t.Fatalf("acct%d: marks %v, want %v", i, r.Marks, wantMarks)
		}
	}
	if g := want(t, c, engine.OK, onID(engine.OpGetReservation, ids[0])); g.Reservation.Marks != engine.MarkFirstOrder|engine.MarkSharedDevice {
		t.Fatalf("get_reservation: marks %v", g.Reservation.Marks)
	}
	list := want(t, c, engine.OK, engine.Command{Op: engine.OpListByMark, Marks: engine.MarkSharedDevice})
	if len(list.Reservations) != len(ids) {
		t.Fatalf("list_by_mark: %d reservations, want %d", len(list.Reservations), len(ids))
	}
	for i, x := range list.Reservations {
		if x.ID != ids[i] || x.Marks&engine.MarkSharedDevice == 0 {
			t.Fatalf("list_by_mark %d: id %x marks %v, want id %x", i, x.ID, x.Marks, ids[i])
		}
	}

	want(t, c, engine.OK, engine.Command{Op: engine.OpSetMarkRule, SKU: []byte(sku), Store: []byte(store), Marks: engine.MarkSharedDevice})
	if r := want(t, c, engine.OK, engine.Command{Op: engine.OpGetMarkRule, SKU: []byte(sku), Store: []byte(store)}); r.Marks != engine.MarkSharedDevice {
		t.Fatalf("get_mark_rule: %v", r.Marks)
	}
	r := want(t, c, engine.CodeMarked, onDevice(store, "acct6"))
	if r.Marks != engine.MarkFirstOrder|engine.MarkSharedDevice {
		t.Fatalf("the refusal names marks %v", r.Marks)
	}
	if it := getItem(t, c, sku, store); it.Held != 5 {
		t.Fatalf("held %d after the refusal, want 5", it.Held)
	}
	if r := want(t, c, engine.OK, onDevice(other, "acct6")); r.Marks != engine.MarkFirstOrder {
		t.Fatalf("another shard's store: marks %v, want first_order only", r.Marks)
	}
}
