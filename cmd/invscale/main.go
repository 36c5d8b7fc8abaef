// Command invscale measures one invd at scale: it starts a real invd on a
// fresh data folder, loads SCALE_ITEMS items (every SKU at every one of
// -stores stores) through the client's bulk puts (client.PutItems,
// docs/adr/0121), holds a share of them, then prints one JSON line:
// resident, heap and data-folder bytes per item under load and after a
// restart; bulk-load items per second; protocol bytes in and out a loaded
// item and a reserve costs at the node; each
// shard's snapshot duration; the longest apply stall a snapshot caused
// (inv_raft_snapshot_capture_max_seconds); reserve p99 and longest while
// every shard snapshots; restart-to-ready time. make test-scale runs it
// (docs/BENCHMARKS.md, "Scale").
//
//	invscale --invd bin/invd --items 2000000 [--stores 1000] [--hold-share 0.12] [--shards N] [--keep DIR]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/invsys/inv/client"
)

// Phase lengths around the snapshot: enough reserves before it for a
// baseline, and after it for the tail to settle.
const (
	baselineFor = 2 * time.Second
	tailFor     = time.Second
)

type config struct {
	invd, keep, config    string
	items, stores, shards int
	holdShare             float64
	workers, snapWorkers  int
	stock                 int64
	heapProfile           string
}

// result is the JSON line.
type result struct {
	Items  int `json:"items"`
	Holds  int `json:"holds"`
	Shards int `json:"shards"`

	LoadItemsPerS float64 `json:"load_items_per_s"`
	// invd's CPU (process_cpu_seconds_total) from the load's start to its
	// end, per item loaded: what the machine's other users do not change.
	// Compactions the load leaves behind run later and are not in it.
	LoadCPUMicrosPerItem float64 `json:"load_cpu_us_per_item"`
	HoldsPerS            float64 `json:"holds_per_s"`

	RSSBytesPerItemLoad  float64 `json:"rss_bytes_per_item_load"`
	HeapBytesPerItemLoad float64 `json:"heap_inuse_bytes_per_item_load"`
	RSSBytesPerItemRest  float64 `json:"rss_bytes_per_item_rest"`
	HeapBytesPerItemRest float64 `json:"heap_inuse_bytes_per_item_rest"`
	DataBytesPerItem     float64 `json:"data_bytes_per_item"`

	SnapshotSecondsPerShard map[string]float64 `json:"snapshot_seconds_per_shard"`
	SnapshotCallSeconds     float64            `json:"snapshot_call_seconds"`
	ApplyStallMaxMS         float64            `json:"apply_stall_max_ms"`
	SnapshotsCopied         float64            `json:"snapshots_copied"`
	ReserveP99MSSnapshot    float64            `json:"reserve_p99_ms_during_snapshot"`
	ReserveMaxMSSnapshot    float64            `json:"reserve_max_ms_during_snapshot"`
	ReservesDuringSnapshot  int                `json:"reserves_during_snapshot"`
	ReserveP99MSBaseline    float64            `json:"reserve_p99_ms_baseline"`

	RestartReadyS float64 `json:"restart_ready_s"`

	// Network at the node (inv_received_bytes_total, inv_sent_bytes_total):
	// protocol bytes a loaded item and a reserve cost, in and out.
	LoadBytesInPerItem     float64 `json:"load_bytes_in_per_item"`
	LoadBytesOutPerItem    float64 `json:"load_bytes_out_per_item"`
	ReserveBytesInPerCall  float64 `json:"reserve_bytes_in_per_call"`
	ReserveBytesOutPerCall float64 `json:"reserve_bytes_out_per_call"`
}

