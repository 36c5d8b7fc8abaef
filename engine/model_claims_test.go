// What this file proves: with the one-round claims of docs/adr/0070 driven
// the way a coordinator drives them (model_coord_test.go), no interleaving
// of reserves, confirms, extends, cancels, pickups, returns, expiries and
// no-shows, no crash of the coordinator at any point (before or after each
// of its proposals is applied, before its resolve, between a sweep's read
// and its commit), no retry with the same idempotency key, and no loss,
// duplication or gap in the delivery of outbox messages breaks a rule:
//
//   - no item is oversold (CheckInvariants after every batch);
//   - no customer owns more of a SKU than its limit, counting its holds in
//     its home shard, its firm claimed holds, and its provisional holds
//     whose claim its home accepted (checkLimits, after every step);
//   - every firm claimed hold has an accepted claim at the customer's home
//     (checkFirm, after every step);
//   - a retry of an answered reserve gets the first answer;
//   - once every deadline has passed and both sweeps and the deliveries
//     have run, nothing is pending or provisional, every accepted claim has
//     an active hold carrying it, and once every hold's life has passed the
//     claims hold exactly the claimed units still picked up (checkSettled);
//   - a replica fed the same batches and restored from a snapshot half way
//     ends in the same state, byte for byte.
//
// How: three engines (Shards = 3) are three shards, each stamped with its
// own clock skew (less than ClaimMargin apart, as the leaders' clocks are
// assumed to be). The reference model is the rule itself: per customer and
// SKU, the limit (mcLimits), checked over every shard's reservations read
// back from the engines. TestClaimsAcrossShards runs random steps; each
// coordination is a small state machine that advances one proposal per
// step, interleaved with everything else, and may crash before any step.
// TestClaimCoordinatorCuts runs one reserve through every cut point, in
// each proposal order and outcome, then retries it, sweeps and delivers.
// Every run logs its seed; replay one with -seed=N.
package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

