// Proves the server-CPU figure: ProcessCPUSeconds finds the counter on a
// Prometheus page (and says so when it is missing or malformed), a meter
// over an HTTP page reads it, and Run reports the difference between the
// readings taken around the measured run, divided by the requests.
package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestProcessCPUSeconds(t *testing.T) {
	page := "# HELP go_goroutines x\ngo_goroutines 12\nprocess_cpu_seconds_total_other 9\nprocess_cpu_seconds_total 3.25\nprocess_resident_memory_bytes 1e+06\n"
	if v, err := ProcessCPUSeconds(strings.NewReader(page)); err != nil || v != 3.25 {
		t.Fatalf("got %v, %v; want 3.25", v, err)
	}
	if _, err := ProcessCPUSeconds(strings.NewReader("go_goroutines 12\n")); err == nil {
		t.Fatal("a page without the counter must be an error")
	}
	if _, err := ProcessCPUSeconds(strings.NewReader("process_cpu_seconds_total x\n")); err == nil {
		t.Fatal("a malformed value must be an error")
	}
}

// steppingMeter returns 10 s, then 10 s + step, ...
type steppingMeter struct {
	step  float64
	calls atomic.Int32
}

func (m *steppingMeter) ServerCPUSeconds(context.Context) (float64, error) {
	return 10 + m.step*float64(m.calls.Add(1)-1), nil
}

func TestRunReportsServerCPU(t *testing.T) {
	cfg := quietConfig(FlashHot, 100)
	m := &steppingMeter{step: 0.5}
	cfg.CPU = m
	rep := runFake(t, cfg, newFake())
	us, ok := rep.CPUPerRequest()
	if !ok || m.calls.Load() != 2 {
		t.Fatalf("CPU measured %v after %d readings", ok, m.calls.Load())
	}
	if want := 0.5e6 / float64(rep.Requests); us != want {
		t.Errorf("%.3f µs per request, want %.3f", us, want)
	}
	if js := string(rep.JSON()); !strings.Contains(js, `"server_cpu_s":0.5`) ||
		!strings.Contains(js, fmt.Sprintf(`"server_cpu_us_per_req":%g`, round2(us))) {
		t.Errorf("JSON line lacks the CPU figures: %s", js)
	}
	var b strings.Builder
	rep.WriteTable(&b)
	if !strings.Contains(b.String(), "µs per request") {
		t.Errorf("table lacks the CPU line:\n%s", b.String())
	}
	// Without a meter, nothing is claimed.
	rep = runFake(t, quietConfig(FlashHot, 100), newFake())
	if _, ok := rep.CPUPerRequest(); ok || strings.Contains(string(rep.JSON()), "server_cpu") {
		t.Errorf("CPU reported without a meter: %s", rep.JSON())
	}
}

func TestMetricsCPUOverHTTP(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "process_cpu_seconds_total %d\n", n.Add(1))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	m, err := NewMetricsCPU(host + ", " + srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := m.ServerCPUSeconds(context.Background()); err != nil || v != 1+2 {
		t.Fatalf("sum over two pages: %v, %v; want 3", v, err)
	}
	bad, _ := NewMetricsCPU(srv.URL + "/nothing")
	if _, err := bad.ServerCPUSeconds(context.Background()); err == nil {
		t.Error("a 404 must be an error")
	}
	if _, err := NewMetricsCPU(" , "); err == nil {
		t.Error("an empty list must be an error")
	}
}
