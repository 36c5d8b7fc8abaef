// Benchmarks of the engine's hot path and its memory per item and per hold.
// They measure; they assert nothing about speed. Figures and the commands
// that give them are in docs/BENCHMARKS.md.
package engine

import (
	"bytes"
	"fmt"
	"math/rand"
	"runtime"
	"testing"
	"time"
)

const benchBatch = 64 // commands per Apply, as the proposer groups them

// benchConfig keeps a steady state: holds expire and finished records and
// keys age out within a second of log time, so slabs and maps stop growing.
func benchConfig() Config {
	return Config{PickupSecret: []byte("bench"), DefaultHoldTTL: time.Second, MaxHold: time.Second,
		FinishedRetention: time.Second, IdempotencyRetention: time.Second}
}

// benchCustomers makes n customer ids.
func benchCustomers(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "c-%09d", i)
	}
	return out
}

// runReserves applies reserves in batches, advancing log time by step per
// batch. mk fills command i of the run.
func runReserves(b *testing.B, e *Engine, step int64, mk func(i int, c *Command)) {
	cmds := make([]Command, benchBatch)
	now := int64(1e18)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += benchBatch {
		n := min(benchBatch, b.N-i)
		for j := 0; j < n; j++ {
			mk(i+j, &cmds[j])
		}
		now += step
		res, _ := e.Apply(now, cmds[:n])
		if res[0].Code != OK && res[0].Code != CodeSoldOut {
			b.Fatalf("reserve: %v", res[0].Code)
		}
	}
}

// BenchmarkEngineReserveHot: one item, many customers (flash-hot).
func BenchmarkEngineReserveHot(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		b.Run(fmt.Sprintf("keys=%v", keyed), func(b *testing.B) {
			e := New(benchConfig())
			skuID, store := []byte("sku-hot"), []byte("st-0001")
			e.Apply(1e18-1, []Command{{Op: OpPutItem, SKU: skuID, Store: store, Stock: MaxStock}, {Op: OpSetLimit, SKU: skuID, Limit: 2}})
			custs := benchCustomers(1 << 16)
			keys := benchCustomers(1 << 20)
			runReserves(b, e, int64(time.Millisecond), func(i int, c *Command) {
				*c = Command{Op: OpReserve, SKU: skuID, Store: store, Customer: custs[i&(1<<16-1)], Qty: 1}
				if keyed {
					c.Key = keys[i&(1<<20-1)]
				}
			})
		})
	}
}

// spreadUniverse is 1,000 SKUs x 500 stores = 500,000 items.
const spreadSKUs, spreadStores = 1000, 500

func spreadItems() (skus, stores [][]byte) {
	for i := 0; i < spreadSKUs; i++ {
		skus = append(skus, fmt.Appendf(nil, "sku-%06d", i))
	}
	for i := 0; i < spreadStores; i++ {
		stores = append(stores, fmt.Appendf(nil, "st-%04d", i))
	}
	return
}

func loadSpread(e *Engine, skus, stores [][]byte, stock int64) {
	cmds := make([]Command, 0, 4096)
	for _, k := range skus {
		cmds = append(cmds, Command{Op: OpSetLimit, SKU: k, Limit: 2})
		for _, s := range stores {
			cmds = append(cmds, Command{Op: OpPutItem, SKU: k, Store: s, Stock: stock})
			if len(cmds) == cap(cmds) {
				e.Apply(0, cmds)
				cmds = cmds[:0]
			}
		}
	}
	e.Apply(0, cmds)
}

// BenchmarkEngineReserveSpread: 500,000 items, Zipf (s=1.1) over SKUs,
// uniform over stores (flash-spread).
func BenchmarkEngineReserveSpread(b *testing.B) {
	skus, stores := spreadItems()
	e := New(benchConfig())
	loadSpread(e, skus, stores, MaxStock)
	rng := rand.New(rand.NewSource(1))
	zipf := rand.NewZipf(rng, 1.1, 1, spreadSKUs-1)
	const n = 1 << 20
	pick := make([][2]int32, n)
	for i := range pick {
		pick[i] = [2]int32{int32(zipf.Uint64()), int32(rng.Intn(spreadStores))}
	}
	custs := benchCustomers(1 << 18)
	runReserves(b, e, int64(time.Millisecond), func(i int, c *Command) {
		p := pick[i&(n-1)]
		*c = Command{Op: OpReserve, SKU: skus[p[0]], Store: stores[p[1]], Customer: custs[i&(1<<18-1)], Qty: 1}
	})
}