const (
	mcShards = 3
	mcHold   = 2 * time.Minute
	mcWindow = 3 * time.Second // the coordinator's deadline: D = its shard's time + mcWindow
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

func mcHome(cust []byte) int { return CustomerShard(cust, mcShards) }

type mcRes struct {
	shard int
	id    uint64
	code  uint64
}

// mcAnswer is what a client was told for an idempotency key.
type mcAnswer struct {
	code Code
	id   uint64
}

type mcRun struct {
	t       *testing.T
	seed    int64
	r       *rand.Rand
	e       [mcShards]*Engine
	rep     [mcShards]*Engine // replicas: the same batches
	skew    [mcShards]int64
	now     int64
	crashP  int // percent: a coordinator step or a sweep's commit is cut
	reqs    []*mcReq
	joins   []*mcJoin // waitlist joins with claims in flight (model_waitlist_claims_test.go)
	jkeys   int       // joins made: the next join's number
	res     []mcRes
	keys    int
	answers map[string]mcAnswer
	stats   map[string]int
	trace   []string // the last commands, printed when a check fails
}

func newMCRun(t *testing.T, seed int64) *mcRun { return newMCRunWith(t, seed, -1) }

// newMCRunWith is newMCRun with the no-show rule set (-1: off).
func newMCRunWith(t *testing.T, seed int64, noShowLimit int) *mcRun {
	m := &mcRun{t: t, seed: seed, r: rand.New(rand.NewPCG(uint64(seed), 7)), now: 1_700_000_000 * int64(time.Second),
		crashP: 10, answers: map[string]mcAnswer{}, stats: map[string]int{}}
	for i := range m.e {
		cfg := Config{ShardID: uint16(i), Shards: mcShards, PickupSecret: []byte("mc"), DefaultHoldTTL: mcHold,
			MaxHold: 5 * time.Minute, PickupPeriod: time.Hour, NoShowLimit: noShowLimit}
		m.e[i], m.rep[i] = New(cfg), New(cfg)
		m.skew[i] = int64(m.r.IntN(int(ClaimMargin/time.Millisecond)/2)) * int64(time.Millisecond)
	}
	for _, sku := range mcSKUs {
		for shard := range m.e { // the SKU's limit, on every shard
			m.apply(shard, Command{Op: OpSetLimit, SKU: []byte(sku), Limit: mcLimits[sku]})
		}
		for _, st := range mcStores {
			m.apply(mcItemShard(sku, st), Command{Op: OpPutItem, SKU: []byte(sku), Store: []byte(st), Stock: 6})
		}
	}
	return m
}

// at is shard sh's time.
func (m *mcRun) at(sh int) int64 { return m.now + m.skew[sh] }

// apply runs one batch on a shard (and its replica) at its time, checks
// its invariants and returns copies of the results.
func (m *mcRun) apply(sh int, cmds ...Command) []Result {
	m.t.Helper()
	res, evs := m.e[sh].Apply(m.at(sh), cmds)
	out := append([]Result(nil), res...)
	for _, ev := range evs {
		if ev.Kind == EvWaitPromoted && mcHome([]byte(ev.Customer)) != sh {
			m.stats["promoted_claimed"]++ // a waitlist entry of a customer of another home (model_waitlist_claims_test.go)
		}
	}
	for i := range cmds {
		m.trace = append(m.trace, fmt.Sprintf("shard %d at %d: %s -> %s", sh, m.at(sh), refFmtCmd(&cmds[i]), refFmtResult(out[i])))
	}
	if len(m.trace) > 40000 {
		m.trace = m.trace[20000:]
	}
	m.rep[sh].Apply(m.at(sh), cmds)
	if err := m.e[sh].CheckInvariants(); err != nil {
		m.t.Fatalf("shard %d after %v: %v", sh, cmds[0].Op, err)
	}
	return out
}

func (m *mcRun) one(sh int, c Command) Result { return m.apply(sh, c)[0] }

// fatalf fails the run with the commands that led there.
func (m *mcRun) fatalf(format string, args ...any) {
	m.t.Helper()
	n := max(0, len(m.trace)-15)
	trace := m.trace[n:]
	if f := os.Getenv("INV_MC_TRACE"); f != "" { // every command that mentions it
		trace = nil
		for _, l := range m.trace {
			if strings.Contains(l, f) {
				trace = append(trace, l)
			}
		}
	}
	m.t.Fatalf("seed %d: "+format+"\n%s", append(append([]any{m.seed}, args...), strings.Join(trace, "\n"))...)
}

func (m *mcRun) crash() bool { return m.r.IntN(100) < m.crashP }

// advance moves time and lets every shard expire what is due.
func (m *mcRun) advance(d time.Duration) {
	m.now += int64(d)
	for sh := range m.e {
		m.apply(sh, Command{Op: OpExpire})
	}
}

// answer records what a client was told for its key; a retry must be told
// the same.
func (m *mcRun) answer(key []byte, code Code, id uint64) {
	m.t.Helper()
	if len(key) == 0 {
		return
	}
	if code == OK {
		m.stats["answered_ok"]++
	} else {
		m.stats["answered_"+code.String()]++
	}
	a := mcAnswer{code: code, id: id}
	if prev, ok := m.answers[string(key)]; ok {
		if prev != a {
			m.fatalf("key %s: answered %v %x, first %v %x", key, code, id, prev.code, prev.id)
		}
		m.stats["retry_same_answer"]++
		return
	}
	m.answers[string(key)] = a
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

func (m *mcRun) step() {
	switch n := m.r.IntN(100); {
	case n < 30:
		m.startReserve()
	case n < 50:
		m.advanceRequest()
	case n < 58:
		m.confirmOrExtend()
	case n < 66:
		m.cancel()
	case n < 70:
		m.pickupOrReturn()
	case n < 74:
		m.deliver(true)
	case n < 84:
		m.sweep(true)
	case n < 97:
		m.advance(time.Duration(m.r.IntN(1500)) * time.Millisecond)
	default:
		m.advance(time.Duration(m.r.IntN(60)) * time.Second)
	}
}

// settle lets every deadline pass and runs the sweeps and deliveries
// without faults until nothing is left to do.
func (m *mcRun) settle(d time.Duration) {
	m.reqs, m.joins = nil, nil // every coordinator in flight crashed
	m.advance(d)
	for range 4 {
		m.sweep(false)
		m.deliver(false)
	}
}

func TestClaimsAcrossShards(t *testing.T) {
	runClaimModel(t, 10, claimPaths, (*mcRun).step, false)
}

// runClaimModel runs seeds runs of the cross-shard model, each of steps
// made by step with every check after each, then settled and checked
// quiet; afterSettle checks the limits once more after the last settle.
// Each path of paths must be reached: a short run's few seeds reach a rare
// one (a confirm that waits for its resolve, a join's rarest crash point)
// only most of the time, so seeds are added, up to four times as many,
// until every path is.
func runClaimModel(t *testing.T, seeds int, paths []string, step func(*mcRun), afterSettle bool) {
	steps := 3000
	if testRaceEnabled || testing.Short() {
		seeds, steps = 3, 1500
	}
	base := time.Now().UnixNano()
	if *refSeedFlag != 0 {
		base, seeds = *refSeedFlag, 1
	}
	total := map[string]int{}
	missing := func() []string {
		var out []string
		for _, k := range paths {
			if total[k] == 0 {
				out = append(out, k)
			}
		}
		return out
	}
	ran := 0
	for s := 0; s < seeds || len(missing()) > 0 && s < 4*seeds && *refSeedFlag == 0; s++ {
		ran++
		seed := base + int64(s)
		m := newMCRun(t, seed)
		for i := range steps {
			step(m)
			m.checkLimits(i)
			m.checkFirm(i)
			if i == steps/2 {
				m.restoreReplicas()
			}
		}
		m.settle(10 * time.Second)
		m.checkLimits(steps)
		m.checkQuiet(true)
		m.settle(2 * time.Hour)
		m.checkQuiet(false)
		if afterSettle {
			m.checkLimits(steps + 1)
		}
		m.checkReplicas()
		for k, v := range m.stats {
			total[k] += v
		}
	}
	t.Logf("seeds %d..%d: %v", base, base+int64(ran)-1, total)
	for _, k := range missing() {
		t.Errorf("the run never reached %q: the generator lost it", k)
	}
}

// claimPaths are the paths of a coordinated reserve TestClaimsAcrossShards
// must reach (model_coord_test.go counts them).
var claimPaths = []string{"coordinated", "answered_ok", "answered_limit_exceeded", "resolved_refused", "crash_after_first",
	"crash_before_resolve", "claim_first", "hold_first", "same_step", "retry_same_answer", "swept_anchor", "swept_release",
	"swept_resolve", "delivered", "duplicate", "gap", "lost", "confirm_resolved", "released_direct", "confirmed",
	"anchored_direct"}

// TestClaimCoordinatorCuts runs one coordinated reserve through every cut
// point, in each order of its proposals and each outcome, retries it (before
// and after its deadline), then lets the sweeps and deliveries run.
func TestClaimCoordinatorCuts(t *testing.T) {
	outcomes := []string{"ok", "limit", "sold_out", "late_claim", "late_hold"}
	runs := 0
	for order := range 3 {
		for _, outcome := range outcomes {
			for cut := range 4 {
				for _, retry := range []string{"none", "soon", "late"} {
					name := fmt.Sprintf("order=%d/%s/cut=%d/retry=%s", order, outcome, cut, retry)
					m := newMCRun(t, int64(runs))
					m.crashP = 0
					m.cutCase(name, order, outcome, cut, retry)
					runs++
				}
			}
		}
	}
	t.Logf("%d cut cases", runs)
}
