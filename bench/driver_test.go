package bench

// Proves the closed-loop driver end to end through Run, against the fake
// model: every workload runs to completion with the outcomes WORKLOAD.md
// promises (flash-hot sells exactly its stock, flash-spread confirms nine
// holds in ten and cancels the rest, pickup-window refuses about a fifth as
// window full), the counts add up the way the report defines them, and the
// invariant check passes. Then the unhappy paths: lost replies become errors
// the check tolerates, a target that oversells is reported BROKEN, the
// duration stops a slow run with complete=false, and the progress line is
// printed (or not, with quiet).

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"
)

func quietConfig(name string, scale int) Config {
	cfg := DefaultConfig()
	cfg.Workload, cfg.Scale, cfg.Conns, cfg.Inflight, cfg.Quiet = name, scale, 4, 8, true
	cfg.Duration = 20 * time.Second
	return cfg
}

func runFake(t *testing.T, cfg Config, f *fake) *Report {
	t.Helper()
	rep, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != rep.Successes+rep.Refused+rep.Errors {
		t.Errorf("requests %d != successes %d + refused %d + errors %d", rep.Requests, rep.Successes, rep.Refused, rep.Errors)
	}
	if n := rep.Latency.Count(); n != rep.Requests {
		t.Errorf("%d latencies for %d requests", n, rep.Requests)
	}
	var perSecond int64
	for i := range rep.Timeline {
		perSecond += rep.Timeline[i].Requests()
	}
	if perSecond != rep.Requests {
		t.Errorf("timeline holds %d requests of %d", perSecond, rep.Requests)
	}
	return rep
}

func TestRunFlashHot(t *testing.T) {
	rep := runFake(t, quietConfig(FlashHot, 100), newFake()) // stock 1,000, 10,000 customers
	if rep.Invariant != InvariantOK || !rep.Complete || rep.Errors != 0 {
		t.Fatalf("invariant %s complete %v errors %d: %q", rep.Invariant, rep.Complete, rep.Errors, rep.Problems)
	}
	if rep.Reserved != 1000 || rep.Successes != 1000 || rep.Refused != 9000 || rep.Requests != 10_000 ||
		rep.Counts[KindReserve][OutcomeSoldOut] != 9000 {
		t.Errorf("reserved %d successes %d refused %d requests %d", rep.Reserved, rep.Successes, rep.Refused, rep.Requests)
	}
	if rep.SellOut <= 0 || rep.SellOut > rep.Elapsed {
		t.Errorf("sold out after %v of %v", rep.SellOut, rep.Elapsed)
	}
	if rep.OpsPerSec != float64(rep.Successes+rep.Refused)/rep.Elapsed.Seconds() {
		t.Errorf("ops/s %v", rep.OpsPerSec)
	}
}

func TestRunFlashSpread(t *testing.T) {
	rep := runFake(t, quietConfig(FlashSpread, 1000), newFake()) // 1,000 x 1 items, 2,000 orders
	if rep.Invariant != InvariantOK || !rep.Complete || rep.Errors != 0 {
		t.Fatalf("invariant %s complete %v errors %d: %q", rep.Invariant, rep.Complete, rep.Errors, rep.Problems)
	}
	confirmed, cancelled := rep.Counts[KindConfirm][OutcomeOK], rep.Counts[KindCancel][OutcomeOK]
	if confirmed+cancelled != rep.Reserved || rep.Orders != 2000 {
		t.Errorf("reserved %d, confirmed %d + cancelled %d, orders %d", rep.Reserved, confirmed, cancelled, rep.Orders)
	}
	if share := float64(cancelled) / float64(rep.Reserved); share < 0.06 || share > 0.14 {
		t.Errorf("%.2f of holds cancelled, want about 0.1", share)
	}
	if rep.Successes != rep.Reserved+confirmed+cancelled {
		t.Errorf("successes %d must count reserves, confirms and cancels", rep.Successes)
	}
}

func TestRunPickupWindow(t *testing.T) {
	rep := runFake(t, quietConfig(PickupWindow, 200), newFake()) // 100 x 1 items x 8 windows, 10,000 reserves
	if rep.Invariant != InvariantOK || !rep.Complete || rep.Errors != 0 {
		t.Fatalf("invariant %s complete %v errors %d: %q", rep.Invariant, rep.Complete, rep.Errors, rep.Problems)
	}
	full := rep.Counts[KindReserve][OutcomeWindowFull]
	// 10,000 reserves for 8,000 units of quota: at least a fifth are refused,
	// and only windows refuse (stock 100 > 8 x 10).
	if full < 2000 || rep.Counts[KindReserve][OutcomeSoldOut] != 0 || rep.Reserved+full != 10_000 {
		t.Errorf("reserved %d, window full %d, sold out %d", rep.Reserved, full, rep.Counts[KindReserve][OutcomeSoldOut])
	}
}

