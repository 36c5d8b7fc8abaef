// These tests prove that every refusal a real invd can give reaches the
// caller as its typed error: one scenario per sentinel, each provoking the
// refusal the way a shop would meet it, checked with errors.Is. The
// server's own refusals that a healthy invd does not give on demand
// (unauthorized: invd has no tokens yet) are proven against the fake
// server in conn_test.go and retry_test.go.
package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

func TestE2ETypedErrors(t *testing.T) {
	c := needInvd(t)
	ctx := ctxT(t)
	store := "S1"
	// item makes a fresh item of stock units.
	item := func(stock int64) string {
		sku := uniq("sku")
		putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: stock})
		return sku
	}
	reserve := func(sku, cust string) (client.Result, error) {
		return c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: cust})
	}
	// confirmed makes a confirmed order.
	confirmed := func() client.Result {
		h, err := reserve(item(1), uniq("c"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Confirm(ctx, client.ConfirmRequest{ID: h.ID})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	cases := []struct {
		want error
		run  func() error
	}{
		{client.ErrSoldOut, func() error {
			sku := item(1)
			reserve(sku, uniq("c"))
			_, err := reserve(sku, uniq("c"))
			return err
		}},
		{client.ErrWindowFull, func() error {
			sku, w := item(5), day(0)
			if err := c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: w, End: w.Add(time.Hour), Quota: 1}); err != nil {
				return err
			}
			c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c"), Window: w})
			_, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c"), Window: w})
			return err
		}},
		{client.ErrLimitExceeded, func() error {
			sku := uniq("sku")
			putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 10})
			if err := c.SetLimit(ctx, client.LimitSpec{SKU: sku, Limit: 2}); err != nil {
				return err
			}
			_, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c"), Qty: 3})
			return err
		}},
		{client.ErrBlocked, func() error {
			cust := uniq("c")
			if err := c.Block(ctx, client.CustomerRequest{Customer: cust}); err != nil {
				return err
			}
			_, err := reserve(item(1), cust)
			return err
		}},
		{client.ErrNotOpen, func() error {
			sku := uniq("sku")
			putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1, OpensAt: time.Now().Add(time.Hour)})
			_, err := reserve(sku, uniq("c"))
			return err
		}},
		{client.ErrClosed, func() error {
			sku := uniq("sku")
			putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1, ClosesAt: time.Now().Add(-time.Hour)})
			_, err := reserve(sku, uniq("c"))
			return err
		}},
		{client.ErrNotFound, func() error {
			_, err := c.GetReservation(ctx, engine.MakeID(0, 1<<40))
			return err
		}},
		{client.ErrExpired, func() error {
			h, err := c.Reserve(ctx, client.ReserveRequest{SKU: item(1), Store: store, Customer: uniq("c"), TTL: 20 * time.Millisecond})
			if err != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond)
			_, err = c.Confirm(ctx, client.ConfirmRequest{ID: h.ID})
			return err
		}},
		{client.ErrWrongState, func() error {
			h, _ := reserve(item(1), uniq("c"))
			c.Cancel(ctx, client.CancelRequest{ID: h.ID})
			_, err := c.Confirm(ctx, client.ConfirmRequest{ID: h.ID})
			return err
		}},
		{client.ErrWrongStore, func() error {
			r := confirmed()
			_, err := c.Pickup(ctx, client.PickupRequest{ID: r.ID, Store: "OTHER", Code: r.PickupCode})
			return err
		}},
		{client.ErrBadCode, func() error {
			r := confirmed()
			_, err := c.Pickup(ctx, client.PickupRequest{ID: r.ID, Store: store, Code: (r.PickupCode + 7) % 1_000_000_000_000})
			return err
		}},
		{client.ErrLocked, func() error {
			r := confirmed()
			var err error
			for range engine.DefaultMaxPickupAttempts {
				_, err = c.Pickup(ctx, client.PickupRequest{ID: r.ID, Store: store, Code: (r.PickupCode + 7) % 1_000_000_000_000})
			}
			return err
		}},
		{client.ErrUnknownItem, func() error {
			_, err := reserve(uniq("no-such-sku"), uniq("c"))
			return err
		}},
		{client.ErrKeyConflict, func() error {
			sku, key := item(5), uniq("key")
			if _, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: "c", Key: key}); err != nil {
				return err
			}
			_, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: "c", Qty: 2, Key: key})
			return err
		}},
		{client.ErrBadRequest, func() error {
			_, err := c.Reserve(ctx, client.ReserveRequest{SKU: item(1), Store: store, Customer: "c", Qty: -1})
			return err
		}},
		{client.ErrBelowPromised, func() error {
			sku := item(2)
			c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: uniq("c"), Qty: 2})
			return c.AdjustStock(ctx, client.StockChange{SKU: sku, Store: store, Qty: -1})
		}},
		{client.ErrUnknownWindow, func() error {
			_, err := c.Reserve(ctx, client.ReserveRequest{SKU: item(1), Store: store, Customer: uniq("c"), Window: day(0)})
			return err
		}},
		{client.ErrWindowConflict, func() error {
			sku, w := item(1), day(0)
			c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: w, End: w.Add(2 * time.Hour), Quota: 1})
			return c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: w.Add(time.Hour), End: w.Add(3 * time.Hour), Quota: 1})
		}},
		{client.ErrTooMany, func() error {
			sku := item(1)
			var err error
			for i := range engine.MaxWindowsPerItem + 1 {
				w := day(time.Duration(i) * time.Hour)
				if err = c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: store, Start: w, End: w.Add(time.Hour), Quota: 1}); err != nil {
					break
				}
			}
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.want.Error(), "inv: "), func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var se *client.ServerError
			if !errors.As(err, &se) {
				t.Fatalf("%v is not a *ServerError", err)
			}
		})
	}
}

// TestE2ERateLimitedAndBusy runs a server of its own with a per-customer
// rate limit and room for one connection: a customer over the rate is
// refused with ErrRateLimited, a second client with ErrBusy.
func TestE2ERateLimitedAndBusy(t *testing.T) {
	s := startOwn(t, 1, "rate_per_second = 5", "rate_burst = 5", "max_connections = 1")
	defer stopOwn(t, s)
	c := dialServer(t, s, client.WithConnsPerNode(1))
	ctx := ctxT(t)
	putItem(t, c, client.ItemSpec{SKU: "A", Store: "S", Stock: 100})
	var limited int
	for range 20 {
		_, err := c.Reserve(ctx, client.ReserveRequest{SKU: "A", Store: "S", Customer: "eager"})
		switch {
		case errors.Is(err, client.ErrRateLimited):
			limited++
		case err != nil:
			t.Fatal(err)
		}
	}
	if limited < 10 {
		t.Fatalf("%d of 20 rapid reserves rate limited, want most", limited)
	}
	dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := client.Dial(dctx, []string{s.Addr()}, client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	if !errors.Is(err, client.ErrBusy) {
		t.Fatalf("a connection over the server's limit: %v", err)
	}
}
