// Benchmarks of reserves through the client against a real invd: one
// caller at a time (a round trip through commit and fsync), and many
// goroutines sharing one Client (the throughput batching gives).
//
//	go test -run XXX -bench Invd -benchmem ./client/
package client_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/client"
)

func BenchmarkReserveInvd(b *testing.B) {
	c := needInvd(b)
	sku, store := uniq("bench"), "S1"
	putItem(b, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1 << 30})
	ctx := context.Background()
	req := client.ReserveRequest{SKU: sku, Store: store, Customer: "M1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Reserve(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReserveInvdParallel(b *testing.B) {
	c := needInvd(b)
	sku, store := uniq("bench"), "S1"
	putItem(b, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1 << 30})
	ctx := context.Background()
	customers := make([]string, 4096)
	for i := range customers {
		customers[i] = "M" + strconv.Itoa(i)
	}
	var next atomic.Int64
	b.SetParallelism(256)
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		req := client.ReserveRequest{SKU: sku, Store: store}
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
