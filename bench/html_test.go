package bench

// Proves the HTML report is one self-contained, well-formed page with its
// three charts: a report is rendered from synthetic data (thirty seconds of
// replies with a stall in the middle, errors in a few seconds) and parsed
// with encoding/xml in strict mode; the test then walks the elements and
// checks for the charts' titles and drawn lines and bars, the summary and
// the JSON line, and that nothing loads from elsewhere (no script, no link,
// no remote address besides the XML namespaces). Set INV_BENCH_HTML to a
// path to keep the page for a look in a browser.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"
)

func syntheticReport() *Report {
	rng := rand.New(rand.NewSource(3))
	r := syntheticResult()
	r.Elapsed = 30 * time.Second
	for s := range 30 {
		var sec Second
		n := 2000 + rng.Intn(500)
		mean := 400.0
		if s >= 12 && s < 14 {
			n, mean = 300, 40_000 // a stall: few replies, slow ones
		}
		for range n {
			sec.Latency.Record(int64(rng.ExpFloat64() * mean))
		}
		sec.OK = int64(n * 9 / 10)
		sec.Refused = int64(n) - sec.OK
		if s%10 == 7 {
			sec.Errors, sec.Refused = 3, sec.Refused-3
		}
		r.Timeline = append(r.Timeline, sec)
		r.Latency[KindReserve].Merge(&sec.Latency)
	}
	cfg := DefaultConfig()
	w, _ := NewWorkload(FlashSpread, 10)
	rep := newReport(&cfg, w, r, []string{"hold 7 of order 6: state held, acknowledged confirmed"}, nil)
	rep.ErrorsSeen = []string{"read tcp 127.0.0.1:7000: i/o timeout <&>"}
	return rep
}

type htmlStats struct {
	elements  map[string]int
	svgTitles []string
	texts     strings.Builder
	attrs     []string
}

// walkXML parses the page strictly and tallies what it holds.
func walkXML(t *testing.T, page []byte) *htmlStats {
	t.Helper()
	st := &htmlStats{elements: map[string]int{}}
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			st.elements[tk.Name.Local]++
			for _, a := range tk.Attr {
				st.attrs = append(st.attrs, a.Name.Local+"="+a.Value)
			}
			stack = append(stack, tk.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			st.texts.Write(tk)
			if len(stack) >= 2 && stack[len(stack)-1] == "title" && stack[len(stack)-2] == "svg" {
				st.svgTitles = append(st.svgTitles, string(tk))
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	return st
}

func TestHTMLReport(t *testing.T) {
	rep := syntheticReport()
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.Bytes()
	if path := os.Getenv("INV_BENCH_HTML"); path != "" {
		if err := os.WriteFile(path, page, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) {
		t.Error("no doctype")
	}
	st := walkXML(t, page)
	if st.elements["html"] != 1 || st.elements["body"] != 1 || st.elements["svg"] != 3 {
		t.Errorf("elements %v", st.elements)
	}
	for _, want := range []string{"Replies per second", "Latency percentiles per second", "Latency distribution (all requests)"} {
		if !strings.Contains(strings.Join(st.svgTitles, "|"), want) {
			t.Errorf("no chart %q in %q", want, st.svgTitles)
		}
	}
	// Throughput: 3 series + errors; latency: p50, p99, p99.9, max, each
	// broken nowhere (every second has replies); distribution: bars.
	if st.elements["polyline"] < 8 || st.elements["rect"] < 20 {
		t.Errorf("%d polylines, %d rects", st.elements["polyline"], st.elements["rect"])
	}
	text := st.texts.String()
	for _, want := range []string{"flash-spread", "BROKEN", "hold 7 of order 6", "i/o timeout <&>", `"workload":"flash-spread"`, "p99.9"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	// Self-contained: nothing to fetch, nothing to run.
	for _, el := range []string{"script", "link", "img", "iframe", "object"} {
		if st.elements[el] != 0 {
			t.Errorf("page has <%s>", el)
		}
	}
	for _, a := range st.attrs {
		if (strings.Contains(a, "http:") || strings.Contains(a, "https:")) && !strings.HasPrefix(a, "xmlns=") {
			t.Errorf("remote reference %q", a)
		}
	}
}

// An empty run (nothing sent) still renders a well-formed page.
func TestHTMLReportEmpty(t *testing.T) {
	cfg := DefaultConfig()
	w, _ := NewWorkload(FlashHot, 1000)
	r := &Result{}
	for k := range r.Latency {
		r.Latency[k] = NewHistogram()
	}
	var buf bytes.Buffer
	if err := newReport(&cfg, w, r, nil, nil).WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if st := walkXML(t, buf.Bytes()); st.elements["svg"] != 3 {
		t.Errorf("elements %v", st.elements)
	}
	if strings.Contains(buf.String(), "NaN") || strings.Contains(buf.String(), "Inf") {
		t.Error("NaN or Inf in an empty report")
	}
}

// Run writes the page when asked to.
func TestRunWritesHTML(t *testing.T) {
	cfg := quietConfig(FlashHot, 1000)
	cfg.HTML = t.TempDir() + "/report.html"
	runFake(t, cfg, newFake())
	page, err := os.ReadFile(cfg.HTML)
	if err != nil {
		t.Fatal(err)
	}
	if st := walkXML(t, page); st.elements["svg"] != 3 {
		t.Errorf("elements %v", st.elements)
	}
}
