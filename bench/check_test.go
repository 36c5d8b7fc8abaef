package bench

// Proves the invariant check passes consistent states and catches each kind
// of break. States are built in the test: the fake model applies every order
// of a small workload one at a time (no driver involved), giving a state and
// the acknowledgements that match it; then one fault is planted by hand (an
// oversell, a window over quota, a customer over the limit, a lost or
// altered acknowledged hold, holds nobody was told about, counters that
// drifted from the holds a target lists) and the check must name it, or
// tolerate it where lost replies could explain it.

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// sequentialRun applies every order to a fresh fake, as the driver would but
// one at a time, and returns the fake's state and what a driver would have seen.
func sequentialRun(t *testing.T, name string, scale int) (*Workload, *State, *Result) {
	t.Helper()
	w, err := NewWorkload(name, scale)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, cat := newFake(), w.Catalog()
	if err := f.Load(ctx, cat); err != nil {
		t.Fatal(err)
	}
	conn := fakeConn{f}
	r := &Result{Acks: make([]Ack, len(w.Orders)), Complete: true}
	wk := &worker{}
	for i, o := range w.Orders {
		wk.fill(cat, int64(i), o, KindReserve, 0)
		out, id, _ := conn.Reserve(ctx, &wk.req)
		r.Counts[KindReserve][out]++
		if out != OutcomeOK {
			continue
		}
		r.Acks[i] = Ack{ID: id, State: HoldHeld}
		if o.Then == KindReserve {
			continue
		}
		wk.fill(cat, int64(i), o, o.Then, id)
		var out2 Outcome
		if o.Then == KindConfirm {
			out2, _ = conn.Confirm(ctx, &wk.req)
			r.Acks[i].State = HoldConfirmed
		} else {
			out2, _ = conn.Cancel(ctx, &wk.req)
			r.Acks[i].State = HoldCancelled
		}
		r.Counts[o.Then][out2]++
	}
	st, err := f.Dump(ctx, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w, st, r
}

// expectProblem fails unless one of the problems contains want.
func expectProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got %q", want, problems)
}

func findItem(st *State, sku, store string) *ItemState {
	for i := range st.Items {
		if st.Items[i].SKU == sku && st.Items[i].Store == store {
			return &st.Items[i]
		}
	}
	return nil
}

func TestCheckPassesConsistentStates(t *testing.T) {
	for _, name := range Workloads {
		w, st, r := sequentialRun(t, name, 1000)
		if p := Check(w, st, r); len(p) != 0 {
			t.Errorf("%s: consistent state flagged: %q", name, p)
		}
		// A target that lists only the acknowledged holds and keeps no
		// customer counters is checked on what it has.
		st.AllHolds, st.Owned = false, nil
		if p := Check(w, st, r); len(p) != 0 {
			t.Errorf("%s, partial dump: flagged: %q", name, p)
		}
	}
}

func TestCheckCatchesOversell(t *testing.T) {
	w, st, r := sequentialRun(t, FlashHot, 50_000) // stock 2, 20 customers
	it := findItem(st, SKUID(0), StoreID(0))
	it.Held++
	// The extra unit went to order 5, which was told it succeeded.
	st.Holds = append(st.Holds, HoldInfo{ID: 99, SKU: it.SKU, Store: it.Store, Customer: CustomerID(5), Qty: 1, State: HoldHeld})
	st.Owned[CustomerSKU{CustomerID(5), it.SKU}]++
	r.Acks[5] = Ack{ID: 99, State: HoldHeld}
	r.Counts[KindReserve][OutcomeOK]++
	r.Counts[KindReserve][OutcomeSoldOut]--
	p := Check(w, st, r)
	expectProblem(t, p, "OVERSELL item sku-000000/st-0000")
	expectProblem(t, p, "OVERSELL: 3 reserves succeeded, stock 2")
}

func TestCheckCatchesWindowOverQuota(t *testing.T) {
	w, st, r := sequentialRun(t, PickupWindow, 2000) // 100 SKUs x 1 store, 1000 reserves
	it := findItem(st, SKUID(0), StoreID(0))
	it.Windows[2].Used = it.Windows[2].Quota + 1
	p := Check(w, st, r)
	expectProblem(t, p, "WINDOW over quota sku-000000/st-0000")
	expectProblem(t, p, "windows use") // and it disagrees with what was acknowledged
}

func TestCheckCatchesCustomerOverLimit(t *testing.T) {
	w, st, r := sequentialRun(t, FlashSpread, 1000)
	k := CustomerSKU{CustomerID(3), SKUID(int(w.Orders[3].SKU))}
	st.Owned[k] = 3
	expectProblem(t, Check(w, st, r), "LIMIT customer c-000000003 owns 3")

	// The same break seen through the holds alone: customer 3 holds three
	// units of one SKU at three stores.
	w, st, r = sequentialRun(t, FlashSpread, 1000)
	st.Owned = nil
	for i := range 3 {
		st.Holds = append(st.Holds, HoldInfo{ID: uint64(1000 + i), SKU: k.SKU, Store: StoreID(i), Customer: k.Customer, Qty: 1, State: HoldConfirmed})
	}
	expectProblem(t, Check(w, st, r), "LIMIT customer c-000000003")
}

