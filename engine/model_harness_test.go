// What this file is: the harness of the randomized tests. refRun drives
// one engine and the reference model with one seed's batches (refGen,
// model_gen_test.go); after every batch it compares every result, reads
// every item and store back from the engine to check the guarantees (no
// oversell, window quotas, store window capacities), runs CheckInvariants, and every few batches compares the
// whole state (every kept reservation, customer and list). A failure names
// the seed and the command to replay it, with the last batches.
package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

// refRun drives one engine and the model with one seed's batches and checks
// them after every batch.
type refRun struct {
	t       testing.TB
	seed    int64
	cfg     Config
	e       *Engine
	m       *refModel
	g       *refGen
	batches int
	cmds    int
	recent  [][]Command // the last batches, for the failure report
	fullAt  int         // batches between whole-state comparisons

	// onBatch, if set, sees every batch with the engine's results and
	// events while they are valid (before the next Apply).
	onBatch func(now int64, cmds []Command, res []Result, ev []Event)
}

func newRefRun(t testing.TB, seed int64) *refRun { return newRefRunConfig(t, seed, nil) }

// newRefRunConfig is newRefRun with a given configuration (nil: drawn from the seed).
func newRefRunConfig(t testing.TB, seed int64, c *Config) *refRun {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	cfg := refRandomConfig(r)
	if c != nil {
		cfg = *c
	}
	m := newRefModel(cfg)
	start := int64(1_700_000_000)*int64(time.Second) + r.Int64N(int64(24*time.Hour))
	h := &refRun{t: t, seed: seed, cfg: cfg, e: New(cfg), m: m, g: newRefGen(r, m, start), fullAt: 64}
	h.apply(start, h.g.setup())
	return h
}

func (h *refRun) fail(format string, args ...any) {
	h.t.Helper()
	var b bytes.Buffer
	for i, batch := range h.recent {
		fmt.Fprintf(&b, "  batch -%d:\n", len(h.recent)-1-i)
		for _, c := range batch {
			fmt.Fprintf(&b, "    %s\n", refFmtCmd(&c))
		}
	}
	h.t.Fatalf("seed %d (replay: go test ./engine -run %s -seed=%d), batch %d at %d: %s\nrecent batches:\n%s",
		h.seed, strings.Split(h.t.Name(), "/")[0], h.seed, h.batches, h.m.now, fmt.Sprintf(format, args...), b.String())
}

// step makes and applies the next batch; it returns the batch and its time.
func (h *refRun) step() (int64, []Command) {
	now, cmds := h.g.next()
	h.apply(now, cmds)
	return now, cmds
}

// apply runs a batch on the engine and the model, compares every result
// and checks the guarantees.
func (h *refRun) apply(now int64, cmds []Command) []Result {
	h.t.Helper()
	h.recent = append(h.recent, cmds)
	if len(h.recent) > 3 {
		h.recent = h.recent[1:]
	}
	got, ev := h.e.Apply(now, cmds)
	if h.onBatch != nil {
		h.onBatch(now, cmds, got, ev)
	}
	want := h.m.apply(now, cmds)
	h.batches++
	h.cmds += len(cmds)
	if len(got) != len(want) {
		h.fail("%d results, want %d", len(got), len(want))
	}
	for i := range got {
		if !refEqual(got[i], want[i]) {
			item := "" // the item after the batch, for context
			if it := h.m.items[refItemKey{string(cmds[i].SKU), string(cmds[i].Store)}]; it != nil {
				item = fmt.Sprintf("\n item after the batch (model): %+v", h.m.itemInfo(it))
			}
			h.fail("command %d %s:\n engine %s\n model  %s%s", i, refFmtCmd(&cmds[i]), refFmtResult(got[i]), refFmtResult(want[i]), item)
		}
	}
	h.g.observe(want)
	h.check()
	return want
}

// check verifies the guarantees against the engine's own reads and the model.
func (h *refRun) check() {
	h.t.Helper()
	if h.m.fault != "" {
		h.fail("%s", h.m.fault)
	}
	if err := h.e.CheckInvariants(); err != nil {
		h.fail("invariants: %v", err)
	}
	if h.e.Now() != h.m.now {
		h.fail("clock %d, model %d", h.e.Now(), h.m.now)
	}
	items := h.e.Read(&Command{Op: OpListItems})
	if want := h.m.read(&Command{Op: OpListItems}); !refEqual(items, want) {
		h.fail("items:\n engine %s\n model  %s", refFmtResult(items), refFmtResult(want))
	}
	for _, it := range items.Items {
		if p := it.Held + it.Confirmed + it.PickedUp; p > it.Stock || it.Held < 0 || it.Confirmed < 0 || it.PickedUp < 0 || it.Available != it.Stock-p {
			h.fail("oversold: %+v", it)
		}
		for _, w := range it.Windows {
			if w.Used > w.Quota || w.Used < 0 {
				h.fail("window over quota: %s/%s %+v", it.SKU, it.Store, w)
			}
		}
	}
	for _, name := range refStores {
		c := Command{Op: OpGetStore, Store: []byte(name)}
		got, want := h.e.Read(&c), h.m.getStore(&c)
		if !refEqual(got, want) {
			h.fail("store %s:\n engine %s\n model  %s", name, refFmtResult(got), refFmtResult(want))
		}
		if got.Store == nil {
			continue
		}
		for _, w := range got.Store.Windows {
			if w.Used > w.Quota || w.Used < 0 {
				h.fail("store window over capacity: %s %+v", name, w)
			}
		}
	}
	if h.batches%h.fullAt == 0 {
		h.compareAll()
	}
}

// compareAll reads every kept reservation and every customer from the
// engine and compares it with the model; ids the model forgot must be gone.
func (h *refRun) compareAll() {
	h.t.Helper()
	ids := make([]uint64, 0, len(h.m.res))
	for id := range h.m.res {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if n := len(h.g.ids); n > 0 {
		ids = append(ids, h.g.ids[max(0, n-300):]...) // recent ones, kept or forgotten
	}
	for _, id := range ids {
		c := Command{Op: OpGetReservation, ID: id}
		if got, want := h.e.Read(&c), h.m.read(&c); !refEqual(got, want) {
			h.fail("reservation %x:\n engine %s\n model  %s", id, refFmtResult(got), refFmtResult(want))
		}
	}
	for _, cu := range refCusts {
		for _, op := range []Op{OpGetCustomer, OpListReservations} {
			c := Command{Op: op, Customer: []byte(cu)}
			if got, want := h.e.Read(&c), h.m.read(&c); !refEqual(got, want) {
				h.fail("%v %s:\n engine %s\n model  %s", op, cu, refFmtResult(got), refFmtResult(want))
			}
		}
	}
	for _, sku := range refSKUs {
		c := Command{Op: OpStoresWithStock, SKU: []byte(sku)}
		if got, want := h.e.Read(&c), h.m.read(&c); !refEqual(got, want) {
			h.fail("stores with %s:\n engine %s\n model  %s", sku, refFmtResult(got), refFmtResult(want))
		}
	}
}

// runCommands steps until at least n commands ran.
func (h *refRun) runCommands(n int) {
	h.t.Helper()
	for h.cmds < n {
		h.step()
	}
	h.compareAll()
}
