// invtest as a user's test meets it: Start builds invd from this module
// (once per process), starts it, and hands back a client that reserves
// right away; options set the shards, config lines (tokens) and the
// client's own options; Stop ends it gracefully and the cleanup after it
// has nothing left to do; /readyz answers on the HTTP address.
package invtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/invtest"
)

func TestStart(t *testing.T) {
	ctx := context.Background()
	srv := invtest.Start(t)
	if err := srv.Client.PutItem(ctx, client.ItemSpec{SKU: "sku1", Store: "s1", Stock: 2}); err != nil {
		t.Fatal(err)
	}
	r, err := srv.Client.Reserve(ctx, client.ReserveRequest{SKU: "sku1", Store: "s1", Customer: "c1", Qty: 2})
	if err != nil || r.ID == 0 {
		t.Fatalf("reserve: %+v %v", r, err)
	}
	if _, err := srv.Client.Reserve(ctx, client.ReserveRequest{SKU: "sku1", Store: "s1", Customer: "c2", Qty: 1}); !errors.Is(err, client.ErrSoldOut) {
		t.Fatalf("third unit: %v, want sold_out", err)
	}
	resp, err := http.Get("http://" + srv.HTTP + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestOptions(t *testing.T) {
	const token = "op-token-for-the-test"
	sum := sha256.Sum256([]byte(token))
	srv := invtest.Start(t, invtest.WithShards(3),
		invtest.WithConfig("token = operator "+hex.EncodeToString(sum[:])),
		invtest.WithClientOptions(client.WithToken(token)))
	if n := srv.Client.Shards(); n != 3 {
		t.Fatalf("%d shards, want 3", n)
	}
	ctx := context.Background()
	if err := srv.Client.PutItem(ctx, client.ItemSpec{SKU: "sku1", Store: "s1", Stock: 1}); err != nil {
		t.Fatalf("put with the operator token: %v", err)
	}
	// Without a token the server refuses.
	anon, err := client.Dial(ctx, []string{srv.Addr})
	if err == nil {
		_, err = anon.GetItem(ctx, "sku1", "s1")
		anon.Close()
	}
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("without a token: %v, want unauthorized", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil { // and again, as the cleanup will
		t.Fatal(err)
	}
}

// TestStartServer: a server started outside a test (for a TestMain or an
// example) serves, and Close stops it; a bad option is an error, not a
// server.
func TestStartServer(t *testing.T) {
	ctx := context.Background()
	srv, err := invtest.StartServer(invtest.WithShards(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Client.PutItem(ctx, client.ItemSpec{SKU: "sku1", Store: "s1", Stock: 1}); err != nil {
		srv.Close()
		t.Fatal(err)
	}
	addr := srv.Addr
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if c, err := client.Dial(dctx, []string{addr}, client.WithRetry(client.RetryPolicy{MaxAttempts: 1})); err == nil {
		c.Close()
		t.Fatalf("%s still serves after Close", addr)
	}
	if _, err := invtest.StartServer(invtest.WithShards(0)); err == nil {
		t.Fatal("StartServer with 0 shards: no error")
	}
}
