// Examples of the common flows: reserve → confirm → pickup, a flash sale
// that sells out, a cart, operators setting up an item, following the
// change feed, and tracing every call. Each starts a real invd of its own
// (invtest.StartServer: a fresh data folder, free loopback ports) and
// checks its printed lines against its Output comment, so go test runs
// them as tests. In a program, the client dials the cluster's addresses
// instead: client.Dial(ctx, []string{"10.0.0.7:7420"}).
package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/invtest"
)

// startExample starts the invd an example runs against, with one item (sku
// at store, stock units); its Client is dialled to it.
func startExample(sku, store string, stock int64, opts ...client.Option) *invtest.Server {
	srv, err := invtest.StartServer(invtest.WithClientOptions(opts...))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Client.PutItem(context.Background(), client.ItemSpec{SKU: sku, Store: store, Stock: stock}); err != nil {
		log.Fatal(err)
	}
	return srv
}

// The life of an order: hold the unit while the shopper pays, confirm after
// payment (the pickup code goes to the shopper), hand over at the counter.
func Example_reserveConfirmPickup() {
	srv := startExample("4710088412345", "TPE0427", 10)
	defer srv.Close()
	c, ctx := srv.Client, context.Background()

	hold, err := c.Reserve(ctx, client.ReserveRequest{
		SKU: "4710088412345", Store: "TPE0427", Customer: "M00012345",
		TTL: 10 * time.Minute, // time to pay
	})
	if err != nil {
		log.Fatal(err) // a refusal (errors.Is(err, client.ErrSoldOut) ...) or no answer
	}
	fmt.Println(hold.State)
	// ... payment ...
	order, err := c.Confirm(ctx, client.ConfirmRequest{ID: hold.ID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(order.State, len(order.PickupCodeString()), "digits to show at the counter")

	// At the counter of store TPE0427, the shopper shows the code.
	done, err := c.Pickup(ctx, client.PickupRequest{ID: order.ID, Store: "TPE0427", Code: order.PickupCode})
	switch {
	case errors.Is(err, client.ErrBadCode):
		fmt.Println("wrong code: ask again")
	case errors.Is(err, client.ErrLocked):
		fmt.Println("too many wrong codes: call a supervisor")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(done.State)
	}
	// Output:
	// held
	// confirmed 12 digits to show at the counter
	// picked_up
}

// A flash sale: the first shoppers get the units, the next are told the
// item is sold out. A call that got no answer is safe to repeat with the
// same key.
func ExampleClient_Reserve() {
	srv := startExample("CONCERT-A", "ONLINE", 2)
	defer srv.Close()
	c, ctx := srv.Client, context.Background()

	for _, shopper := range []string{"M001", "M002", "M003"} {
		key := c.NewKey() // stored with the shopper's session
		hold, err := c.Reserve(ctx, client.ReserveRequest{SKU: "CONCERT-A", Store: "ONLINE", Customer: shopper, Key: key})
		switch {
		case err == nil:
			fmt.Println(shopper, hold.State, hold.Qty)
		case errors.Is(err, client.ErrSoldOut):
			fmt.Println(shopper, "sold out")
		case errors.Is(err, client.ErrLimitExceeded):
			fmt.Println(shopper, "already holds as many as allowed")
		case errors.Is(err, client.ErrUnknownOutcome):
			fmt.Println(shopper, "no answer yet: retrying with the same key is safe")
		default:
			log.Fatal(err)
		}
	}
	// Output:
	// M001 held 1
	// M002 held 1
	// M003 sold out
}

// Confirming part of a hold: the shopper paid for one of the two units
// held; the other goes back on sale at once.
func ExampleClient_Confirm() {
	srv := startExample("4710088412345", "TPE0427", 2)
	defer srv.Close()
	c, ctx := srv.Client, context.Background()

	hold, err := c.Reserve(ctx, client.ReserveRequest{SKU: "4710088412345", Store: "TPE0427", Customer: "M00012345", Qty: 2})
	if err != nil {
		log.Fatal(err)
	}
	order, err := c.Confirm(ctx, client.ConfirmRequest{ID: hold.ID, Qty: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(order.State, order.Qty, order.PickupCode != 0)
	item, err := c.GetItem(ctx, "4710088412345", "TPE0427")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("available", item.Available, "confirmed", item.Confirmed)
	// Confirming again is refused: the order is no longer a hold.
	_, err = c.Confirm(ctx, client.ConfirmRequest{ID: hold.ID})
	fmt.Println(errors.Is(err, client.ErrWrongState))
	// Output:
	// confirmed 1 true
	// available 1 confirmed 1
	// true
}

// A cart: every line held, or none. A refusal names the line.
func ExampleClient_ReserveMany() {
	srv := startExample("4710088412345", "TPE0427", 5)
	defer srv.Close()
	c, ctx := srv.Client, context.Background()
	if err := c.PutItem(ctx, client.ItemSpec{SKU: "4710088498765", Store: "TPE0427", Stock: 1}); err != nil {
		log.Fatal(err)
	}

	for _, cart := range []string{"cart-7f3a", "cart-9b1c"} {
		lines := []client.CartLine{{SKU: "4710088412345", Qty: 2}, {SKU: "4710088498765"}}
		holds, err := c.ReserveMany(ctx, client.CartRequest{
			Store: "TPE0427", Customer: "M00012345", Lines: lines,
			Key: cart, // the shop's cart id: repeating the call never holds twice
		})
		var refused *client.CartError
		switch {
		case errors.As(err, &refused):
			fmt.Printf("%s: line %d (%s): %v; nothing was held\n", cart, refused.Line, lines[refused.Line].SKU, refused.Err)
		case err != nil:
			log.Fatal(err)
		default:
			for i, h := range holds {
				fmt.Println(cart, lines[i].SKU, h.State, h.Qty)
			}
		}
	}
	// Output:
	// cart-7f3a 4710088412345 held 2
	// cart-7f3a 4710088498765 held 1
	// cart-9b1c: line 1 (4710088498765): inv: sold_out; nothing was held
}

// Operators put an item, its pickup windows, the SKU's per-customer limit,
// and the store's time zone and pickup windows, whose capacity every SKU of
// the store shares.
func ExampleClient_PutItem() {
	srv, err := invtest.StartServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, ctx := srv.Client, context.Background()

	tomorrow := time.Now().Add(24 * time.Hour).Truncate(24 * time.Hour)
	err = c.PutItem(ctx, client.ItemSpec{SKU: "4710088412345", Store: "TPE0427", Stock: 120,
		OpensAt: tomorrow.Add(10 * time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.SetLimit(ctx, client.LimitSpec{SKU: "4710088412345", Limit: 2}); err != nil {
		log.Fatal(err)
	}
	if err := c.PutStore(ctx, client.StoreSpec{Store: "TPE0427", Zone: "Asia/Taipei"}); err != nil {
		log.Fatal(err)
	}
	for h := 10; h < 22; h += 2 { // six 2-hour pickup windows: 20 units of this SKU, 60 of every SKU together
		start := tomorrow.Add(24*time.Hour + time.Duration(h)*time.Hour)
		err := c.PutStoreWindow(ctx, client.StoreWindowSpec{Store: "TPE0427", Start: start, End: start.Add(2 * time.Hour), Capacity: 60})
		if err != nil {
			log.Fatal(err)
		}
		err = c.PutWindow(ctx, client.WindowSpec{SKU: "4710088412345", Store: "TPE0427",
			Start: start, End: start.Add(2 * time.Hour), Quota: 20})
		if err != nil {
			log.Fatal(err)
		}
	}
	item, err := c.GetItem(ctx, "4710088412345", "TPE0427")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stock", item.Stock, "limit", item.Limit, "windows", len(item.Windows))
	// Before the sale opens, a reserve is refused.
	_, err = c.Reserve(ctx, client.ReserveRequest{SKU: "4710088412345", Store: "TPE0427", Customer: "M001",
		Window: tomorrow.Add(34 * time.Hour)})
	fmt.Println(errors.Is(err, client.ErrNotOpen))
	// Output:
	// stock 120 limit 2 windows 6
	// true
}

// Following shard 0's changes, e.g. to send pickup codes; Position is
// stored after each handled event so a restart resumes after it.
func ExampleClient_Subscribe() {
	srv := startExample("4710088412345", "TPE0427", 3)
	defer srv.Close()
	c, ctx := srv.Client, context.Background()
	hold, err := c.Reserve(ctx, client.ReserveRequest{SKU: "4710088412345", Store: "TPE0427", Customer: "M00012345"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Confirm(ctx, client.ConfirmRequest{ID: hold.ID}); err != nil {
		log.Fatal(err)
	}

	var resumeAt client.Position // loaded from the consumer's own store
	sub, err := c.Subscribe(ctx, 0, resumeAt)
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for ev := range sub.Events() {
		fmt.Println(ev.Kind, ev.SKU, ev.Store)
		resumeAt = ev.Position // and save it
		if ev.Kind == client.EvConfirmed {
			fmt.Println("send the pickup code for order", ev.ID == hold.ID)
			break // a consumer would go on; the example stops here
		}
	}
	if errors.Is(sub.Err(), client.ErrFeedGap) {
		fmt.Println("missed changes: resynchronise from ListItems, then subscribe again")
	}
	// Output:
	// item_put 4710088412345 TPE0427
	// reserved 4710088412345 TPE0427
	// confirmed 4710088412345 TPE0427
	// send the pickup code for order true
}

// printTracer prints each call's end: in a program, an OpenTelemetry
// adapter starts a span in TraceRequestStart and ends it here, with the
// op, shard and code as its attributes.
type printTracer struct{}

func (printTracer) TraceRequestStart(ctx context.Context, s client.RequestStart) context.Context {
	return ctx
}

func (printTracer) TraceRequestEnd(ctx context.Context, e client.RequestEnd) {
	fmt.Println(e.Op, "shard", e.Shard, e.Code, e.Err)
}

// Tracing every call: the tracer sees the op, the shard it went to, and
// the answer; a refusal is an answer (no error), as the server gave it.
func ExampleWithTracer() {
	srv := startExample("CONCERT-A", "ONLINE", 1, client.WithTracer(printTracer{}))
	defer srv.Close()
	c, ctx := srv.Client, context.Background()
	for _, shopper := range []string{"M001", "M002"} {
		c.Reserve(ctx, client.ReserveRequest{SKU: "CONCERT-A", Store: "ONLINE", Customer: shopper})
	}
	// Output:
	// put_item shard 0 ok <nil>
	// reserve shard 0 ok <nil>
	// reserve shard 0 sold_out <nil>
}

// Refusals are values: errors.Is tells which, CodeOf gives the code.
func ExampleCodeOf() {
	var err error = client.ErrSoldOut // as Reserve returns it
	code, _ := client.CodeOf(err)
	fmt.Println(errors.Is(err, client.ErrSoldOut), code, uint16(code))

	wrapped := fmt.Errorf("order 17: %w", &client.ServerError{Code: client.CodeBusy, Message: "queue full"})
	fmt.Println(errors.Is(wrapped, client.ErrBusy))
	// Output:
	// true sold_out 3
	// true
}
