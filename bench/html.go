package bench

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
)

// The HTML report: one self-contained page (inline CSS and SVG, no script, no
// network) that can be mailed or attached to a pull request and opened years
// later. It shows the summary table, throughput over time, latency
// percentiles over time, the latency distribution and the invariant. The page
// is well-formed XML as well as HTML, which lets a test parse it.

const htmlStyle = `body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.ok{color:#070}.bad{color:#b00;font-weight:bold}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap;word-break:break-all}
svg{border:1px solid #eee;margin:.5em 0}`

// Chart colors, one per line; chosen to stay apart for common color blindness.
const (
	colorTotal   = "#333333"
	colorOK      = "#1b9e77"
	colorRefused = "#7570b3"
	colorErrors  = "#d95f02"
	colorP50     = "#1b9e77"
	colorP99     = "#7570b3"
	colorP999    = "#e7298a"
	colorMax     = "#d95f02"
	colorBars    = "#4a7ab5"

	distBinsPerDecade = 20 // bars of the distribution: 12% wide each, finer than the eye needs

	// partialSecondMin is the shortest last second whose rate is drawn:
	// below it a handful of replies would read as a spike or a collapse.
	partialSecondMin = 0.2
)

// WriteHTML writes the report as one HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	esc := html.EscapeString
	title := fmt.Sprintf("%s %s, scale %d, %d x %d", r.Target, r.Workload, r.Scale, r.Conns, r.Inflight)
	p("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
	p("<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(title), htmlStyle)
	p("<h1>%s</h1>\n", esc(title))
	mode := "closed loop"
	if r.Rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f orders/s (latency from each order's due time)", r.Rate)
	}
	p("<p>%s. Elapsed %.2f s, %d of %d orders, complete: %v. <b>%.0f ops/s</b> (successful + refused requests per second).</p>\n",
		esc(mode), r.Elapsed.Seconds(), r.Orders, r.OrdersAll, r.Complete, r.OpsPerSec)
	cls := "ok"
	if r.Invariant != InvariantOK {
		cls = "bad"
	}
	p("<p>Invariant: <span class=\"%s\">%s</span></p>\n", cls, esc(r.Invariant))
	if len(r.Problems) > 0 {
		p("<ul>\n")
		for _, s := range r.Problems {
			p("<li>%s</li>\n", esc(s))
		}
		p("</ul>\n")
	}
	r.htmlTable(p)
	p("<h2>Throughput</h2>\n%s\n", r.throughputChart().svg())
	p("<h2>Latency over time</h2>\n%s\n", r.latencyTimeChart().svg())
	p("<h2>Latency distribution</h2>\n%s\n", r.distributionChart().svg())
	p("<p>Latency of every request; bucket widths under 1%% of their values. Per-second figures are by the time replies came; the last, partial second is scaled to a rate.</p>\n")
	if len(r.ErrorsSeen) > 0 {
		p("<h2>First errors</h2>\n<ul>\n")
		for _, e := range r.ErrorsSeen {
			p("<li>%s</li>\n", esc(e))
		}
		p("</ul>\n")
	}
	p("<h2>JSON</h2>\n<pre>%s</pre>\n</body>\n</html>\n", esc(string(r.JSON())))
	return bw.Flush()
}

// htmlTable writes outcomes and latency per kind of request.
func (r *Report) htmlTable(p func(string, ...any)) {
	p("<table>\n<tr><th>request</th>")
	for o := range nOutcomes {
		p("<th>%s</th>", o)
	}
	p("<th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n")
	row := func(name string, counts [nOutcomes]int64, h *Histogram) {
		p("<tr><td>%s</td>", name)
		for _, n := range counts {
			p("<td>%d</td>", n)
		}
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			p("<td>%s</td>", html.EscapeString(microsLabel(float64(h.Percentile(q)))))
		}
		p("<td>%s</td></tr>\n", html.EscapeString(microsLabel(float64(h.Max()))))
	}
	var all [nOutcomes]int64
	for k := range nKinds {
		if r.ByKind[k] == nil || r.ByKind[k].Count() == 0 {
			continue
		}
		row(k.String(), r.Counts[k], r.ByKind[k])
		for o := range all {
			all[o] += r.Counts[k][o]
		}
	}
	row("all", all, r.Latency)
	p("</table>\n")
}

