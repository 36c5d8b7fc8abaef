// Command storefront is a small HTTP JSON backend of a shop, built only on
// inv's client library, the way a shop's web tier would use it: shoppers
// find the stores that have a product, reserve a unit with a pickup window,
// confirm after payment, see their order with its pickup code (and the
// barcode the counter scans), and cancel.
//
//	go run ./examples/storefront -inv 127.0.0.1:7420 -listen 127.0.0.1:8080 -demo
//
// See README.md for the endpoints and a walk through them with curl.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/invsys/inv/client"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "storefront:", err)
		os.Exit(1)
	}
}

func run() error {
	invAddrs := flag.String("inv", "127.0.0.1:7420", "inv node addresses, comma separated")
	listen := flag.String("listen", "127.0.0.1:8080", "HTTP address to serve on")
	demo := flag.Bool("demo", false, "put a demo catalogue (SKU "+demoSKU+" in three stores, with pickup windows) before serving (needs an operator token, or a server without tokens)")
	token := flag.String("token", os.Getenv("INV_TOKEN"), "inv access token, a storefront token in production (env INV_TOKEN)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := client.Dial(dctx, strings.Split(*invAddrs, ","), client.WithLogger(log), client.WithClientName("storefront"),
		client.WithToken(*token))
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	if *demo {
		if err := putDemoCatalogue(ctx, c, time.Now()); err != nil {
			return fmt.Errorf("demo catalogue: %w", err)
		}
		log.Info("demo catalogue ready", "sku", demoSKU, "stores", demoStores)
	}

	srv := &http.Server{Addr: *listen, Handler: newShop(c, log), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("storefront serving", "http", *listen, "inv", *invAddrs)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// The demo catalogue: one SKU (a bottle of oolong tea) in three stores in
// Taiwan, each with stock and three 2-hour pickup windows tomorrow; a
// customer may buy 4 bottles across the chain; each store's counter hands
// over 25 pre-orders a window, whatever the product.
const demoSKU = "4710088412345"

var demoStores = []string{"TPE0427", "KHH0113", "TXG0008"}

const demoZone = "Asia/Taipei"

func putDemoCatalogue(ctx context.Context, c *client.Client, now time.Time) error {
	tomorrow := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if err := c.SetLimit(ctx, client.LimitSpec{SKU: demoSKU, Limit: 4}); err != nil {
		return err
	}
	for i, store := range demoStores {
		if err := c.PutStore(ctx, client.StoreSpec{Store: store, Zone: demoZone}); err != nil {
			return err
		}
		err := c.PutItem(ctx, client.ItemSpec{SKU: demoSKU, Store: store, Stock: int64(20 + 10*i)})
		if err != nil && !errors.Is(err, client.ErrBelowPromised) { // already running with orders: keep it
			return err
		}
		for h := 10; h < 16; h += 2 {
			start := tomorrow.Add(time.Duration(h) * time.Hour)
			err := c.PutStoreWindow(ctx, client.StoreWindowSpec{Store: store, Start: start, End: start.Add(2 * time.Hour), Capacity: 25})
			if err != nil && !errors.Is(err, client.ErrBelowPromised) {
				return err
			}
			err = c.PutWindow(ctx, client.WindowSpec{SKU: demoSKU, Store: store, Start: start, End: start.Add(2 * time.Hour), Quota: 10})
			if err != nil && !errors.Is(err, client.ErrBelowPromised) {
				return err
			}
		}
	}
	return nil
}
