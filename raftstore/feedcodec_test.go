// Tests of the change feed's stored event encoding (feedcodec.go), pure
// functions without Pebble. They prove that every field of engine.Event,
// alone and together, random values included, decodes to the event that was
// encoded; that eventValueAt reads the same time as the full decoder; that
// a decoded string equal to the previous event's is shared with it; that
// truncated, padded, non-canonical, zero-valued, unknown-bit and
// wrong-version values are refused; and, by fuzzing, that any input either
// fails to decode or re-encodes to exactly the same bytes (one encoding per
// event, and no input can panic the decoder).
package raftstore

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/invsys/inv/engine"
)

func randomEvent(r *rand.Rand) engine.Event {
	str := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		b := make([]byte, 1+r.IntN(engine.MaxIDBytes))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	i64 := func() int64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return r.Int64N(1000) - 500
		case 2:
			return math.MinInt64 + r.Int64N(3)
		default:
			return r.Int64()
		}
	}
	u64 := func() uint64 {
		if r.IntN(3) == 0 {
			return 0
		}
		return r.Uint64()
	}
	return engine.Event{
		Kind:       engine.EventKind(1 + r.IntN(255)),
		At:         i64(),
		ID:         u64(),
		SKU:        str(),
		Store:      str(),
		Customer:   str(),
		Qty:        i64(),
		Window:     i64(),
		State:      engine.State(r.IntN(8)),
		PickupCode: u64(),
		Stock:      i64(),
		Tier:       uint8(r.IntN(16)),
		Blocked:    r.IntN(2) == 0,
		Zone:       str(),
		Actor:      str(),
		Reason:     str(),
	}
}