// BenchmarkEngineConfirm: confirm of held reservations (flash-spread's second request).
func BenchmarkEngineConfirm(b *testing.B) {
	e := New(Config{PickupSecret: []byte("bench")})
	e.Apply(1, []Command{{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S"), Stock: MaxStock}})
	custs := benchCustomers(1 << 16)
	ids := make([]uint64, 0, b.N)
	cmds := make([]Command, benchBatch)
	for i := 0; i < b.N; i += benchBatch {
		n := min(benchBatch, b.N-i)
		for j := 0; j < n; j++ {
			cmds[j] = Command{Op: OpReserve, SKU: []byte("A"), Store: []byte("S"), Customer: custs[(i+j)&(1<<16-1)], Qty: 1}
		}
		res, _ := e.Apply(2, cmds[:n])
		for _, r := range res {
			ids = append(ids, r.ID)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += benchBatch {
		n := min(benchBatch, b.N-i)
		for j := 0; j < n; j++ {
			cmds[j] = Command{Op: OpConfirm, ID: ids[i+j]}
		}
		if res, _ := e.Apply(3, cmds[:n]); res[0].Code != OK {
			b.Fatal(res[0].Code)
		}
	}
}

func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkEngineMemory reports the heap bytes per item (500,000 items, no
// windows) and per active hold (500,000 holds by 500,000 customers; the
// customer records are counted apart), with and without idempotency keys.
func BenchmarkEngineMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		skus, stores := spreadItems()
		custs := benchCustomers(spreadSKUs * spreadStores)
		keys := benchCustomers(2 * spreadSKUs * spreadStores)
		for _, keyed := range []bool{false, true} {
			base := heapBytes()
			e := New(Config{PickupSecret: []byte("bench")})
			loadSpread(e, skus, stores, 50)
			afterItems := heapBytes()
			// Customers first (a block each), so the holds are measured alone.
			cmds := make([]Command, 0, 4096)
			flush := func() { e.Apply(1, cmds); cmds = cmds[:0] }
			for _, c := range custs {
				cmds = append(cmds, Command{Op: OpSetTier, Customer: c})
				if len(cmds) == cap(cmds) {
					flush()
				}
			}
			flush()
			afterCustomers := heapBytes()
			n := 0
			for _, k := range skus {
				for _, s := range stores {
					c := Command{Op: OpReserve, SKU: k, Store: s, Customer: custs[n], Qty: 1}
					if keyed {
						c.Key = keys[n]
					}
					cmds = append(cmds, c)
					n++
					if len(cmds) == cap(cmds) {
						flush()
					}
				}
			}
			flush()
			afterHolds := heapBytes()
			if e.Stats().ActiveHolds != int64(n) {
				b.Fatalf("holds %d, want %d", e.Stats().ActiveHolds, n)
			}
			items := float64(spreadSKUs * spreadStores)
			suffix := ""
			if keyed {
				suffix = "-keyed"
			} else {
				b.ReportMetric(float64(afterItems-base)/items, "B/item")
				b.ReportMetric(float64(afterCustomers-afterItems)/items, "B/customer")
			}
			b.ReportMetric(float64(afterHolds-afterCustomers)/float64(n), "B/hold"+suffix)
			runtime.KeepAlive(e)
		}
	}
}

// BenchmarkEngineReserveHotFresh: flash-hot as a fresh server sees it: every
// reserve from a new customer with a new 32-character key (the client's
// generated keys), kept for the default 24 h, so the idempotency table and
// the customer index grow through the run instead of cycling.
func BenchmarkEngineReserveHotFresh(b *testing.B) {
	cfg := benchConfig()
	cfg.IdempotencyRetention = 24 * time.Hour
	e := New(cfg)
	skuID, store := []byte("sku-hot"), []byte("st-0001")
	e.Apply(1e18-1, []Command{{Op: OpPutItem, SKU: skuID, Store: store, Stock: 100_000}, {Op: OpSetLimit, SKU: skuID, Limit: 2}})
	custs := benchCustomers(b.N)
	keys := make([][]byte, b.N)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%032x", uint64(i)*0x9E3779B97F4A7C15)
	}
	runReserves(b, e, int64(time.Millisecond), func(i int, c *Command) {
		*c = Command{Op: OpReserve, SKU: skuID, Store: store, Customer: custs[i], Qty: 1, Key: keys[i]}
	})
}

// BenchmarkEngineBulkPut applies bulk puts of MaxBulkItems new items each
// (a catalogue load: 1000 stores, SKUs at every store) into a growing
// shard, and reports items applied a second: the engine's share of a bulk
// load's ceiling (docs/adr/0121).
func BenchmarkEngineBulkPut(b *testing.B) {
	e := New(Config{ShardID: 1, PickupSecret: []byte("k")})
	cmd := Command{Op: OpPutItems, Items: make([]ItemPut, MaxBulkItems)}
	ids := make([][]byte, 0, 2*MaxBulkItems)
	next := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		ids = ids[:0]
		for k := range cmd.Items {
			sku, store := fmt.Appendf(nil, "sku-%07d", next/1000), fmt.Appendf(nil, "st-%05d", next%1000)
			ids = append(ids, sku, store)
			cmd.Items[k] = ItemPut{SKU: sku, Store: store, Set: ItemSetAll, Stock: 50}
			next++
		}
		b.StartTimer()
		if r, _ := e.Apply(1, []Command{cmd}); r[0].Code != OK {
			b.Fatal(r[0].Code)
		}
	}
	b.ReportMetric(float64(b.N*MaxBulkItems)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkEngineRestore restores a snapshot of 500,000 items (1,000 SKUs at
// 500 stores) with 60,000 holds by as many customers, and reports the time
// an item costs: the engine's share of a restart (docs/BENCHMARKS.md,
// "Scale").
func BenchmarkEngineRestore(b *testing.B) {
	skus, stores := spreadItems()
	e := New(Config{PickupSecret: []byte("bench")})
	loadSpread(e, skus, stores, 50)
	custs := benchCustomers(60_000)
	cmds := make([]Command, 0, 4096)
	for i, c := range custs {
		cmds = append(cmds, Command{Op: OpReserve, SKU: skus[i%spreadSKUs], Store: stores[(i/spreadSKUs)%spreadStores], Customer: c, Qty: 1})
		if len(cmds) == cap(cmds) {
			e.Apply(1, cmds)
			cmds = cmds[:0]
		}
	}
	e.Apply(1, cmds)
	var snap bytes.Buffer
	if err := e.Snapshot(&snap); err != nil {
		b.Fatal(err)
	}
	items := float64(spreadSKUs * spreadStores)
	b.ReportAllocs()
	for b.Loop() {
		r, err := Restore(Config{PickupSecret: []byte("bench")}, bytes.NewReader(snap.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		if r.Stats().Items != int64(items) || r.Stats().ActiveHolds != int64(len(custs)) {
			b.Fatalf("restored %d items %d holds", r.Stats().Items, r.Stats().ActiveHolds)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/items, "ns/item")
}

// BenchmarkEngineExpireBurst: a sale's holds all expiring in one apply
// round, as they do TTL after the opening second (45,000 a shard is
// 720,000 holds on 16 shards). Reported per expired hold.
func BenchmarkEngineExpireBurst(b *testing.B) {
	const holds = 45_000
	custs := benchCustomers(holds)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := New(Config{PickupSecret: []byte("bench")})
		e.Apply(1, []Command{{Op: OpPutItem, SKU: []byte("A"), Store: []byte("S"), Stock: MaxStock}})
		cmds := make([]Command, 0, benchBatch)
		for j := 0; j < holds; j++ {
			cmds = append(cmds, Command{Op: OpReserve, SKU: []byte("A"), Store: []byte("S"), Customer: custs[j], Qty: 1})
			if len(cmds) == benchBatch || j == holds-1 {
				e.Apply(2, cmds)
				cmds = cmds[:0]
			}
		}
		b.StartTimer()
		_, evs := e.Apply(2+int64(time.Hour), nil)
		if len(evs) != holds {
			b.Fatalf("%d events, want %d", len(evs), holds)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*holds), "ns/hold")
}

// BenchmarkOATableGrowth: two million keys put into an empty table, as a
// flash sale's hot shard takes its customers' idempotency keys, beside a
// live heap of 8M small objects (about 600 MB, as a node's state) and a
// small allocation every 64 puts (the rest of an apply allocates too, so
// the collector's assists are spread as in a node): reports the slowest
// single put (a growth's stall) beside the mean.
var benchSink []byte

func BenchmarkOATableGrowth(b *testing.B) {
	type node struct {
		next *node
		pad  [48]byte
	}
	live := make([]*node, 8<<20)
	for i := range live {
		live[i] = &node{}
		if i > 0 {
			live[i].next = live[i-1]
		}
	}
	b.ResetTimer()
	var worst time.Duration
	for i := 0; i < b.N; i++ {
		var tb u64table
		for k := uint64(1); k <= 2<<20; k++ {
			s := time.Now()
			tb.put(k*0x9E3779B97F4A7C15, k)
			if d := time.Since(s); d > worst {
				worst = d
			}
			if k%64 == 0 {
				benchSink = make([]byte, 4096)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N<<21), "ns/put")
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
	runtime.KeepAlive(live)
}
