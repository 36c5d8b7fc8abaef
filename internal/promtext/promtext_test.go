// These tests prove that Normalize turns what the VictoriaMetrics writers
// emit with metadata on (a TYPE and empty HELP line before every sample of
// a callback writer, families interleaved shard by shard, counters without
// _total, _total gauges) into a page that Prometheus's own text parser
// accepts: each family once, with its help text and type, counters ending
// in _total, and the samples unchanged.
package promtext

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const messy = `# HELP inv_requests_total
# TYPE inv_requests_total counter
inv_requests_total{op="reserve",result="ok"} 3
# HELP inv_stage_duration_seconds
# TYPE inv_stage_duration_seconds histogram
inv_stage_duration_seconds_bucket{stage="apply",le="0.001"} 1
inv_stage_duration_seconds_bucket{stage="apply",le="+Inf"} 2
inv_stage_duration_seconds_sum{stage="apply"} 0.5
inv_stage_duration_seconds_count{stage="apply"} 2
# HELP inv_shard_leader
# TYPE inv_shard_leader gauge
inv_shard_leader{shard="0"} 1
# HELP inv_shard_applied_index
# TYPE inv_shard_applied_index gauge
inv_shard_applied_index{shard="0"} 7
# HELP inv_shard_leader
# TYPE inv_shard_leader gauge
inv_shard_leader{shard="1"} 0
# HELP inv_shard_applied_index
# TYPE inv_shard_applied_index gauge
inv_shard_applied_index{shard="1"} 9
# HELP go_cgo_calls_count
# TYPE go_cgo_calls_count counter
go_cgo_calls_count 12
# HELP process_io_read_bytes_total
# TYPE process_io_read_bytes_total gauge
process_io_read_bytes_total 4096
# HELP go_gc_duration_seconds
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_sum 0.01
go_gc_duration_seconds_count 40
# HELP go_info_ext
# TYPE go_info_ext gauge
go_info_ext{compiler="gc", GOARCH="amd64"} 1
inv_no_type_line 5
`

func TestNormalizeParsesAsPrometheus(t *testing.T) {
	help := func(f string) string {
		if f == "inv_shard_leader" {
			return "1 when this node leads the shard\\n"
		}
		return "about " + f
	}
	var out bytes.Buffer
	if err := Normalize(&out, []byte(messy), help); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	// The parser refuses a second TYPE or HELP line of a family.
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(page))
	if err != nil {
		t.Fatalf("the normalized page does not parse: %v\n%s", err, page)
	}
	want := map[string]string{
		"inv_requests_total":          "COUNTER",
		"inv_stage_duration_seconds":  "HISTOGRAM",
		"inv_shard_leader":            "GAUGE",
		"inv_shard_applied_index":     "GAUGE",
		"go_cgo_calls_total":          "COUNTER",
		"process_io_read_bytes_total": "COUNTER",
		"go_gc_duration_seconds":      "SUMMARY",
		"go_info_ext":                 "GAUGE",
		"inv_no_type_line":            "UNTYPED",
	}
	for name, typ := range want {
		f := fams[name]
		if f == nil {
			t.Errorf("family %s missing from\n%s", name, page)
			continue
		}
		if got := f.GetType().String(); got != typ {
			t.Errorf("%s: type %s, want %s", name, got, typ)
		}
		if wantHelp := help(name); f.GetHelp() != wantHelp {
			t.Errorf("%s: help %q, want %q", name, f.GetHelp(), wantHelp)
		}
	}
	if len(fams) != len(want) {
		t.Errorf("%d families, want %d:\n%s", len(fams), len(want), page)
	}
	if n := len(fams["inv_shard_leader"].GetMetric()); n != 2 {
		t.Errorf("inv_shard_leader has %d series, want both shards'", n)
	}
	if h := fams["inv_stage_duration_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 2 || h.GetSampleSum() != 0.5 {
		t.Errorf("histogram changed: %v", h)
	}
	if v := fams["go_cgo_calls_total"].GetMetric()[0].GetCounter().GetValue(); v != 12 {
		t.Errorf("go_cgo_calls_total = %v, want 12", v)
	}
	if strings.Count(page, "# TYPE inv_shard_leader ") != 1 || strings.Contains(page, "go_cgo_calls_count") {
		t.Errorf("families not merged or counter not renamed:\n%s", page)
	}
	// Samples keep their order within a family, families their first appearance.
	if i, j := strings.Index(page, `inv_shard_leader{shard="0"}`), strings.Index(page, `inv_shard_leader{shard="1"}`); i < 0 || j < i {
		t.Errorf("shard series out of order:\n%s", page)
	}
	if strings.Index(page, "# TYPE inv_requests_total") > strings.Index(page, "# TYPE inv_shard_leader") {
		t.Errorf("family order changed:\n%s", page)
	}
}

// The input without normalizing is what Prometheus's parser refuses: the
// test above would pass on an identity function only if the input were
// already clean.
func TestMessyPageIsRefusedAsIs(t *testing.T) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(messy)); err == nil {
		t.Fatal("the messy page parsed as it is: the test page shows nothing")
	}
}