// traffic returns the protocol bytes the node read and wrote so far, and
// the CPU seconds it used.
func traffic(n *node) (in, out, cpu float64, err error) {
	m, err := n.metrics()
	if err != nil {
		return 0, 0, 0, err
	}
	return m["inv_received_bytes_total"], m["inv_sent_bytes_total"], m["process_cpu_seconds_total"], nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invscale:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("invscale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.invd, "invd", "bin/invd", "invd binary")
	fs.IntVar(&c.items, "items", 6_000_000, "items to load (SKU x store)")
	fs.IntVar(&c.stores, "stores", 1000, "stores: items are SKUs at every store")
	fs.Float64Var(&c.holdShare, "hold-share", 0.12, "share of items held once (flash-spread at scale 1: 60,000 holds on 500,000 items)")
	fs.IntVar(&c.shards, "shards", 0, "invd --shards (0: invd's default)")
	fs.IntVar(&c.workers, "workers", 512, "concurrent requests while loading")
	fs.IntVar(&c.snapWorkers, "snapshot-workers", 32, "concurrent reserves while the snapshots are taken")
	fs.Int64Var(&c.stock, "stock", 50, "units per item")
	fs.StringVar(&c.keep, "keep", "", "folder for the data and invd's log, kept (default: a temporary one, removed)")
	fs.StringVar(&c.config, "config", "", "invd --config file")
	fs.StringVar(&c.heapProfile, "heap-profile", "", "write invd's heap profile (/debug/pprof/heap) here once the items are held, and FILE.rest after the restart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.items < c.stores || c.stores < 1 || c.holdShare < 0 || c.holdShare > 1 {
		return errors.New("need --items >= --stores >= 1 and 0 <= --hold-share <= 1")
	}
	res, err := measure(context.Background(), c, stderr)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

func measure(ctx context.Context, c config, stderr io.Writer) (*result, error) {
	dir := c.keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "invscale-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	n := &node{bin: c.invd, data: filepath.Join(dir, "data"), config: c.config, shards: c.shards}
	var err error
	if n.listen, err = freePort(); err != nil {
		return nil, err
	}
	if n.http, err = freePort(); err != nil {
		return nil, err
	}
	if _, err := n.start(ctx); err != nil {
		return nil, err
	}
	defer n.stop()
	cl, err := client.Dial(ctx, []string{n.listen}, client.WithConnsPerNode(4))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	cat := newCatalog(c.items, c.stores)
	res := &result{Items: c.items, Holds: int(float64(c.items) * c.holdShare), Shards: cl.Shards()}
	logf := func(f string, a ...any) { fmt.Fprintf(stderr, "invscale: "+f+"\n", a...) }

	logf("loading %d items", c.items)
	in0, out0, cpu0, err := traffic(n)
	if err != nil {
		return nil, err
	}
	if res.LoadItemsPerS, err = loadItems(ctx, cl, cat, c.stock, c.workers); err != nil {
		return nil, err
	}
	in1, out1, cpu1, err := traffic(n)
	if err != nil {
		return nil, err
	}
	res.LoadBytesInPerItem, res.LoadBytesOutPerItem = (in1-in0)/float64(c.items), (out1-out0)/float64(c.items)
	res.LoadCPUMicrosPerItem = (cpu1 - cpu0) * 1e6 / float64(c.items)
	logf("%.0f items/s; holding %d", res.LoadItemsPerS, res.Holds)
	if res.HoldsPerS, err = hold(ctx, cl, cat, res.Holds, c.workers); err != nil {
		return nil, err
	}
	if err := memory(n, res, false); err != nil {
		return nil, err
	}
	if err := n.heapProfile(c.heapProfile); err != nil {
		return nil, err
	}
	logf("snapshots under load")
	if err := snapshotUnderLoad(ctx, n, cl, cat, c.snapWorkers, res); err != nil {
		return nil, err
	}
	cl.Close()
	logf("restart")
	if err := n.stop(); err != nil {
		return nil, err
	}
	took, err := n.start(ctx)
	if err != nil {
		return nil, err
	}
	res.RestartReadyS = took.Seconds()
	res.DataBytesPerItem = float64(dirBytes(n.data)) / float64(c.items)
	if c.heapProfile != "" {
		if err := n.heapProfile(c.heapProfile + ".rest"); err != nil {
			return nil, err
		}
	}
	return res, memory(n, res, true)
}

// memory records RSS and heap in use per item, under load or at rest.
func memory(n *node, res *result, rest bool) error {
	rss, err := n.rss()
	if err != nil {
		return err
	}
	m, err := n.metrics()
	if err != nil {
		return err
	}
	heap := m["go_memstats_heap_inuse_bytes"]
	items := float64(res.Items)
	if rest {
		res.RSSBytesPerItemRest, res.HeapBytesPerItemRest = float64(rss)/items, heap/items
	} else {
		res.RSSBytesPerItemLoad, res.HeapBytesPerItemLoad = float64(rss)/items, heap/items
	}
	return nil
}

// snapshotUnderLoad snapshots every shard (the SNAPSHOT command) while
// reserves run, and records each shard's snapshot duration, the longest
// apply stall and the reserves' latency during the snapshots.
func snapshotUnderLoad(ctx context.Context, n *node, cl *client.Client, cat catalog, workers int, res *result) error {
	before, err := n.metrics()
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	samples := background(cl, cat, workers, stop)
	time.Sleep(baselineFor) // the reserves' baseline: a phase of fixed length, not a wait for an event
	from := time.Now()
	reply, err := cl.Snapshot(ctx)
	to := time.Now()
	time.Sleep(tailFor)
	close(stop)
	all := samples()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	for _, s := range reply.Shards {
		if s.Message != "" {
			return fmt.Errorf("snapshot of shard %d: %s", s.Shard, s.Message)
		}
	}
	after, err := n.metrics()
	if err != nil {
		return err
	}
	res.SnapshotCallSeconds = to.Sub(from).Seconds()
	res.SnapshotSecondsPerShard = map[string]float64{}
	sumB, sumA := perShard(before, "inv_raft_snapshot_duration_seconds_sum"), perShard(after, "inv_raft_snapshot_duration_seconds_sum")
	cntB, cntA := perShard(before, "inv_raft_snapshot_duration_seconds_count"), perShard(after, "inv_raft_snapshot_duration_seconds_count")
	for sh, s := range sumA {
		if dc := cntA[sh] - cntB[sh]; dc > 0 {
			res.SnapshotSecondsPerShard[sh] = (s - sumB[sh]) / dc
		}
	}
	for _, v := range perShard(after, "inv_raft_snapshot_capture_max_seconds") {
		res.ApplyStallMaxMS = max(res.ApplyStallMaxMS, v*1000)
	}
	for _, v := range perShard(after, "inv_raft_snapshots_copied_total") {
		res.SnapshotsCopied += v
	}
	res.ReserveP99MSSnapshot, res.ReserveMaxMSSnapshot, res.ReservesDuringSnapshot = latency(all, from, to)
	if len(all) > 0 { // the phase's traffic is its reserves' (one SNAPSHOT call besides)
		calls := float64(len(all))
		res.ReserveBytesInPerCall = (after["inv_received_bytes_total"] - before["inv_received_bytes_total"]) / calls
		res.ReserveBytesOutPerCall = (after["inv_sent_bytes_total"] - before["inv_sent_bytes_total"]) / calls
	}
	res.ReserveP99MSBaseline, _, _ = latency(all, from.Add(-baselineFor), from)
	runtime.KeepAlive(all)
	return nil
}
