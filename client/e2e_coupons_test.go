// These tests prove the client's coupon calls against a real invd of 4
// shards (docs/adr/0106): an operator puts an issue, the storefront takes
// serials until the pool is empty, a serial's printed form names the
// shard that owns it so a counter of another shard's store redeems it by
// the serial alone, a second redeem is ErrAlreadyRedeemed naming where and
// when, a store-bound issue's serial is ErrWrongStore elsewhere, a retry
// with the same key gets the first answer, a mistyped serial is refused
// before it is sent, an unredeemed serial expires back to the pool when
// the issue says so (polled with a deadline, no sleep), and the change
// feed carries each step, event by event; and coupons survive a snapshot
// and a kill of invd.
package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

func TestE2ECouponTakeAndRedeemOnceAcrossTheChain(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	const shard = 1
	web, elsewhere := storeOnShard(c.Shards(), shard), storeOnShard(c.Shards(), 3)
	chain, bound := uniq("cpn-chain"), uniq("cpn-bound")
	sub, err := c.Subscribe(ctx, shard, client.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.PutCouponIssue(ctx, client.CouponIssue{SKU: chain, Store: web, Serials: 2, Limit: 1, ChainWide: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutCouponIssue(ctx, client.CouponIssue{SKU: bound, Store: web, Serials: 1}); err != nil {
		t.Fatal(err)
	}

	a, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: chain, Store: web, Customer: "cp-a", Key: "take-cp-a"})
	if err != nil {
		t.Fatal(err)
	}
	if engine.ShardOfID(a.ID) != shard || len(a.Serial) != engine.CouponSerialDigits || a.State != client.CouponIssued || !a.ChainWide {
		t.Fatalf("taken: %+v", a)
	}
	again, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: chain, Store: web, Customer: "cp-a", Key: "take-cp-a"})
	if err != nil || again.Serial != a.Serial {
		t.Fatalf("a retry of the take: %+v, %v, want serial %s", again, err, a.Serial)
	}
	if _, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: chain, Store: web, Customer: "cp-a"}); !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("a second serial for one customer: %v, want limit_exceeded", err)
	}
	b, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: chain, Store: web, Customer: "cp-b"})
	if err != nil || b.Serial == a.Serial {
		t.Fatalf("b's serial: %+v, %v", b, err)
	}
	if _, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: chain, Store: web, Customer: "cp-c"}); !errors.Is(err, client.ErrSoldOut) {
		t.Fatalf("a take of an empty pool: %v, want sold_out", err)
	}
	if _, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: uniq("none"), Store: web, Customer: "cp-c"}); !errors.Is(err, client.ErrUnknownIssue) {
		t.Fatalf("a take of no issue: %v, want unknown_issue", err)
	}

	// A counter of a store on another shard redeems by the serial alone.
	red, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: a.Serial, Store: elsewhere, Key: "redeem-cp-a"})
	if err != nil || red.State != client.CouponRedeemed || red.RedeemedBy != elsewhere || red.Customer != "cp-a" {
		t.Fatalf("redeem: %+v, %v", red, err)
	}
	if r, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: a.Serial, Store: elsewhere, Key: "redeem-cp-a"}); err != nil || r.RedeemedBy != elsewhere {
		t.Fatalf("a retry of the redeem with its key: %+v, %v, want the first answer", r, err)
	}
	twice, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: a.Serial, Store: web})
	if !errors.Is(err, client.ErrAlreadyRedeemed) || twice.RedeemedBy != elsewhere || !twice.RedeemedAt.Equal(red.RedeemedAt) {
		t.Fatalf("a second redeem: %+v, %v, want already_redeemed at %s", twice, err, elsewhere)
	}
	// A mistyped digit is caught by the check digit: nothing is sent.
	typo := []byte(b.Serial)
	typo[5] = '0' + (typo[5]-'0'+1)%10
	if _, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: string(typo), Store: web}); !errors.Is(err, client.ErrBadSerial) {
		t.Fatalf("a mistyped serial: %v, want ErrBadSerial", err)
	}
	// A serial with a made-up code reads as no serial at all.
	fake := client.FormatCouponSerial(b.ID, (b.Code+1)%1_000_000_000_000)
	if _, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: fake, Store: web}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a serial with a wrong code: %v, want not_found", err)
	}

	// A store-bound serial: refused at another store, redeemed at its own.
	s, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: bound, Store: web, Customer: "cp-a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: s.Serial, Store: elsewhere}); !errors.Is(err, client.ErrWrongStore) {
		t.Fatalf("a store-bound serial at another store: %v, want wrong_store", err)
	}
	if chk, err := c.GetCoupon(ctx, s.Serial); err != nil || chk.State != client.CouponIssued {
		t.Fatalf("the counter's check after the refusal: %+v, %v", chk, err)
	}
	if _, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: s.Serial, Store: web}); err != nil {
		t.Fatalf("a store-bound serial at its store: %v", err)
	}

	rep, err := c.GetCouponIssue(ctx, chain, web)
	if err != nil || rep.Available != 0 || rep.Redeemed != 1 || rep.ByStore[elsewhere] != 1 || len(rep.ByStore) != 1 {
		t.Fatalf("the chain-wide issue's report: %+v, %v", rep, err)
	}

	var at client.Position
	for _, want := range []struct {
		kind     engine.EventKind
		sku      string
		customer string
		store    string
	}{
		{engine.EvCouponIssuePut, chain, "", web}, {engine.EvCouponIssuePut, bound, "", web},
		{engine.EvCouponTaken, chain, "cp-a", web}, {engine.EvCouponTaken, chain, "cp-b", web},
		{engine.EvCouponRedeemed, chain, "cp-a", elsewhere},
		{engine.EvCouponTaken, bound, "cp-a", web}, {engine.EvCouponRedeemed, bound, "cp-a", web},
	} {
		ev := nextCouponEvent(t, sub, chain, bound, at)
		at = ev.Position
		if ev.Kind != want.kind || ev.SKU != want.sku || ev.Customer != want.customer || ev.Store != want.store {
			t.Fatalf("event %s %s/%s %q, want %s %s/%s %q", ev.Kind, ev.SKU, ev.Store, ev.Customer,
				want.kind, want.sku, want.store, want.customer)
		}
	}
}

