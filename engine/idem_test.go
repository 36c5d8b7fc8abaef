package engine

import (
	"fmt"
	"testing"
)

// TestIdemTableChunks stores and ages keys across many entry and key chunks
// (keys of every length up to MaxKeyBytes, so key chunks end unevenly) and
// checks after each step that exactly the keys not yet aged out are found,
// with their own results, and that aged-out chunks are let go.
func TestIdemTableChunks(t *testing.T) {
	var tb idemTable
	tb.init()
	const total = 5*idemChunkLen + 123
	key := func(i int) []byte {
		k := fmt.Appendf(nil, "k%d-", i)
		for len(k) < 1+i%MaxKeyBytes {
			k = append(k, 'x')
		}
		return k
	}
	stored, aged := 0, 0
	check := func() {
		t.Helper()
		if tb.len() != stored-aged {
			t.Fatalf("len %d, want %d", tb.len(), stored-aged)
		}
		for i := max(0, aged-50); i < stored; i++ {
			e, ok := tb.find(key(i))
			if ok != (i >= aged) {
				t.Fatalf("key %d (aged %d, stored %d): found %v", i, aged, stored, ok)
			}
			if ok && (e.res.id != uint64(i) || e.at != int64(i)) {
				t.Fatalf("key %d: entry of id %d at %d", i, e.res.id, e.at)
			}
		}
		if n := len(tb.chunks); n > (stored-aged)/idemChunkLen+2 {
			t.Fatalf("%d entry chunks for %d live entries", n, stored-aged)
		}
	}
	for stored < total {
		for range 700 {
			c := Command{Op: OpReserve, Key: key(stored)}
			if _, ok, h := tb.lookupHint(&c); ok {
				t.Fatalf("key %d found before it was stored", stored)
			} else {
				tb.storeHinted(&c, &Result{ID: uint64(stored)}, int64(stored), h)
			}
			stored++
		}
		check()
		aged = max(0, stored-900)
		tb.age(int64(aged - 1))
		check()
	}
	aged = stored
	tb.age(int64(stored))
	check()
	if len(tb.keyChunks) > 1 || len(tb.chunks) > 1 {
		t.Fatalf("%d key chunks and %d entry chunks left with no live key", len(tb.keyChunks), len(tb.chunks))
	}
	// The table works on after being emptied.
	c := Command{Op: OpReserve, Key: []byte("again")}
	tb.store(&c, &Result{ID: 7}, int64(stored+1))
	if e, ok := tb.find(c.Key); !ok || e.res.id != 7 {
		t.Fatalf("a key stored after emptying: found %v", ok)
	}
}