func TestEventValueRoundTrip(t *testing.T) {
	full := engine.Event{Kind: engine.EvConfirmed, At: t0, ID: 1<<48 | 7, SKU: "4710088432018",
		Store: "S0231", Customer: "member-88", Qty: 2, Window: t0 + 3600e9, State: engine.StateConfirmed,
		PickupCode: 123456789012, Stock: 150, Tier: 2, Blocked: true, Actor: "night-shift", Reason: "count after the stocktake"}
	events := []engine.Event{
		full,
		{Kind: engine.EvExpired}, // nothing but the kind
		{Kind: engine.EvStockChanged, At: -1, Stock: -3}, // negative values
		{Kind: engine.EvCustomer, Customer: "c", Blocked: true},
		{Kind: engine.EvStorePut, Store: "TPE0427", Zone: "Asia/Taipei"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		events = append(events, randomEvent(r))
	}
	for i, e := range events {
		b := appendEventValue(nil, &e)
		var got engine.Event
		if err := decodeEventValue(b, &got, nil); err != nil {
			t.Fatalf("event %d %+v: %v (bytes %x)", i, e, err, b)
		}
		if got != e {
			t.Fatalf("event %d: decoded %+v, want %+v", i, got, e)
		}
		at, err := eventValueAt(b)
		if err != nil || at != e.At {
			t.Fatalf("event %d: eventValueAt %d, %v; want %d", i, at, err, e.At)
		}
		// Appending keeps what dst held.
		if again := appendEventValue([]byte("x"), &e); !bytes.Equal(again[1:], b) {
			t.Fatalf("event %d: append to a non-empty slice differs", i)
		}
	}
	reserveEv := engine.Event{Kind: engine.EvReserved, At: t0, ID: 1<<48 | 1, SKU: "4710088432018",
		Store: "S0231", Customer: "member-88", Qty: 1, State: engine.StateHeld}
	ids := len(reserveEv.SKU) + len(reserveEv.Store) + len(reserveEv.Customer)
	if n := len(appendEventValue(nil, &reserveEv)); n > ids+25 {
		t.Fatalf("a reserve's event takes %d bytes, its ids %d", n, ids)
	}
}

func TestEventValueSharesPreviousStrings(t *testing.T) {
	a := engine.Event{Kind: engine.EvReserved, SKU: "sku-1", Store: "S1", Customer: "c1"}
	b := engine.Event{Kind: engine.EvReserved, SKU: "sku-1", Store: "S1", Customer: "c2"}
	var da, db engine.Event
	if err := decodeEventValue(appendEventValue(nil, &a), &da, nil); err != nil {
		t.Fatal(err)
	}
	if err := decodeEventValue(appendEventValue(nil, &b), &db, &da); err != nil {
		t.Fatal(err)
	}
	if db != b {
		t.Fatalf("decoded %+v, want %+v", db, b)
	}
	if unsafe.StringData(db.SKU) != unsafe.StringData(da.SKU) || unsafe.StringData(db.Store) != unsafe.StringData(da.Store) {
		t.Fatal("equal strings of consecutive events not shared")
	}
}

func TestEventValueRefusesBadBytes(t *testing.T) {
	e := engine.Event{Kind: engine.EvReserved, At: 5, ID: 9, SKU: "A", Qty: 1}
	good := appendEventValue(nil, &e)
	// val builds a value of kind 1 at time 0 with mask m and field bytes.
	val := func(m uint64, fields ...byte) []byte {
		return append(binary.AppendUvarint([]byte{1, 1, 0}, m), fields...)
	}
	bad := map[string][]byte{
		"empty":          nil,
		"version":        append([]byte{2}, good[1:]...),
		"kind 0":         append([]byte{1, 0}, good[2:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte(nil), good...), 0),
		"unknown bit":    val(1 << evFieldCount),
		"overlong at":    {1, 1, 0x80, 0x00, 0},
		"overlong mask":  {1, 1, 0, 0x80, 0x00},
		"zero id":        val(1<<evID, 0),
		"zero qty":       val(1<<evQty, 0),
		"zero state":     val(1<<evState, 0),
		"zero tier":      val(1<<evTier, 0),
		"absent tier":    val(1 << evTier),
		"absent stock":   val(1 << evStock),
		"empty sku":      val(1<<evSKU, 0),
		"sku past end":   val(1<<evSKU, 5, 'a'),
		"sku too long":   append(val(1<<evSKU, 0x80, 0x02), make([]byte, 256)...),
		"at, no mask":    {1, 1, 0},
		"overflowing id": val(1<<evID, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
	}
	for name, b := range bad {
		var got engine.Event
		if err := decodeEventValue(b, &got, nil); err == nil {
			t.Errorf("%s: %x decoded as %+v", name, b, got)
		}
	}
	if _, err := eventValueAt([]byte{1, 0, 0, 0}); err == nil {
		t.Error("eventValueAt accepted kind 0")
	}
}

func FuzzDecodeEventValue(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 16; i++ {
		e := randomEvent(r)
		f.Add(appendEventValue(nil, &e))
	}
	f.Add([]byte{1, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e engine.Event
		err := decodeEventValue(data, &e, nil)
		at, atErr := eventValueAt(data)
		if err != nil {
			return
		}
		if atErr != nil || at != e.At {
			t.Fatalf("eventValueAt %d, %v; decode says %d", at, atErr, e.At)
		}
		if again := appendEventValue(nil, &e); !bytes.Equal(again, data) {
			t.Fatalf("decode → encode changed the bytes:\n in  %x\n out %x", data, again)
		}
	})
}

// TestEntryEventsRoundTrip: an entry's value holds its events in order,
// and one that says more or fewer than it holds, or a zero-length event,
// is refused.
func TestEntryEventsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 40; n += 13 {
		want := make([][]byte, n)
		val := appendEntryEventsHeader(nil, n)
		for i := range want {
			e := randomEvent(r)
			want[i] = appendEventValue(nil, &e)
			val = appendEntryEvent(val, want[i])
		}
		evs, err := openEntryEvents(val)
		if err != nil || evs.count != n {
			t.Fatalf("%d events: %v, count %d", n, err, evs.count)
		}
		for i := range want {
			got, ok := evs.next()
			if !ok || !bytes.Equal(got, want[i]) {
				t.Fatalf("event %d of %d: %x, want %x", i, n, got, want[i])
			}
		}
		if _, ok := evs.next(); ok || evs.err != nil {
			t.Fatalf("past the last of %d: ok %v err %v", n, ok, evs.err)
		}
		more := append(append([]byte(nil), val...), 1, 1)
		if evs, _ := openEntryEvents(more); !drains(&evs) {
			t.Fatalf("%d events with bytes after them accepted", n)
		}
		fewer := append(appendEntryEventsHeader(nil, n+1), val[len(appendEntryEventsHeader(nil, n)):]...)
		if evs, _ := openEntryEvents(fewer); !drains(&evs) {
			t.Fatalf("a header of %d over %d events accepted", n+1, n)
		}
	}
	for _, bad := range [][]byte{nil, {entryEventsVersion}, {entryEventsVersion, 0}, {2, 1, 1, 1}, {entryEventsVersion, 1, 0}} {
		evs, err := openEntryEvents(bad)
		if err == nil && !drains(&evs) {
			t.Fatalf("%x accepted", bad)
		}
	}
}

// drains reads every event of evs and reports whether it failed.
func drains(evs *entryEvents) bool {
	for {
		if _, ok := evs.next(); !ok {
			return evs.err != nil
		}
	}
}

func FuzzDecodeEntryEvents(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	for n := 1; n <= 4; n++ {
		val := appendEntryEventsHeader(nil, n)
		for range n {
			e := randomEvent(r)
			val = appendEntryEvent(val, appendEventValue(nil, &e))
		}
		f.Add(val)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := openEntryEvents(data)
		if err != nil {
			return
		}
		var parts [][]byte
		for {
			ev, ok := evs.next()
			if !ok {
				break
			}
			parts = append(parts, ev)
		}
		if evs.err != nil {
			return
		}
		// What decodes re-encodes to the same bytes: one form a value.
		again := appendEntryEventsHeader(nil, len(parts))
		for _, p := range parts {
			again = appendEntryEvent(again, p)
		}
		if !bytes.Equal(again, data) || len(parts) != evs.count {
			t.Fatalf("decode → encode changed the bytes:\n in  %x\n out %x", data, again)
		}
	})
}
