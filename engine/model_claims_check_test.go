// The guarantees the cross-shard model test (model_claims_test.go) checks,
// and its cut cases: one reserve through every cut point of its
// coordinator.
package engine

import (
	"fmt"
	"time"
)

// mcAccepted returns the claims that count on every home (pending or
// anchored), by key, checking each lives on its customer's home.
func (m *mcRun) mcAccepted() map[string]*claim {
	out := map[string]*claim{}
	for sh := range m.e {
		for k, c := range m.e[sh].st.claims.byKey {
			if mcHome([]byte(c.customer)) != sh {
				m.fatalf("claim %s of %s kept on shard %d, not its home", k, c.customer, sh)
			}
			if c.counts() {
				out[k] = c
			}
		}
	}
	return out
}

// mcEach calls f with every kept reservation of every shard.
func (m *mcRun) mcEach(f func(sh int, x ReservationInfo)) {
	for sh := range m.e {
		for _, cust := range mcCusts {
			for _, x := range m.e[sh].Read(&Command{Op: OpListReservations, Customer: []byte(cust)}).Reservations {
				f(sh, x)
			}
		}
	}
}

// checkLimits: per customer and SKU, over every shard, the units of its
// holds in its home, its firm claimed holds, its provisional holds whose
// claim is accepted and its waitlist entries that carry a claim (each with
// an accepted claim for them: checkEntryClaims) stay within the limit.
func (m *mcRun) checkLimits(step int) {
	accepted := m.mcAccepted()
	owned := m.checkEntryClaims(step, accepted)
	m.mcEach(func(sh int, x ReservationInfo) {
		switch {
		case !x.State.Active():
		case x.Claim == "":
			if mcHome([]byte(x.Customer)) != sh {
				m.fatalf("step %d: reservation %x of %s holds without a claim outside its home", step, x.ID, x.Customer)
			}
			owned[[2]string{x.Customer, x.SKU}] += x.Qty
		case !x.Provisional || accepted[x.Claim] != nil:
			owned[[2]string{x.Customer, x.SKU}] += x.Qty
		}
	})
	for k, n := range owned {
		if n > mcLimits[k[1]] {
			m.fatalf("step %d: customer %s owns %d units of %s across shards, limit %d", step, k[0], n, k[1], mcLimits[k[1]])
		}
	}
}

// checkFirm: every active firm claimed hold has an accepted claim at its
// customer's home, for its customer, SKU and units.
func (m *mcRun) checkFirm(step int) {
	accepted := m.mcAccepted()
	m.mcEach(func(sh int, x ReservationInfo) {
		if !x.State.Active() || x.Claim == "" || x.Provisional {
			return
		}
		c := accepted[x.Claim]
		if c == nil || c.customer != x.Customer || c.sku != x.SKU || int64(c.units) != x.Qty || int(c.itemShard) != sh {
			m.fatalf("step %d: firm hold %x (%s %s qty %d) has no accepted claim %q at its home: %+v", step, x.ID,
				x.Customer, x.SKU, x.Qty, x.Claim, c)
		}
	})
}

// checkQuiet: after every deadline has passed and the sweeps and
// deliveries ran, nothing is pending, provisional or undelivered, and every
// accepted claim has an active hold carrying it (after every hold's life:
// a picked-up one).
func (m *mcRun) checkQuiet(holdsAlive bool) {
	m.checkFirm(-1)
	for sh := range m.e {
		if d := m.e[sh].ClaimsDue(1<<62, 100); len(d) != 0 {
			m.fatalf("shard %d: claims still pending after the sweeps: %+v", sh, d)
		}
		if d := m.e[sh].ProvisionalDue(1<<62, 100); len(d) != 0 {
			m.fatalf("shard %d: holds still provisional after the sweeps: %+v", sh, d)
		}
		if p := m.e[sh].OutboxPending(); len(p) != 0 {
			m.fatalf("shard %d: messages left after delivering all: %+v", sh, p)
		}
	}
	for k, c := range m.mcAccepted() {
		r := m.e[c.itemShard].Read(&Command{Op: OpGetClaimHold, Claim: []byte(k)})
		if r.Code == OK && r.ID == 0 { // a waitlist entry in line carries it
			if !holdsAlive || r.Qty != int64(c.units) {
				m.fatalf("accepted claim %s (%s %s qty %d): an entry of qty %d still in line", k, c.customer, c.sku, c.units, r.Qty)
			}
			continue
		}
		if r.Code != OK || r.Reservation.Customer != c.customer || r.Qty != int64(c.units) {
			m.fatalf("accepted claim %s (%s %s qty %d) has no active hold: %v", k, c.customer, c.sku, c.units, r.Code)
		}
		if !holdsAlive && r.State != StatePickedUp {
			m.fatalf("claim %s: its hold %x is still %v after every deadline", k, r.ID, r.State)
		}
	}
}

