package engine

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestRestoreIntoSharesItsBuffer: restores of two different states into
// one buffer each give back their state exactly (snapshot bytes), the
// buffer is left grown for the next, and the restored engines keep none
// of it: the buffer overwritten afterwards changes neither engine.
func TestRestoreIntoSharesItsBuffer(t *testing.T) {
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC).UnixNano()
	snap := func(items, holds int) []byte {
		e := New(Config{PickupSecret: []byte("k")})
		for i := range items {
			e.Apply(now, []Command{{Op: OpPutItem, SKU: fmt.Appendf(nil, "sku-%d", i), Store: []byte("S1"), Stock: 10}})
		}
		for i := range holds {
			res, _ := e.Apply(now, []Command{{Op: OpReserve, SKU: fmt.Appendf(nil, "sku-%d", i%items), Store: []byte("S1"),
				Customer: fmt.Appendf(nil, "c-%d", i), Qty: 1, Key: fmt.Appendf(nil, "key-%d", i)}})
			if res[0].Code != OK {
				t.Fatalf("reserve: %v", res[0].Code)
			}
		}
		var b bytes.Buffer
		if err := e.Snapshot(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	big, small := snap(3000, 2000), snap(40, 30)
	var buf []byte
	var restored []*Engine
	for _, want := range [][]byte{big, small} {
		e, err := RestoreInto(Config{PickupSecret: []byte("k")}, bytes.NewReader(want), &buf)
		if err != nil {
			t.Fatal(err)
		}
		if cap(buf) < len(big) {
			t.Fatalf("the buffer has room for %d bytes after a restore, want at least the larger state's %d", cap(buf), len(big))
		}
		restored = append(restored, e)
	}
	buf = buf[:cap(buf)]
	for i := range buf {
		buf[i] = 0xa5
	}
	for i, want := range [][]byte{big, small} {
		var got bytes.Buffer
		if err := restored[i].Snapshot(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("state %d: restored from the shared buffer, then the buffer overwritten: %d bytes, want the %d it was", i, got.Len(), len(want))
		}
		if err := restored[i].CheckInvariants(); err != nil {
			t.Fatalf("state %d: %v", i, err)
		}
	}
}

// TestRestoreRefusesAKeyTwice: a snapshot whose idempotency records hold
// one key twice (neither marked as sharing its hash) does not restore,
// and the intact one does, each key's replay answering as before.
func TestRestoreRefusesAKeyTwice(t *testing.T) {
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC).UnixNano()
	e := New(Config{PickupSecret: []byte("k")})
	e.Apply(now, []Command{{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 10}})
	var ids []uint64
	for _, k := range []string{"key-1", "key-2"} {
		res, _ := e.Apply(now, []Command{{Op: OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c-" + k), Qty: 1, Key: []byte(k)}})
		if res[0].Code != OK {
			t.Fatalf("reserve: %v", res[0].Code)
		}
		ids = append(ids, res[0].ID)
	}
	var intact bytes.Buffer
	if err := e.Snapshot(&intact); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(Config{PickupSecret: []byte("k")}, bytes.NewReader(intact.Bytes()))
	if err != nil {
		t.Fatalf("the intact snapshot: %v", err)
	}
	for i, k := range []string{"key-1", "key-2"} {
		res, _ := r.Apply(now, []Command{{Op: OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c-" + k), Qty: 1, Key: []byte(k)}})
		if res[0].Code != OK || res[0].ID != ids[i] {
			t.Fatalf("%s replayed after restore: %+v, want reservation %x", k, res[0], ids[i])
		}
	}
	// The second record's key made the first's, bytes and hash alike.
	tb := &e.st.idem
	first, second := tb.entry(tb.head), tb.entry(tb.head+1)
	copy(tb.keyOf(second), tb.keyOf(first))
	second.hash = first.hash
	var twice bytes.Buffer
	if err := e.Snapshot(&twice); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(Config{PickupSecret: []byte("k")}, bytes.NewReader(twice.Bytes())); err == nil {
		t.Fatal("a snapshot holding one key twice restored")
	}
}
