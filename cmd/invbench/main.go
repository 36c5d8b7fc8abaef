// Command invbench runs the reference workloads of WORKLOAD.md against an
// inv server or cluster through the client library, and checks the
// invariant on the server's state afterwards.
//
//	invbench [--addr HOST:PORT[,HOST:PORT...]] [--token T] --workload NAME [--scale N]
//	         [--conns C] [--inflight P] [--duration D] [--rate R] [--quiet]
//	         [--report FILE.html] [--run-id ID]
//	invbench table [FILE ...]     side-by-side table of JSON lines (stdin without FILE)
//
// It prints the human table, then WORKLOAD.md's JSON line, then "invariant
// ok" on stdout (progress and load lines go to stderr) and exits 0; a
// broken or unchecked invariant prints "invariant BROKEN" (or UNCHECKED)
// last and exits 1; a run that could not take place (bad flags: 2; no
// server, load failed: 3) prints why on stderr.
//
// Each run prefixes its SKU, customer and idempotency-key ids with a run id
// (random unless --run-id gives one), so runs against one server do not
// collide; --run-id "" sends the bare ids of bench/ids.go and needs a fresh
// server (make bench-peers starts one per workload). See bench.ClientTarget.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/invsys/inv/bench"
	"github.com/invsys/inv/client"
)

const (
	exitBroken = 1
	exitUsage  = 2
	exitFailed = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "table" {
		return table(args[1:], stdout, stderr)
	}
	cfg := bench.DefaultConfig()
	fs := flag.NewFlagSet("invbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.RegisterFlags(fs)
	addr := fs.String("addr", "127.0.0.1:7420", "server address host:port, or a comma-separated list of a cluster's nodes")
	token := fs.String("token", "", "auth token (its role must allow the catalog operations and reserves)")
	runID := fs.String("run-id", "auto", `prefix of every SKU, customer and key id ("auto": a random one; "": none, needs a fresh server)`)
	batchDelay := fs.Duration("batch-delay", 0, "client option WithBatchDelay of the measured connections (0: the client's default, send at once)")
	metricsAddr := fs.String("metrics", "", "the servers' metrics pages (host:port of invd's HTTP, or URLs, comma-separated): report their CPU µs per request")
	cpuProfile := fs.String("cpuprofile", "", "write invbench's own CPU profile (load, run and dump) to this file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "invbench: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "invbench:", err)
		return exitUsage
	}
	var addrs []string
	for _, a := range strings.Split(*addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		fmt.Fprintln(stderr, "invbench: --addr names no server")
		return exitUsage
	}
	if *metricsAddr != "" {
		m, err := bench.NewMetricsCPU(*metricsAddr)
		if err != nil {
			fmt.Fprintln(stderr, "invbench: --metrics:", err)
			return exitUsage
		}
		cfg.CPU = m
	}
	id := *runID
	if id == "auto" {
		id = newRunID()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "invbench:", err)
			return exitFailed
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	var opts []client.Option
	if *batchDelay > 0 {
		opts = append(opts, client.WithBatchDelay(*batchDelay))
	}
	if *token != "" {
		opts = append(opts, client.WithToken(*token))
	}

	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	t, err := bench.NewClientTarget(dctx, addrs, id, opts...)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "invbench:", err)
		return exitFailed
	}
	defer t.Close()
	if !cfg.Quiet {
		t.Progress = stderr
	}
	if id != "" {
		fmt.Fprintf(stderr, "# run id %q: SKUs %ssku-…, customers %sc-…\n", id, id, id)
	}
	rep, err := bench.Run(ctx, cfg, t)
	if err != nil {
		fmt.Fprintln(stderr, "invbench:", err)
		if rep == nil {
			return exitFailed
		}
	}
	if err := rep.Print(stdout); err != nil {
		fmt.Fprintln(stderr, "invbench:", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "invariant %s\n", rep.Invariant)
	if rep.Invariant != bench.InvariantOK {
		return exitBroken
	}
	return 0
}

// newRunID returns "r" and five random base-36 digits and a dash.
func newRunID() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [5]byte
	rand.Read(b[:])
	id := []byte{'r'}
	for _, v := range b {
		id = append(id, digits[int(v)%len(digits)])
	}
	return string(append(id, '-'))
}

// table prints the side-by-side table of the JSON lines in files (or stdin).
func table(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invbench table", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ours := fs.String("ours", "inv", "the target whose ratio to every other is shown")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var r io.Reader = os.Stdin
	if fs.NArg() > 0 {
		var readers []io.Reader
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(stderr, "invbench:", err)
				return exitFailed
			}
			defer f.Close()
			readers = append(readers, f, strings.NewReader("\n"))
		}
		r = io.MultiReader(readers...)
	}
	lines, err := bench.ReadLines(r)
	if err != nil {
		fmt.Fprintln(stderr, "invbench:", err)
		return exitFailed
	}
	if err := bench.WriteComparison(stdout, lines, *ours); err != nil {
		fmt.Fprintln(stderr, "invbench:", err)
		return exitFailed
	}
	return 0
}
