// What this file proves: with the claim protocol of docs/adr/0050 driven
// the way the server's coordinator drives it, no interleaving of reserves,
// confirms, extends, cancels, pickups, returns, expiries and no-shows, and
// no crash of the coordinator between any two of its steps, leaves a
// customer owning more units of a SKU than its limit across all shards;
// and once time has passed every hold's life and every pending release was
// delivered, the claims on the customers' shards hold exactly the units of
// the claimed reservations still picked up (nothing stuck).
//
// How: three engines (Shards = 3) are three shards, each stamped with its
// own clock skew (less than ClaimMargin apart, as the leaders' clocks are
// assumed to be). A small coordinator in this file plays the server's part:
// reserve → claim_required → claim on the customer's shard → reserve with
// the proof (release the claim on a refusal); confirm → claim_required →
// settle → confirm with the proof; extend likewise; releases from the item
// shards' queues (ClaimReleases → release_claim → claim_released). Each
// step may be cut short (a crash of the coordinator) at random. After every
// action the guarantee is checked over every shard: per customer and SKU
// the units held, confirmed or picked up add up to at most the limit. Every
// run logs its seed; replay one with -seed=N. Each shard also has a
// replica fed the same batches, restored from a snapshot half way: at the
// end both snapshot to the same bytes (claims are deterministic state).
package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

const (
	mcShards = 3
	mcHold   = 2 * time.Minute
)

var (
	mcSKUs   = []string{"L1", "L2"}
	mcLimits = map[string]int64{"L1": 2, "L2": 3}
	mcStores = []string{"S1", "S2", "S3", "S4"}
	mcCusts  = []string{"c0", "c1", "c2", "c3", "c4", "c5"}
)

// mcItemShard places an item by its store (docs/adr/0071); every SKU is at
// every store, so every SKU has items in every shard.
func mcItemShard(sku, store string) int {
	return int(store[1]) % mcShards
}

type mcRes struct {
	shard int
	id    uint64
	code  uint64
}

type mcRun struct {
	t     *testing.T
	r     *rand.Rand
	e     [mcShards]*Engine
	rep   [mcShards]*Engine // replicas: the same batches
	skew  [mcShards]int64
	now   int64
	res   []mcRes
	keys  int
	stats map[string]int
}

func newMCRun(t *testing.T, seed int64) *mcRun {
	m := &mcRun{t: t, r: rand.New(rand.NewPCG(uint64(seed), 7)), now: 1_700_000_000 * int64(time.Second),
		stats: map[string]int{}}
	for i := range m.e {
		cfg := Config{ShardID: uint16(i), Shards: mcShards, PickupSecret: []byte("mc"), DefaultHoldTTL: mcHold,
			MaxHold: 5 * time.Minute, PickupPeriod: time.Hour, NoShowLimit: -1}
		m.e[i], m.rep[i] = New(cfg), New(cfg)
		m.skew[i] = int64(m.r.IntN(int(ClaimMargin/time.Millisecond)/2)) * int64(time.Millisecond)
	}
	for _, sku := range mcSKUs {
		for shard := range m.e { // the SKU's limit, on every shard
			m.apply(shard, Command{Op: OpSetLimit, SKU: []byte(sku), Limit: mcLimits[sku]})
		}
		for _, st := range mcStores {
			m.apply(mcItemShard(sku, st), Command{Op: OpPutItem, SKU: []byte(sku), Store: []byte(st), Stock: 3})
		}
	}
	return m
}

// apply runs one command on a shard at its time and checks its invariants.
func (m *mcRun) apply(shard int, c Command) Result {
	m.t.Helper()
	res, _ := m.e[shard].Apply(m.now+m.skew[shard], []Command{c})
	r := res[0]
	m.rep[shard].Apply(m.now+m.skew[shard], []Command{c})
	if err := m.e[shard].CheckInvariants(); err != nil {
		m.t.Fatalf("shard %d after %v: %v", shard, c.Op, err)
	}
	return r
}

func (m *mcRun) crash() bool { return m.r.IntN(100) < 12 }

func (m *mcRun) home(cust []byte) int { return CustomerShard(cust, mcShards) }

