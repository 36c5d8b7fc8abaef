// This test proves that invd's metrics serve a real Prometheus as users run
// it: Debian's prometheus binary scrapes a fresh invd every second while a
// client sends reserves, confirms, cancels and sold-out refusals; the
// scrape is healthy (Prometheus parsed the page), the metadata API knows the
// families' types and help texts, and then EVERY query of
// docs/grafana-dashboard.json (with Grafana's variables filled in), every
// alert expression of docs/OPERATIONS.md's alert table and every PromQL
// block of that document is evaluated through /api/v1/query: each must
// parse and run, and the dashboard's key panels (request rate, request
// latency p99, the stage p99s, refusals) must return series with a number,
// which histogram_quantile gives only on Prometheus-style (le) buckets.
//
// It skips, saying so, where no prometheus binary is installed (.ci/run
// installs Debian's package).
package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/invdtest"
)

func TestPrometheusScrapesAndEvaluates(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("no prometheus binary on PATH (Debian: apt-get install prometheus): the dashboard and alert queries are not evaluated")
	}
	p := startInvd(t, 2, "")
	prom := startPrometheus(t, bin, p.Opts.HTTP)

	// Load while Prometheus scrapes: a few seconds of reserves, confirms and
	// cancels, and sold-out refusals once the stock is gone.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, []string{p.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.PutItem(ctx, client.ItemSpec{SKU: "PROM", Store: "S1", Stock: 150}); err != nil {
		t.Fatal(err)
	}
	var ok, soldOut int
	for i := 0; i < 400; i++ {
		time.Sleep(10 * time.Millisecond)
		r, err := c.Reserve(ctx, client.ReserveRequest{SKU: "PROM", Store: "S1", Customer: fmt.Sprintf("c%d", i)})
		switch {
		case errors.Is(err, client.ErrSoldOut):
			soldOut++
			continue
		case err != nil:
			t.Fatalf("reserve %d: %v", i, err)
		case i%3 == 0:
			_, err = c.Cancel(ctx, client.CancelRequest{ID: r.ID})
		default:
			_, err = c.Confirm(ctx, client.ConfirmRequest{ID: r.ID})
		}
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		ok++
	}
	if soldOut == 0 || ok == 0 {
		t.Fatalf("load: %d reserved, %d sold out: want both", ok, soldOut)
	}
	// Two more scrapes after the load, so that every rate has its last step.
	prom.waitSamples(t, `inv_connections_open`, 0)
	n := prom.samples(t)
	prom.waitSamples(t, `inv_connections_open`, n+2)

	// The scrape itself: healthy, and the metadata reached Prometheus.
	var targets struct {
		ActiveTargets []struct {
			Health    string `json:"health"`
			LastError string `json:"lastError"`
			ScrapeURL string `json:"scrapeUrl"`
		} `json:"activeTargets"`
	}
	prom.api(t, "/api/v1/targets", &targets)
	if len(targets.ActiveTargets) != 1 || targets.ActiveTargets[0].Health != "up" {
		t.Fatalf("scrape target: %+v", targets.ActiveTargets)
	}
	var meta map[string][]struct {
		Type string `json:"type"`
		Help string `json:"help"`
	}
	prom.api(t, "/api/v1/metadata", &meta)
	for name, typ := range map[string]string{"inv_requests_total": "counter", "inv_request_duration_seconds": "histogram",
		"inv_stage_duration_seconds": "histogram", "inv_active_holds": "gauge", "process_cpu_seconds_total": "counter"} {
		m := meta[name]
		if len(m) == 0 || m[0].Type != typ || m[0].Help == "" {
			t.Errorf("metadata of %s: %+v, want type %s and a help text", name, m, typ)
		}
	}

	// Every dashboard query parses and runs; the key panels have numbers.
	key := map[string]bool{"Requests/s": true, "Request latency p50 / p99 by op": true,
		"Where the time goes: p99 by stage, stacked": true, "Refusals by reason": true,
		"Requests by op and result": true}
	queries := dashboardQueries(t)
	for _, q := range queries {
		res, err := prom.query(q.expr)
		if err != nil {
			t.Errorf("dashboard panel %q, %q: %v", q.panel, q.expr, err)
			continue
		}
		if key[q.panel] && !res.hasNumber() {
			t.Errorf("dashboard panel %q, %q: no series with a number: %s", q.panel, q.expr, res.raw)
		}
	}
	// The Node variable's query.
	if res, err := prom.query("inv_connections_open"); err != nil || !res.hasNumber() {
		t.Errorf("the dashboard's instance variable has no values: %v", err)
	}
	// The refusals panel shows the sold-out ones.
	if res, err := prom.query(`max by (reason) (inv_refusals_total{reason="sold_out"})`); err != nil || res.first() != float64(soldOut) {
		t.Errorf("inv_refusals_total{reason=\"sold_out\"} in Prometheus = %v (%v), want %d", res.first(), err, soldOut)
	}

	// Every alert expression and every PromQL block of the operations guide.
	alerts := alertExpressions(t)
	for _, a := range alerts {
		if _, err := prom.query(a.expr); err != nil {
			t.Errorf("alert %q: %q: %v", a.name, a.expr, err)
		}
	}
	for _, q := range promqlBlocks(t) {
		if _, err := prom.query(q); err != nil {
			t.Errorf("OPERATIONS.md PromQL block %q: %v", q, err)
		}
	}
	t.Logf("evaluated %d dashboard queries and %d alert expressions against Prometheus", len(queries), len(alerts))
}

