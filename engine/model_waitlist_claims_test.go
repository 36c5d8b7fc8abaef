// What this file proves: with waitlist joins of customers homed on other
// shards driven the way the router drives them (docs/adr/0112: the claim
// on the customer's home, then the join carrying it, then the claim
// anchored, or released when no entry carries it), interleaved with the
// cross-shard model's reserves, confirms, cancels, pickups, returns,
// expiries, sweeps and lossy deliveries (model_claims_test.go), with
// leaves, stock changes that sell items out and free units, and with the
// coordinator crashing before any of its steps and requests retried with
// the same key:
//
//   - no customer owns more of a SKU than its limit, counting its waitlist
//     entries that carry a claim besides its holds (checkLimits, after
//     every step), and every such entry has an accepted claim at the
//     customer's home for its customer, SKU, units and item shard
//     (checkEntryClaims); so does every firm claimed hold, promoted ones
//     included (checkFirm);
//   - a retry of an answered join gets the first answer (mcRun.answer);
//   - once every deadline has passed and the sweeps and deliveries ran,
//     nothing is pending and every accepted claim has a hold or an entry
//     carrying it; once every entry's TTL has passed, no entry is left
//     (checkQuiet); a replica restored half way ends in the same state.
//
// How: the three shards of model_claims_test.go; a join is a small state
// machine (mcJoin) advanced one step at a time among the other steps, as
// a reserve's coordination is. Every run logs its seed; replay one with
// -seed=N.
package engine

import (
	"fmt"
	"testing"
	"time"
)

// mcJoin is a join with a claim in flight.
type mcJoin struct {
	p          mcParams
	item, home int
	k          []byte
	d          int64
	ttl        time.Duration
	stage      int    // 0: the claim next; 1: the join; 2: the anchor or release, then the answer
	join       Result // stage 2: the join's answer
}

func (q *mcJoin) joinCmd(claimed bool) Command {
	c := Command{Op: OpJoinWaitlist, SKU: q.p.sku, Store: q.p.store, Customer: q.p.cust, Qty: q.p.qty, Key: q.p.key, TTL: q.ttl}
	if claimed {
		c.Claim, c.Deadline = q.k, q.d
	}
	return c
}

// joinParamsOf derives join n from its number, so that a retry is the same.
func (m *mcRun) joinParamsOf(n int) mcParams {
	p := m.paramsOf(n + 1_000_000)
	p.key = fmt.Appendf(nil, "j%d", n)
	return p
}

// startJoin begins a join: a plain one for a customer of the item's shard,
// else a join with a claim, which runs its steps at once half the time.
func (m *mcRun) startJoin() {
	n := m.jkeys
	if m.jkeys > 0 && m.r.IntN(5) == 0 {
		n = m.r.IntN(m.jkeys) // a retry
	} else {
		m.jkeys++
	}
	p := m.joinParamsOf(n)
	ttl := time.Duration(1+n%10) * time.Minute
	item, home := mcItemShard(string(p.sku), string(p.store)), mcHome(p.cust)
	q := &mcJoin{p: p, item: item, home: home, d: m.at(item) + int64(mcWindow), ttl: ttl,
		k: fmt.Appendf(nil, "W|%s|%s|%s|%s|%d", p.key, p.cust, p.sku, p.store, p.qty)}
	if item == home || m.r.IntN(8) == 0 {
		// Plain: a customer of the item's shard, or a stale read of the
		// item; the latter comes back claim_required with the limit.
		r := m.one(item, q.joinCmd(false))
		if r.Code != CodeClaimRequired {
			m.answer(p.key, r.Code, 0)
			return
		}
		if r.Qty != mcLimits[string(p.sku)] {
			m.fatalf("join: claim_required carries %d, the limit is %d", r.Qty, mcLimits[string(p.sku)])
		}
	}
	m.stats["join_claimed"]++
	m.joins = append(m.joins, q)
	if m.r.IntN(2) == 0 {
		for !m.joinStep(q) {
		}
		m.joins = m.joins[:len(m.joins)-1]
	}
}

// advanceJoin moves a random join one step, or crashes its coordinator.
func (m *mcRun) advanceJoin() {
	if len(m.joins) == 0 {
		return
	}
	i := m.r.IntN(len(m.joins))
	q := m.joins[i]
	done := m.crash()
	if done {
		m.stats[fmt.Sprintf("join_crash_at_%d", q.stage)]++
	} else {
		done = m.joinStep(q)
	}
	if done {
		m.joins = append(m.joins[:i], m.joins[i+1:]...)
	}
}

