package bench

// Proves the histogram's percentiles are within its stated error of the exact
// ones: values drawn from known distributions (uniform, exponential,
// constant, bimodal, heavy-tailed up to past the 100 s range) are recorded
// and also kept in a sorted array, and every percentile the reports use must
// lie within 1/256 of the exact value at the same rank (the peers' rank,
// index int(q*n)). Also that merging per-worker histograms equals recording
// everything into one, and that Reset and the bucket listing hold up.

import (
	"math"
	"math/rand"
	"slices"
	"testing"
)

var reportQuantiles = []float64{0, 0.5, 0.9, 0.99, 0.999, 1}

// exactPercentile is the peers' percentile over a sorted array.
func exactPercentile(sorted []int64, q float64) int64 {
	i := min(int(q*float64(len(sorted))), len(sorted)-1)
	return sorted[i]
}

func checkPercentiles(t *testing.T, name string, vals []int64) {
	t.Helper()
	h := NewHistogram()
	for _, v := range vals {
		h.Record(v)
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	if h.Count() != int64(len(vals)) || h.Max() != sorted[len(sorted)-1] || h.Min() != sorted[0] {
		t.Errorf("%s: count %d min %d max %d, want %d %d %d", name, h.Count(), h.Min(), h.Max(),
			len(vals), sorted[0], sorted[len(sorted)-1])
	}
	for _, q := range reportQuantiles {
		got, want := h.Percentile(q), exactPercentile(sorted, q)
		if want > HistogramMaxMicros {
			// Past the range only Max is exact; the percentile says "at least 100 s".
			if got < HistogramMaxMicros {
				t.Errorf("%s q=%v: %d, want >= %d", name, q, got, int64(HistogramMaxMicros))
			}
			continue
		}
		if err := math.Abs(float64(got-want)) / math.Max(float64(want), 1); err > histRelErrMax {
			t.Errorf("%s q=%v: %d, exact %d, error %.4f > %.4f", name, q, got, want, err, histRelErrMax)
		}
	}
}

func TestHistogramKnownDistributions(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const n = 200_000
	gen := func(f func() int64) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = f()
		}
		return v
	}
	checkPercentiles(t, "uniform 0..1s", gen(func() int64 { return rng.Int63n(1_000_000) }))
	checkPercentiles(t, "uniform 0..300µs", gen(func() int64 { return rng.Int63n(300) }))
	checkPercentiles(t, "exponential mean 800µs", gen(func() int64 { return int64(rng.ExpFloat64() * 800) }))
	checkPercentiles(t, "constant 4711µs", gen(func() int64 { return 4711 }))
	checkPercentiles(t, "bimodal 200µs / 50ms", gen(func() int64 {
		if rng.Intn(100) < 97 {
			return 200 + rng.Int63n(50)
		}
		return 50_000 + rng.Int63n(5_000)
	}))
	checkPercentiles(t, "log-uniform 1µs..200s", gen(func() int64 {
		return int64(math.Pow(10, rng.Float64()*math.Log10(2e8)))
	}))
	checkPercentiles(t, "one value", []int64{123_456})
}

// Every value of the range lands in a bucket whose width keeps the error bound.
func TestHistogramBucketBounds(t *testing.T) {
	for v := int64(0); v <= HistogramMaxMicros; v = v + 1 + v/97 {
		seg, i := bucketOf(v)
		lo, width := bucketRange(seg, i)
		if v < lo || v >= lo+width {
			t.Fatalf("value %d in bucket [%d, %d)", v, lo, lo+width)
		}
		if mid := lo + width/2; math.Abs(float64(mid-v)) > float64(v)*histRelErrMax {
			t.Fatalf("value %d: midpoint %d too far", v, mid)
		}
	}
	if seg, _ := bucketOf(HistogramMaxMicros); seg >= histSegments {
		t.Fatalf("max value in segment %d of %d", seg, histSegments)
	}
}

// Per-worker histograms merged at the end give what one shared one would.
func TestHistogramMerge(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	all := NewHistogram()
	parts := make([]Histogram, 8) // zero values are ready to use
	for i := 0; i < 100_000; i++ {
		v := int64(rng.ExpFloat64() * 2000)
		all.Record(v)
		parts[i%len(parts)].Record(v)
	}
	merged := NewHistogram()
	merged.Merge(NewHistogram()) // an empty one changes nothing
	for i := range parts {
		merged.Merge(&parts[i])
	}
	if merged.Count() != all.Count() || merged.Min() != all.Min() || merged.Max() != all.Max() ||
		math.Abs(merged.Mean()-all.Mean()) > 1e-6*all.Mean() {
		t.Fatalf("merged count/min/max/mean differ")
	}
	for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 0.9999} {
		if merged.Percentile(q) != all.Percentile(q) {
			t.Errorf("q=%v: merged %d, single %d", q, merged.Percentile(q), all.Percentile(q))
		}
	}
	if !slices.Equal(merged.Buckets(), all.Buckets()) {
		t.Error("bucket lists differ")
	}
}

func TestHistogramResetAndEdges(t *testing.T) {
	h := NewHistogram()
	if h.Percentile(0.5) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Error("empty histogram not all zero")
	}
	h.Record(-5) // a clock step backwards counts as 0
	h.Record(3 * HistogramMaxMicros)
	if h.Min() != 0 || h.Max() != 3*HistogramMaxMicros || h.Percentile(1) != 3*HistogramMaxMicros {
		t.Errorf("min %d max %d p100 %d", h.Min(), h.Max(), h.Percentile(1))
	}
	h.Reset()
	h.Record(10)
	if h.Count() != 1 || h.Min() != 10 || h.Max() != 10 || h.Percentile(0.5) != 10 {
		t.Errorf("after reset: count %d min %d max %d", h.Count(), h.Min(), h.Max())
	}
	var total int64
	for _, b := range h.Buckets() {
		total += b.Count
	}
	if total != 1 {
		t.Errorf("buckets hold %d values", total)
	}
}
