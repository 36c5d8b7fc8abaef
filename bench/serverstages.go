package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The server's own account of where a request's time went: invd's
// inv_stage_duration_seconds{stage} histograms (docs/OPERATIONS.md, "Where
// the time goes"), read from its metrics pages with the CPU counter
// (MetricsCPU) before the first order and after the last reply. Their
// difference is the run's: observations, mean and quantiles per stage.

// StageStats is one stage of the servers' write path over a run.
type StageStats struct {
	Stage string
	Count uint64
	Mean  time.Duration
	P50   time.Duration
	P99   time.Duration
}

// StageMeter is what a CPUMeter may also offer: the stages of the run
// between its first and its last reading. Run asks it after the run.
type StageMeter interface {
	Stages() []StageStats
}

// stageMetric is the histogram the stages are read from.
const stageMetric = "inv_stage_duration_seconds"

// stageOrder lists the stages in the order a write passes them; any other
// stage a server reports follows, by name.
var stageOrder = []string{"queued", "inflight_wait", "commit", "log_write", "apply", "reply_write",
	"coordinator", "coordinator_peek", "coordinator_claim", "coordinator_hold", "coordinator_resolve"}

// stageHist is one stage's histogram as read from pages: Prometheus
// buckets (le "hi" → observations at or below hi, cumulative), or the
// VictoriaMetrics buckets of older servers (vmrange "lo...hi" → count),
// sum and count.
type stageHist struct {
	le      map[string]float64
	buckets map[string]float64
	sum     float64
	count   float64
}

// stagePage is every stage's histogram of one reading (summed over the
// servers' pages).
type stagePage map[string]*stageHist

// add reads one line of a metrics page into p, if it is a stage series.
func (p stagePage) add(name, value string) {
	if !strings.HasPrefix(name, stageMetric+"_") {
		return
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return
	}
	series, labels, _ := strings.Cut(name[len(stageMetric)+1:], "{")
	stage, vmrange, le := labelValue(labels, "stage"), labelValue(labels, "vmrange"), labelValue(labels, "le")
	if stage == "" {
		return
	}
	h := p[stage]
	if h == nil {
		h = &stageHist{le: map[string]float64{}, buckets: map[string]float64{}}
		p[stage] = h
	}
	switch {
	case series == "bucket" && le != "":
		h.le[le] += v
	case series == "bucket" && vmrange != "":
		h.buckets[vmrange] += v
	case series == "sum":
		h.sum += v
	case series == "count":
		h.count += v
	}
}

// labelValue returns the value of label in `a="x",b="y"}`, "" if absent.
func labelValue(labels, label string) string {
	i := strings.Index(labels, label+`="`)
	if i < 0 || (i > 0 && labels[i-1] != ',') {
		return ""
	}
	rest := labels[i+len(label)+2:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// stagesBetween returns the stages observed between two readings, in
// stageOrder, leaving out those with no observation in between.
func stagesBetween(before, after stagePage) []StageStats {
	names := make([]string, 0, len(after))
	for name := range after {
		if !slices.Contains(stageOrder, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	names = append(slices.Clone(stageOrder), names...)
	var out []StageStats
	for _, name := range names {
		a := after[name]
		if a == nil {
			continue
		}
		b := before[name]
		if b == nil {
			b = &stageHist{}
		}
		n := a.count - b.count
		if n <= 0 {
			continue
		}
		diff := map[string]float64{}
		for r, c := range a.buckets {
			if d := c - b.buckets[r]; d > 0 {
				diff[r] = d
			}
		}
		cum := map[string]float64{}
		for le, c := range a.le {
			cum[le] = c - b.le[le]
		}
		for r, d := range leRanges(cum) {
			diff[r] += d
		}
		out = append(out, StageStats{Stage: name, Count: uint64(n), Mean: seconds((a.sum - b.sum) / n),
			P50: seconds(bucketQuantile(diff, 0.5)), P99: seconds(bucketQuantile(diff, 0.99))})
	}
	return out
}

// leRanges turns cumulative Prometheus buckets (le → observations at or
// below it) into ranges "lo...hi" → observations in (lo, hi], the first
// from 0: the form bucketQuantile reads.
func leRanges(cum map[string]float64) map[string]float64 {
	type bound struct{ le, n float64 }
	var bs []bound
	for le, n := range cum {
		v, err := strconv.ParseFloat(le, 64)
		if err == nil {
			bs = append(bs, bound{v, n})
		}
	}
	slices.SortFunc(bs, func(a, b bound) int { return cmp.Compare(a.le, b.le) })
	out := map[string]float64{}
	lo, below := 0.0, 0.0
	for _, b := range bs {
		if n := b.n - below; n > 0 {
			out[strconv.FormatFloat(lo, 'g', -1, 64)+"..."+strconv.FormatFloat(b.le, 'g', -1, 64)] = n
		}
		lo, below = b.le, max(below, b.n)
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// bucketQuantile estimates the q-quantile of buckets "lo...hi" → count,
// interpolating linearly inside the bucket where it falls, as Prometheus's
// histogram_quantile does (invd's stage buckets are at most 1.5 times as
// wide as their lower bound; VictoriaMetrics buckets about 12 %); in the
// open top bucket it is the bucket's lower bound.
func bucketQuantile(buckets map[string]float64, q float64) float64 {
	type bucket struct{ lo, hi, n float64 }
	var bs []bucket
	var total float64
	for r, n := range buckets {
		los, his, ok := strings.Cut(r, "...")
		lo, err1 := strconv.ParseFloat(los, 64)
		hi, err2 := strconv.ParseFloat(his, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		if math.IsInf(hi, 1) {
			hi = lo
		}
		bs = append(bs, bucket{lo, hi, n})
		total += n
	}
	if total == 0 {
		return 0
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.lo, b.lo) })
	want := q * total
	var seen float64
	for _, b := range bs {
		if seen+b.n >= want {
			return b.lo + (b.hi-b.lo)*(want-seen)/b.n
		}
		seen += b.n
	}
	return bs[len(bs)-1].hi
}

// writeStages writes the stages as a table (nothing when there are none).
func writeStages(w io.Writer, stages []StageStats) error {
	if len(stages) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nserver stages over the run (%s; docs/OPERATIONS.md, Where the time goes):\n", stageMetric)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "stage\tcount\tmean µs\tp50 µs\tp99 µs\t\n")
	for _, s := range stages {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", s.Stage, s.Count, s.Mean.Microseconds(), s.P50.Microseconds(), s.P99.Microseconds())
	}
	return tw.Flush()
}
