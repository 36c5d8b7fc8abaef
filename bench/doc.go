// Package bench is inv's load harness: the reference workloads of
// WORKLOAD.md (flash-hot, flash-spread, pickup-window), a closed-loop and an
// open-loop driver, a latency histogram, the invariant check run after every
// benchmark, and the reports (a table, the one-line JSON every runner prints,
// and an HTML page with charts).
//
// It generates the same order lists as the peers' load generator
// (shared/peers) from the same seed, so that figures for inv and for Redis,
// etcd and PostgreSQL are comparable. ids.go says how the workloads' numbers
// map to the engine's byte ids.
//
// The system under test is a Target: cmd/invbench plugs in ClientTarget
// (clienttarget.go), a thin adapter over the client library, the tests an
// in-memory model. Run is the entry point; Config.RegisterFlags gives
// cmd/invbench its flags. compare.go makes the side-by-side table of make
// bench-peers (bench/peers.sh) from the JSON lines of invbench and the peers.
//
// bench imports engine (for its codes) and the standard library. It may import client (for the
// adapter) and engine (for its types); it must not import server, raftstore
// or protocol, so that the harness measures the system only through what a
// user's program sees.
package bench
