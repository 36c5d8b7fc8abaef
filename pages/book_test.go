// These tests prove the book's own rules, event by event: an order's
// window counts move with confirm, reschedule, cancel, pickup and no-show;
// a replayed feed counts once; the live series keeps two minutes of
// seconds; a follower whose feed was cut under it (a snapshot it has no
// events for) starts over and stops claiming to know every code; and the
// counter's scans and masks read as a clerk types and sees them.
package pages

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
)

func TestParseScan(t *testing.T) {
	barcode := engine.PickupBarcode(0x0002000000000001, 29646449494)
	cases := []struct {
		in   string
		want Scan
		ok   bool
	}{
		{"029646449494", Scan{Code: 29646449494}, true},
		{" 0296 4644 9494 ", Scan{Code: 29646449494}, true},
		{"0296-4644-9494", Scan{Code: 29646449494}, true},
		{barcode, Scan{ID: 0x0002000000000001, Code: 29646449494}, true},
		{"inv0002000000000001029646449494", Scan{ID: 0x0002000000000001, Code: 29646449494}, true},
		{"02964644949", Scan{}, false},   // 11 digits
		{"0296464494945", Scan{}, false}, // 13
		{"02964644949x", Scan{}, false},
		{"INV0002000000000001", Scan{}, false},
		{"INV0000000000000000029646449494", Scan{}, false}, // id 0 names nothing
		{"", Scan{}, false},
		{string(make([]byte, 65)), Scan{}, false},
	}
	for _, c := range cases {
		got, err := ParseScan(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseScan(%q) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestMaskCustomer(t *testing.T) {
	for in, want := range map[string]string{"M00012345": "M0•••••45", "0912345678": "09••••••78", "abcd": "a•••",
		"ab": "a•", "": "", "王小明先生": "王小•先生"} {
		if got := MaskCustomer(in); got != want {
			t.Errorf("MaskCustomer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSeriesKeepsTwoMinutes(t *testing.T) {
	var s series
	at := func(sec int64) int64 { return sec * 1e9 }
	s.add(&engine.Event{Kind: engine.EvReserved, At: at(1000), Qty: 2})
	s.add(&engine.Event{Kind: engine.EvReserved, At: at(1000), Qty: 1})
	s.add(&engine.Event{Kind: engine.EvConfirmed, At: at(1001), Qty: 3})
	s.add(&engine.Event{Kind: engine.EvBadCode, At: at(1002), Qty: 7})
	s.add(&engine.Event{Kind: engine.EvCancelled, At: at(1002), Qty: 5}) // not charted
	v := s.view(1002)
	if v.Start != 1002-seriesSeconds+1 || len(v.Reserved) != seriesSeconds {
		t.Fatalf("start %d len %d", v.Start, len(v.Reserved))
	}
	last := seriesSeconds - 1
	if v.Reserved[last-2] != 3 || v.Confirmed[last-1] != 3 || v.BadCodes[last] != 1 {
		t.Fatalf("series %v %v %v", v.Reserved[last-2:], v.Confirmed[last-2:], v.BadCodes[last-2:])
	}
	// Quiet seconds move the chart on; an event older than the span is left out.
	v = s.view(1002 + seriesSeconds - 2)
	if v.Reserved[0] != 0 || v.Confirmed[0] != 3 {
		t.Fatalf("after a quiet while: reserved[0]=%d confirmed[0]=%d", v.Reserved[0], v.Confirmed[0])
	}
	s.add(&engine.Event{Kind: engine.EvReserved, At: at(900), Qty: 9})
	for _, n := range s.view(1002 + seriesSeconds - 2).Reserved {
		if n == 9 {
			t.Fatal("an event older than the span was counted")
		}
	}
	s.add(&engine.Event{Kind: engine.EvReserved, At: at(5000), Qty: 4})
	if v := s.view(5000); v.Reserved[last] != 4 || v.Confirmed[0] != 0 {
		t.Fatalf("after a long gap: %v", v.Reserved[last])
	}
}

// feedOf numbers events as one entry each.
func feedOf(evs ...engine.Event) []raftstore.FeedEvent {
	out := make([]raftstore.FeedEvent, len(evs))
	for i, ev := range evs {
		out[i] = raftstore.FeedEvent{Position: raftstore.Position{Index: uint64(i + 1)}, Event: ev}
	}
	return out
}

func TestBookWindowCounts(t *testing.T) {
	const w1, w2 = int64(100e9), int64(200e9)
	ev := func(k engine.EventKind, id uint64, window, qty int64) engine.Event {
		return engine.Event{Kind: k, ID: id, SKU: "A", Store: "S", Window: window, Qty: qty, PickupCode: id * 11, At: 50e9}
	}
	run := feedOf(
		ev(engine.EvConfirmed, 1, w1, 2),
		ev(engine.EvConfirmed, 2, w1, 1),
		ev(engine.EvConfirmed, 3, w1, 4),
		ev(engine.EvRescheduled, 2, w2, 1),
		ev(engine.EvCancelled, 3, w1, 4),
		ev(engine.EvPickedUp, 1, w1, 2),
		ev(engine.EvPickedUp, 9, w2, 5), // confirmed before the feed the book saw
		ev(engine.EvNoShow, 2, w2, 1),
		ev(engine.EvCancelled, 8, w1, 3), // a hold the book never followed
	)
	b := NewBook()
	b.startShard(0, true, raftstore.Position{})
	b.SetStore(0, &engine.StoreInfo{Store: "S", Windows: []engine.WindowInfo{{Start: w1, End: w1 + 1e9, Quota: 5}, {Start: w2, End: w2 + 1e9, Quota: 5}}})
	check := func(when string) {
		t.Helper()
		v, _ := b.Store("S", 0, 0)
		got := map[int64]WindowCounts{}
		for _, w := range v.Windows {
			got[w.Start] = w.WindowCounts
		}
		if want := (WindowCounts{Collected: 1, CollectedUnits: 2}); got[w1] != want {
			t.Errorf("%s: window 1 %+v, want %+v", when, got[w1], want)
		}
		if want := (WindowCounts{Collected: 1, CollectedUnits: 5, NoShow: 1}); got[w2] != want {
			t.Errorf("%s: window 2 %+v, want %+v", when, got[w2], want)
		}
	}
	b.Apply(0, run, nil)
	check("once")
	// A follower that starts over replays the same feed: counted once.
	b.startShard(0, true, raftstore.Position{})
	b.Apply(0, run, nil)
	check("replayed")
	b.Apply(0, run[:1], nil) // the same confirm again: no second order
	check("a confirm seen twice")
	if id, _ := b.Lookup("S", 11); id != 1 {
		t.Errorf("code of order 1 names %d", id)
	}
	if id, complete := b.Lookup("T", 11); id != 0 || complete {
		t.Errorf("a code at another store: %d complete=%v (the shard is not live yet)", id, complete)
	}
	b.shardLive(0)
	if _, complete := b.Lookup("T", 11); !complete {
		t.Error("a live shard replayed from its start should know every code")
	}
	// Finished orders leave the book finishedKeep after they finished.
	b.Apply(0, []raftstore.FeedEvent{{Position: raftstore.Position{Index: 99},
		Event: engine.Event{Kind: engine.EvReserved, ID: 50, SKU: "A", Store: "S", At: 50e9 + finishedKeep + 1, Qty: 1}}}, nil)
	if id, _ := b.Lookup("S", 11); id != 0 {
		t.Error("an order collected a day and a half ago is still in the book")
	}
}

func TestFollowStartsOverWhenCut(t *testing.T) {
	f := newFixture(t)
	s := putShop(t, f.n)
	_, code := s.order(t, f.n, s.tpe, "M1", 1, s.now)
	f.settle(t)
	if id, complete := f.book.Lookup(s.tpe, code); id == 0 || !complete {
		t.Fatalf("lookup before the cut: %d %v", id, complete)
	}
	// The node installs a snapshot it has no events for: its feed restarts
	// past the follower's position.
	f.n.mu.Lock()
	f.n.index += 10
	f.n.floor = raftstore.Position{Index: f.n.index + 1}
	f.n.feed = nil
	close(f.n.wake)
	f.n.wake = make(chan struct{})
	f.n.mu.Unlock()
	deadline := time.Now().Add(3 * followRetry)
	for {
		if id, complete := f.book.Lookup(s.tpe, code); id == 0 && !complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the follower did not start over after its feed was cut")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Items come back from the read that starts a follower.
	ov := f.book.Overview(10, 0, 0)
	if len(ov.SKUs) != 1 || ov.SKUs[0].Confirmed != 1 {
		t.Fatalf("items after starting over: %+v", ov.SKUs)
	}
}

// TestTouchedResetDropsABurst: reset drops the storage of a map a burst
// filled (ranging over a cleared map still costs its storage, at every
// reread) and keeps a small one's for reuse.
func TestTouchedResetDropsABurst(t *testing.T) {
	var tc Touched
	for i := range 50_000 {
		tc.add(&engine.Event{Kind: engine.EvItemPut, SKU: "sku-" + strconv.Itoa(i), Store: "st-1"})
	}
	burst := reflect.ValueOf(tc.Items).UnsafePointer()
	tc.reset()
	if len(tc.Items) != 0 || len(tc.Stores) != 0 {
		t.Fatalf("reset left %d items, %d stores", len(tc.Items), len(tc.Stores))
	}
	if reflect.ValueOf(tc.Items).UnsafePointer() == burst {
		t.Fatal("reset kept the storage of a burst of 50,000 items")
	}
	tc.add(&engine.Event{Kind: engine.EvItemPut, SKU: "sku-1", Store: "st-1"})
	small := reflect.ValueOf(tc.Items).UnsafePointer()
	tc.reset()
	if len(tc.Items) != 0 || reflect.ValueOf(tc.Items).UnsafePointer() != small {
		t.Fatal("reset did not clear a small map in place")
	}
}
