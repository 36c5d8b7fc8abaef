// Package client is the Go client library of inv, the inventory
// reservation engine: the web tier of a shop reserves, confirms, picks up
// and cancels through it, and operators manage items, windows, stock and
// customers.
//
// # Use
//
// Dial once per process and share the Client between all goroutines:
//
//	c, err := client.Dial(ctx, []string{"127.0.0.1:7420"})
//	hold, err := c.Reserve(ctx, client.ReserveRequest{SKU: "4710088412345", Store: "TPE0427", Customer: "M00012345"})
//	switch {
//	case errors.Is(err, client.ErrSoldOut): // tell the shopper
//	case err != nil: // no answer: see "Outcomes" below
//	}
//	order, err := c.Confirm(ctx, client.ConfirmRequest{ID: hold.ID})   // after payment
//	_ = order.PickupCode                                                  // 12 digits for the counter
//
// There is one method per operation of the engine, each with a typed
// request and result, each honouring its context's deadline and
// cancellation. Refusals are sentinel errors (ErrSoldOut, ErrWindowFull,
// ErrLimitExceeded, ErrBlocked, ErrNotOpen, ErrClosed, ErrRateLimited,
// ErrNotFound, ErrExpired, ErrWrongStore, ErrBadCode, ErrLocked,
// ErrWindowRequired, ErrTooEarly ...), one per code of the project's code
// table, matched with errors.Is; errors.As with *ServerError gives the code
// and the server's message (or, for a few refusals, what to do about it).
//
// # Outcomes
//
// A call ends in one of three ways: done, refused, or unknown. Unknown
// happens when a reply is lost (a connection drops, a node dies, the reply
// is late): the change may or may not have been applied. The client handles
// it by retrying with the call's idempotency key, which the server answers
// with the first outcome without applying anything twice; every mutating
// call carries one, the caller's (the request's Key) or one made up. Only
// when retries run out (RetryPolicy) or the context ends does the caller see
// an error matching ErrUnknownOutcome; calling again with the same Key is
// then safe. Busy, not-leader and unavailable answers are retried the same
// way.
//
// A key protects every shard: the same key sent with other contents is
// key_conflict wherever the two requests land (docs/adr/0073). Each key has
// a home shard; a request whose key is homed on another shard than its own
// costs one more commit there (the key's registration). Keys the client
// library makes (NewKey aside, which knows no request) and the keys of a
// cart's lines are homed on their request's shard, so they never cross: the
// extra commit is paid only for keys a caller chooses. A caller that keeps
// its own keys can home them too (KeyForStore, KeyForReservation): a key
// ending in "~" and four lowercase hex digits is homed on that number mod
// the shard count.
//
// # How calls travel
//
// The client learns the cluster map (TOPOLOGY) and sends each call straight
// to the node leading its shard: items by the hash of their store,
// reservations by the shard in their id's high bits, customers by the hash
// of their id. It follows NOT_LEADER answers and refreshes the map when
// nodes change. Each node gets a few connections (WithConnsPerNode); on each,
// calls are pipelined (many in flight, replies matched by request id in any
// order) and batched: the calls that queue while a connection writes go out
// together in one BATCH frame and one syscall, so thousands of goroutines
// share a handful of sockets and the server one proposal per batch. In
// steady state a call allocates nothing (pooled call records, reused
// buffers, no per-call closures).
//
// # Observing and dialing
//
// WithTracer sees every call start and end (op, shard, duration, code,
// error), the shape an OpenTelemetry or Prometheus adapter needs;
// WithLogger gets connections, topology changes and retries. WithDialer
// opens the TCP connections (through a proxy, or a test's faulty network).
//
// # Change feed
//
// Subscribe follows one shard's events in order and resumes after the last
// event it delivered, across reconnections; SubscribeNow follows them from
// the shard's present. WatchAvailability turns the feeds into the
// available counts of a set of items, sent as they change (docs/adr/0108).
//
// # Testing a program that uses the client
//
// Package github.com/invsys/inv/invtest starts a real invd for a test, on
// free loopback ports with fresh data, and returns its address and a ready
// client; t.Cleanup closes the client and stops the server:
//
//	srv := invtest.Start(t, invtest.WithShards(4))
//	err := srv.Client.PutItem(ctx, client.ItemSpec{SKU: "sku1", Store: "s1", Stock: 5})
//
// It builds invd from the inv module the test depends on, once per test
// process, unless WithBinary or the INV_INVD environment variable names one.
// invtest.StartServer does the same outside a test (a TestMain, the
// examples of this package).
//
// This package imports protocol and engine and the standard library; its
// API names their types only through the aliases of vocab.go
// (docs/adr/0087), so a program imports the client alone.
package client
