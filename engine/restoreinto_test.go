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