// reserve is the coordinator's reserve.
func (m *mcRun) reserve() {
	sku, store := mcSKUs[m.r.IntN(len(mcSKUs))], mcStores[m.r.IntN(len(mcStores))]
	cust := []byte(mcCusts[m.r.IntN(len(mcCusts))])
	m.keys++
	key := []byte(fmt.Sprintf("r%d", m.keys))
	if m.r.IntN(5) == 0 && m.keys > 1 {
		key = []byte(fmt.Sprintf("r%d", m.r.IntN(m.keys-1)+1)) // a retry (or a conflict)
	}
	c := Command{Op: OpReserve, SKU: []byte(sku), Store: []byte(store), Customer: cust, Qty: int64(1 + m.r.IntN(2)),
		Key: key, TTL: time.Duration(m.r.IntN(3)) * time.Minute}
	sh := mcItemShard(sku, store)
	r := m.apply(sh, c)
	if r.Code == CodeClaimRequired {
		m.stats["claim_required"]++
		// The claim's key names the whole request, as the server's does:
		// the same reserve key sent for another item is another claim.
		claimKey := []byte(fmt.Sprintf("%s|%s|%s|%s|%d|%d", key, cust, sku, store, c.Qty, c.TTL))
		ttl := c.TTL
		if ttl == 0 {
			ttl = mcHold
		}
		cr := m.apply(m.home(cust), Command{Op: OpClaim, Customer: cust, SKU: c.SKU, Qty: c.Qty, Limit: r.Qty,
			TTL: ttl + ClaimMargin, Claim: claimKey})
		if cr.Code != OK {
			m.stats["claim_"+cr.Code.String()]++
			if cr.PickupCode != 0 && !m.crash() {
				// The refusal, proven, is kept for the reserve's key.
				c.Claim, c.ClaimExpiry, c.Proof = claimKey, -int64(cr.Code), cr.PickupCode
				if r := m.apply(sh, c); r.Code != cr.Code {
					m.t.Fatalf("reserve with a refused claim (%v): %v", cr.Code, r.Code)
				}
				c.Claim, c.ClaimExpiry, c.Proof = nil, 0, 0
				if r := m.apply(sh, c); r.Code != cr.Code {
					m.t.Fatalf("retry of a reserve refused by its claim (%v): %v", cr.Code, r.Code)
				}
				m.stats["refusal_kept"]++
			}
			return
		}
		if m.crash() {
			m.stats["crash_after_claim"]++
			return
		}
		c.Claim, c.ClaimExpiry, c.Proof = claimKey, cr.ExpiresAt, cr.PickupCode
		r = m.apply(sh, c)
		if r.Code != OK {
			if !m.crash() {
				m.apply(m.home(cust), Command{Op: OpReleaseClaim, Claim: claimKey})
			}
			return
		}
	}
	if r.Code == OK {
		m.stats["held"]++
		m.res = append(m.res, mcRes{shard: sh, id: r.ID})
	}
}

func (m *mcRun) pick() *mcRes {
	if len(m.res) == 0 {
		return nil
	}
	return &m.res[m.r.IntN(len(m.res))]
}

// withClaim runs a confirm or extend, settling or extending the claim on
// the customer's shard first when the item shard asks for it.
func (m *mcRun) withClaim(x *mcRes, c Command) Result {
	r := m.apply(x.shard, c)
	if r.Code != CodeClaimRequired {
		return r
	}
	cust := []byte(r.Reservation.Customer)
	cc := Command{Op: OpSettleClaim, Claim: []byte(r.Reservation.Claim), Qty: c.Qty}
	if c.Op == OpExtend {
		cc = Command{Op: OpExtendClaim, Claim: []byte(r.Reservation.Claim), TTL: c.TTL + ClaimMargin}
	}
	cr := m.apply(m.home(cust), cc)
	if cr.Code != OK || m.crash() {
		m.stats[cc.Op.String()+"_cut"]++
		return cr
	}
	c.Claim, c.ClaimExpiry, c.Proof = []byte(r.Reservation.Claim), cr.ExpiresAt, cr.PickupCode
	r = m.apply(x.shard, c)
	if r.Code != OK {
		m.stats[c.Op.String()+"_after_claim_"+r.Code.String()]++
	}
	return r
}

func (m *mcRun) confirm() {
	if x := m.pick(); x != nil {
		r := m.withClaim(x, Command{Op: OpConfirm, ID: x.id})
		if r.Code == OK && r.State == StateConfirmed {
			x.code = r.PickupCode
			m.stats["confirmed"]++
		}
	}
}

func (m *mcRun) extend() {
	if x := m.pick(); x != nil {
		if r := m.withClaim(x, Command{Op: OpExtend, ID: x.id, TTL: time.Duration(1+m.r.IntN(4)) * time.Minute}); r.Code == OK {
			m.stats["extended"]++
		}
	}
}

func (m *mcRun) cancel() {
	if x := m.pick(); x != nil {
		m.apply(x.shard, Command{Op: OpCancel, ID: x.id})
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
		m.apply(x.shard, Command{Op: OpReturn, ID: x.id, Restock: true})
		return
	}
	m.apply(x.shard, Command{Op: OpPickup, ID: x.id, Store: []byte(res.Reservation.Store), PickupCode: x.code})
}

// deliver sends the item shards' pending releases, each step possibly cut.
func (m *mcRun) deliver(all bool) {
	for sh := range m.e {
		for _, rel := range m.e[sh].ClaimReleases(8) {
			if !all && m.r.IntN(2) == 0 {
				continue
			}
			m.apply(m.home([]byte(rel.Customer)), Command{Op: OpReleaseClaim, Claim: []byte(rel.Key)})
			if !all && m.crash() {
				continue // released, not yet marked: sent again later, harmlessly
			}
			m.apply(sh, Command{Op: OpClaimReleased, ID: rel.ID})
			m.stats["released"]++
		}
	}
}

