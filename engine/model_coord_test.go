// The coordinator, sweeps and deliverer of the cross-shard model test
// (model_claims_test.go), written the way docs/adr/0070 describes the
// router's: a reserve of a limited item by a customer of another shard
// proposes, with one deadline, the claim on the customer's home and the
// claimed reserve on the item's shard, in either order or together; the
// answer is the hold's refusal, else the claim's, else OK; a provisional
// hold is resolved before the answer (and its accepted claim anchored), a
// claim whose hold was refused is released. Each step of a coordination is one step of the run, so others
// interleave, and the coordinator may crash before any of them.
package engine

import (
	"fmt"
	"time"
)

// mcParams is a request as the client sent it (a retry sends it again).
type mcParams struct {
	key, cust, sku, store []byte
	qty                   int64
}

// mcReq is a coordination in flight.
type mcReq struct {
	p           mcParams
	item, home  int
	k           []byte
	d           int64
	order       int // 0: claim first, 1: hold first, 2: both in one step
	stage       int
	claim, hold *Result
}

func (q *mcReq) claimCmd() Command {
	return Command{Op: OpClaim, Customer: q.p.cust, SKU: q.p.sku, Qty: q.p.qty, Limit: mcLimits[string(q.p.sku)],
		ItemShard: uint16(q.item), Claim: q.k, Deadline: q.d}
}

func (q *mcReq) holdCmd() Command {
	return Command{Op: OpReserve, SKU: q.p.sku, Store: q.p.store, Customer: q.p.cust, Qty: q.p.qty, Key: q.p.key,
		Claim: q.k, Deadline: q.d}
}

// newParams makes a new request, or (one in five) repeats an earlier one.
func (m *mcRun) newParams() mcParams {
	if m.keys > 0 && m.r.IntN(5) == 0 {
		return m.paramsOf(m.r.IntN(m.keys))
	}
	p := m.paramsOf(m.keys)
	m.keys++
	return p
}

// paramsOf derives request n from its number, so that a retry is the same.
func (m *mcRun) paramsOf(n int) mcParams {
	h := uint64(n)*0x9e3779b97f4a7c15 + 1
	return mcParams{key: fmt.Appendf(nil, "r%d", n), cust: []byte(mcCusts[h%uint64(len(mcCusts))]),
		sku: []byte(mcSKUs[h/7%uint64(len(mcSKUs))]), store: []byte(mcStores[h/17%uint64(len(mcStores))]), qty: int64(1 + h/31%2)}
}

// startReserve begins a reserve: one step on the item's shard for a
// customer of that shard, else a coordination, which most of the time runs
// its steps at once (a coordinator on time), else one by one between other
// steps; either may crash before any step.
func (m *mcRun) startReserve() {
	q := m.begin(m.newParams(), m.r.IntN(3))
	if q == nil || m.r.IntN(5) < 2 {
		return
	}
	for len(m.reqs) > 0 && m.reqs[len(m.reqs)-1] == q {
		m.advance1(len(m.reqs) - 1)
	}
}

func (m *mcRun) begin(p mcParams, order int) *mcReq {
	item, home := mcItemShard(string(p.sku), string(p.store)), mcHome(p.cust)
	if item == home {
		r := m.one(item, Command{Op: OpReserve, SKU: p.sku, Store: p.store, Customer: p.cust, Qty: p.qty, Key: p.key})
		m.held(item, r)
		m.answer(p.key, r.Code, r.ID)
		return nil
	}
	if m.r.IntN(8) == 0 {
		// The router's read of the item was stale: a plain reserve first.
		// Its key may replay: a resolved hold's answer, or a provisional
		// hold (it names its claim), which the coordination must resolve.
		r := m.one(item, Command{Op: OpReserve, SKU: p.sku, Store: p.store, Customer: p.cust, Qty: p.qty, Key: p.key})
		switch {
		case r.Code == CodeClaimRequired:
			if r.Qty != mcLimits[string(p.sku)] {
				m.fatalf("claim_required carries %d, the limit is %d", r.Qty, mcLimits[string(p.sku)])
			}
		case r.Code == OK && r.Reservation != nil && r.Reservation.Provisional:
			m.stats["stale_provisional"]++
		default:
			m.answer(p.key, r.Code, r.ID)
			return nil
		}
	}
	q := &mcReq{p: p, item: item, home: home, order: order, d: m.at(item) + int64(mcWindow),
		k: fmt.Appendf(nil, "K|%s|%s|%s|%s|%d", p.key, p.cust, p.sku, p.store, p.qty)}
	m.stats["coordinated"]++
	m.stats[[]string{"claim_first", "hold_first", "same_step"}[order]]++
	m.reqs = append(m.reqs, q)
	return q
}

// advanceRequest moves a random coordination one step, or crashes it.
func (m *mcRun) advanceRequest() {
	if len(m.reqs) == 0 {
		return
	}
	m.advance1(m.r.IntN(len(m.reqs)))
}

