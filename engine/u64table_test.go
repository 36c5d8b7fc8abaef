// Proves u64table behaves as a map under random put/get/del churn, including
// clustered keys that exercise backward-shift deletion across wrap-around.
package engine

import (
	"math/rand"
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
			switch rng.Intn(3) {
			case 0:
				v := rng.Uint64()
				tb.put(k, v)
				ref[k] = v
			case 1:
				tb.del(k)
				delete(ref, k)
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
