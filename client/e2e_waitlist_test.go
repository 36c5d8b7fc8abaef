// These tests prove the client's waitlist calls against a real invd
// (docs/adr/0105): a customer may join only a sold-out item's line, joins
// stand first come first served, joining again changes nothing, bad input
// is refused before anything changes, a cancelled hold's unit goes to the
// head as a hold of its own that GetReservation reads and the change feed
// announces (reserved, then waitlist_promoted naming it), others behind it
// move up, and leaving takes a customer out (twice: not_found). The feed
// is checked event by event, so an extra or a missing event fails.
package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// wantLine fails the test unless the line of sku at store has length n and
// customer stands at place pos (0: not in line).
func wantLine(t *testing.T, c *client.Client, sku, store, customer string, n, pos int64) client.Waitlist {
	t.Helper()
	w, err := c.GetWaitlist(ctxT(t), sku, store, customer)
	if err != nil {
		t.Fatalf("get waitlist for %s: %v", customer, err)
	}
	if w.Length != n || w.Position != pos {
		t.Fatalf("waitlist for %s: length %d place %d, want %d and %d", customer, w.Length, w.Position, n, pos)
	}
	return w
}

func TestE2EWaitlistPromotesTheHeadOnACancel(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	const shard = 2
	store := storeOnShard(c.Shards(), shard)
	sku := uniq("wl")
	sub, err := c.Subscribe(ctx, shard, client.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1})

	// Units are there: no line.
	if _, err := c.JoinWaitlist(ctx, client.JoinWaitlistRequest{SKU: sku, Store: store, Customer: "wl-b"}); !errors.Is(err, client.ErrWrongState) {
		t.Fatalf("join while in stock: %v, want wrong_state", err)
	}
	wantLine(t, c, sku, store, "wl-b", 0, 0)

	h, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: "wl-a"})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	b, err := c.JoinWaitlist(ctx, client.JoinWaitlistRequest{SKU: sku, Store: store, Customer: "wl-b", TTL: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if b.Length != 1 || b.Position != 1 || b.Qty != 1 || b.ExpiresAt.Before(before.Add(29*time.Minute)) || b.ExpiresAt.After(time.Now().Add(31*time.Minute)) {
		t.Fatalf("b joined: %+v", b)
	}
	if w, err := c.JoinWaitlist(ctx, client.JoinWaitlistRequest{SKU: sku, Store: store, Customer: "wl-c", Qty: 1}); err != nil || w.Position != 2 || w.Length != 2 {
		t.Fatalf("c joined: %+v, %v", w, err)
	}
	// Joining again changes nothing (and emits nothing: the feed below).
	if w, err := c.JoinWaitlist(ctx, client.JoinWaitlistRequest{SKU: sku, Store: store, Customer: "wl-b"}); err != nil || w.Position != 1 || w.Length != 2 || !w.ExpiresAt.Equal(b.ExpiresAt) {
		t.Fatalf("b joined again: %+v, %v (first %+v)", w, err, b)
	}

	// Bad input: refused with bad_request, the line unchanged.
	for _, bad := range []client.JoinWaitlistRequest{
		{SKU: sku, Store: store, Customer: "wl-d", Qty: engine.MaxWaitlistQty + 1},
		{SKU: sku, Store: store, Customer: "wl-d", Qty: -1},
		{SKU: sku, Store: store, Customer: "wl-d", TTL: engine.MaxWaitlistTTL + time.Second},
		{SKU: sku, Store: store, Customer: "wl-d", TTL: -time.Second},
		{SKU: sku, Store: store, Customer: strings.Repeat("d", engine.MaxIDBytes+1)},
	} {
		if _, err := c.JoinWaitlist(ctx, bad); !errors.Is(err, client.ErrBadRequest) {
			t.Fatalf("join %+v: %v, want bad_request", bad, err)
		}
	}
	if _, err := c.JoinWaitlist(ctx, client.JoinWaitlistRequest{SKU: sku + "-none", Store: store, Customer: "wl-d"}); !errors.Is(err, client.ErrUnknownItem) {
		t.Fatalf("join of an unknown item: %v", err)
	}
	if _, err := c.GetWaitlist(ctx, sku+"-none", store, ""); !errors.Is(err, client.ErrUnknownItem) {
		t.Fatalf("read of an unknown item's line: %v", err)
	}
	if _, err := c.LeaveWaitlist(ctx, client.LeaveWaitlistRequest{SKU: sku, Store: store, Customer: "wl-d"}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("leave of a customer not in line: %v", err)
	}
	wantLine(t, c, sku, store, "", 2, 0)
	wantLine(t, c, sku, store, "wl-c", 2, 2)

	// The cancelled unit goes to the head, b; c moves up.
	if _, err := c.Cancel(ctx, client.CancelRequest{ID: h.ID}); err != nil {
		t.Fatal(err)
	}
	wantLine(t, c, sku, store, "wl-b", 1, 0)
	wantLine(t, c, sku, store, "wl-c", 1, 1)
	// The line keeps nothing free now, but c still waits: a reserve is sold out.
	if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: "wl-e"}); !errors.Is(err, client.ErrSoldOut) {
		t.Fatalf("reserve past the line: %v, want sold_out", err)
	}

	left, err := c.LeaveWaitlist(ctx, client.LeaveWaitlistRequest{SKU: sku, Store: store, Customer: "wl-c"})
	if err != nil || left.Length != 0 || left.Position != 0 || left.Qty != 1 {
		t.Fatalf("c left: %+v, %v", left, err)
	}
	if _, err := c.LeaveWaitlist(ctx, client.LeaveWaitlistRequest{SKU: sku, Store: store, Customer: "wl-c"}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("c left twice: %v, want not_found", err)
	}

	var at client.Position
	var promoted uint64
	for _, want := range []struct {
		kind     engine.EventKind
		customer string
	}{
		{engine.EvItemPut, ""}, {engine.EvReserved, "wl-a"}, {engine.EvWaitJoined, "wl-b"},
		{engine.EvWaitJoined, "wl-c"}, {engine.EvCancelled, "wl-a"}, {engine.EvReserved, "wl-b"},
		{engine.EvWaitPromoted, "wl-b"}, {engine.EvWaitLeft, "wl-c"},
	} {
		ev := nextOf(t, sub, sku, at)
		at = ev.Position
		if ev.Kind != want.kind || want.customer != "" && ev.Customer != want.customer {
			t.Fatalf("event %s of %q, want %s of %q (%+v)", ev.Kind, ev.Customer, want.kind, want.customer, ev)
		}
		switch ev.Kind {
		case engine.EvReserved:
			promoted = ev.ID
		case engine.EvWaitPromoted:
			if ev.ID != promoted || ev.ID == h.ID || ev.Qty != 1 || ev.State != engine.StateHeld {
				t.Fatalf("waitlist_promoted %+v: want the hold %d just reserved", ev, promoted)
			}
		}
	}
	if ev := engine.EvWaitPromoted; ev.String() != "waitlist_promoted" {
		t.Fatalf("event kind named %q", ev)
	}
	r, err := c.GetReservation(ctx, promoted)
	if err != nil {
		t.Fatal(err)
	}
	if r.Customer != "wl-b" || r.State != engine.StateHeld || r.Qty != 1 || r.SKU != sku {
		t.Fatalf("the promoted hold: %+v", r)
	}
}
