package bench

// Proves the side-by-side table of make bench-peers: ReadLines keeps only
// the JSON lines of runners (skipping tables, progress and comments, the
// later of two lines of one workload and system winning), and
// WriteComparison puts inv's row first in each workload, in WORKLOAD.md's
// order, with inv's throughput over each peer's and each peer's p99 over
// inv's, the server CPU per request where a runner measured it, and flags
// an incomplete run.

import (
	"strings"
	"testing"
)

func TestComparison(t *testing.T) {
	in := `# building
peer=postgres workload=flash-hot ops_per_s=4743
{"workload":"pickup-window","target":"inv","conns":64,"inflight":16,"scale":10,"ops_per_s":100000,"p50_us":10,"p99_us":1000,"p999_us":2000,"errors":0,"invariant":"ok"}
{"workload":"flash-hot","target":"postgres","conns":64,"inflight":16,"scale":10,"ops_per_s":5000,"p99_us":1500000,"invariant":"ok","complete":false}
{"workload":"flash-hot","target":"inv","conns":64,"inflight":16,"scale":10,"ops_per_s":1,"p99_us":1,"invariant":"ok"}
  request  ok  sold_out
{"workload":"flash-hot","target":"inv","conns":64,"inflight":16,"scale":10,"ops_per_s":125000,"p50_us":4000,"p99_us":15000,"p999_us":30000,"invariant":"ok","server_cpu_us_per_req":6.25}
{"workload":"flash-hot","target":"redis-always","conns":64,"inflight":16,"scale":10,"ops_per_s":250000,"p99_us":15000,"invariant":"ok"}
{"not":"a run"}
`
	lines, err := ReadLines(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4: %+v", len(lines), lines)
	}
	var b strings.Builder
	if err := WriteComparison(&b, lines, "inv"); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"| flash-hot | inv | 10 | 64x16 | 125,000 | 4,000 | 15,000 | 30,000 | 6.2 | 0 | ok |  |  |",
		"| flash-hot | postgres | 10 | 64x16 | 5,000 | 0 | 1,500,000 | 0 |  | 0 | ok, incomplete | 25x | 100x |",
		"| flash-hot | redis-always | 10 | 64x16 | 250,000 | 0 | 15,000 | 0 |  | 0 | ok | 0.50x | 1.00x |",
		"| pickup-window | inv | 10 | 64x16 | 100,000 | 10 | 1,000 | 2,000 |  | 0 | ok |  |  |",
	}
	if len(got) != 2+len(want) {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, w := range want {
		if got[2+i] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, got[2+i], w)
		}
	}
	for n, s := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if thousands(n) != s {
			t.Errorf("thousands(%d) = %s", n, thousands(n))
		}
	}
}
