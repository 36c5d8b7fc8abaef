package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Report is the outcome of one run: the figures of WORKLOAD.md, the extras the
// peers print, and the histograms and timeline behind them.
//
// Definitions are the peers', so that a row of inv and a row of a peer mean
// the same thing: Successes counts every successful request (reserves,
// confirms, cancels), Reserved the successful reserves; Requests = Successes +
// Refused + Errors; OpsPerSec = (Successes + Refused) / Elapsed.
type Report struct {
	Workload   string
	Target     string
	Conns      int
	Inflight   int
	Scale      int
	Rate       float64 // orders per second in open loop; 0 = closed loop
	Requests   int64
	Successes  int64
	Reserved   int64
	Refused    int64
	Errors     int64
	Elapsed    time.Duration
	OpsPerSec  float64
	Orders     int64 // orders started
	OrdersAll  int   // orders in the workload
	SellOut    time.Duration
	Complete   bool
	Invariant  string   // "ok", "BROKEN" or "UNCHECKED" (the state could not be read)
	Problems   []string // what the check found, first ones first
	ErrorsSeen []string // the first error messages
	Counts     [nKinds][nOutcomes]int64
	Latency    *Histogram         // every request
	ByKind     [nKinds]*Histogram // per kind of request
	Timeline   []Second

	// ServerCPU is the server processes' CPU seconds over the run, when
	// measured (Config.CPU); ServerCPUErr says why it was not.
	ServerCPU    float64
	ServerCPUOK  bool
	ServerCPUErr string
}

// Invariant values.
const (
	InvariantOK        = "ok"
	InvariantBroken    = "BROKEN"
	InvariantUnchecked = "UNCHECKED"
)

// newReport sums up a run. problems is nil when the check passed; dumpErr is
// set when the state could not be read, so nothing could be checked.
func newReport(cfg *Config, w *Workload, r *Result, problems []string, dumpErr error) *Report {
	rep := &Report{
		Workload: w.Name, Target: cfg.Target, Conns: cfg.Conns, Inflight: cfg.Inflight, Scale: w.Scale,
		Rate: cfg.Rate, Requests: r.Requests(), Successes: r.Total(OutcomeOK),
		Reserved: r.Counts[KindReserve][OutcomeOK], Refused: r.Refused(), Errors: r.Errors(),
		Elapsed: r.Elapsed, Orders: r.Orders(), OrdersAll: len(w.Orders), SellOut: r.SellOut,
		Complete: r.Complete, Invariant: InvariantOK, Problems: problems, ErrorsSeen: r.ErrorSamples,
		Counts: r.Counts, Latency: r.AllLatency(), ByKind: r.Latency, Timeline: r.Timeline,
	}
	if s := r.Elapsed.Seconds(); s > 0 {
		rep.OpsPerSec = float64(rep.Successes+rep.Refused) / s
	}
	switch {
	case dumpErr != nil:
		rep.Invariant, rep.Problems = InvariantUnchecked, []string{"dump: " + dumpErr.Error()}
	case len(problems) > 0:
		rep.Invariant = InvariantBroken
	}
	return rep
}

// reportJSON is the one-line JSON of WORKLOAD.md: its fields first, in its
// order, then the extras the peers print. Workload-specific extras are
// pointers so that they appear only for their workload.
type reportJSON struct {
	Workload  string  `json:"workload"`
	Target    string  `json:"target"`
	Conns     int     `json:"conns"`
	Inflight  int     `json:"inflight"`
	Scale     int     `json:"scale"`
	Requests  int64   `json:"requests"`
	Successes int64   `json:"successes"`
	Refused   int64   `json:"refused"`
	Errors    int64   `json:"errors"`
	ElapsedS  float64 `json:"elapsed_s"`
	OpsPerS   int64   `json:"ops_per_s"`
	P50us     int64   `json:"p50_us"`
	P99us     int64   `json:"p99_us"`
	P999us    int64   `json:"p999_us"`
	Invariant string  `json:"invariant"`

	Reserved   int64    `json:"reserved"`
	Orders     int64    `json:"orders"`
	Complete   bool     `json:"complete"`
	Rate       *float64 `json:"rate,omitempty"`
	SellOutS   *float64 `json:"sellout_s,omitempty"`
	OrdersPerS *int64   `json:"orders_per_s,omitempty"`
	Confirmed  *int64   `json:"confirmed,omitempty"`
	Cancelled  *int64   `json:"cancelled,omitempty"`
	WindowFull *int64   `json:"window_full,omitempty"`

	ServerCPUs        *float64 `json:"server_cpu_s,omitempty"`
	ServerCPUusPerReq *float64 `json:"server_cpu_us_per_req,omitempty"`
}

