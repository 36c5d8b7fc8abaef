// Linearizability of each item's history through faults, checked with
// porcupine. Several clients reserve units of a few items, cancel their own
// holds and read the items' available units (linLoad, also run by the
// 5-node test), while the leader of the first item's shard is killed with
// SIGKILL and restarted, and then partitioned away from the majority and
// healed. Every call is recorded with its
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
	"github.com/invsys/inv/internal/invdtest"
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
	lin := startLin(t, c, "lin", 3, 3, -1)
	firstShard := lin.shard(0)

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
	lin.stop()
	lin.check(100)
}

// linLoad is the load of the linearizability checks and its history:
// clients×3 goroutines reserve units of a few items, cancel their own
// holds and read the items, each call recorded with its invocation and
// response times (none for a call whose answer never came).
type linLoad struct {
	t     testing.TB
	skus  []string
	store []string // of each item in skus: items are placed by store
	base  time.Time
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	hist  []porcupine.Operation
	nodes int
}

// linStock is each item's stock: small, so that reserves run into sold out.
const linStock = 40

// startLin puts items fresh items named after tag, all on shard unless it
// is -1, and starts the load.
func startLin(t testing.TB, c *invdtest.Cluster, tag string, items, clients, shard int) *linLoad {
	l := &linLoad{t: t, base: time.Now(), done: make(chan struct{}), nodes: c.Size()}
	setup := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, k := 0, 0; i < items; k++ {
		sku, store := fmt.Sprintf("%s-%d", tag, k), fmt.Sprintf("lin-s%d", k)
		if shard >= 0 && protocol.ShardOfStore([]byte(store), faultShards) != shard {
			continue
		}
		l.skus, l.store = append(l.skus, sku), append(l.store, store)
		i++
		if err := setup.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: linStock}); err != nil {
			t.Fatal(err)
		}
	}
	for ci := range clients {
		cl := dial(t, c)
		for g := range 3 {
			l.wg.Add(1)
			go l.run(cl, ci*3+g)
		}
	}
	return l
}

// shard returns item i's shard.
func (l *linLoad) shard(i int) int {
	return protocol.ShardOfStore([]byte(l.store[i]), faultShards)
}

func (l *linLoad) now() int64 { return time.Since(l.base).Nanoseconds() }

func (l *linLoad) record(id int, in linInput, call int64, out linOutput) {
	ret := l.now()
	if out.unknown {
		ret = math.MaxInt64 // it may take effect at any time after the call
	}
	l.mu.Lock()
	l.hist = append(l.hist, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
	l.mu.Unlock()
}

func (l *linLoad) run(cl *client.Client, id int) {
	defer l.wg.Done()
	rng := rand.New(rand.NewPCG(uint64(id), uint64(l.base.UnixNano())))
	type hold struct {
		id   uint64
		item int
		qty  int64
	}
	var mine []hold
	for {
		select {
		case <-l.done:
			return
		default:
		}
		ctx, cancel := callCtx()
		item := rng.IntN(len(l.skus))
		switch p := rng.IntN(4); {
		case p < 2:
			in := linInput{item: item, kind: linReserve, qty: 1 + rng.Int64N(2)}
			call := l.now()
			res, err := cl.Reserve(ctx, client.ReserveRequest{SKU: l.skus[item], Store: l.store[item],
				Customer: fmt.Sprintf("lin-%d-%d", id, rng.IntN(1000)), Qty: in.qty, Key: cl.NewKey()})
			switch {
			case err == nil:
				l.record(id, in, call, linOutput{ok: true})
				mine = append(mine, hold{res.ID, item, in.qty})
			case errors.Is(err, client.ErrSoldOut):
				l.record(id, in, call, linOutput{})
			default:
				l.record(id, in, call, linOutput{unknown: true})
			}
		case p == 2 && len(mine) > 0:
			k := rng.IntN(len(mine))
			h := mine[k]
			mine = append(mine[:k], mine[k+1:]...)
			in := linInput{item: h.item, kind: linCancel, qty: h.qty}
			call := l.now()
			_, err := cl.Cancel(ctx, client.CancelRequest{ID: h.id, Key: cl.NewKey()})
			if err != nil {
				l.t.Errorf("cancel %d: %v", h.id, err)
				l.record(id, in, call, linOutput{unknown: true})
			} else {
				l.record(id, in, call, linOutput{ok: true})
			}
		default:
			in := linInput{item: item, kind: linRead}
			call := l.now()
			it, err := cl.GetItem(ctx, l.skus[item], l.store[item])
			if err != nil {
				l.record(id, in, call, linOutput{unknown: true})
			} else {
				l.record(id, in, call, linOutput{avail: it.Available})
			}
		}
		cancel()
	}
}

// stop ends the load and waits for every call in flight.
func (l *linLoad) stop() {
	close(l.done)
	l.wg.Wait()
}

// check has porcupine check each item's history, which must hold at least
// minOps operations.
func (l *linLoad) check(minOps int) {
	t := l.t
	t.Helper()
	unknown := 0
	for _, op := range l.hist {
		if op.Output.(linOutput).unknown {
			unknown++
		}
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(itemModel(linStock), l.hist, 2*time.Minute)
	t.Logf("porcupine: %s over %d operations on %d items (%d unknown), %d nodes, in %s",
		res, len(l.hist), len(l.skus), unknown, l.nodes, time.Since(start).Round(time.Millisecond))
	switch res {
	case porcupine.Illegal:
		t.Errorf("an item's history is not linearizable")
		if f, err := os.CreateTemp("", "inv-lin-*.html"); err == nil {
			if porcupine.Visualize(itemModel(linStock), info, f) == nil {
				t.Logf("visualization in %s", f.Name())
			}
			f.Close()
		}
	case porcupine.Unknown:
		t.Logf("porcupine timed out: no violation found within its budget")
	}
	if len(l.hist) < minOps {
		t.Errorf("only %d operations recorded", len(l.hist))
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
