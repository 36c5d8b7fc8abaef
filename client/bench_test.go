// Benchmarks of the client path. Against the lean fake server (which
// answers without allocating) they measure the client alone: the cost and
// allocations of one reserve, and the calls per second one Client carries
// for many goroutines through pipelining and batching. Against a real invd
// they measure the whole path, commit and fsync included.
//
//	go test -run XXX -bench . -benchmem ./client/
package client

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func benchClient(b *testing.B, addr string, opts ...Option) *Client {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, []string{addr}, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkReserveFake: one goroutine, one call at a time: the latency and
// allocations of the client's path plus a loopback round trip.
func BenchmarkReserveFake(b *testing.B) {
	f := newFakeNode(b, 1, 16, nil, true)
	c := benchClient(b, f.addr)
	ctx := context.Background()
	req := ReserveRequest{SKU: "4710088412345", Store: "TPE0427", Customer: "M00012345"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Reserve(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReserveFakeParallel: many goroutines share one Client: the
// calls per second its connections carry, batched.
func BenchmarkReserveFakeParallel(b *testing.B) {
	f := newFakeNode(b, 1, 16, nil, true)
	c := benchClient(b, f.addr)
	benchParallel(b, c, "4710088412345", "TPE0427")
}

func benchParallel(b *testing.B, c *Client, sku, store string) {
	ctx := context.Background()
	var next atomic.Int64
	customers := make([]string, 4096)
	for i := range customers {
		customers[i] = "M" + strconv.Itoa(i)
	}
	b.SetParallelism(256) // 256 × GOMAXPROCS goroutines: a busy web tier
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		req := ReserveRequest{SKU: sku, Store: store}
		for pb.Next() {
			req.Customer = customers[next.Add(1)%int64(len(customers))]
			if _, err := c.Reserve(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}
