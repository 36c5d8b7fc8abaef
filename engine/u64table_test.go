// Proves u64table behaves as a map under random put/get/del churn, including
// clustered keys that exercise backward-shift deletion across wrap-around.
package engine

import (
	"math/rand"
	"strconv"
	"testing"
)

func TestU64TableAgainstMap(t *testing.T) {
	for _, keySpace := range []uint64{8, 100, 5000} {
		var tb u64table
		ref := map[uint64]uint64{}
		rng := rand.New(rand.NewSource(int64(keySpace)))
		for i := 0; i < 200000; i++ {
			k := rng.Uint64() % keySpace
			if keySpace == 5000 {
				k <<= 40 // structured keys
			}
			switch rng.Intn(4) {
			case 0:
				v := rng.Uint64()
				tb.put(k, v)
				ref[k] = v
			case 1:
				tb.del(k)
				delete(ref, k)
			case 2:
				// insert keeps a present key's value and reports it.
				v := rng.Uint64() >> 1
				old, had := tb.insert(k, v)
				want, wok := ref[k]
				if had != wok || (had && old != want) {
					t.Fatalf("space %d step %d insert %d: got %d,%v want %d,%v", keySpace, i, k, old, had, want, wok)
				}
				if !wok {
					ref[k] = v
				}
			}
			got, ok := tb.get(k)
			want, wok := ref[k]
			if ok != wok || got != want {
				t.Fatalf("space %d step %d key %d: got %d,%v want %d,%v", keySpace, i, k, got, ok, want, wok)
			}
			if tb.len() != len(ref) {
				t.Fatalf("len %d want %d", tb.len(), len(ref))
			}
		}
		for k, v := range ref {
			if got, ok := tb.get(k); !ok || got != v {
				t.Fatalf("final key %d", k)
			}
		}
	}
}

// TestOATableReserve: reserve sizes the table for n keys once, so that
// putting n keys resizes it no more, and keeps what it held.
func TestOATableReserve(t *testing.T) {
	var tb oaTable[uint32, uint32]
	tb.put(7, 70)
	tb.reserve(10_000)
	size := len(tb.slots)
	if size*3 < 10_000*4 {
		t.Fatalf("reserve(10000): %d slots, under the load bound", size)
	}
	for k := uint32(0); k < 10_000; k++ {
		if k != 7 {
			tb.put(k, k*10)
		}
	}
	if len(tb.slots) != size {
		t.Fatalf("table resized from %d to %d slots after reserve", size, len(tb.slots))
	}
	for k := uint32(0); k < 10_000; k++ {
		if v, ok := tb.get(k); !ok || v != k*10 {
			t.Fatalf("key %d: %d,%v", k, v, ok)
		}
	}
	tb.reserve(10) // never shrinks
	if len(tb.slots) != size {
		t.Fatalf("reserve shrank the table")
	}
}

// TestStrIndexPutNew: putNew refuses a name the index holds, whether under
// its hash or in the overflow map, and adds every other name, colliding
// hashes included.
func TestStrIndexPutNew(t *testing.T) {
	var x strIndex
	names := []string{}
	for i := 0; i < 200_000; i++ {
		names = append(names, "n-"+strconv.Itoa(i))
	}
	// Find two names whose 32-bit hashes collide, so the overflow path runs.
	seen := map[uint32]int{}
	collide := -1
	for i, n := range names {
		h := strHash([]byte(n))
		if j, ok := seen[h]; ok {
			collide = i
			names[0], names[j] = names[j], names[0]
			names[1], names[i] = names[i], names[1]
			break
		}
		seen[h] = i
	}
	if collide < 0 {
		t.Fatal("no colliding names among 200,000: widen the search")
	}
	same := func(name string) func(uint32) bool {
		return func(v uint32) bool { return names[v] == name }
	}
	for i, n := range names {
		if !x.putNew(n, uint32(i), same(n)) {
			t.Fatalf("putNew(%q) refused a new name", n)
		}
	}
	if len(x.overflow) == 0 {
		t.Fatal("the colliding names did not reach the overflow map")
	}
	for i, n := range names {
		if x.putNew(n, uint32(len(names)+i), same(n)) {
			t.Fatalf("putNew(%q) took a name the index holds", n)
		}
	}
	for i, n := range names {
		v, ok := x.candidate([]byte(n))
		if !ok || names[v] != n {
			v, ok = x.overflowGet([]byte(n))
		}
		if !ok || v != uint32(i) {
			t.Fatalf("%q: slot %d,%v want %d", n, v, ok, i)
		}
	}
}
