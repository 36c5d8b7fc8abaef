// Linearizability of each item's history through faults, checked with
// porcupine. Several clients reserve units of a few items, cancel their own
// holds and read the items' available units, while the leader of the first
// item's shard is killed with SIGKILL and restarted, and then partitioned
// away from the majority and healed. Every call is recorded with its
// invocation and response times; a call whose answer never came (it failed
// after its retries) is recorded as unknown, with no response time: it may
// or may not have taken effect. The model of an item is its available
// count: a reserve of q succeeds iff at least q are available and takes
// them, is refused sold_out iff fewer are; a cancel gives its q back; a read
// returns the count. porcupine must find each item's history linearizable.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/protocol"
)

type linKind int

const (
	linReserve linKind = iota
	linCancel
	linRead
)

type linInput struct {
	item int
	kind linKind
	qty  int64
}

type linOutput struct {
	unknown bool  // no answer came: the call may or may not have happened
	ok      bool  // reserve or cancel succeeded (false: reserve sold out)
	avail   int64 // read
}

func itemModel(stock int64) porcupine.Model {
	m := &porcupine.NondeterministicModel{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			by := map[int][]porcupine.Operation{}
			for _, op := range h {
				in := op.Input.(linInput)
				by[in.item] = append(by[in.item], op)
			}
			var out [][]porcupine.Operation
			for _, ops := range by {
				out = append(out, ops)
			}
			return out
		},
		Init: func() []any { return []any{stock} },
		Step: func(state, input, output any) []any {
			s, in, out := state.(int64), input.(linInput), output.(linOutput)
			switch in.kind {
			case linReserve:
				if out.unknown {
					if s >= in.qty {
						return []any{s, s - in.qty}
					}
					return []any{s}
				}
				if out.ok && s >= in.qty {
					return []any{s - in.qty}
				}
				if !out.ok && s < in.qty {
					return []any{s}
				}
			case linCancel:
				if out.unknown {
					return []any{s, s + in.qty}
				}
				if out.ok {
					return []any{s + in.qty}
				}
			case linRead:
				if out.unknown || out.avail == s {
					return []any{s}
				}
			}
			return nil
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(linInput), output.(linOutput)
			return fmt.Sprintf("item %d kind %d qty %d -> %+v", in.item, in.kind, in.qty, out)
		},
	}
	return m.ToModel()
}

