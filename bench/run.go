package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Config is one run of the harness. cmd/invbench fills it from its flags
// (RegisterFlags) and adds the client adapter's own flags (addresses, token).
type Config struct {
	Workload string        // flash-hot, flash-spread or pickup-window
	Scale    int           // divides stock (flash-hot), customers and stores
	Conns    int           // connections
	Inflight int           // requests in flight per connection
	Duration time.Duration // no new order after this long (open loop: none due after it)
	Grace    time.Duration // how long requests in flight may still take after Duration
	Rate     float64       // open loop: orders started per second; 0 = closed loop
	Quiet    bool          // no progress line
	HTML     string        // write the HTML report to this file; "" = none
	Target   string        // the system's name in the report: "inv"

	// CPU, when set, measures the server's CPU seconds over the run (from
	// just before the first order to just after the last reply), reported
	// per request beside the throughput. Not a flag: invbench sets it from
	// --metrics.
	CPU CPUMeter

	// Progress receives the progress line (nil = os.Stderr) every
	// ProgressEvery (0 = one second). Not flags: tests set them.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Limits on a run, checked before anything is loaded.
const (
	slotsMax      = 1 << 16 // conns x inflight: one goroutine and a few KB each
	rateMax       = 1e8     // orders per second: far past what one machine sends
	defaultTarget = "inv"

	// dumpTimeout bounds reading the state after the run: flash-spread at
	// scale 1 has 500,000 items and up to 2,000,000 holds to read.
	dumpTimeout = 10 * time.Minute
)

// DefaultConfig returns WORKLOAD.md's headline shape: C = 64, P = 16,
// closed loop, and the peers' defaults for the rest.
func DefaultConfig() Config {
	return Config{
		Workload: FlashSpread, Scale: 1, Conns: 64, Inflight: 16,
		Duration: 60 * time.Second, Grace: 5 * time.Second, Target: defaultTarget,
	}
}

// RegisterFlags defines the harness's flags on fs, with c's current values
// as defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Workload, "workload", c.Workload, strings.Join(Workloads, " | "))
	fs.IntVar(&c.Scale, "scale", c.Scale, "divide stock (flash-hot), customers and stores by this for a quick run")
	fs.IntVar(&c.Conns, "conns", c.Conns, "connections")
	fs.IntVar(&c.Inflight, "inflight", c.Inflight, "requests in flight per connection")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "stop taking new orders after this long")
	fs.DurationVar(&c.Grace, "grace", c.Grace, "time left to requests in flight after -duration before they count as errors")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "open loop: orders started per second, latency from each order's due time (0 = closed loop)")
	fs.BoolVar(&c.Quiet, "quiet", c.Quiet, "no progress line on stderr")
	fs.StringVar(&c.HTML, "report", c.HTML, "write an HTML report (charts over time, latency distribution) to this file")
}

// Validate checks c before a run.
func (c *Config) Validate() error {
	var errs []error
	if err := knownWorkload(c.Workload); err != nil {
		errs = append(errs, err)
	}
	if c.Scale < 1 {
		errs = append(errs, errors.New("-scale must be >= 1"))
	}
	if c.Conns < 1 || c.Inflight < 1 || c.Conns*c.Inflight > slotsMax {
		errs = append(errs, fmt.Errorf("-conns x -inflight must be between 1 and %d", slotsMax))
	}
	if c.Duration <= 0 || c.Grace < 0 {
		errs = append(errs, errors.New("-duration must be > 0 and -grace >= 0"))
	}
	if c.Rate < 0 || c.Rate > rateMax {
		errs = append(errs, fmt.Errorf("-rate must be between 0 and %g", rateMax))
	}
	return errors.Join(errs...)
}

// knownWorkload checks a workload name without generating its orders.
func knownWorkload(name string) error {
	if slices.Contains(Workloads, name) {
		return nil
	}
	return fmt.Errorf("unknown workload %q (%s)", name, strings.Join(Workloads, ", "))
}

// Run loads the workload's catalog into t, drives the orders, reads t's state,
// checks the invariant and returns the report; with cfg.HTML set it also
// writes the HTML report. An error means the run could not take place (bad
// config, load or connect failed); a broken invariant is a report with
// Invariant BROKEN, not an error.
func Run(ctx context.Context, cfg Config, t Target) (*Report, error) {
	if cfg.Target == "" {
		cfg.Target = defaultTarget
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w, err := NewWorkload(cfg.Workload, cfg.Scale)
	if err != nil {
		return nil, err
	}
	cat := w.Catalog()
	if err := t.Load(ctx, cat); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	conns, err := t.Connect(ctx, cfg.Conns)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer closeConns(conns)
	if len(conns) != cfg.Conns {
		return nil, fmt.Errorf("connect: asked for %d connections, got %d", cfg.Conns, len(conns))
	}

	var prog *progress
	if !cfg.Quiet {
		out, every := cfg.Progress, cfg.ProgressEvery
		if out == nil {
			out = os.Stderr
		}
		if every <= 0 {
			every = time.Second
		}
		prog = newProgress(out, every, cfg.Target+" "+w.Name)
	}
	cpu0, cpuErr := serverCPU(ctx, cfg.CPU)
	r := drive(ctx, &cfg, w, cat, conns, prog)
	var cpu cpuUse
	if cfg.CPU != nil {
		cpu1, err := serverCPU(context.WithoutCancel(ctx), cfg.CPU)
		cpu = cpuUse{measured: cpuErr == nil && err == nil, seconds: cpu1 - cpu0, err: errors.Join(cpuErr, err)}
	}

	// The state is read even if ctx was cancelled: a run stopped early must
	// still not have broken the invariant.
	dumpCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dumpTimeout)
	defer cancel()
	st, dumpErr := t.Dump(dumpCtx, cat, ackedIDs(r.Acks))
	var problems []string
	if dumpErr == nil {
		problems = Check(w, st, r)
	}
	rep := newReport(&cfg, w, r, problems, dumpErr)
	rep.setCPU(cpu)
	if cfg.HTML != "" {
		if err := writeHTMLFile(cfg.HTML, rep); err != nil {
			return rep, fmt.Errorf("html report: %w", err)
		}
	}
	return rep, nil
}

func ackedIDs(acks []Ack) []uint64 {
	var ids []uint64
	for _, a := range acks {
		if a.ID != 0 {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func closeConns(conns []Conn) {
	for _, c := range conns {
		if cl, ok := c.(io.Closer); ok {
			cl.Close()
		}
	}
}

func writeHTMLFile(path string, rep *Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteHTML(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cpuUse is the server CPU measured over a run.
type cpuUse struct {
	measured bool
	seconds  float64
	err      error
}

// serverCPUTimeout bounds reading the server's CPU counter around the run.
const serverCPUTimeout = 5 * time.Second

func serverCPU(ctx context.Context, m CPUMeter) (float64, error) {
	if m == nil {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, serverCPUTimeout)
	defer cancel()
	return m.ServerCPUSeconds(ctx)
}
