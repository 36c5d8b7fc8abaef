// Proves invbench end to end: the real invbench binary runs each reference
// workload at a large --scale (a few thousand requests) against a real invd
// (built here, with the race detector when the test runs with it, started on
// free loopback ports with fresh data and fast raft timing), and the test
// checks its output: the JSON line of WORKLOAD.md with consistent counts
// (requests = successes + refused + errors, flash-hot sells exactly its
// stock, flash-spread's successes are its reserves plus confirms plus
// cancels), no errors, the closing "invariant ok", exit code 0, and a
// self-contained HTML report. All three runs share one server, which also
// proves that run ids keep runs apart; a run with bare ids (--run-id "") on
// a server that already has them is refused before anything is sent.
// `invbench table` is checked on the lines the runs printed, and --metrics
// makes each run report invd's CPU µs per request.
package main_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/internal/invdtest"
)

var bins map[string]string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "invbench-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err = invdtest.Build(dir, "github.com/invsys/inv/cmd/invd", "github.com/invsys/inv/cmd/invbench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fastRaft makes the single-node elections at start quick.
const fastRaft = `
log_level = warn
heartbeat_timeout = 100ms
election_timeout = 100ms
leader_lease_timeout = 50ms
`

// line is the JSON line's fields the test checks.
type line struct {
	Workload   string  `json:"workload"`
	Target     string  `json:"target"`
	Conns      int     `json:"conns"`
	Inflight   int     `json:"inflight"`
	Scale      int     `json:"scale"`
	Requests   int64   `json:"requests"`
	Successes  int64   `json:"successes"`
	Refused    int64   `json:"refused"`
	Errors     int64   `json:"errors"`
	ElapsedS   float64 `json:"elapsed_s"`
	OpsPerS    int64   `json:"ops_per_s"`
	P50us      int64   `json:"p50_us"`
	P99us      int64   `json:"p99_us"`
	P999us     int64   `json:"p999_us"`
	Invariant  string  `json:"invariant"`
	Reserved   int64   `json:"reserved"`
	Orders     int64   `json:"orders"`
	Complete   bool    `json:"complete"`
	SellOutS   *float64
	Confirmed  *int64   `json:"confirmed"`
	Cancelled  *int64   `json:"cancelled"`
	WindowFull *int64   `json:"window_full"`
	CPUus      *float64 `json:"server_cpu_us_per_req"`
}

