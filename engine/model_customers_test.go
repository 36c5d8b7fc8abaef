package engine

// What this file proves: with customers' rules owned by their home shard
// (customers.go, docs/adr/0072), no interleaving of reserves, confirms,
// no-shows in any shard, blocks, unblocks and tier changes at the home,
// and no loss, duplication or gap in the outbox's delivery breaks them:
// once every message is delivered, every shard's copy of a customer's
// block and tier is the home's, and for a customer no operator touched the
// home counts exactly the no-shows of every shard and is blocked (by the
// rule) exactly when they reach the limit.
//
// How: the claims model's three shards (model_claims_test.go) with the
// no-show rule on (3) and an unlimited SKU at every store, random steps,
// its faulty deliveries (lost, out of order, duplicated), then a settle
// without faults and the checks against the reservations read back from
// every shard. Every run logs its seed; replay one with -seed=N.

import (
	"testing"
	"time"
)

const mcNoShows = 3

func TestCustomersAcrossShardsModel(t *testing.T) {
	seeds, steps := 6, 1500
	if testRaceEnabled || testing.Short() {
		seeds, steps = 2, 800
	}
	base := time.Now().UnixNano()
	if *refSeedFlag != 0 {
		base, seeds = *refSeedFlag, 1
	}
	blocked := 0
	for s := range seeds {
		m := newMCRunWith(t, base+int64(s), mcNoShows)
		for _, st := range mcStores {
			m.apply(mcItemShard("U", st), Command{Op: OpPutItem, SKU: []byte("U"), Store: []byte(st), Stock: MaxStock})
		}
		touched := map[string]bool{}
		for range steps {
			m.customerStep(touched)
		}
		m.advance(2 * time.Hour)
		for range 4 {
			m.deliver(false)
		}
		blocked += m.checkCustomers(touched)
	}
	t.Logf("seeds %d..%d: %d customers blocked by the rule", base, base+int64(seeds)-1, blocked)
	if blocked == 0 {
		t.Error("no run blocked a customer by the no-show rule: the generator lost it")
	}
}

func (m *mcRun) customerStep(touched map[string]bool) {
	cust := mcCusts[m.r.IntN(len(mcCusts))]
	home := mcHome([]byte(cust))
	switch n := m.r.IntN(100); {
	case n < 40:
		st := mcStores[m.r.IntN(len(mcStores))]
		sh := mcItemShard("U", st)
		if r := m.one(sh, Command{Op: OpReserve, SKU: []byte("U"), Store: []byte(st), Customer: []byte(cust), Qty: 1}); r.Code == OK {
			m.one(sh, Command{Op: OpConfirm, ID: r.ID})
		}
	case n < 46:
		cust = mcCusts[m.r.IntN(len(mcCusts)/2)] // the other half only the rule blocks
		home = mcHome([]byte(cust))
		op := []Op{OpBlock, OpUnblock, OpSetTier}[m.r.IntN(3)]
		touched[cust] = true
		if r := m.one(home, Command{Op: op, Customer: []byte(cust), Tier: uint8(m.r.IntN(MaxTier + 1))}); r.Code != OK || len(r.Copies) != mcShards-1 {
			m.fatalf("%v of %s at its home: %v, %d copies", op, cust, r.Code, len(r.Copies))
		}
	case n < 70:
		m.deliver(true)
	default:
		m.advance(time.Duration(m.r.IntN(20)) * time.Minute)
	}
}

// checkCustomers checks every customer's copies against its home and, for
// those no operator touched, the home's count against every shard's
// no-shows. It returns how many the rule blocked.
func (m *mcRun) checkCustomers(touched map[string]bool) (blocked int) {
	for _, cust := range mcCusts {
		home := mcHome([]byte(cust))
		get := Command{Op: OpGetCustomer, Customer: []byte(cust)}
		h := m.e[home].Read(&get).Customer
		if h == nil {
			h = &CustomerInfo{ID: cust}
		}
		noShows := int64(0)
		for sh := range m.e {
			list := Command{Op: OpListReservations, Customer: []byte(cust)}
			for _, x := range m.e[sh].Read(&list).Reservations {
				if x.State == StateNoShow {
					noShows++
				}
			}
			if sh == home {
				continue
			}
			c := m.e[sh].Read(&get).Customer
			if c == nil {
				c = &CustomerInfo{}
			}
			if c.Blocked != h.Blocked || c.AutoBlocked != h.AutoBlocked || c.Tier != h.Tier {
				m.fatalf("customer %s: shard %d's copy %+v, the home's (shard %d) %+v", cust, sh, *c, home, *h)
			}
		}
		if touched[cust] {
			continue
		}
		if h.NoShows != noShows || h.Blocked != (noShows >= mcNoShows) || h.AutoBlocked != h.Blocked {
			m.fatalf("customer %s: the home counts %d no-shows (blocked %v), the shards have %d", cust, h.NoShows, h.Blocked, noShows)
		}
		if h.Blocked {
			blocked++
		}
	}
	return blocked
}