// JSON returns the report's one-line JSON object (no newline).
func (r *Report) JSON() []byte {
	el := r.Elapsed.Seconds()
	j := reportJSON{
		Workload: r.Workload, Target: r.Target, Conns: r.Conns, Inflight: r.Inflight, Scale: r.Scale,
		Requests: r.Requests, Successes: r.Successes, Refused: r.Refused, Errors: r.Errors,
		ElapsedS: round2(el), OpsPerS: int64(r.OpsPerSec),
		P50us: r.Latency.Percentile(0.50), P99us: r.Latency.Percentile(0.99), P999us: r.Latency.Percentile(0.999),
		Invariant: r.Invariant, Reserved: r.Reserved, Orders: r.Orders, Complete: r.Complete,
	}
	if r.Rate > 0 {
		j.Rate = &r.Rate
	}
	if us, ok := r.CPUPerRequest(); ok {
		j.ServerCPUs, j.ServerCPUusPerReq = ptr(round2(r.ServerCPU)), ptr(round2(us))
	}
	switch r.Workload {
	case FlashHot:
		j.SellOutS = ptr(round2(r.SellOut.Seconds()))
	case FlashSpread:
		if el > 0 {
			j.OrdersPerS = ptr(int64(float64(r.Orders) / el))
		} else {
			j.OrdersPerS = ptr(int64(0))
		}
		j.Confirmed = ptr(r.Counts[KindConfirm][OutcomeOK])
		j.Cancelled = ptr(r.Counts[KindCancel][OutcomeOK])
	case PickupWindow:
		j.WindowFull = ptr(r.Counts[KindReserve][OutcomeWindowFull])
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(err) // plain numbers and strings always marshal
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// Print writes the human-readable table and then the JSON line, as every
// runner of WORKLOAD.md does.
func (r *Report) Print(w io.Writer) error {
	if err := r.WriteTable(w); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s\n", r.JSON())
	return err
}

// WriteTable writes the human-readable summary: the run, outcomes per kind of
// request, latency per kind, the invariant and its problems.
func (r *Report) WriteTable(w io.Writer) error {
	mode := "closed loop"
	if r.Rate > 0 {
		mode = fmt.Sprintf("open loop, %.0f orders/s", r.Rate)
	}
	fmt.Fprintf(w, "%s on %s: scale %d, %d conns x %d in flight, %s\n", r.Workload, r.Target, r.Scale, r.Conns, r.Inflight, mode)
	fmt.Fprintf(w, "elapsed %.2fs, %d of %d orders, complete %v, %.0f ops/s", r.Elapsed.Seconds(), r.Orders, r.OrdersAll, r.Complete, r.OpsPerSec)
	if r.Workload == FlashHot {
		fmt.Fprintf(w, ", sold out after %.2fs", r.SellOut.Seconds())
	}
	fmt.Fprintf(w, "\n")
	switch us, ok := r.CPUPerRequest(); {
	case ok:
		fmt.Fprintf(w, "server CPU %.2fs over the run, %.1f µs per request\n", r.ServerCPU, us)
	case r.ServerCPUErr != "":
		fmt.Fprintf(w, "server CPU not measured: %s\n", r.ServerCPUErr)
	}
	fmt.Fprintf(w, "\n")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "request\t")
	for o := range nOutcomes {
		fmt.Fprintf(tw, "%s\t", o)
	}
	fmt.Fprintf(tw, "p50 µs\tp90 µs\tp99 µs\tp99.9 µs\tmax µs\t\n")
	row := func(name string, counts [nOutcomes]int64, h *Histogram) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, n := range counts {
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t\n", h.Percentile(0.5), h.Percentile(0.9), h.Percentile(0.99), h.Percentile(0.999), h.Max())
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
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ninvariant %s\n", r.Invariant)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if len(r.ErrorsSeen) > 0 {
		fmt.Fprintf(w, "first errors:\n")
		for _, e := range r.ErrorsSeen {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

func (r *Report) setCPU(c cpuUse) {
	r.ServerCPU, r.ServerCPUOK = c.seconds, c.measured
	if c.err != nil {
		r.ServerCPUErr = c.err.Error()
	}
}

// CPUPerRequest is the server's CPU microseconds per request of the run
// (successes, refusals and errors alike: each was work for the server).
func (r *Report) CPUPerRequest() (float64, bool) {
	if !r.ServerCPUOK || r.Requests == 0 {
		return 0, false
	}
	return r.ServerCPU * 1e6 / float64(r.Requests), true
}
