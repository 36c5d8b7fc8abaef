// Proves the server-stage figures (serverstages.go): the stage histograms
// on invd's metrics pages are read into per-stage buckets, sums and counts
// (other series and other labels ignored); the run's stages are the
// difference of two readings, in the order a write passes them, without
// the stages nothing happened in; quantiles interpolate inside the bucket
// where they fall; and a meter over HTTP pages gives Run the stages of the
// measured run, which the table prints.
package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stagePageText is a metrics page of an older invd (VictoriaMetrics
// buckets, no metadata): queued has n observations, half in
// 1–2 ms and half in 2–3 ms (buckets invented for exactness), apply a
// fixed 7, and, with zz, a stage unknown to stageOrder, once, in the open
// top bucket.
func stagePageText(cpu float64, n int, zz bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP something\ngo_goroutines 12\nprocess_cpu_seconds_total %g\n", cpu)
	fmt.Fprintf(&b, "inv_stage_duration_seconds_bucket{stage=\"queued\",vmrange=\"1.000e-03...2.000e-03\"} %d\n", n/2)
	fmt.Fprintf(&b, "inv_stage_duration_seconds_bucket{stage=\"queued\",vmrange=\"2.000e-03...3.000e-03\"} %d\n", n/2)
	fmt.Fprintf(&b, "inv_stage_duration_seconds_sum{stage=\"queued\"} %g\n", 0.002*float64(n))
	fmt.Fprintf(&b, "inv_stage_duration_seconds_count{stage=\"queued\"} %d\n", n)
	b.WriteString("inv_stage_duration_seconds_bucket{stage=\"apply\",vmrange=\"1.000e-04...2.000e-04\"} 7\n")
	b.WriteString("inv_stage_duration_seconds_sum{stage=\"apply\"} 0.001\n")
	b.WriteString("inv_stage_duration_seconds_count{stage=\"apply\"} 7\n")
	if zz {
		b.WriteString("inv_stage_duration_seconds_bucket{stage=\"zz\",vmrange=\"1.000e+00...+Inf\"} 1\n")
		b.WriteString("inv_stage_duration_seconds_sum{stage=\"zz\"} 2\n")
		b.WriteString("inv_stage_duration_seconds_count{stage=\"zz\"} 1\n")
	}
	b.WriteString("inv_request_duration_seconds_count{op=\"reserve\"} 99\n")
	return b.String()
}

// stagePageTextLE is stagePageText as invd writes it: Prometheus buckets,
// cumulative, with HELP and TYPE lines.
func stagePageTextLE(cpu float64, n int, zz bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP go_goroutines Goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 12\n")
	fmt.Fprintf(&b, "# HELP process_cpu_seconds_total CPU.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\n", cpu)
	b.WriteString("# HELP inv_stage_duration_seconds Stages.\n# TYPE inv_stage_duration_seconds histogram\n")
	for _, le := range []string{"0.0001", "0.0002", "0.001", "0.002", "0.003", "1", "+Inf"} {
		queued, apply, z := 0, 0, 0
		switch le {
		case "0.002":
			queued = n / 2
		case "0.003", "1":
			queued = n
		case "+Inf":
			queued, z = n, 1
		}
		if le != "0.0001" {
			apply = 7
		}
		fmt.Fprintf(&b, "inv_stage_duration_seconds_bucket{stage=\"queued\",le=%q} %d\n", le, queued)
		fmt.Fprintf(&b, "inv_stage_duration_seconds_bucket{stage=\"apply\",le=%q} %d\n", le, apply)
		if zz {
			fmt.Fprintf(&b, "inv_stage_duration_seconds_bucket{stage=\"zz\",le=%q} %d\n", le, z)
		}
	}
	fmt.Fprintf(&b, "inv_stage_duration_seconds_sum{stage=\"queued\"} %g\n", 0.002*float64(n))
	fmt.Fprintf(&b, "inv_stage_duration_seconds_count{stage=\"queued\"} %d\n", n)
	b.WriteString("inv_stage_duration_seconds_sum{stage=\"apply\"} 0.001\n")
	b.WriteString("inv_stage_duration_seconds_count{stage=\"apply\"} 7\n")
	if zz {
		b.WriteString("inv_stage_duration_seconds_sum{stage=\"zz\"} 2\n")
		b.WriteString("inv_stage_duration_seconds_count{stage=\"zz\"} 1\n")
	}
	b.WriteString("inv_request_duration_seconds_count{op=\"reserve\"} 99\n")
	return b.String()
}

// The same figures come out of both kinds of buckets: VictoriaMetrics'
// (older servers) and Prometheus's (invd's), where queued's observations
// fall in 1–2 ms and 2–3 ms, apply's in 0.1–0.2 ms, and zz's above 1 s.
func TestStagesBetweenReadings(t *testing.T) {
	for name, page := range map[string]func(float64, int, bool) string{"vmrange": stagePageText, "le": stagePageTextLE} {
		t.Run(name, func(t *testing.T) { testStagesBetweenReadings(t, page) })
	}
}

func testStagesBetweenReadings(t *testing.T, page func(float64, int, bool) string) {
	before, after := stagePage{}, stagePage{}
	if _, err := readMetricsPage(strings.NewReader(page(1, 100, false)), before); err != nil {
		t.Fatal(err)
	}
	if _, err := readMetricsPage(strings.NewReader(page(2, 300, true)), after); err != nil {
		t.Fatal(err)
	}
	if h := after["queued"]; h == nil || h.count != 300 || h.buckets["1.000e-03...2.000e-03"]+h.le["0.002"] != 150 {
		t.Fatalf("queued read as %+v", h)
	}
	got := stagesBetween(before, after)
	// apply saw nothing new; zz, new, follows the known stages.
	if len(got) != 2 || got[0].Stage != "queued" || got[1].Stage != "zz" {
		t.Fatalf("stages %+v, want queued then zz", got)
	}
	q := got[0]
	// 200 new observations: 100 in 1–2 ms, 100 in 2–3 ms.
	if q.Count != 200 || q.Mean != 2*time.Millisecond {
		t.Errorf("queued: %d observations, mean %v; want 200, 2ms", q.Count, q.Mean)
	}
	if q.P50 != 2*time.Millisecond || q.P99 != 2980*time.Microsecond {
		t.Errorf("queued: p50 %v, p99 %v; want 2ms, 2.98ms", q.P50, q.P99)
	}
	if z := got[1]; z.P99 != time.Second {
		t.Errorf("the open top bucket's quantile is its lower bound: %v", z.P99)
	}
	var b strings.Builder
	if err := writeStages(&b, got); err != nil || !strings.Contains(b.String(), "queued") ||
		!strings.Contains(b.String(), "p99 µs") || !strings.Contains(b.String(), "2980") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestRunReportsServerStages(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		fmt.Fprint(w, stagePageTextLE(float64(k), 100*int(k), false))
	}))
	defer srv.Close()
	m, err := NewMetricsCPU(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if m.Stages() != nil {
		t.Error("stages before any reading")
	}
	cfg := quietConfig(FlashHot, 100)
	cfg.CPU = m
	rep := runFake(t, cfg, newFake())
	if n.Load() != 2 || len(rep.ServerStages) != 1 || rep.ServerStages[0].Stage != "queued" ||
		rep.ServerStages[0].Count != 100 {
		t.Fatalf("%d readings, stages %+v; want queued's 100 new observations", n.Load(), rep.ServerStages)
	}
	var b strings.Builder
	rep.WriteTable(&b)
	if !strings.Contains(b.String(), "server stages over the run") {
		t.Errorf("table lacks the stages:\n%s", b.String())
	}
}
