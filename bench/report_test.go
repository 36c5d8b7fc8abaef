package bench

// Proves the report prints what WORKLOAD.md and the peers define: the JSON
// line has exactly WORKLOAD.md's fields, in its order, then the peers' extras
// for the workload at hand and no others (compared key by key, and once as
// the whole line for WORKLOAD.md's own example figures); the figures follow
// the peers' definitions (successes count every successful request, ops/s
// counts successes and refusals); the table has a row per kind of request.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var workloadMDFields = []string{"workload", "target", "conns", "inflight", "scale", "requests", "successes",
	"refused", "errors", "elapsed_s", "ops_per_s", "p50_us", "p99_us", "p999_us", "invariant"}

// jsonKeys returns the keys of a JSON object in the order they appear.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// syntheticResult is a flash-spread-like run: 100 orders, 90 reserved, of
// which 80 confirmed, 9 cancelled, 1 confirm lost.
func syntheticResult() *Result {
	r := &Result{Elapsed: 2 * time.Second, SellOut: 1500 * time.Millisecond, Complete: true}
	r.Counts[KindReserve][OutcomeOK] = 90
	r.Counts[KindReserve][OutcomeSoldOut] = 10
	r.Counts[KindConfirm][OutcomeOK] = 80
	r.Counts[KindConfirm][OutcomeError] = 1
	r.Counts[KindCancel][OutcomeOK] = 9
	for k := range r.Latency {
		r.Latency[k] = NewHistogram()
		for i := range 100 {
			r.Latency[k].Record(int64(100 + i))
		}
	}
	return r
}

func TestReportFigures(t *testing.T) {
	cfg := DefaultConfig()
	w, _ := NewWorkload(FlashSpread, 10)
	rep := newReport(&cfg, w, syntheticResult(), nil, nil)
	if rep.Requests != 190 || rep.Successes != 179 || rep.Reserved != 90 || rep.Refused != 10 || rep.Errors != 1 {
		t.Errorf("requests %d successes %d reserved %d refused %d errors %d",
			rep.Requests, rep.Successes, rep.Reserved, rep.Refused, rep.Errors)
	}
	if rep.OpsPerSec != 94.5 || rep.Orders != 100 || rep.Invariant != InvariantOK {
		t.Errorf("ops/s %v orders %d invariant %s", rep.OpsPerSec, rep.Orders, rep.Invariant)
	}
	var j map[string]any
	if err := json.Unmarshal(rep.JSON(), &j); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"ops_per_s": 94.0, "orders_per_s": 50.0, "confirmed": 80.0, "cancelled": 9.0,
		"elapsed_s": 2.0, "target": "inv", "complete": true, "reserved": 90.0} {
		if j[k] != want {
			t.Errorf("%s = %v, want %v", k, j[k], want)
		}
	}
	if bad := newReport(&cfg, w, syntheticResult(), []string{"OVERSELL x"}, nil); bad.Invariant != InvariantBroken {
		t.Errorf("problems give invariant %s", bad.Invariant)
	}
	if un := newReport(&cfg, w, syntheticResult(), nil, bytes.ErrTooLarge); un.Invariant != InvariantUnchecked {
		t.Errorf("dump error gives invariant %s", un.Invariant)
	}
}

func TestReportJSONFields(t *testing.T) {
	extras := map[string][]string{
		FlashHot:     {"sellout_s"},
		FlashSpread:  {"orders_per_s", "confirmed", "cancelled"},
		PickupWindow: {"window_full"},
	}
	for _, name := range Workloads {
		cfg := DefaultConfig()
		w, _ := NewWorkload(name, 10)
		rep := newReport(&cfg, w, syntheticResult(), nil, nil)
		want := append(slices.Clone(workloadMDFields), "reserved", "orders", "complete")
		want = append(want, extras[name]...)
		if got := jsonKeys(t, rep.JSON()); !slices.Equal(got, want) {
			t.Errorf("%s: keys %v\nwant %v", name, got, want)
		}
		cfg.Rate = 500
		rep = newReport(&cfg, w, syntheticResult(), nil, nil)
		if got := jsonKeys(t, rep.JSON()); !slices.Contains(got, "rate") {
			t.Errorf("%s open loop: no rate in %v", name, got)
		}
	}
}

// WORKLOAD.md's example figures give WORKLOAD.md's example line (the
// percentiles as the histogram reports them: within 0.4% of the exact ones).
func TestReportJSONExample(t *testing.T) {
	h := NewHistogram()
	for range 600 {
		h.Record(410)
	}
	for range 395 {
		h.Record(2900)
	}
	for range 5 {
		h.Record(5100)
	}
	p50, p99, p999 := h.Percentile(0.5), h.Percentile(0.99), h.Percentile(0.999)
	if p50 < 410 || p50 > 412 || p99 < 2900 || p99 > 2912 || p999 != 5100 {
		t.Fatalf("percentiles %d %d %d", p50, p99, p999)
	}
	rep := &Report{Workload: FlashHot, Target: "inv", Conns: 64, Inflight: 16, Scale: 10,
		Requests: 100000, Successes: 10000, Reserved: 10000, Refused: 90000, Elapsed: 840 * time.Millisecond,
		OpsPerSec: 119047.6, Orders: 100000, Complete: true, Invariant: InvariantOK, Latency: h,
		SellOut: 800 * time.Millisecond}
	want := `{"workload":"flash-hot","target":"inv","conns":64,"inflight":16,"scale":10,` +
		`"requests":100000,"successes":10000,"refused":90000,"errors":0,` +
		fmt.Sprintf(`"elapsed_s":0.84,"ops_per_s":119047,"p50_us":%d,"p99_us":%d,"p999_us":%d,`, p50, p99, p999) +
		`"invariant":"ok","reserved":10000,"orders":100000,"complete":true,"sellout_s":0.8}`
	if got := string(rep.JSON()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestReportTable(t *testing.T) {
	cfg := DefaultConfig()
	w, _ := NewWorkload(FlashSpread, 10)
	rep := newReport(&cfg, w, syntheticResult(), []string{"LOST hold 7"}, nil)
	rep.ErrorsSeen = []string{"i/o timeout"}
	var buf bytes.Buffer
	if err := rep.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"flash-spread on inv: scale 10, 64 conns x 16 in flight, closed loop",
		"reserve", "confirm", "cancel", "all", "sold_out", "p99.9 µs", "invariant BROKEN", "LOST hold 7", "i/o timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, `{"workload":"flash-spread"`) {
		t.Errorf("last line is not the JSON: %q", last)
	}
}
