// These tests prove every method of the client against a real invd: an
// order's whole life (reserve, extend, reschedule, confirm, pickup by id
// and by code alone, return, cancel) with the reads that observe it, and
// the operator operations (stock, sale windows, limits, member shares,
// customers, unlock), each checked through what the server reads back.
package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// day returns a time well in the future at an hour boundary: pickup
// windows must not have ended.
func day(offset time.Duration) time.Time {
	return time.Now().Add(48 * time.Hour).Truncate(time.Hour).Add(offset).UTC()
}

func TestE2EOrderLifecycle(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	sku, store, cust := uniq("4710088"), "TPE0427", uniq("M")
	// w1 is the day after tomorrow; w2 is open now, so its orders can be
	// picked up. The item has windows: every reserve names one.
	w1, w2 := day(0), time.Now().Truncate(time.Hour).Add(-time.Hour).UTC()
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 10})
	for _, w := range []time.Time{w1, w2} {
		if err := c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: w, End: w.Add(2 * time.Hour), Quota: 5}); err != nil {
			t.Fatal(err)
		}
	}
	it, err := c.GetItem(ctx, sku, store)
	if err != nil || it.Stock != 10 || it.Available != 10 || len(it.Windows) != 2 || !it.Windows[1].Start.Equal(w1) {
		t.Fatalf("item %+v, %v", it, err)
	}

	hold, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: cust, Qty: 2, Window: w1, TTL: 5 * time.Minute})
	if err != nil || hold.State != engine.StateHeld || hold.Qty != 2 || !hold.Window.Equal(w1) {
		t.Fatalf("reserve %+v, %v", hold, err)
	}
	if left := time.Until(hold.ExpiresAt); left < 4*time.Minute || left > 6*time.Minute {
		t.Fatalf("hold expires in %s", left)
	}
	ext, err := c.Extend(ctx, client.ExtendRequest{ID: hold.ID, TTL: 10 * time.Minute})
	if err != nil || !ext.ExpiresAt.After(hold.ExpiresAt) {
		t.Fatalf("extend %+v, %v", ext, err)
	}
	moved, err := c.Reschedule(ctx, client.RescheduleRequest{ID: hold.ID, Window: w2})
	if err != nil || !moved.Window.Equal(w2) {
		t.Fatalf("reschedule %+v, %v", moved, err)
	}
	if w, err := c.GetWindow(ctx, sku, store, w2); err != nil || w.Used != 2 || w.Quota != 5 {
		t.Fatalf("window 2 %+v, %v", w, err)
	}
	if w, err := c.GetWindow(ctx, sku, store, w1); err != nil || w.Used != 0 {
		t.Fatalf("window 1 %+v, %v", w, err)
	}

	conf, err := c.Confirm(ctx, client.ConfirmRequest{ID: hold.ID})
	if err != nil || conf.State != engine.StateConfirmed || conf.PickupCode == 0 || len(conf.PickupCodeString()) != 12 {
		t.Fatalf("confirm %+v, %v", conf, err)
	}
	res, err := c.GetReservation(ctx, hold.ID)
	if err != nil || res.Customer != cust || res.SKU != sku || res.PickupCode != conf.PickupCode ||
		res.Barcode() != engine.PickupBarcode(hold.ID, conf.PickupCode) {
		t.Fatalf("reservation %+v, %v", res, err)
	}
	if _, err := c.Pickup(ctx, client.PickupRequest{ID: hold.ID, Store: "KHH0113", Code: conf.PickupCode}); !errors.Is(err, client.ErrWrongStore) {
		t.Fatalf("pickup at another store: %v", err)
	}
	if _, err := c.Pickup(ctx, client.PickupRequest{ID: hold.ID, Store: store, Code: conf.PickupCode ^ 1}); !errors.Is(err, client.ErrBadCode) {
		t.Fatalf("pickup with a wrong code: %v", err)
	}
	if res, _ := c.GetReservation(ctx, hold.ID); res.Attempts != 1 {
		t.Fatalf("attempts %d after one wrong code", res.Attempts)
	}
	picked, err := c.Pickup(ctx, client.PickupRequest{ID: hold.ID, Store: store, Code: conf.PickupCode})
	if err != nil || picked.State != engine.StatePickedUp {
		t.Fatalf("pickup %+v, %v", picked, err)
	}
	ret, err := c.Return(ctx, client.ReturnRequest{ID: hold.ID, Restock: true})
	if err != nil || ret.State != engine.StateReturned {
		t.Fatalf("return %+v, %v", ret, err)
	}
	if it, _ := c.GetItem(ctx, sku, store); it.Available != 10 || it.PickedUp != 0 {
		t.Fatalf("after a return with restock: %+v", it)
	}

	// Pickup by code alone, as a kiosk that scans only the code.
	h2, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: cust, Window: w2})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := c.Confirm(ctx, client.ConfirmRequest{ID: h2.ID})
	if err != nil {
		t.Fatal(err)
	}
	byCode, err := c.Pickup(ctx, client.PickupRequest{Store: store, Code: c2.PickupCode})
	if err != nil || byCode.ID != h2.ID || byCode.State != engine.StatePickedUp {
		t.Fatalf("pickup by code %+v, %v", byCode, err)
	}

	h3, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: cust, Qty: 3, Window: w2})
	if err != nil {
		t.Fatal(err)
	}
	if can, err := c.Cancel(ctx, client.CancelRequest{ID: h3.ID}); err != nil || can.State != engine.StateCancelled {
		t.Fatalf("cancel %+v, %v", can, err)
	}
	if it, _ := c.GetItem(ctx, sku, store); it.Held != 0 || it.PickedUp != 1 || it.Available != 9 {
		t.Fatalf("after cancel: %+v", it)
	}

	list, err := c.ListReservations(ctx, cust)
	if err != nil || len(list) != 3 || list[0].ID != hold.ID || list[2].ID != h3.ID {
		t.Fatalf("list %+v, %v", list, err)
	}
	if cu, err := c.GetCustomer(ctx, cust); err != nil || cu.ID != cust || cu.Open != 0 {
		t.Fatalf("customer %+v, %v", cu, err)
	}
	stores, err := c.StoresWithStock(ctx, sku)
	if err != nil || len(stores) != 1 || stores[0] != (client.StoreStock{Store: store, Available: 9}) {
		t.Fatalf("stores %+v, %v", stores, err)
	}
	items, err := c.ListItems(ctx, sku)
	if err != nil || len(items) != 1 || items[0].SKU != sku {
		t.Fatalf("items %+v, %v", items, err)
	}

	// Before its window an order is not handed over, and nothing counts
	// against the customer; without a window the item refuses a reserve.
	early, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("M"), Window: w1})
	if err != nil {
		t.Fatal(err)
	}
	ec, err := c.Confirm(ctx, client.ConfirmRequest{ID: early.ID})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Pickup(ctx, client.PickupRequest{ID: early.ID, Store: store, Code: ec.PickupCode}); !errors.Is(err, client.ErrTooEarly) ||
		!r.Window.Equal(w1) {
		t.Fatalf("pickup before the window: %+v, %v", r, err)
	}
	if res, _ := c.GetReservation(ctx, early.ID); res.Attempts != 0 || res.State != engine.StateConfirmed {
		t.Fatalf("after a pickup too early: %+v", res)
	}
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("M")}); !errors.Is(err, client.ErrWindowRequired) ||
		!strings.Contains(err.Error(), "reserve into one of them") {
		t.Fatalf("reserve without a window: %v", err)
	}
}