// joinStep runs a join's next step (router/waitjoin.go); true once answered.
func (m *mcRun) joinStep(q *mcJoin) bool {
	switch q.stage {
	case 0:
		c := m.one(q.home, Command{Op: OpClaim, Customer: q.p.cust, SKU: q.p.sku, Qty: q.p.qty,
			Limit: mcLimits[string(q.p.sku)], ItemShard: uint16(q.item), Claim: q.k, Deadline: q.d})
		if c.Code == OK {
			q.stage = 1
			return false
		}
		// Refused: the key keeps the refusal, or replays its first answer.
		m.stats["join_claim_refused"]++
		rec := q.joinCmd(false)
		rec.ClaimCode = c.Code
		m.answer(q.p.key, m.one(q.item, rec).Code, 0)
		return true
	case 1:
		q.join = m.one(q.item, q.joinCmd(true))
		q.stage = 2
		return false
	}
	carried := q.join.Code == OK && q.join.Waitlist.Claimed
	switch {
	case m.crash():
		m.stats["join_after_lost"]++ // the anchor or release is lost: the home's sweep settles the claim
	case carried:
		m.one(q.home, Command{Op: OpAnchorClaim, Customer: q.p.cust, Claim: q.k})
		m.stats["join_anchored"]++
	default:
		m.one(q.home, Command{Op: OpReleaseClaim, Customer: q.p.cust, Claim: q.k, Deadline: q.d})
		m.stats["join_released"]++
	}
	m.answer(q.p.key, q.join.Code, 0)
	return true
}

// leave takes a random customer out of a random line.
func (m *mcRun) leave() {
	p := m.joinParamsOf(m.r.IntN(m.jkeys + 1))
	sh := mcItemShard(string(p.sku), string(p.store))
	if r := m.one(sh, Command{Op: OpLeaveWaitlist, SKU: p.sku, Store: p.store, Customer: p.cust}); r.Code == OK {
		m.stats["left"]++
	}
}

// changeStock sells a random item out, or restocks it by a unit or two.
func (m *mcRun) changeStock() {
	sku, st := mcSKUs[m.r.IntN(len(mcSKUs))], mcStores[m.r.IntN(len(mcStores))]
	sh := mcItemShard(sku, st)
	it := m.e[sh].Read(&Command{Op: OpGetItem, SKU: []byte(sku), Store: []byte(st)}).Item
	if it.Available > 0 && m.r.IntN(2) == 0 {
		m.one(sh, Command{Op: OpAdjustStock, SKU: []byte(sku), Store: []byte(st), Qty: -it.Available})
		return
	}
	m.one(sh, Command{Op: OpRestock, SKU: []byte(sku), Store: []byte(st), Qty: int64(1 + m.r.IntN(2))})
}

// adopt lets the run act on the holds promotions made.
func (m *mcRun) adopt() {
	m.mcEach(func(sh int, x ReservationInfo) {
		if x.State.Active() {
			m.held(sh, Result{ID: x.ID})
		}
	})
}

func (m *mcRun) waitStep() {
	switch n := m.r.IntN(100); {
	case n < 55:
		m.step()
	case n < 70:
		m.startJoin()
	case n < 80:
		m.advanceJoin()
	case n < 85:
		m.leave()
	case n < 93:
		m.changeStock()
	default:
		m.adopt()
	}
}

// checkEntryClaims checks every waitlist entry that carries a claim against
// the accepted claims of the homes and returns the units each customer
// owns of each SKU counting those entries and its holds (checkLimits).
func (m *mcRun) checkEntryClaims(step int, accepted map[string]*claim) map[[2]string]int64 {
	owned := map[[2]string]int64{}
	for sh := range m.e {
		s := &m.e[sh].st
		for slot, line := range s.wait.lines {
			it := s.items.at(slot)
			for _, w := range line {
				if w.claim == "" {
					continue
				}
				cust := s.customers.at(w.cust).id
				c := accepted[w.claim]
				if c == nil || c.customer != cust || c.sku != it.skuName() || c.units != w.qty || int(c.itemShard) != sh {
					m.fatalf("step %d: entry of %s in line for %s/%s (qty %d) has no accepted claim %q at its home: %+v",
						step, cust, it.skuName(), it.storeName(), w.qty, w.claim, c)
				}
				owned[[2]string{cust, it.skuName()}] += int64(w.qty)
			}
		}
	}
	return owned
}

func TestWaitlistClaimsModel(t *testing.T) {
	runClaimModel(t, 8, waitClaimPaths, (*mcRun).waitStep, true)
}

// waitClaimPaths are the paths of a claimed join TestWaitlistClaimsModel
// must reach.
var waitClaimPaths = []string{"join_claimed", "join_claim_refused", "join_anchored", "join_released", "join_after_lost",
	"join_crash_at_0", "join_crash_at_1", "join_crash_at_2", "left", "promoted_claimed", "retry_same_answer", "swept_anchor",
	"swept_release"}
