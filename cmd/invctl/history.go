package main

import (
	"context"
	"fmt"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/cli"
	"github.com/invsys/inv/protocol"
)

// historyQuiet ends a history whose last entries made no event of any
// kind: the feed then has nothing beyond the shard's position at the start
// to show, so the reader stops once it has been quiet this long. Entries
// with events end it at once (Subscription.Head); this only bounds the wait
// after a shard's last entries were, say, expiry ticks with nothing due.
const historyQuiet = time.Second

// historyEntry is one stock or settings change of an item.
type historyEntry struct {
	At       time.Time `json:"at"`
	Position string    `json:"position"`
	Kind     string    `json:"kind"`
	Change   int64     `json:"change"` // units added (negative: removed)
	Stock    int64     `json:"stock"`  // after the change
	Actor    string    `json:"actor,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// itemHistory prints the stock and settings changes of one item that the
// change feed still keeps (feed_retention), oldest first, with who made
// each and why (docs/adr/0100).
func itemHistory(e *env, args []string) error {
	fs := newFlags(e, "item history")
	sku, store := skuStoreFlags(fs)
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	shard := protocol.ShardOfStore([]byte(*store), cl.Shards())
	sub, err := cl.Subscribe(c, shard, client.Position{})
	if err != nil {
		return err
	}
	defer sub.Close()
	out, err := readHistory(c, sub, *sku, *store)
	if err != nil {
		return err
	}
	return show(e, out, []string{"AT", "KIND", "CHANGE", "STOCK", "BY", "REASON"}, func() [][]string {
		rows := make([][]string, len(out))
		for i, h := range out {
			rows[i] = []string{h.At.UTC().Format(time.RFC3339), h.Kind, fmt.Sprintf("%+d", h.Change), num(h.Stock), h.Actor, h.Reason}
		}
		return rows
	})
}

// readHistory collects the item's changes until the feed has passed the
// shard's position at the start, or has been quiet for historyQuiet.
func readHistory(c context.Context, sub *client.Subscription, sku, store string) ([]historyEntry, error) {
	out := []historyEntry{}
	quiet := time.NewTimer(historyQuiet)
	defer quiet.Stop()
	for {
		select {
		case ev, open := <-sub.Events():
			if !open {
				return nil, sub.Err()
			}
			if ev.Position.Index > sub.Head() {
				return out, nil
			}
			if ev.SKU == sku && ev.Store == store && (ev.Kind == engine.EvItemPut || ev.Kind == engine.EvStockChanged) {
				out = append(out, historyEntry{At: ev.At, Position: fmt.Sprintf("%d.%d", ev.Position.Index, ev.Position.Ordinal),
					Kind: ev.Kind.String(), Change: ev.Qty, Stock: ev.Stock, Actor: ev.Actor, Reason: ev.Reason})
			}
			quiet.Reset(historyQuiet)
		case <-quiet.C:
			return out, nil
		case <-c.Done():
			return nil, c.Err()
		}
	}
}