func TestE2EOperatorOps(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	sku, store := uniq("sku"), "S1"
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 4})
	if err := c.Restock(ctx, client.StockChange{SKU: sku, Store: store, Qty: 5}); err != nil {
		t.Fatal(err)
	}
	if err := c.AdjustStock(ctx, client.StockChange{SKU: sku, Store: store, Qty: -3}); err != nil {
		t.Fatal(err)
	}
	if it, _ := c.GetItem(ctx, sku, store); it.Stock != 6 {
		t.Fatalf("stock %d, want 6", it.Stock)
	}

	opens := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := c.SetSaleWindow(ctx, client.SaleWindow{SKU: sku, Store: store, OpensAt: opens}); err != nil {
		t.Fatal(err)
	}
	if it, _ := c.GetItem(ctx, sku, store); !it.OpensAt.Equal(opens) {
		t.Fatalf("opens at %s, want %s", it.OpensAt, opens)
	}
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c")}); !errors.Is(err, client.ErrNotOpen) {
		t.Fatalf("before the sale: %v", err)
	}
	if err := c.SetSaleWindow(ctx, client.SaleWindow{SKU: sku, Store: store}); err != nil {
		t.Fatal(err)
	}

	if err := c.SetLimit(ctx, client.LimitSpec{SKU: sku, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	cust := uniq("c")
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: cust}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: cust}); !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("over the limit: %v", err)
	}
	if err := c.SetLimit(ctx, client.LimitSpec{SKU: sku}); err != nil {
		t.Fatal(err)
	}

	// A member share of every unit left: regular customers find it sold
	// out, a member (tier 1) gets a unit.
	if err := c.SetMemberShare(ctx, client.MemberShare{SKU: sku, Store: store, Tier: 1, Units: 5,
		Cutoff: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	member := uniq("m")
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: member}); !errors.Is(err, client.ErrSoldOut) {
		t.Fatalf("a regular customer during the member share: %v", err)
	}
	if err := c.SetTier(ctx, client.TierRequest{Customer: member, Tier: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: member}); err != nil {
		t.Fatalf("a member during the member share: %v", err)
	}
	if it, _ := c.GetItem(ctx, sku, store); it.MemberUsed != 1 || it.MemberUnits != 5 {
		t.Fatalf("member share %+v", it)
	}
	if cu, err := c.GetCustomer(ctx, member); err != nil || cu.Tier != 1 {
		t.Fatalf("customer %+v, %v", cu, err)
	}

	if err := c.Block(ctx, client.CustomerRequest{Customer: member}); err != nil {
		t.Fatal(err)
	}
	if cu, _ := c.GetCustomer(ctx, member); !cu.Blocked {
		t.Fatal("not blocked after Block")
	}
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: member}); !errors.Is(err, client.ErrBlocked) {
		t.Fatalf("blocked customer: %v", err)
	}
	if err := c.Unblock(ctx, client.CustomerRequest{Customer: member}); err != nil {
		t.Fatal(err)
	}
	if cu, _ := c.GetCustomer(ctx, member); cu.Blocked {
		t.Fatal("blocked after Unblock")
	}
}