// advance1 moves coordination i one step, or crashes it.
func (m *mcRun) advance1(i int) {
	q := m.reqs[i]
	done := m.crash()
	if done {
		m.stats[[]string{"crash_before_first", "crash_after_first", "crash_before_resolve"}[q.stage]]++
	} else {
		done = m.advanceReq(q)
	}
	if done {
		m.reqs = append(m.reqs[:i], m.reqs[i+1:]...)
	}
}

// advanceReq runs a coordination's next step; true once it answered.
func (m *mcRun) advanceReq(q *mcReq) bool {
	switch {
	case q.stage == 0 && q.order == 2:
		m.propose(q, true)
		m.propose(q, false)
		q.stage = 2
	case q.stage < 2:
		m.propose(q, (q.stage == 0) == (q.order == 0))
		q.stage++
	default:
		m.decide(q)
		return true
	}
	return false
}

// propose applies the claim or the hold of a coordination.
func (m *mcRun) propose(q *mcReq, claim bool) {
	if claim {
		r := m.one(q.home, q.claimCmd())
		q.claim = &r
		return
	}
	r := m.one(q.item, q.holdCmd())
	q.hold = &r
}

// decide answers a coordination whose two proposals were applied, after
// proposing what the answer needs: a resolve of a provisional hold, or the
// release of a claim whose hold was refused. A resolve answered
// wrong_state found the hold resolved the other way meanwhile (by a sweep,
// or another coordinator): the reserve's replay then has the answer.
func (m *mcRun) decide(q *mcReq) {
	h, c := *q.hold, *q.claim
	provisional := h.Code == OK && h.Reservation != nil && h.Reservation.Claim == string(q.k)
	switch {
	case h.Code != OK:
		if c.Code == OK {
			m.one(q.home, Command{Op: OpReleaseClaim, Claim: q.k, Deadline: q.d})
			m.stats["released_direct"]++
		}
		m.answer(q.p.key, h.Code, 0)
	case !provisional:
		// A replay of a hold resolved before: its answer is the first. A
		// claim newly accepted for it is the sweep's to release.
		m.answer(q.p.key, OK, h.ID)
	case m.at(q.item) < q.d && m.crash():
		// The resolve was proposed and the answer written, but its entry
		// was lost with the leader: the hold stays provisional until a
		// confirm (claim_required), a retry or the sweep resolves it.
		// Before the deadline no sweep can have resolved it otherwise, so
		// the answer need not wait for the resolve; past it, it must
		// (another resolve may have come first: wrong_state below).
		m.stats["resolve_lost"]++
		if c.Code == OK {
			m.held(q.item, h)
			m.answer(q.p.key, OK, h.ID)
			if m.r.IntN(2) == 0 {
				m.confirmOrExtend() // the client confirms at once (the recent hold, likely)
			}
		} else {
			m.answer(q.p.key, c.Code, 0)
		}
	case m.one(q.item, Command{Op: OpResolveClaim, Claim: q.k, ClaimCode: c.Code}).Code == CodeWrongState:
		r := m.one(q.item, q.holdCmd())
		m.stats["resolved_meanwhile"]++
		m.held(q.item, r)
		m.answer(q.p.key, r.Code, r.ID)
	case c.Code == OK:
		// The router anchors the claim beside the resolve (its hold is
		// known); a crash may lose the anchor, left to the home's sweep.
		if !m.crash() {
			m.one(q.home, Command{Op: OpAnchorClaim, Customer: q.p.cust, Claim: q.k})
			m.stats["anchored_direct"]++
		}
		m.held(q.item, h)
		m.answer(q.p.key, OK, h.ID)
	default:
		m.stats["resolved_refused"]++
		m.answer(q.p.key, c.Code, 0)
	}
}

// held remembers a reservation the run may act on.
func (m *mcRun) held(sh int, r Result) {
	if r.Code != OK || r.ID == 0 {
		return
	}
	for _, x := range m.res {
		if x.id == r.ID {
			return
		}
	}
	m.res = append(m.res, mcRes{shard: sh, id: r.ID})
}

// pick returns a known reservation, a recent one half the time.
func (m *mcRun) pick() *mcRes {
	if len(m.res) == 0 {
		return nil
	}
	if m.r.IntN(2) == 0 {
		return &m.res[len(m.res)-1-m.r.IntN(min(len(m.res), 4))]
	}
	return &m.res[m.r.IntN(len(m.res))]
}