// nextCouponEvent returns the next event about either issue after at.
func nextCouponEvent(t *testing.T, sub *client.Subscription, sku1, sku2 string, after client.Position) client.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			if !ev.Position.After(after) {
				t.Fatalf("event at %+v, not after %+v", ev.Position, after)
			}
			after = ev.Position
			if ev.SKU == sku1 || ev.SKU == sku2 {
				return ev
			}
		case <-timeout:
			t.Fatalf("no event about %s or %s", sku1, sku2)
		}
	}
}

func TestE2ECouponExpiresBackToThePool(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	store := storeOnShard(c.Shards(), 2)
	sku := uniq("cpn-exp")
	if _, err := c.PutCouponIssue(ctx, client.CouponIssue{SKU: sku, Store: store, Serials: 1, TTL: 300 * time.Millisecond,
		ReturnOnExpiry: true}); err != nil {
		t.Fatal(err)
	}
	cp, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: sku, Store: store, Customer: "cp-x"})
	if err != nil || cp.ExpiresAt.IsZero() {
		t.Fatalf("take: %+v, %v", cp, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rep, err := c.GetCouponIssue(ctx, sku, store)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Available == 1 && rep.Expired == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the serial did not expire back to the pool: %+v", rep)
		}
		time.Sleep(20 * time.Millisecond) // polling the leader's expiry, with a deadline
	}
	if _, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: cp.Serial, Store: store}); !errors.Is(err, client.ErrExpired) {
		t.Fatalf("redeem of an expired serial: %v, want expired", err)
	}
	again, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: sku, Store: store, Customer: "cp-y"})
	if err != nil || again.Serial == cp.Serial {
		t.Fatalf("a take from the refilled pool: %+v, %v", again, err)
	}
}

// TestE2ECouponsSurviveASnapshotAndARestart: coupons are in the snapshot
// (format 7) and the log: after a snapshot of every shard and a kill of
// invd, the restarted server still knows the redeemed serial (a second
// redeem is ErrAlreadyRedeemed, naming the first store), the serial still
// issued redeems once, and the issue's report counts both.
func TestE2ECouponsSurviveASnapshotAndARestart(t *testing.T) {
	s := startOwn(t, 2)
	c := dialServer(t, s)
	ctx := ctxT(t)
	sku, store := uniq("cpn-restart"), storeOnShard(2, 1)
	if _, err := c.PutCouponIssue(ctx, client.CouponIssue{SKU: sku, Store: store, Serials: 2, ChainWide: true}); err != nil {
		t.Fatal(err)
	}
	a, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: sku, Store: store, Customer: "cp-a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.TakeCoupon(ctx, client.TakeCouponRequest{SKU: sku, Store: store, Customer: "cp-b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: a.Serial, Store: "S-first"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Kill()
	stopOwn(t, s) // its race report
	s2, err := s.Restart()
	if err != nil {
		t.Fatal(err)
	}
	defer stopOwn(t, s2)
	c2 := dialServer(t, s2)
	if cp, err := c2.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: a.Serial, Store: "S-second"}); !errors.Is(err, client.ErrAlreadyRedeemed) || cp.RedeemedBy != "S-first" {
		t.Fatalf("the redeemed serial after the restart: %+v, %v", cp, err)
	}
	if _, err := c2.RedeemCoupon(ctx, client.RedeemCouponRequest{Serial: b.Serial, Store: "S-second"}); err != nil {
		t.Fatalf("the issued serial after the restart: %v", err)
	}
	rep, err := c2.GetCouponIssue(ctx, sku, store)
	if err != nil || rep.Redeemed != 2 || rep.ByStore["S-first"] != 1 || rep.ByStore["S-second"] != 1 {
		t.Fatalf("report after the restart: %+v, %v", rep, err)
	}
}
