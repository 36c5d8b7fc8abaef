package bench

import (
	"math/bits"
	"time"
)

// Histogram records latencies in microseconds in log-linear buckets, as
// HdrHistogram does: values below 256 µs each have their own bucket; above,
// every power of two is cut into 128 buckets of equal width. A bucket's width
// is then at most 1/128 of the values in it, and a percentile reported as the
// bucket's midpoint is within 1/256 (0.4%) of the exact value. Memory does not
// grow with the number of values recorded.
//
// Buckets are allocated one power of two at a time when first used, so a
// histogram whose values span a few decades stays a few KB: the driver keeps
// one per worker and one per second of the run.
//
// The zero value is an empty histogram. A Histogram is not safe for concurrent use. Each worker records into its
// own; Merge adds them up at the end (and once a second for the timeline),
// which costs less than an atomic add on a shared counter per request.
type Histogram struct {
	segs  [histSegments][]uint64
	count uint64
	sum   float64 // µs, for the mean
	min   int64
	max   int64 // exact, even above HistogramMaxMicros
}

const (
	// HistogramMaxMicros is the largest latency told apart from larger ones:
	// 100 s, well past any request deadline. Larger values are counted in the
	// last bucket; Max still reports them exactly.
	HistogramMaxMicros = 100_000_000

	histSubBits   = 7
	histSub       = 1 << histSubBits    // buckets per power of two above the linear range
	histLinear    = 2 * histSub         // values below this have a bucket each
	histSegments  = 20                  // segment k >= 1 covers [2^(k+7), 2^(k+8)); 2^27 > HistogramMaxMicros
	histRelErrMax = 1.0 / (2 * histSub) // the percentile error bound stated above
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

// bucketOf returns the segment and the index within it of value v (0 <= v <= max).
func bucketOf(v int64) (seg, i int) {
	if v < histLinear {
		return 0, int(v)
	}
	seg = bits.Len64(uint64(v)) - (histSubBits + 1)
	return seg, int(v>>seg) - histSub
}

// bucketRange returns the lowest value of a bucket and its width.
func bucketRange(seg, i int) (lo, width int64) {
	if seg == 0 {
		return int64(i), 1
	}
	return int64(i+histSub) << seg, 1 << seg
}

// Record adds one value in microseconds; negative values count as 0.
func (h *Histogram) Record(us int64) {
	if us < 0 {
		us = 0
	}
	if h.count == 0 || us < h.min {
		h.min = us
	}
	if us > h.max {
		h.max = us
	}
	h.count++
	h.sum += float64(us)
	seg, i := bucketOf(min(us, HistogramMaxMicros))
	s := h.segs[seg]
	if s == nil {
		n := histSub
		if seg == 0 {
			n = histLinear
		}
		s = make([]uint64, n)
		h.segs[seg] = s
	}
	s[i]++
}

// RecordDuration adds one latency.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(d.Microseconds()) }

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	for seg, os := range o.segs {
		if os == nil {
			continue
		}
		if h.segs[seg] == nil {
			h.segs[seg] = make([]uint64, len(os))
		}
		hs := h.segs[seg]
		for i, n := range os {
			hs[i] += n
		}
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.count += o.count
	h.sum += o.sum
}

// Reset empties h, keeping its buckets' memory for reuse.
func (h *Histogram) Reset() {
	for _, s := range h.segs {
		clear(s)
	}
	h.count, h.sum, h.min, h.max = 0, 0, 0, 0
}

// Count returns the number of values recorded.
func (h *Histogram) Count() int64 { return int64(h.count) }

// Min returns the smallest value recorded (0 if none).
func (h *Histogram) Min() int64 {
	if h.count == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest value recorded, exactly.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the values recorded (0 if none).
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / float64(h.count)
}

// Percentile returns the q-quantile (0 <= q <= 1) in microseconds. The rank is
// the peers' (the value at index int(q*n) of the sorted values, the last for
// q = 1), so the two harnesses report the same statistic; the value is the
// midpoint of the bucket holding that rank, kept within [Min, Max].
func (h *Histogram) Percentile(q float64) int64 {
	if h.count == 0 {
		return 0
	}
	rank := min(uint64(q*float64(h.count)), h.count-1) // 0-based
	if rank == h.count-1 {
		return h.max
	}
	topSeg, topI := bucketOf(HistogramMaxMicros)
	var seen uint64
	for seg, s := range h.segs {
		for i, n := range s {
			if seen += n; seen <= rank {
				continue
			}
			lo, width := bucketRange(seg, i)
			v := lo + width/2
			if seg == topSeg && i == topI {
				// The last bucket also holds everything past the range:
				// say "at least the range" rather than a value inside it.
				v = max(v, HistogramMaxMicros)
			}
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// Bucket is one non-empty bucket: Count values in [Lo, Hi) microseconds.
type Bucket struct {
	Lo, Hi int64
	Count  int64
}

// Buckets returns the non-empty buckets in ascending order.
func (h *Histogram) Buckets() []Bucket {
	var out []Bucket
	for seg, s := range h.segs {
		for i, n := range s {
			if n > 0 {
				lo, width := bucketRange(seg, i)
				out = append(out, Bucket{Lo: lo, Hi: lo + width, Count: int64(n)})
			}
		}
	}
	return out
}
