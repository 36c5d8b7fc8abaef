package bench

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Inline SVG charts for the HTML report: line charts over time and a bar chart
// of the latency distribution, on linear or log axes. The page must open with
// no network and no scripts, so the charts are drawn here, as plain SVG
// elements, and are well-formed XML.

type point struct{ x, y float64 }

type series struct {
	name, color string
	points      []point // a NaN y leaves a gap (a second without replies)
}

type bar struct{ x0, x1, y float64 }

type marker struct {
	x     float64
	label string
}

type chart struct {
	title, xLabel, yLabel string
	logX, logY            bool
	series                []series
	bars                  []bar
	barColor              string
	markers               []marker
	xTick, yTick          func(float64) string // tick labels; nil = tickLabel
}

// Size of every chart, in SVG units (the page scales it to its width).
const (
	chartW, chartH                 = 900, 320
	padL, padR, padT, padB         = 70, 20, 30, 45
	plotW, plotH                   = chartW - padL - padR, chartH - padT - padB
	chartFont                      = `font-family="sans-serif" font-size="12"`
	chartTicksMax                  = 8
	chartColorGrid, chartColorText = "#ddd", "#333"
)

// axis maps data values to one side of the plot, linear or log10.
type axis struct {
	lo, hi float64 // in axis space (log10 of the value on a log axis)
	log    bool
	px     float64 // length in SVG units
	flip   bool    // y grows upwards
}

func newAxis(lo, hi float64, log bool, px float64, flip bool) axis {
	if log {
		lo, hi = math.Log10(max(lo, 1)), math.Log10(max(hi, 1))
		lo, hi = math.Floor(lo), math.Ceil(hi)
	}
	if hi <= lo {
		hi = lo + 1
	}
	return axis{lo: lo, hi: hi, log: log, px: px, flip: flip}
}

func (a axis) pos(v float64) float64 {
	if a.log {
		v = math.Log10(max(v, 1))
	}
	f := (v - a.lo) / (a.hi - a.lo)
	if a.flip {
		f = 1 - f
	}
	return f * a.px
}

// ticks returns tick values: powers of ten on a log axis, 1-2-5 steps otherwise.
func (a axis) ticks() []float64 {
	var out []float64
	if a.log {
		for e := a.lo; e <= a.hi; e++ {
			out = append(out, math.Pow(10, e))
		}
		return out
	}
	raw := (a.hi - a.lo) / chartTicksMax
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step/1e6; v += step {
		out = append(out, v)
	}
	return out
}

// dataRange returns the extent of everything drawn.
func (c *chart) dataRange() (x0, x1, y1 float64) {
	x0, x1 = math.Inf(1), math.Inf(-1)
	see := func(x, y float64) {
		x0, x1 = min(x0, x), max(x1, x)
		if !math.IsNaN(y) {
			y1 = max(y1, y)
		}
	}
	for _, s := range c.series {
		for _, p := range s.points {
			see(p.x, p.y)
		}
	}
	for _, b := range c.bars {
		see(b.x0, b.y)
		see(b.x1, b.y)
	}
	for _, m := range c.markers {
		see(m.x, math.NaN())
	}
	if x0 > x1 {
		x0, x1 = 0, 1
	}
	return x0, x1, y1
}