// confirmOrExtend runs a confirm or an extend; a provisional hold answers
// claim_required, and the coordinator reads the claim on the home and
// resolves it (with the confirm or extend in one entry when accepted).
func (m *mcRun) confirmOrExtend() {
	x := m.pick()
	if x == nil {
		return
	}
	c := Command{Op: OpConfirm, ID: x.id}
	if m.r.IntN(3) == 0 {
		c = Command{Op: OpExtend, ID: x.id, TTL: time.Duration(1+m.r.IntN(4)) * time.Minute}
	}
	r := m.one(x.shard, c)
	if r.Code == CodeClaimRequired {
		if m.crash() {
			return
		}
		key, home := []byte(r.Reservation.Claim), mcHome([]byte(r.Reservation.Customer))
		switch g := m.e[home].Read(&Command{Op: OpGetClaim, Claim: key}); {
		case g.Code == OK:
			res := m.apply(x.shard, Command{Op: OpResolveClaim, Claim: key, Linked: true}, c)
			r = res[1]
			m.stats["confirm_resolved"]++
		case g.Code.Refusal() && g.Code != CodeNotFound && g.Code != CodeBadRequest:
			m.one(x.shard, Command{Op: OpResolveClaim, Claim: key, ClaimCode: g.Code})
			return
		default:
			return // not decided yet: the item shard's sweep will resolve it
		}
	}
	if r.Code == OK && r.State == StateConfirmed {
		x.code = r.PickupCode
		m.stats["confirmed"]++
	}
}

func (m *mcRun) cancel() {
	if x := m.pick(); x != nil {
		m.one(x.shard, Command{Op: OpCancel, ID: x.id})
	}
}

func (m *mcRun) pickupOrReturn() {
	x := m.pick()
	if x == nil || x.code == 0 {
		return
	}
	res := m.e[x.shard].Read(&Command{Op: OpGetReservation, ID: x.id})
	if res.Code != OK {
		return
	}
	if res.Reservation.State == StatePickedUp {
		m.one(x.shard, Command{Op: OpReturn, ID: x.id, Restock: true})
		return
	}
	m.one(x.shard, Command{Op: OpPickup, ID: x.id, Store: []byte(res.Reservation.Store), PickupCode: x.code})
}

// deliver runs every shard's deliverer once: its pending messages to each
// destination as one group there, then the trim up to the last one the
// destination took. With faults a group may be lost, lose its first
// message in transit (a gap), or arrive twice, and the deliverer may crash
// before its trim.
func (m *mcRun) deliver(faults bool) {
	for sh := range m.e {
		for _, q := range m.e[sh].OutboxPending() {
			var cmds []Command
			for _, msg := range m.e[sh].Outbox(q.To, 6) {
				cmds = append(cmds, msg.Command(uint16(sh)))
			}
			switch f := m.r.IntN(10); {
			case faults && f == 0:
				m.stats["lost"]++
				continue
			case faults && f == 1 && len(cmds) > 1:
				cmds = cmds[1:] // the first is lost in transit: the rest are out of order
				m.stats["gap"]++
			}
			res := m.apply(int(q.To), cmds...)
			if faults && m.r.IntN(8) == 0 {
				res = m.apply(int(q.To), cmds...)
				m.stats["duplicate"]++
			}
			var upTo uint64
			for i, r := range res {
				if r.Code == CodeOutOfOrder {
					break
				}
				upTo = cmds[i].Seq
			}
			if upTo == 0 || (faults && m.crash()) {
				continue
			}
			if r := m.one(sh, Command{Op: OpDelivered, ToShard: q.To, Seq: upTo}); r.Code != OK {
				m.fatalf("delivered %d to %d: %v", upTo, q.To, r.Code)
			}
			m.stats["delivered"] += len(cmds)
		}
	}
}

// sweep runs every shard's two sweeps once (engine.SweepClaim and
// SweepHold decide). The home's: each pending claim past its deadline and
// the margin is anchored if its item shard has an active hold carrying
// it, released as the outbox would if that hold ended, else released (as
// of the deadline it read). The
// item shard's: each provisional hold past its deadline and the margin is
// resolved with its home's answer (expired if the home knows none). With
// faults the sweeper may crash between its read and its commit.
func (m *mcRun) sweep(faults bool) {
	for sh := range m.e {
		for _, d := range m.e[sh].ClaimsDue(m.at(sh)-int64(ClaimMargin), 8) {
			hold := m.e[d.ItemShard].Read(&Command{Op: OpGetClaimHold, Claim: []byte(d.Key)})
			if faults && m.crash() {
				continue
			}
			c := SweepClaim(&d, &hold)
			m.one(sh, c)
			switch {
			case c.Op == OpAnchorClaim:
				m.stats["swept_anchor"]++
			case c.Deadline == 0:
				m.stats["swept_release_ended"]++
			default:
				m.stats["swept_release"]++
			}
		}
		for _, h := range m.e[sh].ProvisionalDue(m.at(sh)-int64(ClaimMargin), 8) {
			g := m.e[mcHome([]byte(h.Customer))].Read(&Command{Op: OpGetClaim, Claim: []byte(h.Claim)})
			if faults && m.crash() {
				continue
			}
			c, ok := SweepHold(&h, &g)
			if !ok {
				m.fatalf("get_claim of %s: %v", h.Claim, g.Code)
			}
			m.one(sh, c)
			m.stats["swept_resolve"]++
		}
	}
}
