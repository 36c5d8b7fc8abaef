// The merges of fan-out ops, as pure functions: how per-shard answers
// combine (a customer blocked anywhere is blocked; lists come sorted and
// bounded; a pickup by code is won by the shard that handed the order over,
// and is unknown if a shard did not answer). The scripts of
// testdata/fanout.txt run them through whole fan-outs.
package router

import (
	"errors"
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

var (
	errUnknownOutcome = errors.New("outcome unknown")
	errBusyShard      = errors.New("shard busy")
)

func TestMergeCustomer(t *testing.T) {
	rs := []engine.Result{
		{Customer: &engine.CustomerInfo{ID: "c", Tier: 1, Blocked: true, Open: 2}}, // a copy that lags the home
		{Code: engine.CodeNotFound},
		{Customer: &engine.CustomerInfo{ID: "c", Tier: 2, NoShows: 1, Open: 1}}, // the home
	}
	r, err := mergeCustomer(rs, make([]error, 3), 2)
	if err != nil || r.Customer == nil {
		t.Fatalf("merge: %+v %v", r, err)
	}
	if cu := r.Customer; cu.Blocked || cu.Tier != 2 || cu.Open != 3 || cu.NoShows != 1 {
		t.Fatalf("merged customer: %+v (want the home's block, tier and no-shows, every shard's open)", cu)
	}
	// The home does not know the customer yet: regular, not blocked, counts added.
	r, _ = mergeCustomer(rs, make([]error, 3), 1)
	if cu := r.Customer; cu == nil || cu.Blocked || cu.Tier != 0 || cu.Open != 3 || cu.ID != "c" {
		t.Fatalf("merged without the home's record: %+v", cu)
	}
	r, _ = mergeCustomer([]engine.Result{{Code: engine.CodeNotFound}, {Code: engine.CodeNotFound}}, make([]error, 2), 0)
	if r.Code != engine.CodeNotFound {
		t.Fatalf("nowhere known: %s", r.Code)
	}
}

func TestMergeLists(t *testing.T) {
	rs := []engine.Result{
		{Reservations: []engine.ReservationInfo{{ID: 9}, {ID: 3}}, Stores: []engine.StoreStock{{Store: "B"}}},
		{Reservations: []engine.ReservationInfo{{ID: 5}}, Stores: []engine.StoreStock{{Store: "A"}}},
	}
	r, _ := merge(engine.OpListReservations, rs, make([]error, 2))
	if len(r.Reservations) != 3 || r.Reservations[0].ID != 3 || r.Reservations[2].ID != 9 {
		t.Fatalf("reservations: %+v", r.Reservations)
	}
	r, _ = merge(engine.OpStoresWithStock, rs, make([]error, 2))
	if r.Stores[0].Store != "A" {
		t.Fatalf("stores: %+v", r.Stores)
	}
	big := make([]engine.ItemInfo, protocol.MaxListItems)
	r, _ = merge(engine.OpListItems, []engine.Result{{Items: big}, {Items: big}}, make([]error, 2))
	if len(r.Items) != protocol.MaxListItems {
		t.Fatalf("list_items of %d: not cut at the protocol's bound", len(r.Items))
	}
}

func TestMergePickupByCode(t *testing.T) {
	none := make([]error, 3)
	r, err := merge(engine.OpPickup, []engine.Result{{Code: engine.CodeBadCode},
		{ID: 7, State: engine.StatePickedUp}, {Code: engine.CodeBadCode}}, none)
	if err != nil || r.ID != 7 {
		t.Fatalf("winner: %+v %v", r, err)
	}
	r, _ = merge(engine.OpPickup, []engine.Result{{Code: engine.CodeBadCode}, {Code: engine.CodeWrongStore},
		{Code: engine.CodeBadCode}}, none)
	if r.Code != engine.CodeWrongStore {
		t.Fatalf("refusal: %s, want wrong_store", r.Code)
	}
	errs := []error{nil, errUnknownOutcome, nil}
	_, err = merge(engine.OpPickup, []engine.Result{{Code: engine.CodeBadCode}, {}, {Code: engine.CodeBadCode}}, errs)
	if !errors.Is(err, errUnknownOutcome) {
		t.Fatalf("a silent shard may hold the code: got %v", err)
	}
}

func TestMergeEvery(t *testing.T) {
	r, err := merge(engine.OpBlock, []engine.Result{{}, {Code: engine.CodeBadRequest}}, make([]error, 2))
	if err != nil || r.Code != engine.CodeBadRequest {
		t.Fatalf("block: %+v %v", r, err)
	}
	_, err = merge(engine.OpBlock, []engine.Result{{}, {}}, []error{nil, errBusyShard})
	if !errors.Is(err, errBusyShard) {
		t.Fatalf("block with a busy shard: %v", err)
	}
}
