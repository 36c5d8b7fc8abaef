// Proves u64table behaves as a map under random put/get/del churn, including
// clustered keys that exercise backward-shift deletion across wrap-around.
package engine

import (
	"math/rand"
	"slices"
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
				v := rng.Uint64() >> 1
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

// TestStrIndexPutAll: putAll adds every name, colliding hashes included
// (one goes to the overflow map), each found at its slot afterwards, and
// refuses a name the index holds, under its hash or in the overflow, or
// that comes twice in one call.
func TestStrIndexPutAll(t *testing.T) {
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
	entries := func(names []string, from int) []uint64 {
		var e []uint64
		for i := from; i < len(names); i++ {
			e = append(e, uint64(strHash([]byte(names[i])))<<32|uint64(i))
		}
		return e
	}
	name := func(all []string) func(uint32) string { return func(v uint32) string { return all[v] } }

	var x strIndex
	if !x.putAll(entries(names, 0), name(names)) {
		t.Fatal("putAll refused new names")
	}
	if len(x.overflow) == 0 {
		t.Fatal("the colliding names did not reach the overflow map")
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
	// Again, at other slots: each name is refused, the table's and the
	// overflow's.
	for _, k := range []int{0, 1, 7, len(names) - 1} {
		again := append(slices.Clone(names), names[k])
		if x.putAll(entries(again, len(names)), name(again)) {
			t.Fatalf("putAll took %q, which the index holds", names[k])
		}
	}
	// Twice in one call.
	for _, k := range []int{0, 1, 5000} {
		var y strIndex
		twice := append(slices.Clone(names), names[k])
		if y.putAll(entries(twice, 0), name(twice)) {
			t.Fatalf("putAll took %q twice", names[k])
		}
	}
}

// TestHomeOrder: homeOrder returns the same entries, ordered by their
// home slot's bucket, in the same order every time.
func TestHomeOrder(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1000, 300_000} {
		var tb oaTable[uint32, uint32]
		tb.reserve(n)
		in := make([]uint64, n)
		for i := range in {
			in[i] = uint64(strHash([]byte(strconv.Itoa(i))))<<32 | uint64(i)
		}
		out := tb.homeOrder(in)
		if len(out) != n {
			t.Fatalf("n=%d: %d entries back", n, len(out))
		}
		a, b := slices.Clone(in), slices.Clone(out)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("n=%d: not the same entries", n)
		}
		shift := 0
		for len(tb.slots)>>shift > homeOrderBuckets {
			shift++
		}
		for i := 1; i < len(out); i++ {
			if tb.home(uint32(out[i]>>32))>>shift < tb.home(uint32(out[i-1]>>32))>>shift {
				t.Fatalf("n=%d: entry %d out of home order", n, i)
			}
		}
		if !slices.Equal(out, tb.homeOrder(in)) {
			t.Fatalf("n=%d: a second ordering differs", n)
		}
	}
}

// TestOATableGrowsInSteps: a table passing its load bound moves its keys
// into the larger table a few slots a put, never all at once: each put
// moves at most growSteps of the old table's slots, and the old table is
// gone before the next growth would need it. Every key stays findable
// throughout, and each lists exactly the keys held.
func TestOATableGrowsInSteps(t *testing.T) {
	var tb u64table
	ref := map[uint64]uint64{}
	rng := rand.New(rand.NewSource(7))
	growths := 0
	for i := 0; i < 300_000; i++ {
		k := rng.Uint64() % 400_000
		if tb.old != nil && (tb.n+tb.oldN+1)*4 > len(tb.slots)*3 {
			t.Fatalf("step %d: a growth would start with the last one's old table still there", i)
		}
		before, hadOld, size := tb.oldNext, tb.old != nil, len(tb.slots)
		switch rng.Intn(5) {
		case 0:
			tb.del(k)
			delete(ref, k)
		case 1:
			v := uint64(i)
			if old, had := tb.insert(k, v); had != hasKey(ref, k) || (had && old != ref[k]) {
				t.Fatalf("step %d: insert %d: %d,%v want %d", i, k, old, had, ref[k])
			} else if !had {
				ref[k] = v
			}
		default:
			tb.put(k, uint64(i))
			ref[k] = uint64(i)
		}
		if len(tb.slots) != size {
			growths++
			if size >= 64 && tb.old == nil {
				t.Fatalf("step %d: a growth from %d slots moved every key at once", i, size)
			}
		} else if hadOld && tb.old != nil && tb.oldNext-before > growSteps {
			t.Fatalf("step %d: one operation moved %d old slots", i, tb.oldNext-before)
		}
		if v, ok := tb.get(k); ok != hasKey(ref, k) || v != ref[k] {
			t.Fatalf("step %d: key %d: %d,%v want %d,%v", i, k, v, ok, ref[k], hasKey(ref, k))
		}
		if tb.len() != len(ref) {
			t.Fatalf("step %d: len %d want %d", i, tb.len(), len(ref))
		}
		if i%50_000 == 0 || (tb.old != nil && i%997 == 0) {
			seen := 0
			tb.each(func(k, v uint64) {
				if w, ok := ref[k]; !ok || w != v {
					t.Fatalf("step %d: each gives %d=%d, want %d,%v", i, k, v, w, ok)
				}
				seen++
			})
			if seen != len(ref) {
				t.Fatalf("step %d: each gives %d keys, want %d", i, seen, len(ref))
			}
		}
	}
	if growths < 10 {
		t.Fatalf("only %d growths: the test did not exercise them", growths)
	}
	// reserve finishes a growth under way and keeps every key.
	for tb.old == nil {
		k := rng.Uint64()%1_000_000 + 1_000_000
		tb.put(k, 1)
		ref[k] = 1
	}
	tb.reserve(len(ref) * 4)
	if tb.old != nil {
		t.Fatal("reserve left a growth under way")
	}
	for k, v := range ref {
		if got, ok := tb.get(k); !ok || got != v {
			t.Fatalf("after reserve: key %d: %d,%v want %d", k, got, ok, v)
		}
	}
}

func hasKey(m map[uint64]uint64, k uint64) bool { _, ok := m[k]; return ok }
