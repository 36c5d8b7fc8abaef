// tallyPickups, without a server: per store and per SKU, a pickup before
// its window's end is on time, one after it is late, one with no window or
// a window no longer known is on time, a no-show counts against both
// rates, and the rates are over the orders that came due.
package main

import (
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

func TestTallyPickups(t *testing.T) {
	w := time.Date(2039, 12, 24, 10, 0, 0, 0, time.UTC)
	end := w.Add(2 * time.Hour)
	ends := map[windowKey]time.Time{{"CAKE", "S1", w.UnixNano()}: end}
	ev := func(kind engine.EventKind, sku, store string, window, at time.Time) client.Event {
		return client.Event{Kind: kind, SKU: sku, Store: store, Window: window, At: at}
	}
	rep := tallyPickups([]client.Event{
		ev(engine.EvPickedUp, "CAKE", "S1", w, w.Add(time.Hour)),                 // on time
		ev(engine.EvPickedUp, "CAKE", "S1", w, end),                              // at the end: late
		ev(engine.EvPickedUp, "TEA", "S1", time.Time{}, end),                     // no window: on time
		ev(engine.EvPickedUp, "TEA", "S2", w.Add(time.Hour), end.Add(time.Hour)), // window unknown: on time
		ev(engine.EvNoShow, "CAKE", "S2", w, time.Time{}),
	}, ends)
	want := pickupReport{
		Stores: []pickupTally{{"S1", 3, 2, 0, 2.0 / 3, 0}, {"S2", 1, 1, 1, 0.5, 0.5}},
		SKUs:   []pickupTally{{"CAKE", 2, 1, 1, 1.0 / 3, 1.0 / 3}, {"TEA", 2, 2, 0, 1, 0}},
	}
	if len(rep.Stores) != 2 || len(rep.SKUs) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	for i := range want.Stores {
		if rep.Stores[i] != want.Stores[i] || rep.SKUs[i] != want.SKUs[i] {
			t.Errorf("line %d: stores %+v skus %+v, want %+v %+v", i, rep.Stores[i], rep.SKUs[i], want.Stores[i], want.SKUs[i])
		}
	}
	if empty := tallyPickups(nil, nil); len(empty.Stores) != 0 || empty.Stores == nil {
		t.Errorf("no events: %+v (want empty lists, not null)", empty)
	}
}
