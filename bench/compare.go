package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// The side-by-side table of make bench-peers: the JSON lines of invbench
// and of the peers' load generator (both print WORKLOAD.md's line), one row
// per workload and system, with inv's ratio to each peer.

// Line is the part of a runner's JSON line the side-by-side table uses.
type Line struct {
	Workload  string   `json:"workload"`
	Target    string   `json:"target"`
	Conns     int      `json:"conns"`
	Inflight  int      `json:"inflight"`
	Scale     int      `json:"scale"`
	Requests  int64    `json:"requests"`
	Errors    int64    `json:"errors"`
	ElapsedS  float64  `json:"elapsed_s"`
	OpsPerS   int64    `json:"ops_per_s"`
	P50us     int64    `json:"p50_us"`
	P99us     int64    `json:"p99_us"`
	P999us    int64    `json:"p999_us"`
	Invariant string   `json:"invariant"`
	Complete  *bool    `json:"complete"`
	CPUus     *float64 `json:"server_cpu_us_per_req"`
}

// ReadLines reads the JSON lines of r: every line that starts with '{' and
// names a workload and a target; other lines (tables, progress, comments)
// are skipped. A later line of the same workload and target replaces an
// earlier one.
func ReadLines(r io.Reader) ([]Line, error) {
	var out []Line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] != '{' {
			continue
		}
		var l Line
		if err := json.Unmarshal(b, &l); err != nil || l.Workload == "" || l.Target == "" {
			continue
		}
		if i := slices.IndexFunc(out, func(o Line) bool { return o.Workload == l.Workload && o.Target == l.Target }); i >= 0 {
			out[i] = l
		} else {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// WriteComparison writes the side-by-side table (Markdown) of lines: per
// workload (in WORKLOAD.md's order), ours the row of target ours first,
// then every other system, each with ours' throughput divided by its
// throughput and its p99 divided by ours' p99: above 1 means ours does
// better on that figure.
func WriteComparison(w io.Writer, lines []Line, ours string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "| workload | system | scale | conns x inflight | ops/s | p50 µs | p99 µs | p999 µs | server CPU µs/req | errors | invariant | %s ops/s ÷ system | system p99 ÷ %s p99 |\n", ours, ours)
	fmt.Fprintf(bw, "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |\n")
	order := append([]string(nil), Workloads...)
	for _, l := range lines {
		if !slices.Contains(order, l.Workload) {
			order = append(order, l.Workload)
		}
	}
	for _, wl := range order {
		var rows []Line
		var us *Line
		for i, l := range lines {
			if l.Workload != wl {
				continue
			}
			if l.Target == ours {
				us = &lines[i]
			} else {
				rows = append(rows, l)
			}
		}
		if us != nil {
			rows = append([]Line{*us}, rows...)
		}
		for _, l := range rows {
			inv := l.Invariant
			if l.Complete != nil && !*l.Complete {
				inv += ", incomplete"
			}
			ratioOps, ratioP99 := "", ""
			if us != nil && l.Target != ours {
				ratioOps = ratio(float64(us.OpsPerS), float64(l.OpsPerS))
				ratioP99 = ratio(float64(l.P99us), float64(us.P99us))
			}
			cpu := ""
			if l.CPUus != nil {
				cpu = fmt.Sprintf("%.1f", *l.CPUus)
			}
			fmt.Fprintf(bw, "| %s | %s | %d | %dx%d | %s | %s | %s | %s | %s | %d | %s | %s | %s |\n",
				l.Workload, l.Target, l.Scale, l.Conns, l.Inflight, thousands(l.OpsPerS),
				thousands(l.P50us), thousands(l.P99us), thousands(l.P999us), cpu, l.Errors, inv, ratioOps, ratioP99)
		}
	}
	return bw.Flush()
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	r := a / b
	if r >= 10 {
		return strconv.FormatFloat(r, 'f', 0, 64) + "x"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "x"
}

// thousands formats n with commas: 1234567 -> 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
