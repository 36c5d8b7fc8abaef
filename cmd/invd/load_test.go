// A throughput and latency measurement, not a correctness test: it runs only
// when INV_LOAD is set. It drives a real invd with the flash-hot shape of
// WORKLOAD.md (one SKU at one store, every request a distinct customer
// reserving one unit, closed loop, 64 connections × 16 in flight by
// default) and prints one JSON line in the bench harness's format. The load
// generator runs in this process, on the same cores as the server.
//
//	INV_LOAD=1 go test -run TestLoad -v ./cmd/invd
//	INV_LOAD=1 INV_LOAD_REQUESTS=1000000 INV_LOAD_STOCK=100000 INV_LOAD_CONNS=64 \
//	  INV_LOAD_INFLIGHT=16 INV_LOAD_ADDR=127.0.0.1:7420 go test -run TestLoad -v ./cmd/invd
//
// INV_LOAD_ADDR points it at a server already running (with a fresh data
// folder); otherwise it starts one with INV_LOAD_CONFIG's config lines.
package main_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// flashHotFrame appends a reserve of one unit of HOT at S1 by customer n,
// encoded by hand (docs/PROTOCOL.md §6) so that the generator costs the
// shared cores as little as possible.
func flashHotFrame(dst []byte, n int64, reqID uint32) []byte {
	var cust [24]byte
	c := append(cust[:0], 'c')
	c = strconv.AppendInt(c, n, 10)
	payload := 4 + 1 + 3 + 1 + 2 + 1 + len(c) + 8
	dst = protocol.AppendFrameHeader(dst, protocol.DomainOp(engine.OpReserve), 0, reqID, payload)
	dst = binary.LittleEndian.AppendUint32(dst, 1<<0|1<<1|1<<2|1<<5) // sku, store, customer, qty
	dst = append(dst, 3, 'H', 'O', 'T', 2, 'S', '1', byte(len(c)))
	dst = append(dst, c...)
	return binary.LittleEndian.AppendUint64(dst, 1)
}

func TestLoad(t *testing.T) {
	if os.Getenv("INV_LOAD") == "" {
		t.Skip("a measurement: set INV_LOAD=1 to run it")
	}
	conns := int(envInt("INV_LOAD_CONNS", 64))
	inflight := int(envInt("INV_LOAD_INFLIGHT", 16))
	total := envInt("INV_LOAD_REQUESTS", 400_000)
	stock := envInt("INV_LOAD_STOCK", 100_000)

	// The hand-made frame must be what the codec would make.
	var cmd engine.Command
	f, _, err := protocol.ReadFrame(flashHotFrame(nil, 42, 7), 0)
	if err != nil || protocol.DecodeRequest(f.Op, f.Payload, &cmd) != nil || string(cmd.Customer) != "c42" || cmd.Qty != 1 {
		t.Fatalf("flash-hot frame does not decode: %v %+v", err, cmd)
	}

	addr := os.Getenv("INV_LOAD_ADDR")
	if addr == "" {
		p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data",
			Config: fastRaft + "log_level = warn\n" + os.Getenv("INV_LOAD_CONFIG")})
		if err != nil {
			t.Fatal(err)
		}
		cleanupProc(t, &p)
		addr = p.Addr()
		t.Logf("invd on %s, metrics on http://%s/metrics", addr, p.Opts.HTTP)
	}
	c, err := wireDial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Do(&engine.Command{Op: engine.OpPutItem, SKU: []byte("HOT"), Store: []byte("S1"), Stock: stock}); err != nil || r.Code != engine.OK {
		t.Fatalf("put_item: %v %s", err, r.Code)
	}

	res, err := wire.Run(addr, conns, inflight, total, flashHotFrame)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	it, err := c.Do(&engine.Command{Op: engine.OpGetItem, SKU: []byte("HOT"), Store: []byte("S1")})
	if err != nil {
		t.Fatal(err)
	}
	invariant := "ok"
	if it.Item.Held > stock || (total >= stock && res.OK != stock) || it.Item.Held != res.OK {
		invariant = "broken"
		t.Errorf("held %d, successes %d, stock %d", it.Item.Held, res.OK, stock)
	}
	if res.Errors > 0 {
		t.Errorf("%d errors: %v", res.Errors, res.Codes)
	}
	line, _ := json.Marshal(map[string]any{
		"workload": "flash-hot", "target": "inv", "conns": conns, "inflight": inflight,
		"requests": res.Requests, "successes": res.OK, "refused": res.Refused, "errors": res.Errors,
		"elapsed_s": res.Elapsed.Seconds(), "ops_per_s": int64(res.PerSecond()),
		"p50_us": res.Percentile(0.5) / time.Microsecond, "p99_us": res.Percentile(0.99) / time.Microsecond,
		"p999_us": res.Percentile(0.999) / time.Microsecond, "invariant": invariant,
	})
	t.Log(string(line))
}
