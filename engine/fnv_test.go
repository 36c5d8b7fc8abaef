package engine

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// fnvU64Bytes is fnvU64's definition: FNV-1a over v's little-endian bytes.
func fnvU64Bytes(h, v uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return fnv64(h, b[:])
}

// TestFnvU64MatchesItsBytes: fnvU64 skips the zero bytes above a value's
// highest set one; it must still give FNV-1a of all eight bytes, since
// fingerprints are kept in idempotency records and snapshots.
func TestFnvU64MatchesItsBytes(t *testing.T) {
	vals := []uint64{0, 1, 0xff, 0x100, 0x1_0000_0001, 1 << 56, 0xff << 56, math.MaxUint64, uint64(1<<63 - 1)}
	for i := range 64 {
		vals = append(vals, 1<<i, 1<<i-1)
	}
	for _, v := range []int64{-1, -2, -1 << 40, math.MinInt64} {
		vals = append(vals, uint64(v))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		v := rng.Uint64() >> (rng.IntN(8) * 8)
		if rng.IntN(2) == 0 {
			v &^= 0xff << (rng.IntN(8) * 8) // a zero byte somewhere inside
		}
		vals = append(vals, v)
	}
	for _, h := range []uint64{fnvOffset, 0, 1, rng.Uint64()} {
		for _, v := range vals {
			if got, want := fnvU64(h, v), fnvU64Bytes(h, v); got != want {
				t.Fatalf("fnvU64(%#x, %#x) = %#x, want %#x", h, v, got, want)
			}
		}
	}
}

// TestFingerprintStaysPut pins two fingerprints: a retry after an upgrade
// must find its record the same request.
func TestFingerprintStaysPut(t *testing.T) {
	for _, tc := range []struct {
		c    Command
		want uint64
	}{
		{Command{Op: OpReserve, SKU: []byte("sku-1"), Store: []byte("st-7"), Customer: []byte("c-42"), Qty: 2,
			Window: 1700000000, TTL: 600, Key: []byte("k")}, 0x14e3f7323d504e2a},
		{Command{Op: OpPutItems, Items: []ItemPut{{SKU: []byte("a"), Store: []byte("b"), Set: ItemSetAll, Stock: 50,
			OpensAt: -1, ClosesAt: 1 << 40}}}, 0x340459925d67bc9d},
	} {
		if got := Fingerprint(&tc.c); got != tc.want {
			t.Errorf("Fingerprint(%v) = %#x, want %#x", tc.c.Op, got, tc.want)
		}
	}
}

func BenchmarkFingerprint(b *testing.B) {
	c := Command{Op: OpReserve, SKU: []byte("sku-0000042"), Store: []byte("st-00017"), Customer: []byte("cust-0012345"),
		Qty: 1, Key: []byte("0123456789abcdef0123456789abcdef")}
	var sink uint64
	for b.Loop() {
		sink += Fingerprint(&c)
	}
	_ = sink
}
