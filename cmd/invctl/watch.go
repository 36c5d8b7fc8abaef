package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/cli"
)

// watch prints the available counts of a SKU at one or more stores as they
// change (client.WatchAvailability, docs/adr/0108): each store's count
// once at the start, then a line per change, until interrupted or --count
// lines have been printed.

type availabilityJSON struct {
	At        time.Time `json:"at"`
	SKU       string    `json:"sku"`
	Store     string    `json:"store"`
	Available int64     `json:"available"`
}

func watch(e *env, args []string) error {
	fs := newFlags(e, "watch")
	sku := fs.String("sku", "", "SKU to watch")
	stores := fs.String("store", "", "store, or comma-separated stores, to watch the SKU at")
	count := fs.Int("count", 0, "stop after this many lines (0: follow until interrupted)")
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	var items []client.ItemRef
	for _, st := range strings.Split(*stores, ",") {
		items = append(items, client.ItemRef{SKU: *sku, Store: strings.TrimSpace(st)})
	}
	if len(items) > client.MaxWatchItems {
		return usagef("--store: %d stores, at most %d", len(items), client.MaxWatchItems)
	}
	e.about(subject{sku: *sku, store: *stores})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w, err := cl.WatchAvailability(c, items)
	if err != nil {
		return err
	}
	defer w.Close()
	for printed := 0; *count == 0 || printed < *count; printed++ {
		u, ok := <-w.Updates()
		if !ok {
			return w.Err()
		}
		out := availabilityJSON{At: time.Now().UTC(), SKU: u.SKU, Store: u.Store, Available: u.Available}
		if e.json {
			if err := show(e, out, nil, nil); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%s %s %s available=%d\n", out.At.Format(time.RFC3339), out.SKU, out.Store, out.Available)
	}
	return nil
}
