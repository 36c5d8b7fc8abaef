package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// pickupTally counts the orders of one store or SKU that came due: picked
// up (on time: before the end of their pickup window, or with no window)
// or not (no-show).
type pickupTally struct {
	Key        string  `json:"key"`
	PickedUp   int64   `json:"picked_up"`
	OnTime     int64   `json:"on_time"`
	NoShow     int64   `json:"no_show"`
	OnTimeRate float64 `json:"on_time_rate"` // on time / (picked up + no-show)
	NoShowRate float64 `json:"no_show_rate"` // no-show / (picked up + no-show)
}

func (t *pickupTally) rates() {
	if due := t.PickedUp + t.NoShow; due > 0 {
		t.OnTimeRate, t.NoShowRate = float64(t.OnTime)/float64(due), float64(t.NoShow)/float64(due)
	}
}

// pickupReport is the report's JSON form.
type pickupReport struct {
	Since  time.Time     `json:"since"`
	Stores []pickupTally `json:"stores"`
	SKUs   []pickupTally `json:"skus"`
}

// reportPickups tallies, per store and per SKU, the orders picked up (on
// time or late) and the no-shows since --since, from every shard's change
// feed (docs/adr/0103): the per-store figures metrics cannot carry without
// a label per store.
func reportPickups(e *env, args []string) error {
	fs := newFlags(e, "report pickups")
	since := fs.Duration("since", 24*time.Hour, "how far back (at most what the feed keeps: feed_retention)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *since <= 0 {
		return usagef("--since %s: want a positive duration (24h)", *since)
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	from := time.Now().Add(-*since)
	var events []client.Event
	for sh := range cl.Shards() {
		evs, err := feedSince(c, cl, sh, from)
		if err != nil {
			return err
		}
		events = append(events, evs...)
	}
	ends := windowEnds(c, cl, events, e.readOpts())
	rep := tallyPickups(events, ends)
	rep.Since = from.UTC()
	return show(e, rep, []string{"BY", "KEY", "PICKED_UP", "ON_TIME", "NO_SHOW", "ON_TIME_RATE", "NO_SHOW_RATE"}, func() [][]string {
		var rows [][]string
		for _, part := range []struct {
			by string
			ts []pickupTally
		}{{"store", rep.Stores}, {"sku", rep.SKUs}} {
			for _, t := range part.ts {
				rows = append(rows, []string{part.by, t.Key, num(t.PickedUp), num(t.OnTime), num(t.NoShow),
					fmt.Sprintf("%.3f", t.OnTimeRate), fmt.Sprintf("%.3f", t.NoShowRate)})
			}
		}
		return rows
	})
}

// feedSince reads a shard's pickups and no-shows at or after from, up to
// where the shard was when the read began (as item history does).
func feedSince(c context.Context, cl *client.Client, shard int, from time.Time) ([]client.Event, error) {
	sub, err := cl.Subscribe(c, shard, client.Position{})
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	var out []client.Event
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
			if (ev.Kind == engine.EvPickedUp || ev.Kind == engine.EvNoShow) && !ev.At.Before(from) {
				out = append(out, ev)
			}
			quiet.Reset(historyQuiet)
		case <-quiet.C:
			return out, nil
		case <-c.Done():
			return nil, c.Err()
		}
	}
}

// windowKey names one pickup window of an item.
type windowKey struct {
	sku, store string
	start      int64
}

// windowEnds looks up the end of every window the pickups name, one item
// read per item; a window no longer there has no end (its pickups count
// as on time: nothing says they were late).
func windowEnds(c context.Context, cl *client.Client, events []client.Event, opts []client.ReadOption) map[windowKey]time.Time {
	ends := map[windowKey]time.Time{}
	read := map[[2]string]bool{}
	for _, ev := range events {
		k := [2]string{ev.SKU, ev.Store}
		if ev.Kind != engine.EvPickedUp || ev.Window.IsZero() || read[k] {
			continue
		}
		read[k] = true
		it, err := cl.GetItem(c, ev.SKU, ev.Store, opts...)
		if err != nil {
			continue
		}
		for _, w := range it.Windows {
			ends[windowKey{ev.SKU, ev.Store, w.Start.UnixNano()}] = w.End
		}
	}
	return ends
}

// tallyPickups counts events per store and per SKU, each list by key.
func tallyPickups(events []client.Event, ends map[windowKey]time.Time) pickupReport {
	stores, skus := map[string]*pickupTally{}, map[string]*pickupTally{}
	get := func(m map[string]*pickupTally, k string) *pickupTally {
		if m[k] == nil {
			m[k] = &pickupTally{Key: k}
		}
		return m[k]
	}
	for _, ev := range events {
		for _, t := range []*pickupTally{get(stores, ev.Store), get(skus, ev.SKU)} {
			if ev.Kind == engine.EvNoShow {
				t.NoShow++
				continue
			}
			t.PickedUp++
			end, known := ends[windowKey{ev.SKU, ev.Store, ev.Window.UnixNano()}]
			if ev.Window.IsZero() || !known || ev.At.Before(end) {
				t.OnTime++
			}
		}
	}
	return pickupReport{Stores: sortedTallies(stores), SKUs: sortedTallies(skus)}
}

func sortedTallies(m map[string]*pickupTally) []pickupTally {
	out := make([]pickupTally, 0, len(m))
	for _, t := range m {
		t.rates()
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