// promServer is a Prometheus process with its HTTP API address.
type promServer struct {
	addr string
	hc   http.Client
}

// startPrometheus starts bin on a free loopback port with its storage in a
// temporary folder, scraping target's /metrics every second (job invd),
// and waits until it is ready. It is stopped when the test ends.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: invd
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := invdtest.FreeAddr()
	logs := &strings.Builder{}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	ps := &promServer{addr: addr, hc: http.Client{Timeout: 10 * time.Second}}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("prometheus exited at start:\n%s", logs.String())
		default:
		}
		if resp, err := ps.hc.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return ps
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30 s:\n%s", logs.String())
		}
	}
}

// api GETs path and decodes the data of a successful answer into out.
func (ps *promServer) api(t *testing.T, path string, out any) {
	t.Helper()
	resp, err := ps.hc.Get("http://" + ps.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("%s: %s %v", path, body.Error, err)
	}
	if err := json.Unmarshal(body.Data, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// queryResult is an instant vector or scalar.
type queryResult struct {
	values []float64 // one per series
	raw    string
}

func (r queryResult) hasNumber() bool {
	for _, v := range r.values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			return true
		}
	}
	return false
}

func (r queryResult) first() float64 {
	if len(r.values) == 0 {
		return math.NaN()
	}
	return r.values[0]
}

// query evaluates expr now; an error is Prometheus's (parse or execution).
func (ps *promServer) query(expr string) (queryResult, error) {
	resp, err := ps.hc.Get("http://" + ps.addr + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return queryResult{}, err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return queryResult{}, err
	}
	if body.Status != "success" {
		return queryResult{}, fmt.Errorf("%s: %s", body.ErrorType, body.Error)
	}
	res := queryResult{raw: string(body.Data.Result)}
	parse := func(v []any) float64 {
		if len(v) == 2 {
			if s, ok := v[1].(string); ok {
				f, _ := strconv.ParseFloat(s, 64)
				return f
			}
		}
		return math.NaN()
	}
	switch body.Data.ResultType {
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
			return res, err
		}
		for _, s := range vec {
			res.values = append(res.values, parse(s.Value))
		}
	case "scalar":
		var v []any
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return res, err
		}
		res.values = append(res.values, parse(v))
	}
	return res, nil
}

// samples returns how many scrapes of the target Prometheus holds from the
// last minute.
func (ps *promServer) samples(t *testing.T) int {
	t.Helper()
	res, err := ps.query(`count_over_time(up{job="invd"}[1m])`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.values) == 0 {
		return 0
	}
	return int(res.values[0])
}

// waitSamples waits (up to 30 s) until Prometheus holds more than n scrapes
// in which metric was present and up was 1.
func (ps *promServer) waitSamples(t *testing.T, metric string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		up, err := ps.query(`up{job="invd"}`)
		if err == nil && up.first() == 1 && ps.samples(t) > n {
			if res, err := ps.query(metric); err == nil && res.hasNumber() {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape %s more than %d times in 30 s", metric, n)
		}
	}
}

// dashboardQuery is one target of a panel of docs/grafana-dashboard.json.
type dashboardQuery struct{ panel, expr string }

// grafanaVars fills in the dashboard's variables as Grafana would: every
// node, and a rate interval of a minute.
var grafanaVars = strings.NewReplacer(`$__rate_interval`, `1m`, `$__interval`, `1m`, `$instance`, `.*`)

func dashboardQueries(t *testing.T) []dashboardQuery {
	t.Helper()
	b, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string  `json:"title"`
		Panels  []panel `json:"panels"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	}
	var d struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var out []dashboardQuery
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				if tg.Expr != "" {
					out = append(out, dashboardQuery{p.Title, grafanaVars.Replace(tg.Expr)})
				}
			}
		}
	}
	walk(d.Panels)
	if len(out) < 20 {
		t.Fatalf("only %d queries found in the dashboard", len(out))
	}
	return out
}

// alert is one expression of the alert table of docs/OPERATIONS.md.
type alert struct{ name, expr string }

var (
	codeSpan   = regexp.MustCompile("`([^`]+)`")
	comparison = regexp.MustCompile(`==|!=|>|<`)
)

// alertExpressions reads the table under "Alerts to set": each row's
// backquoted spans that compare are its expressions (the others name
// settings); every row must have at least one.
func alertExpressions(t *testing.T) []alert {
	t.Helper()
	b, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "#### Alerts to set")
	if !ok {
		t.Fatal("OPERATIONS.md has no alert table")
	}
	var out []alert
	rows := 0
	for _, line := range strings.Split(rest, "\n")[1:] {
		if strings.HasPrefix(line, "#") {
			break
		}
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| alert ") || strings.HasPrefix(line, "| ---") {
			continue
		}
		rows++
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		n := 0
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			if comparison.MatchString(m[1]) {
				out = append(out, alert{name, m[1]})
				n++
			}
		}
		if n == 0 {
			t.Errorf("alert %q has no expression", name)
		}
	}
	if rows < 15 {
		t.Fatalf("only %d alerts found in OPERATIONS.md", rows)
	}
	return out
}

// promqlBlocks returns the ```promql blocks of docs/OPERATIONS.md.
func promqlBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	parts := strings.Split(string(b), "```promql\n")
	for _, p := range parts[1:] {
		block, _, _ := strings.Cut(p, "```")
		out = append(out, strings.TrimSpace(block))
	}
	if len(out) == 0 {
		t.Fatal("no PromQL blocks in OPERATIONS.md")
	}
	return out
}