// svg renders the chart as one <svg> element.
func (c *chart) svg() string {
	x0, x1, y1 := c.dataRange()
	ylo := 0.0
	if c.logY {
		ylo = 1
	}
	xa := newAxis(x0, x1, c.logX, plotW, false)
	ya := newAxis(ylo, max(y1*1.05, 1), c.logY, plotH, true)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" %s>`, chartW, chartH, chartFont)
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<text x="%d" y="18" font-weight="bold">%s</text>`, padL, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<g transform="translate(%d,%d)">`, padL, padT)
	c.grid(&b, xa, ya)
	for _, br := range c.bars {
		xl, xr := xa.pos(br.x0), xa.pos(br.x1)
		yt := ya.pos(br.y)
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`,
			f1(xl), f1(yt), f1(max(xr-xl-0.5, 0.5)), f1(plotH-yt), c.barColor)
	}
	for _, s := range c.series {
		c.line(&b, s, xa, ya)
	}
	for i, m := range c.markers {
		x := xa.pos(m.x)
		fmt.Fprintf(&b, `<line x1="%s" y1="0" x2="%s" y2="%d" stroke="#c00" stroke-dasharray="4 3"/>`, f1(x), f1(x), plotH)
		fmt.Fprintf(&b, `<text x="%s" y="%d" fill="#c00">%s</text>`, f1(x+3), 12+14*i, html.EscapeString(m.label))
	}
	c.legend(&b)
	b.WriteString(`</g></svg>`)
	return b.String()
}

func (c *chart) grid(b *strings.Builder, xa, ya axis) {
	xTick, yTick := c.xTick, c.yTick
	if xTick == nil {
		xTick = tickLabel
	}
	if yTick == nil {
		yTick = tickLabel
	}
	fmt.Fprintf(b, `<rect x="0" y="0" width="%d" height="%d" fill="none" stroke="#999"/>`, plotW, plotH)
	for _, v := range ya.ticks() {
		y := ya.pos(v)
		fmt.Fprintf(b, `<line x1="0" y1="%s" x2="%d" y2="%s" stroke="%s"/>`, f1(y), plotW, f1(y), chartColorGrid)
		fmt.Fprintf(b, `<text x="-6" y="%s" text-anchor="end" fill="%s">%s</text>`, f1(y+4), chartColorText, yTick(v))
	}
	for _, v := range xa.ticks() {
		x := xa.pos(v)
		fmt.Fprintf(b, `<line x1="%s" y1="0" x2="%s" y2="%d" stroke="%s"/>`, f1(x), f1(x), plotH, chartColorGrid)
		fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="middle" fill="%s">%s</text>`, f1(x), plotH+16, chartColorText, xTick(v))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, plotW/2, plotH+36, html.EscapeString(c.xLabel))
	fmt.Fprintf(b, `<text transform="translate(-55,%d) rotate(-90)" text-anchor="middle">%s</text>`, plotH/2, html.EscapeString(c.yLabel))
}

// line draws one series as polylines, broken where y is NaN.
func (c *chart) line(b *strings.Builder, s series, xa, ya axis) {
	var pts []string
	flush := func() {
		if len(pts) == 1 {
			xy := strings.Split(pts[0], ",")
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="2" fill="%s"/>`, xy[0], xy[1], s.color)
		} else if len(pts) > 1 {
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, s.color, strings.Join(pts, " "))
		}
		pts = pts[:0]
	}
	for _, p := range s.points {
		if math.IsNaN(p.y) {
			flush()
			continue
		}
		pts = append(pts, f1(xa.pos(p.x))+","+f1(ya.pos(p.y)))
	}
	flush()
}

func (c *chart) legend(b *strings.Builder) {
	x := float64(plotW - 10)
	for i := len(c.series) - 1; i >= 0; i-- {
		s := c.series[i]
		w := float64(7*len(s.name) + 22)
		x -= w
		fmt.Fprintf(b, `<rect x="%s" y="-14" width="12" height="4" fill="%s"/>`, f1(x), s.color)
		fmt.Fprintf(b, `<text x="%s" y="-8" fill="%s">%s</text>`, f1(x+15), chartColorText, html.EscapeString(s.name))
	}
}

// tickLabel prints a tick compactly: 1500 -> 1.5k, 2000000 -> 2M.
func tickLabel(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// microsLabel prints a latency given in microseconds in the unit that reads best.
func microsLabel(us float64) string {
	switch {
	case us >= 1e6:
		return strconv.FormatFloat(us/1e6, 'g', 4, 64) + "s"
	case us >= 1e3:
		return strconv.FormatFloat(us/1e3, 'g', 4, 64) + "ms"
	}
	return strconv.FormatFloat(us, 'g', 4, 64) + "µs"
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