// mcCut is a cut case's setup: the customer, the coordinated item's store,
// and a store of the customer's home.
func (m *mcRun) mcCutParams() (p mcParams, homeStore []byte) {
	p = mcParams{key: []byte("cut"), cust: []byte("c1"), sku: []byte("L1"), qty: 1}
	home := mcHome(p.cust)
	for _, st := range mcStores {
		switch sh := mcItemShard("L1", st); {
		case sh == home && homeStore == nil:
			homeStore = []byte(st)
		case sh != home && p.store == nil:
			p.store = []byte(st)
		}
	}
	return p, homeStore
}

// nextIsClaim reports whether a coordination's next step proposes its claim.
func (q *mcReq) nextIsClaim() bool { return q.order == 2 || (q.stage == 0) == (q.order == 0) }
func (q *mcReq) nextIsHold() bool  { return q.order == 2 || (q.stage == 0) == (q.order == 1) }

// cutCase runs one reserve cut after `cut` of its coordinator's steps,
// with the outcome arranged, maybe retried, then settled and checked.
func (m *mcRun) cutCase(name string, order int, outcome string, cut int, retry string) {
	m.t.Helper()
	p, homeStore := m.mcCutParams()
	switch outcome {
	case "limit": // the customer's own hold in its home takes the limit
		m.one(mcHome(p.cust), Command{Op: OpReserve, SKU: p.sku, Store: homeStore, Customer: p.cust, Qty: mcLimits["L1"]})
	case "sold_out":
		sh := mcItemShard("L1", string(p.store))
		it := m.e[sh].Read(&Command{Op: OpGetItem, SKU: p.sku, Store: p.store}).Item
		m.one(sh, Command{Op: OpAdjustStock, SKU: p.sku, Store: p.store, Qty: -it.Stock})
	}
	want := map[string]Code{"ok": OK, "limit": CodeLimitExceeded, "sold_out": CodeSoldOut, "late_claim": CodeExpired, "late_hold": CodeExpired}[outcome]
	q := m.begin(p, order) // nil: answered at once (a plain reserve refused it before any claim)
	for steps := 0; q != nil && steps < cut && q.stage < 2; steps++ {
		if outcome == "late_claim" && q.nextIsClaim() || outcome == "late_hold" && q.nextIsHold() {
			m.advance(mcWindow + ClaimMargin)
		}
		m.advanceReq(q)
	}
	if cut == 3 || q == nil {
		if q != nil {
			m.advanceReq(q)
		}
		if a := m.answers["cut"]; a.code != want {
			m.fatalf("%s: answered %v, want %v", name, a.code, want)
		}
	}
	m.reqs = nil
	m.checkLimits(0)
	m.checkFirm(0)
	switch retry {
	case "late":
		m.settle(mcWindow + 2*ClaimMargin)
		fallthrough
	case "soon":
		if q2 := m.begin(p, order); q2 != nil {
			for !m.advanceReq(q2) {
			}
		}
		m.reqs = nil
		// A late retry may find the hold ended expired by the item shard's
		// sweep (no claim was accepted by its deadline): that answer stands.
		a, ok := m.answers["cut"]
		if !ok || (outcome == "limit" && a.code != want && a.code != CodeExpired) || (outcome == "sold_out" && a.code != want) {
			m.fatalf("%s: the retry answered %v (%v), want %v", name, a.code, ok, want)
		}
	}
	m.checkLimits(1)
	m.checkFirm(1)
	m.settle(mcWindow + 2*ClaimMargin)
	m.checkLimits(2)
	m.checkQuiet(true)
	m.settle(2 * time.Hour)
	m.checkQuiet(false)
	if a, ok := m.answers["cut"]; ok && a.code == OK && m.e[mcItemShard("L1", string(p.store))].Read(&Command{Op: OpGetReservation, ID: a.id}).Code != OK {
		m.fatalf("%s: answered OK %x, no such reservation", name, a.id)
	}
	_ = fmt.Sprint
}