func TestCheckCatchesLostHold(t *testing.T) {
	w, st, r := sequentialRun(t, FlashHot, 50_000)
	lost := st.Holds[0]
	st.Holds = st.Holds[1:]
	// Even with the counters made to agree, the acknowledged hold is missing.
	it := findItem(st, lost.SKU, lost.Store)
	it.Held--
	st.Owned[CustomerSKU{lost.Customer, lost.SKU}]--
	p := Check(w, st, r)
	expectProblem(t, p, "LOST hold")
	expectProblem(t, p, "items hold 1 units more or less than acknowledged")

	// One error could explain the count, never a missing acknowledged hold.
	r.Counts[KindConfirm][OutcomeError] = 1
	p = Check(w, st, r)
	expectProblem(t, p, "LOST hold")
	for _, s := range p {
		if strings.Contains(s, "items hold") {
			t.Errorf("one unit off with one error flagged: %q", s)
		}
	}
}

func TestCheckCatchesWrongStateAndMixup(t *testing.T) {
	w, st, r := sequentialRun(t, FlashSpread, 1000)
	var confirmed, other int = -1, -1
	for i, a := range r.Acks {
		if a.State == HoldConfirmed && confirmed < 0 {
			confirmed = i
		} else if a.State == HoldConfirmed && other < 0 {
			other = i
		}
	}
	// A confirm the driver was told succeeded did not stick (the item's
	// counters agree with the hold).
	for i := range st.Holds {
		if h := &st.Holds[i]; h.ID == r.Acks[confirmed].ID {
			h.State = HoldHeld
			it := findItem(st, h.SKU, h.Store)
			it.Held++
			it.Confirmed--
		}
	}
	expectProblem(t, Check(w, st, r), "state held, acknowledged confirmed")
	// A lost confirm reply: held or confirmed are both fine.
	r.Acks[confirmed] = Ack{ID: r.Acks[confirmed].ID, State: HoldHeld, Maybe: HoldConfirmed}
	r.Counts[KindConfirm][OutcomeError]++
	r.Counts[KindConfirm][OutcomeOK]--
	if p := Check(w, st, r); len(p) != 0 {
		t.Errorf("lost confirm reply flagged: %q", p)
	}
	// Two orders told the same hold id.
	w, st, r = sequentialRun(t, FlashSpread, 1000)
	r.Acks[other].ID = r.Acks[confirmed].ID
	p := Check(w, st, r)
	expectProblem(t, p, "acknowledged to orders")
	expectProblem(t, p, "but was acknowledged to order")
}

func TestCheckUnacknowledgedHolds(t *testing.T) {
	w, st, r := sequentialRun(t, PickupWindow, 2000)
	// An order the driver saw fail (its reply was lost) holds a unit.
	i := slices.IndexFunc(r.Acks, func(a Ack) bool { return a.State == HoldHeld })
	r.Acks[i] = Ack{}
	r.Counts[KindReserve][OutcomeOK]--
	r.Counts[KindReserve][OutcomeError]++
	if p := Check(w, st, r); len(p) != 0 {
		t.Fatalf("one hold behind one lost reply flagged: %q", p)
	}
	// The same hold without an error to explain it.
	r.Counts[KindReserve][OutcomeError]--
	r.Counts[KindReserve][OutcomeSoldOut]++
	p := Check(w, st, r)
	expectProblem(t, p, "1 active holds the driver was not told about")
	expectProblem(t, p, "items hold 1 units more or less")
	expectProblem(t, p, "windows use 1 units more or less")
}

func TestCheckMissingItemAndSellOut(t *testing.T) {
	w, st, r := sequentialRun(t, FlashSpread, 1000)
	st.Items = st.Items[1:]
	expectProblem(t, Check(w, st, r), "missing")

	w, st, r = sequentialRun(t, FlashHot, 50_000)
	// The driver says only one reserve succeeded in a complete run.
	r.Acks[1] = Ack{}
	r.Counts[KindReserve][OutcomeOK]--
	r.Counts[KindReserve][OutcomeSoldOut]++
	expectProblem(t, Check(w, st, r), "not sold out")
}

// A target that lists every hold must have counters that agree with them,
// even where lost replies could explain the difference from what the
// driver was told (the peers keep counters apart from their holds).
func TestCheckCountersAgainstListedHolds(t *testing.T) {
	w, st, r := sequentialRun(t, PickupWindow, 2000)
	r.Counts[KindReserve][OutcomeError] = 2 // two lost replies: the counts may be off by two
	it := findItem(st, SKUID(0), StoreID(0))
	it.Held++ // a unit taken with no hold for it
	it.Windows[0].Used++
	p := Check(w, st, r)
	expectProblem(t, p, "item sku-000000/st-0000: counters say")
	expectProblem(t, p, "window sku-000000/st-0000@")
	for _, s := range p {
		if strings.Contains(s, "more or less than acknowledged") {
			t.Errorf("within the errors, flagged against the acknowledgements: %q", s)
		}
	}
	// The same counters from a target that lists only acknowledged holds
	// cannot be held against the holds.
	st.AllHolds = false
	if p := Check(w, st, r); len(p) != 0 {
		t.Errorf("partial dump: %q", p)
	}
}