// advance moves time and lets every shard expire what is due.
func (m *mcRun) advance(d time.Duration) {
	m.now += int64(d)
	for sh := range m.e {
		m.apply(sh, Command{Op: OpExpire})
	}
}

// restoreReplicas replaces every replica by a restore of its snapshot.
func (m *mcRun) restoreReplicas() {
	for i, r := range m.rep {
		e, err := Restore(r.Config(), bytes.NewReader(tbSnapBytes(r)))
		if err != nil {
			m.t.Fatalf("replica %d: %v", i, err)
		}
		m.rep[i] = e
	}
}

// checkReplicas: every replica's state is its shard's, byte for byte.
func (m *mcRun) checkReplicas() {
	for i := range m.e {
		if !bytes.Equal(tbSnapBytes(m.e[i]), tbSnapBytes(m.rep[i])) {
			m.t.Fatalf("shard %d: the replica's state differs", i)
		}
	}
}

// owned sums, over every shard, a customer's active units per SKU.
func (m *mcRun) owned() map[[2]string]int64 {
	out := map[[2]string]int64{}
	for sh := range m.e {
		for _, cust := range mcCusts {
			r := m.e[sh].Read(&Command{Op: OpListReservations, Customer: []byte(cust)})
			for _, x := range r.Reservations {
				if x.State.Active() {
					out[[2]string{cust, x.SKU}] += x.Qty
				}
			}
		}
	}
	return out
}

func (m *mcRun) checkLimits(step int) {
	for k, n := range m.owned() {
		if n > mcLimits[k[1]] {
			m.t.Fatalf("step %d: customer %s owns %d units of %s across shards, limit %d", step, k[0], n, k[1], mcLimits[k[1]])
		}
	}
}

// checkSettledUp: once every hold's life has passed and every release was
// delivered, the claims equal the claimed units still picked up.
func (m *mcRun) checkSettledUp() {
	want := map[claimSubject]int32{}
	for sh := range m.e {
		for _, cust := range mcCusts {
			r := m.e[sh].Read(&Command{Op: OpListReservations, Customer: []byte(cust)})
			for _, x := range r.Reservations {
				if x.State.Active() && x.Claim != "" {
					if x.State != StatePickedUp {
						m.t.Fatalf("reservation %x still %v after every deadline", x.ID, x.State)
					}
					want[claimSubject{cust, x.SKU}] += int32(x.Qty)
				}
			}
		}
	}
	got := map[claimSubject]int32{}
	for sh := range m.e {
		for sub, n := range m.e[sh].st.claims.units {
			if m.home([]byte(sub.customer)) != sh {
				m.t.Fatalf("claims of %s kept on shard %d, not its own", sub.customer, sh)
			}
			got[sub] += n
		}
		if n := len(m.e[sh].ClaimReleases(100)); n != 0 {
			m.t.Fatalf("shard %d: %d releases left after delivering all", sh, n)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		m.t.Fatalf("claims left %v, claimed units picked up %v", got, want)
	}
}

func TestClaimsAcrossShards(t *testing.T) {
	seeds, steps := 12, 3000
	if testRaceEnabled || testing.Short() {
		seeds, steps = 3, 1500
	}
	base := time.Now().UnixNano()
	if *refSeedFlag != 0 {
		base, seeds = *refSeedFlag, 1
	}
	total := map[string]int{}
	for s := range seeds {
		seed := base + int64(s)
		m := newMCRun(t, seed)
		for i := range steps {
			switch n := m.r.IntN(100); {
			case n < 40:
				m.reserve()
			case n < 55:
				m.confirm()
			case n < 62:
				m.extend()
			case n < 70:
				m.cancel()
			case n < 78:
				m.pickupOrReturn()
			case n < 88:
				m.deliver(false)
			default:
				m.advance(time.Duration(m.r.IntN(40)) * time.Second)
			}
			m.checkLimits(i)
			if i == steps/2 {
				m.restoreReplicas()
			}
		}
		m.advance(2 * time.Hour)
		m.deliver(true)
		m.deliver(true)
		m.checkLimits(steps)
		m.checkSettledUp()
		m.checkReplicas()
		for k, v := range m.stats {
			total[k] += v
		}
	}
	t.Logf("seeds %d..%d: %v", base, base+int64(seeds)-1, total)
	for _, k := range []string{"claim_required", "held", "confirmed", "released", "claim_limit_exceeded", "crash_after_claim", "extended", "refusal_kept"} {
		if total[k] == 0 {
			t.Errorf("the run never reached %q: the generator lost it", k)
		}
	}
}