func (r *Report) throughputChart() *chart {
	total := series{name: "replies/s", color: colorTotal}
	ok := series{name: "ok/s", color: colorOK}
	refused := series{name: "refused/s", color: colorRefused}
	errs := series{name: "errors/s", color: colorErrors}
	anyErrors := false
	for i := range r.Timeline {
		s := &r.Timeline[i]
		x, span := r.secondSpan(i)
		if span < partialSecondMin {
			continue // a sliver of a second: its rate would be noise
		}
		total.points = append(total.points, point{x, float64(s.Requests()) / span})
		ok.points = append(ok.points, point{x, float64(s.OK) / span})
		refused.points = append(refused.points, point{x, float64(s.Refused) / span})
		errs.points = append(errs.points, point{x, float64(s.Errors) / span})
		anyErrors = anyErrors || s.Errors > 0
	}
	c := &chart{title: "Replies per second", xLabel: "seconds since start", yLabel: "replies per second",
		series: []series{total, ok, refused}}
	if anyErrors {
		c.series = append(c.series, errs)
	}
	return c
}

// secondSpan returns where second i of the timeline ends and how much of it
// the run covered: all of it but for the last, which ends with the run.
func (r *Report) secondSpan(i int) (end, span float64) {
	end = min(float64(i+1), r.Elapsed.Seconds())
	if i < len(r.Timeline)-1 || end <= float64(i) {
		return float64(i + 1), 1 // also a timeline longer than the run says: a synthetic one
	}
	return end, end - float64(i)
}

func (r *Report) latencyTimeChart() *chart {
	qs := []struct {
		name, color string
		q           float64
	}{{"p50", colorP50, 0.5}, {"p99", colorP99, 0.99}, {"p99.9", colorP999, 0.999}, {"max", colorMax, 1}}
	c := &chart{title: "Latency percentiles per second", xLabel: "seconds since start", yLabel: "latency",
		logY: true, yTick: microsLabel}
	for _, q := range qs {
		s := series{name: q.name, color: q.color}
		for i := range r.Timeline {
			h := &r.Timeline[i].Latency
			y := math.NaN()
			if h.Count() > 0 {
				y = float64(h.Percentile(q.q))
			}
			x, _ := r.secondSpan(i)
			s.points = append(s.points, point{x, y})
		}
		c.series = append(c.series, s)
	}
	return c
}

// distributionChart draws the share of requests per latency band, on a log
// latency axis, with the headline percentiles marked.
func (r *Report) distributionChart() *chart {
	c := &chart{title: "Latency distribution (all requests)", xLabel: "latency", yLabel: "% of requests",
		logX: true, xTick: microsLabel, barColor: colorBars}
	n := float64(r.Latency.Count())
	if n == 0 {
		return c
	}
	share := map[int]float64{}
	lo, hi := math.MaxInt, math.MinInt
	for _, b := range r.Latency.Buckets() {
		mid := float64(b.Lo+b.Hi-1) / 2
		bin := int(math.Floor(math.Log10(max(mid, 1)) * distBinsPerDecade))
		share[bin] += 100 * float64(b.Count) / n
		lo, hi = min(lo, bin), max(hi, bin)
	}
	for bin := lo; bin <= hi; bin++ {
		if v := share[bin]; v > 0 {
			c.bars = append(c.bars, bar{
				x0: math.Pow(10, float64(bin)/distBinsPerDecade),
				x1: math.Pow(10, float64(bin+1)/distBinsPerDecade), y: v})
		}
	}
	for _, m := range []struct {
		label string
		q     float64
	}{{"p50", 0.5}, {"p99", 0.99}, {"p99.9", 0.999}, {"max", 1}} {
		v := r.Latency.Percentile(m.q)
		c.markers = append(c.markers, marker{x: float64(max(v, 1)), label: m.label + " " + microsLabel(float64(v))})
	}
	return c
}