func invbench(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bins["invbench"], args...)
	cmd.Env = invdtest.Env()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestWorkloadsAgainstInvd(t *testing.T) {
	if bins == nil {
		t.Skip("end-to-end: needs invd (not built with -short)")
	}
	dir := t.TempDir()
	p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: filepath.Join(dir, "data"), Shards: 4, Config: fastRaft})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if p.Stop(30*time.Second) != nil || p.DataRace() || t.Failed() {
			t.Logf("invd log:\n%s", p.Logs())
		}
		if p.DataRace() {
			t.Error("invd reported a data race")
		}
	}()

	const scale = 1000
	var all strings.Builder
	for _, wl := range []string{"flash-hot", "flash-spread", "pickup-window"} {
		t.Run(wl, func(t *testing.T) {
			report := filepath.Join(dir, wl+".html")
			out, errOut, code := invbench(t, "--addr", p.Addr(), "--workload", wl, "--scale", fmt.Sprint(scale),
				"--conns", "8", "--inflight", "8", "--duration", "30s", "--report", report,
				"--metrics", p.Opts.HTTP)
			if code != 0 || strings.Contains(errOut, "DATA RACE") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if last := lines[len(lines)-1]; last != "invariant ok" {
				t.Fatalf("last line %q, want invariant ok\n%s", last, out)
			}
			js := lines[len(lines)-2]
			all.WriteString(js + "\n")
			var l line
			if err := json.Unmarshal([]byte(js), &l); err != nil {
				t.Fatalf("JSON line %q: %v", js, err)
			}
			var raw map[string]any
			json.Unmarshal([]byte(js), &raw)
			for _, k := range []string{"workload", "target", "conns", "inflight", "scale", "requests", "successes",
				"refused", "errors", "elapsed_s", "ops_per_s", "p50_us", "p99_us", "p999_us", "invariant"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("JSON line lacks %q: %s", k, js)
				}
			}
			if l.Workload != wl || l.Target != "inv" || l.Conns != 8 || l.Inflight != 8 || l.Scale != scale ||
				l.Invariant != "ok" || !l.Complete || l.Errors != 0 {
				t.Errorf("JSON line %s", js)
			}
			if l.Requests != l.Successes+l.Refused+l.Errors || l.Requests == 0 || l.OpsPerS <= 0 || l.ElapsedS <= 0 {
				t.Errorf("counts do not add up: %s", js)
			}
			// invd's CPU over the run, per request: it did some work, and
			// less than a whole second of CPU per request.
			if l.CPUus == nil || *l.CPUus <= 0 || *l.CPUus > 1e6 || !strings.Contains(out, "µs per request") {
				t.Errorf("server CPU per request missing or absurd: %s", js)
			}
			if !(0 < l.P50us && l.P50us <= l.P99us && l.P99us <= l.P999us) {
				t.Errorf("percentiles out of order: %s", js)
			}
			switch wl {
			case "flash-hot": // stock 100,000/scale, customers 1,000,000/scale
				if l.Reserved != 100 || l.Successes != 100 || l.Refused != 900 || l.Orders != 1000 {
					t.Errorf("flash-hot must sell exactly its stock: %s", js)
				}
			case "flash-spread": // 1,000 SKUs x 1 store, 2,000 orders: the Zipf head sells out
				if l.Orders != 2000 || l.Confirmed == nil || l.Cancelled == nil ||
					l.Successes != l.Reserved+*l.Confirmed+*l.Cancelled || l.Refused == 0 {
					t.Errorf("flash-spread: %s", js)
				}
			case "pickup-window": // 100 SKUs x 1 store x 8 windows of 10, 2,000 reserves
				if l.Orders != 2000 || l.WindowFull == nil || l.Reserved+*l.WindowFull != 2000 {
					t.Errorf("pickup-window: %s", js)
				}
			}
			if !strings.Contains(out, "invariant ok\n\n{") {
				t.Errorf("the table (ending with its invariant line) must come before the JSON line:\n%s", out)
			}
			html, err := os.ReadFile(report)
			if err != nil || !bytes.Contains(html, []byte("<svg")) || bytes.Contains(html, []byte("http://")) && bytes.Contains(html, []byte("<script src")) {
				t.Errorf("HTML report: %v, %d bytes", err, len(html))
			}
		})
	}

	// Bare ids on a server that has them: refused at load, nothing sent.
	t.Run("bare-ids", func(t *testing.T) {
		out, errOut, code := invbench(t, "--addr", p.Addr(), "--workload", "flash-hot", "--scale", "1000", "--run-id", "", "--quiet")
		if code != 0 {
			t.Fatalf("first bare run: exit %d\n%s%s", code, out, errOut)
		}
		out, errOut, code = invbench(t, "--addr", p.Addr(), "--workload", "flash-hot", "--scale", "1000", "--run-id", "", "--quiet")
		if code != 3 || !strings.Contains(errOut, "already has item sku-000000/st-0000") {
			t.Errorf("second bare run: exit %d, want 3 and the reason\n%s%s", code, out, errOut)
		}
	})

	t.Run("table", func(t *testing.T) {
		f := filepath.Join(dir, "lines.jsonl")
		peer := `{"workload":"flash-hot","target":"redis-always","conns":8,"inflight":8,"scale":1000,"ops_per_s":1,"p99_us":1000000,"invariant":"ok"}`
		os.WriteFile(f, []byte("# a comment\n"+all.String()+peer+"\n"), 0o644)
		out, errOut, code := invbench(t, "table", f)
		if code != 0 || strings.Count(out, "| inv |") != 3 || !strings.Contains(out, "| redis-always |") {
			t.Errorf("table: exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("usage", func(t *testing.T) {
		if _, _, code := invbench(t, "--workload", "flash-cold"); code != 2 {
			t.Errorf("unknown workload: exit %d, want 2", code)
		}
		if _, _, code := invbench(t, "--addr", invdtest.FreeAddr(), "--workload", "flash-hot"); code != 3 {
			t.Errorf("no server: exit %d, want 3", code)
		}
	})
}

// clusterRaft is each cluster node's raft timing: a little tighter than
// invd's LAN defaults, so that the elections at start are quick.
const clusterRaft = `
log_level = warn
heartbeat_timeout = 400ms
election_timeout = 400ms
leader_lease_timeout = 200ms
`

// TestWorkloadsAgainstCluster runs invbench against a 3-node cluster, once
// given every node and once given a single node: the client library finds
// the shards' leaders from the node's TOPOLOGY, sends each request to its
// shard's leader, and the invariant check reads every item from its
// shard's leader. The JSON line must say the invariant is ok.
func TestWorkloadsAgainstCluster(t *testing.T) {
	if bins == nil {
		t.Skip("end-to-end: needs invd (not built with -short)")
	}
	c, err := invdtest.StartCluster(invdtest.ClusterOptions{Bin: bins["invd"], Dir: t.TempDir(), Nodes: 3, Shards: 4,
		Config: clusterRaft})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster logs:\n%s", c.Logs())
		}
		for _, r := range c.StopAll(30 * time.Second) {
			t.Errorf("invd reported a data race:\n%s", r)
		}
	})
	for _, tc := range []struct{ name, addr, workload string }{
		{"every-node", strings.Join(c.Clients, ","), "flash-spread"},
		{"one-node", c.Clients[2], "pickup-window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := invbench(t, "--addr", tc.addr, "--workload", tc.workload, "--scale", "2000",
				"--conns", "4", "--inflight", "8", "--duration", "30s", "--quiet")
			if code != 0 || strings.Contains(errOut, "DATA RACE") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(lines) < 2 || lines[len(lines)-1] != "invariant ok" {
				t.Fatalf("want invariant ok last:\n%s", out)
			}
			var l line
			if err := json.Unmarshal([]byte(lines[len(lines)-2]), &l); err != nil {
				t.Fatalf("JSON line %q: %v", lines[len(lines)-2], err)
			}
			if l.Workload != tc.workload || l.Invariant != "ok" || !l.Complete || l.Errors != 0 || l.Successes == 0 ||
				l.Requests != l.Successes+l.Refused+l.Errors {
				t.Errorf("JSON line %s", lines[len(lines)-2])
			}
			t.Logf("%s: %s", tc.name, lines[len(lines)-2])
		})
	}
	if _, err := c.WaitConverged(30 * time.Second); err != nil {
		t.Error(err)
	}
}
