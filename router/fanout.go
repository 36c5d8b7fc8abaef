package router

import (
	"cmp"
	"slices"
	"sync/atomic"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// fanout sends one command to every shard and merges the answers
// (docs/adr/0032). It is for the ops whose subject lives in every shard:
// the lists, a pickup by code alone, and a customer's reservation counts
// (get_customer: the home's record with every shard's count added). These are operator and counter ops, rare next to reserves, so a
// fan-out allocates freely.
type fanout struct {
	op      engine.Op
	home    int // get_customer: the customer's home, whose record stands
	results []engine.Result
	errs    []error
	pending atomic.Int32
	finish  func(engine.Result, error)
}

// fanOut proposes cmd to every shard, each where its leader is (runAny);
// finish gets the merged outcome once every shard has answered (on
// whichever goroutine answers last). viaLog sends a read's parts through
// the log (proposeHere).
func (r *Router) fanOut(cmd *engine.Command, viaLog bool, finish func(engine.Result, error)) {
	n := len(r.shards)
	f := &fanout{op: cmd.Op, results: make([]engine.Result, n), errs: make([]error, n), finish: finish}
	f.pending.Store(int32(n))
	for i := range n {
		r.runAny(i, cmd, viaLog, func(res engine.Result, err error) {
			f.results[i], f.errs[i] = res, err
			f.arrive()
		})
	}
}

func (f *fanout) arrive() {
	if f.pending.Add(-1) != 0 {
		return
	}
	if f.op == engine.OpGetCustomer {
		f.finish(mergeCustomer(f.results, f.errs, f.home))
		return
	}
	f.finish(merge(f.op, f.results, f.errs))
}

// getCustomer answers get_customer from the customer's home (its block,
// tier and no-shows stand: docs/adr/0072) with the reservations open in
// every shard added up: it asks every shard, each where its leader is.
func (r *Router) getCustomer(home int, cmd *engine.Command, viaLog bool, finish func(engine.Result, error)) {
	n := len(r.shards)
	f := &fanout{op: cmd.Op, home: home, results: make([]engine.Result, n), errs: make([]error, n), finish: finish}
	f.pending.Store(int32(n))
	for i := range n {
		r.runAny(i, cmd, viaLog, func(res engine.Result, err error) {
			f.results[i], f.errs[i] = res, err
			f.arrive()
		})
	}
}

// merge combines the shards' answers to one op.
func merge(op engine.Op, rs []engine.Result, errs []error) (engine.Result, error) {
	switch op {
	case engine.OpPickup:
		return mergePickup(rs, errs)
	case engine.OpListReservations, engine.OpListByMark, engine.OpStoresWithStock, engine.OpListItems:
		return mergeLists(op, rs, errs)
	}
	return mergeEvery(rs, errs)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// mergeEvery serves block, unblock and set_tier: done only when done on
// every shard. A failure on some shard is reported even though others
// applied the change; the op is idempotent (with a key, exactly so), and a
// retry completes it.
func mergeEvery(rs []engine.Result, errs []error) (engine.Result, error) {
	if err := firstErr(errs); err != nil {
		return engine.Result{}, err
	}
	for i := range rs {
		if rs[i].Code != engine.OK {
			return rs[i], nil
		}
	}
	return rs[0], nil
}

// pickupRank orders a pickup's per-shard answers: the shard that handed
// the order over wins; otherwise the most telling refusal (locked, then
// wrong store, then bad code: every other shard simply has no such code).
func pickupRank(c engine.Code) int {
	switch c {
	case engine.OK:
		return 4
	case engine.CodeLocked:
		return 3
	case engine.CodeWrongStore:
		return 2
	case engine.CodeBadCode:
		return 0
	}
	return 1
}

// mergePickup serves a pickup by code alone, proposed to every shard: only
// a shard whose code index holds the code at that store changes anything.
func mergePickup(rs []engine.Result, errs []error) (engine.Result, error) {
	best := -1
	for i := range rs {
		if errs[i] != nil {
			continue
		}
		if best < 0 || pickupRank(rs[i].Code) > pickupRank(rs[best].Code) ||
			rs[i].Code == engine.OK && rs[best].Code == engine.OK && rs[i].ID < rs[best].ID {
			best = i
		}
	}
	if best >= 0 && rs[best].Code == engine.OK {
		return rs[best], nil
	}
	// A shard that did not answer may hold the code: its outcome is unknown.
	if err := firstErr(errs); err != nil {
		return engine.Result{}, err
	}
	return rs[best], nil
}

// mergeCustomer answers the home's record of a customer (block, tier,
// no-shows: the home owns them, and another shard's copy may lag it) with
// the reservations open in every shard added up. A customer no shard
// knows is not_found; one the home does not know yet is regular and not
// blocked there.
func mergeCustomer(rs []engine.Result, errs []error, home int) (engine.Result, error) {
	if err := firstErr(errs); err != nil {
		return engine.Result{}, err
	}
	var out *engine.CustomerInfo
	var open int64
	for i := range rs {
		r := &rs[i]
		switch {
		case r.Code == engine.CodeNotFound:
			continue
		case r.Code != engine.OK:
			return *r, nil
		}
		open += r.Customer.Open
		if out == nil || i == home {
			cp := *r.Customer
			if i != home {
				cp.Tier, cp.Blocked, cp.AutoBlocked, cp.NoShows = 0, false, false, 0
			}
			out = &cp
		}
	}
	if out == nil {
		return engine.Result{Code: engine.CodeNotFound}, nil
	}
	out.Open = open
	return engine.Result{Customer: out}, nil
}

// mergeLists concatenates the shards' lists in a stable order (by id, by
// store, by item), cut at the protocol's bound for one reply.
func mergeLists(op engine.Op, rs []engine.Result, errs []error) (engine.Result, error) {
	if err := firstErr(errs); err != nil {
		return engine.Result{}, err
	}
	var out engine.Result
	for i := range rs {
		r := &rs[i]
		if r.Code != engine.OK {
			return *r, nil
		}
		out.Reservations = append(out.Reservations, r.Reservations...)
		out.Stores = append(out.Stores, r.Stores...)
		out.Items = append(out.Items, r.Items...)
	}
	switch op {
	case engine.OpListReservations, engine.OpListByMark:
		slices.SortFunc(out.Reservations, func(a, b engine.ReservationInfo) int { return cmp.Compare(a.ID, b.ID) })
		out.Reservations = out.Reservations[:min(len(out.Reservations), protocol.MaxListReservations)]
	case engine.OpStoresWithStock:
		slices.SortFunc(out.Stores, func(a, b engine.StoreStock) int { return cmp.Compare(a.Store, b.Store) })
		out.Stores = out.Stores[:min(len(out.Stores), protocol.MaxListStores)]
	case engine.OpListItems:
		slices.SortFunc(out.Items, func(a, b engine.ItemInfo) int {
			return cmp.Or(cmp.Compare(a.SKU, b.SKU), cmp.Compare(a.Store, b.Store))
		})
		out.Items = out.Items[:min(len(out.Items), protocol.MaxListItems)]
	}
	return out, nil
}
