// Benchmarks of coupon serials (coupons.go): a take (one serial handed
// out, its code derived by HMAC) and a redeem, in batches as the proposer
// groups them. They measure; they assert nothing about speed.
package engine

import (
	"fmt"
	"testing"
)

// benchIssues puts enough issues of MaxCouponSerials serials for n takes.
func benchIssues(e *Engine, n int) {
	for i := 0; i <= n/MaxCouponSerials; i++ {
		e.Apply(1, []Command{{Op: OpPutCouponIssue, SKU: benchIssueSKUs[i], Store: []byte("WEB"),
			Stock: MaxCouponSerials, CouponFlags: CouponChainWide}})
	}
}

// benchIssueSKUs are the issues' names, made once (not in the timed loop).
var benchIssueSKUs = func() (out [][]byte) {
	for i := 0; i < MaxCouponIssues; i++ {
		out = append(out, fmt.Appendf(nil, "CPN-%d", i))
	}
	return out
}()

func benchTake(i int, custs [][]byte) Command {
	return Command{Op: OpTakeCoupon, SKU: benchIssueSKUs[i/MaxCouponSerials], Store: []byte("WEB"), Customer: custs[i&(1<<16-1)]}
}

func BenchmarkCouponTake(b *testing.B) {
	e := New(Config{PickupSecret: []byte("bench")})
	benchIssues(e, b.N)
	custs := benchCustomers(1 << 16)
	cmds := make([]Command, benchBatch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += benchBatch {
		n := min(benchBatch, b.N-i)
		for j := 0; j < n; j++ {
			cmds[j] = benchTake(i+j, custs)
		}
		if res, _ := e.Apply(2, cmds[:n]); res[0].Code != OK {
			b.Fatal(res[0].Code)
		}
	}
}

func BenchmarkCouponRedeem(b *testing.B) {
	e := New(Config{PickupSecret: []byte("bench")})
	benchIssues(e, b.N)
	custs := benchCustomers(1 << 16)
	serials := make([]Result, 0, b.N)
	cmds := make([]Command, benchBatch)
	for i := 0; i < b.N; i += benchBatch {
		n := min(benchBatch, b.N-i)
		for j := 0; j < n; j++ {
			cmds[j] = benchTake(i+j, custs)
		}
		res, _ := e.Apply(2, cmds[:n])
		serials = append(serials, res...)
	}
	stores := benchCustomers(512)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += benchBatch {
		n := min(benchBatch, b.N-i)
		for j := 0; j < n; j++ {
			s := serials[i+j]
			cmds[j] = Command{Op: OpRedeemCoupon, ID: s.ID, PickupCode: s.PickupCode, Store: stores[(i+j)&511]}
		}
		if res, _ := e.Apply(3, cmds[:n]); res[0].Code != OK {
			b.Fatal(res[0].Code)
		}
	}
}