// Replies lost after the target applied the request are errors; the check
// accounts for them and still passes.
func TestRunLostReplies(t *testing.T) {
	f := newFake()
	f.lose = func(n int64) bool { return n%97 == 13 }
	rep := runFake(t, quietConfig(FlashSpread, 1000), f)
	if rep.Errors == 0 || len(rep.ErrorsSeen) == 0 || !strings.Contains(rep.ErrorsSeen[0], "reply lost") {
		t.Fatalf("errors %d, samples %q", rep.Errors, rep.ErrorsSeen)
	}
	if rep.Invariant != InvariantOK {
		t.Errorf("lost replies broke the check: %q", rep.Problems)
	}
}

// A target that does not check stock oversells, and the report says so.
func TestRunBrokenTarget(t *testing.T) {
	f := newFake()
	f.ignoreStock = true
	rep := runFake(t, quietConfig(FlashHot, 1000), f)
	if rep.Invariant != InvariantBroken {
		t.Fatalf("oversell not reported: %s", rep.Invariant)
	}
	expectProblem(t, rep.Problems, "OVERSELL")
}

// The duration stops new orders; what was sent is still checked.
func TestRunDurationStops(t *testing.T) {
	f := newFake()
	f.latency = 2 * time.Millisecond
	cfg := quietConfig(FlashSpread, 100) // 20,000 orders: far more than fit in the duration
	cfg.Conns, cfg.Inflight, cfg.Duration = 2, 2, 150*time.Millisecond
	rep := runFake(t, cfg, f)
	if rep.Complete || rep.Orders == 0 || rep.Orders >= int64(rep.OrdersAll) {
		t.Fatalf("complete %v after %d of %d orders", rep.Complete, rep.Orders, rep.OrdersAll)
	}
	if rep.Elapsed > 2*time.Second || rep.Invariant != InvariantOK {
		t.Errorf("elapsed %v, invariant %s %q", rep.Elapsed, rep.Invariant, rep.Problems)
	}
}

// Cancelling the caller's context stops the run like the duration does.
func TestRunContextCancel(t *testing.T) {
	f := newFake()
	f.latency = time.Millisecond
	cfg := quietConfig(FlashHot, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rep, err := Run(ctx, cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete || rep.Elapsed > 2*time.Second || rep.Invariant != InvariantOK {
		t.Errorf("complete %v elapsed %v invariant %s %q", rep.Complete, rep.Elapsed, rep.Invariant, rep.Problems)
	}
}

func TestProgressLine(t *testing.T) {
	f := newFake()
	f.latency = time.Millisecond
	var buf bytes.Buffer
	cfg := quietConfig(FlashSpread, 100)
	cfg.Quiet, cfg.Progress, cfg.ProgressEvery = false, &buf, 20*time.Millisecond
	cfg.Duration = 150 * time.Millisecond
	runFake(t, cfg, f)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "inv flash-spread") ||
		!strings.Contains(lines[0], "requests") || !strings.Contains(lines[0], "/s") || !strings.Contains(lines[0], "errors 0") {
		t.Fatalf("progress lines: %q", lines)
	}
	buf.Reset()
	cfg.Quiet = true
	runFake(t, cfg, f)
	if buf.Len() != 0 {
		t.Errorf("quiet run printed %q", buf.String())
	}
}

func TestConfig(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("invbench", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	err := fs.Parse([]string{"-workload", "pickup-window", "-scale", "10", "-conns", "8", "-inflight", "4",
		"-duration", "30s", "-grace", "1s", "-rate", "500", "-quiet", "-report", "r.html"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Workload: PickupWindow, Scale: 10, Conns: 8, Inflight: 4, Duration: 30 * time.Second,
		Grace: time.Second, Rate: 500, Quiet: true, HTML: "r.html", Target: "inv"}
	if cfg != want {
		t.Errorf("flags gave %+v", cfg)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.Workload = "nope" },
		func(c *Config) { c.Scale = 0 },
		func(c *Config) { c.Conns = 0 },
		func(c *Config) { c.Conns, c.Inflight = 1024, 1024 },
		func(c *Config) { c.Duration = 0 },
		func(c *Config) { c.Rate = -1 },
	} {
		c := DefaultConfig()
		bad(&c)
		if c.Validate() == nil {
			t.Errorf("accepted %+v", c)
		}
		if _, err := Run(context.Background(), c, newFake()); err == nil {
			t.Errorf("Run accepted %+v", c)
		}
	}
}