func TestLinearizableItemsThroughFaults(t *testing.T) {
	c := startCluster(t, 3, faultShards)
	const items, stock = 3, 40
	setup := dial(t, c)
	ctx0, cancel0 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel0()
	skus := make([]string, items)
	for i := range skus {
		skus[i] = fmt.Sprintf("lin-%d", i)
		if err := setup.PutItem(ctx0, client.ItemSpec{SKU: skus[i], Store: "s1", Stock: stock}); err != nil {
			t.Fatal(err)
		}
	}
	firstShard := protocol.ShardOf([]byte(skus[0]), []byte("s1"), faultShards)

	var mu sync.Mutex
	var history []porcupine.Operation
	base := time.Now()
	now := func() int64 { return time.Since(base).Nanoseconds() }
	record := func(id int, in linInput, call int64, out linOutput) {
		ret := now()
		if out.unknown {
			ret = math.MaxInt64 // it may take effect at any time after the call
		}
		mu.Lock()
		history = append(history, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
		mu.Unlock()
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for ci := range 3 {
		cl := dial(t, c)
		for g := range 3 {
			id := ci*3 + g
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(id), uint64(base.UnixNano())))
				type hold struct {
					id   uint64
					item int
					qty  int64
				}
				var mine []hold
				for {
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := callCtx()
					item := rng.IntN(items)
					switch p := rng.IntN(4); {
					case p < 2:
						in := linInput{item: item, kind: linReserve, qty: 1 + rng.Int64N(2)}
						call := now()
						res, err := cl.Reserve(ctx, client.ReserveRequest{SKU: skus[item], Store: "s1",
							Customer: fmt.Sprintf("lin-%d-%d", id, rng.IntN(1000)), Qty: in.qty, Key: cl.NewKey()})
						switch {
						case err == nil:
							record(id, in, call, linOutput{ok: true})
							mine = append(mine, hold{res.ID, item, in.qty})
						case errors.Is(err, client.ErrSoldOut):
							record(id, in, call, linOutput{})
						default:
							record(id, in, call, linOutput{unknown: true})
						}
					case p == 2 && len(mine) > 0:
						k := rng.IntN(len(mine))
						h := mine[k]
						mine = append(mine[:k], mine[k+1:]...)
						in := linInput{item: h.item, kind: linCancel, qty: h.qty}
						call := now()
						_, err := cl.Cancel(ctx, client.CancelRequest{ID: h.id, Key: cl.NewKey()})
						if err != nil {
							t.Errorf("cancel %d: %v", h.id, err)
							record(id, in, call, linOutput{unknown: true})
						} else {
							record(id, in, call, linOutput{ok: true})
						}
					default:
						in := linInput{item: item, kind: linRead}
						call := now()
						it, err := cl.GetItem(ctx, skus[item], "s1")
						if err != nil {
							record(id, in, call, linOutput{unknown: true})
						} else {
							record(id, in, call, linOutput{avail: it.Available})
						}
					}
					cancel()
				}
			}()
		}
	}

	time.Sleep(1200 * time.Millisecond)
	if l := c.Leader(firstShard); l >= 0 {
		t.Logf("kill -9 node %d, leader of shard %d", l+1, firstShard)
		c.Kill(l)
		time.Sleep(1200 * time.Millisecond)
		if err := c.Start(l); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1200 * time.Millisecond)
	if l := c.Leader(firstShard); l >= 0 {
		t.Logf("partition node %d, leader of shard %d", l+1, firstShard)
		if err := c.Partition(l); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond)
		if err := c.Heal(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1200 * time.Millisecond)
	close(stop)
	wg.Wait()

	unknown := 0
	for _, op := range history {
		if op.Output.(linOutput).unknown {
			unknown++
		}
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(itemModel(stock), history, 2*time.Minute)
	t.Logf("porcupine: %s over %d operations on %d items (%d unknown) in %s",
		res, len(history), items, unknown, time.Since(start).Round(time.Millisecond))
	switch res {
	case porcupine.Illegal:
		t.Errorf("an item's history is not linearizable")
		if f, err := os.CreateTemp("", "inv-lin-*.html"); err == nil {
			if porcupine.Visualize(itemModel(stock), info, f) == nil {
				t.Logf("visualization in %s", f.Name())
			}
			f.Close()
		}
	case porcupine.Unknown:
		t.Logf("porcupine timed out: no violation found within its budget")
	}
	if len(history) < 100 {
		t.Errorf("only %d operations recorded", len(history))
	}
}

// TestItemModelRejectsViolations checks the checker: histories that no
// order explains (a read that misses a finished reserve, a reserve that
// succeeds with nothing left) are illegal; an unknown reserve may count
// either way.
func TestItemModelRejectsViolations(t *testing.T) {
	op := func(call, ret int64, in linInput, out linOutput) porcupine.Operation {
		return porcupine.Operation{Input: in, Call: call, Output: out, Return: ret}
	}
	reserve2 := linInput{kind: linReserve, qty: 2}
	read := linInput{kind: linRead}
	cases := []struct {
		name string
		h    []porcupine.Operation
		want bool
	}{
		{"read after reserve sees it", []porcupine.Operation{op(0, 1, reserve2, linOutput{ok: true}), op(2, 3, read, linOutput{avail: 1})}, true},
		{"stale read", []porcupine.Operation{op(0, 1, reserve2, linOutput{ok: true}), op(2, 3, read, linOutput{avail: 3})}, false},
		{"oversell", []porcupine.Operation{op(0, 1, reserve2, linOutput{ok: true}), op(2, 3, reserve2, linOutput{ok: true})}, false},
		{"sold out with stock left", []porcupine.Operation{op(0, 1, reserve2, linOutput{})}, false},
		{"unknown reserve applied", []porcupine.Operation{op(0, math.MaxInt64, reserve2, linOutput{unknown: true}), op(2, 3, read, linOutput{avail: 1})}, true},
		{"unknown reserve not applied", []porcupine.Operation{op(0, math.MaxInt64, reserve2, linOutput{unknown: true}), op(2, 3, read, linOutput{avail: 3})}, true},
	}
	for _, tc := range cases {
		if got := porcupine.CheckOperations(itemModel(3), tc.h); got != tc.want {
			t.Errorf("%s: linearizable %v, want %v", tc.name, got, tc.want)
		}
	}
}