// TestE2ELockAndUnlock: wrong codes lock an order until an operator
// unlocks it; then the right code hands it over.
func TestE2ELockAndUnlock(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	sku, store := uniq("sku"), "S1"
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1})
	h, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c")})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := c.Confirm(ctx, client.ConfirmRequest{ID: h.ID})
	if err != nil {
		t.Fatal(err)
	}
	wrong := (conf.PickupCode + 1) % 1_000_000_000_000
	for i := 1; i <= engine.DefaultMaxPickupAttempts; i++ {
		_, err := c.Pickup(ctx, client.PickupRequest{ID: h.ID, Store: store, Code: wrong})
		want := client.ErrBadCode
		if i == engine.DefaultMaxPickupAttempts {
			want = client.ErrLocked
		}
		if !errors.Is(err, want) {
			t.Fatalf("wrong code %d: %v, want %v", i, err, want)
		}
	}
	if _, err := c.Pickup(ctx, client.PickupRequest{ID: h.ID, Store: store, Code: conf.PickupCode}); !errors.Is(err, client.ErrLocked) {
		t.Fatalf("right code while locked: %v", err)
	}
	if _, err := c.Unlock(ctx, client.UnlockRequest{ID: h.ID}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Pickup(ctx, client.PickupRequest{ID: h.ID, Store: store, Code: conf.PickupCode}); err != nil || r.State != engine.StatePickedUp {
		t.Fatalf("after unlock: %+v, %v", r, err)
	}
}

func TestE2EPingAndTopology(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	if rtt, err := c.Ping(ctx); err != nil || rtt <= 0 {
		t.Fatalf("ping %s, %v", rtt, err)
	}
	topo, err := c.Topology(ctx)
	if err != nil || len(topo.Shards) != 4 || len(topo.Nodes) != 1 || topo.Nodes[0].Addr != shared.Addr() {
		t.Fatalf("topology %+v, %v", topo, err)
	}
	for i, s := range topo.Shards {
		if s.Leader != topo.Nodes[0].ID {
			t.Fatalf("shard %d led by %d", i, s.Leader)
		}
	}
}
