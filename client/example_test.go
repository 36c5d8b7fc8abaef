// Examples of the common flows: reserve → confirm → pickup, a cart, a
// flash sale that sells out, operators setting up an item, and following
// the change feed. They need a running invd at 127.0.0.1:7420 (make run),
// so they have no Output lines: go test compiles them but does not run
// them. The last one needs no server and runs.
package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// The life of an order: hold the unit while the shopper pays, confirm after
// payment (the pickup code goes to the shopper), hand over at the counter.
func Example_reserveConfirmPickup() {
	ctx := context.Background()
	c, err := client.Dial(ctx, []string{"127.0.0.1:7420"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	hold, err := c.Reserve(ctx, client.ReserveRequest{
		SKU: "4710088412345", Store: "TPE0427", Customer: "M00012345",
		TTL: 10 * time.Minute, // time to pay
	})
	if err != nil {
		log.Fatal(err) // a refusal (errors.Is(err, client.ErrSoldOut) ...) or no answer
	}
	// ... payment ...
	order, err := c.Confirm(ctx, client.ConfirmRequest{ID: hold.ID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pickup code", order.PickupCodeString(), "until", order.ExpiresAt)

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
		fmt.Println(done.State) // picked_up
	}
}

// A cart: every line held, or none. A refusal names the line.
func ExampleClient_ReserveMany() {
	ctx := context.Background()
	c, err := client.Dial(ctx, []string{"127.0.0.1:7420"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	lines := []client.CartLine{{SKU: "4710088412345", Qty: 2}, {SKU: "4710088498765"}}
	holds, err := c.ReserveMany(ctx, client.CartRequest{
		Store: "TPE0427", Customer: "M00012345", Lines: lines,
		Key: "cart-7f3a", // the shop's cart id: repeating the call never holds twice
	})
	var refused *client.CartError
	switch {
	case errors.As(err, &refused):
		fmt.Printf("line %d (%s): %v; nothing was held\n", refused.Line, lines[refused.Line].SKU, refused.Err)
	case err != nil:
		log.Fatal(err)
	default:
		for i, h := range holds {
			fmt.Println(lines[i].SKU, "held as", h.ID)
		}
	}
}

// A flash sale: most shoppers are told the item is sold out; the few who
// were too fast for the rate limit are told to slow down; a call that got
// no answer is safe to repeat with the same key.
func ExampleClient_Reserve_soldOut() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, []string{"127.0.0.1:7420"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	key := c.NewKey() // stored with the shopper's session
	_, err = c.Reserve(ctx, client.ReserveRequest{SKU: "CONCERT-A", Store: "ONLINE", Customer: "M00012345", Key: key})
	switch {
	case err == nil:
		fmt.Println("you got one: pay within 10 minutes")
	case errors.Is(err, client.ErrSoldOut):
		fmt.Println("sold out")
	case errors.Is(err, client.ErrLimitExceeded):
		fmt.Println("you already hold as many as allowed")
	case errors.Is(err, client.ErrRateLimited):
		fmt.Println("too many tries: wait a moment")
	case errors.Is(err, client.ErrNotOpen):
		fmt.Println("the sale has not started")
	case errors.Is(err, client.ErrUnknownOutcome):
		fmt.Println("no answer yet: retrying with the same key is safe")
	default:
		log.Fatal(err)
	}
}

// Operators put an item, its pickup windows, the SKU's per-customer limit,
// and the store's time zone and pickup windows, whose capacity every SKU of
// the store shares.
func ExampleClient_PutItem() {
	ctx := context.Background()
	c, err := client.Dial(ctx, []string{"127.0.0.1:7420"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

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
}

// Following shard 0's changes, e.g. to send pickup codes; Position is
// stored after each handled event so a restart resumes after it.
func ExampleClient_Subscribe() {
	ctx := context.Background()
	c, err := client.Dial(ctx, []string{"127.0.0.1:7420"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var resumeAt client.Position // loaded from the consumer's own store
	sub, err := c.Subscribe(ctx, 0, resumeAt)
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for ev := range sub.Events() {
		if ev.Kind == engine.EvConfirmed {
			fmt.Println("send code", engine.FormatPickupCode(ev.PickupCode), "for order", ev.ID)
		}
		resumeAt = ev.Position // and save it
	}
	if errors.Is(sub.Err(), client.ErrFeedGap) {
		fmt.Println("missed changes: resynchronise from ListItems, then subscribe again")
	}
}

// Refusals are values: errors.Is tells which, CodeOf gives the code.
func ExampleCodeOf() {
	var err error = client.ErrSoldOut // as Reserve returns it
	code, _ := client.CodeOf(err)
	fmt.Println(errors.Is(err, client.ErrSoldOut), code, uint16(code))

	wrapped := fmt.Errorf("order 17: %w", &client.ServerError{Code: engine.CodeBusy, Message: "queue full"})
	fmt.Println(errors.Is(wrapped, client.ErrBusy))
	// Output:
	// true sold_out 3
	// true
}
