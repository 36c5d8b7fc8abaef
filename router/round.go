package router

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
)

// A limited reserve in one round (docs/adr/0070). The node that leads the
// item's shard coordinates: it reads the item on its applied state (Peek,
// no commit) and, for a limited item of a customer whose home is another
// shard, proposes in the same moment, with one deadline D:
//
//   - on the customer's home: claim(K, customer, SKU, qty, limit, item shard, D);
//   - on the item's shard: the reserve carrying K and D (a provisional hold).
//
// Both are handed to their proposers before either answers (on one node
// they ride the same group commit). Once both answered, judge (verdict.go)
// decides the answer and what to propose before writing it: the resolve
// of the hold, or the release of a claim whose hold was refused. Before D
// the answer does not wait for the resolve's commit (it is queued on the
// item's shard ahead of anything the client sends next, and no sweep
// touches the hold before D and the clock margin); past D it waits, and a
// hold the sweep resolved the other way meanwhile is answered by its
// reserve's replay. A crash at any step leaves what the sweeps settle
// (sweep.go).
//
// A round is a state machine in a pooled record: the proposers' callbacks,
// bound once per record, advance it; no goroutine, channel or allocation
// per request (round_bench_test.go), unless the customer's home is led by
// another node (forwarding allocates).

// roundStep is where a round stands.
type roundStep uint8

const (
	stepBoth    roundStep = iota + 1 // the claim and the hold are in flight
	stepResolve                      // past D: the answer waits for the resolve
	stepReplay                       // the resolve met a hold resolved otherwise: the reserve's replay answers
)

// round is one reserve coordinated in one round.
type round struct {
	r          *Router
	item, home int
	step       roundStep
	start      time.Time // the request arrived
	sent       time.Time // the claim and the hold were handed to their proposers

	// Where the answer goes: done, or entry slot of a BATCH.
	done func(engine.Result, error)
	b    *batch
	slot int

	cmds  []engine.Command // cmds[0]: the reserve, carrying K and D (the node's own copy)
	buf   []byte           // its bytes
	key   [claimKeyLen]byte
	claim engine.Command // the claim on the home (its bytes are the reserve's)
	aux   engine.Command // a resolve or a release proposed after the answer
	home2 engine.Command // an anchor proposed beside the resolve

	holdRes, claimRes engine.Result
	holdErr, claimErr error
	pending           atomic.Int32 // answers awaited in stepBoth
	v                 verdict      // stepResolve: the answer once the resolve is in

	onHold, onClaim, onResolve, onReplay func(engine.Result, error) // bound once
}

var roundPool sync.Pool

func init() {
	roundPool.New = func() any {
		q := &round{cmds: make([]engine.Command, 0, 1)}
		q.onHold, q.onClaim, q.onResolve, q.onReplay = q.holdAnswered, q.claimAnswered, q.resolveAnswered, q.replayAnswered
		return q
	}
}

// needsRound reports whether a reserve on shard item takes a round: this
// node leads the item's shard, whose applied state says the item is
// limited, open and has the units, and the customer's home is another
// shard. limit is the SKU's. Anything else takes the one-shard path, where
// the item's shard refuses or holds as it would alone (a stale read comes
// back claim_required and takes a round then).
func (r *Router) needsRound(item int, cmd *engine.Command) (limit int64, ok bool) {
	if len(r.shards) < 2 || cmd.Op != engine.OpReserve || len(cmd.Claim) > 0 || r.homeShard(cmd.Customer) == item {
		return 0, false
	}
	sh := r.shard(item)
	if sh == nil || !sh.IsLeader() {
		return 0, false
	}
	start := r.clock.Now()
	avail, limit, found := sh.Peek(cmd.SKU, cmd.Store)
	if !found || limit <= 0 || avail < cmd.Qty {
		return 0, false
	}
	r.observe(StepPeek, start) // the peeks of rounds: the others cost a histogram's lock for nothing
	return limit, true
}

// newRound takes a record for a reserve of shard item, with its own copy
// of cmd and the claim's key: K for a new round (named == ""), or the key
// a provisional hold already names.
func (r *Router) newRound(item int, cmd *engine.Command, named string, start time.Time) *round {
	q := roundPool.Get().(*round)
	q.r, q.item, q.home, q.start = r, item, r.homeShard(cmd.Customer), start
	q.cmds, q.buf = engine.CloneCommandsInto(q.cmds[:0], q.buf, []engine.Command{*cmd})
	hold := &q.cmds[0]
	if named == "" {
		hold.Claim = appendClaimKey(q.key[:0], hold)
	} else {
		hold.Claim = append(q.key[:0], named...)
	}
	hold.Deadline = start.Add(r.claimWindow).UnixNano()
	hold.Linked = false
	return q
}

// startRound runs q's round (newRound) for a reserve of shard item, which
// this node leads, limit being the SKU's limit.
func (r *Router) startRound(item int, limit int64, q *round) {
	r.stats.coordinated.Add(1)
	hold := &q.cmds[0]
	q.claim = engine.Command{Op: engine.OpClaim, Customer: hold.Customer, SKU: hold.SKU, Qty: hold.Qty, Limit: limit,
		Claim: hold.Claim, ItemShard: uint16(item), Deadline: hold.Deadline}
	q.step = stepBoth
	q.pending.Store(2)
	q.sent = r.clock.Now()
	// The hold first: if this node no longer leads the item's shard nothing
	// is proposed at all, and the answer names the leader.
	if err := r.shards[item].Propose(*hold, q.onHold); err != nil {
		q.answer(engine.Result{}, r.Hint(err))
		return
	}
	r.proposeAnywhere(q.home, &q.claim, q.onClaim)
}

// settleNamed runs the claim half of a round for a hold that already
// exists, provisional, naming its claim (a reserve's replay whose
// coordinator did not resolve it): the claim's answer for its key decides
// it, as in a round.
func (r *Router) settleNamed(q *round, hold *engine.Result, limit int64) {
	r.stats.coordinated.Add(1)
	h := &q.cmds[0]
	q.claim = engine.Command{Op: engine.OpClaim, Customer: h.Customer, SKU: h.SKU, Qty: h.Qty, Limit: limit,
		Claim: h.Claim, ItemShard: uint16(q.item), Deadline: h.Deadline}
	q.step = stepBoth
	q.holdRes, q.holdErr = *hold, nil
	q.pending.Store(1)
	q.sent = r.clock.Now()
	r.proposeAnywhere(q.home, &q.claim, q.onClaim)
}

// namedLimit is the limit the claim of a provisional hold's replay
// carries: the SKU's, or, when it was lifted meanwhile, no bound (the claim
// must still count the hold's units, which a claim refused on a limit that
// no longer exists would not).
func (r *Router) namedLimit(shard int, cmd *engine.Command) int64 {
	if _, limit, _ := r.shards[shard].Peek(cmd.SKU, cmd.Store); limit > 0 {
		return limit
	}
	return engine.MaxStock
}

func (q *round) holdAnswered(res engine.Result, err error) {
	q.r.observe(StepHold, q.sent)
	q.holdRes, q.holdErr = res, q.r.Hint(err)
	q.arrive()
}

func (q *round) claimAnswered(res engine.Result, err error) {
	q.r.observe(StepClaim, q.sent)
	q.claimRes, q.claimErr = res, q.r.Hint(err)
	q.arrive()
}

// arrive decides once both answers are in (on whichever goroutine brought
// the last one).
func (q *round) arrive() {
	if q.pending.Add(-1) == 0 {
		q.decide()
	}
}

// decide answers the round after proposing what the answer needs.
func (q *round) decide() {
	r, hold := q.r, &q.cmds[0]
	v := judge(&q.holdRes, q.holdErr, &q.claimRes, q.claimErr, hold.Claim)
	if v.release {
		q.aux = engine.Command{Op: engine.OpReleaseClaim, Customer: hold.Customer, Claim: hold.Claim, Deadline: hold.Deadline}
		r.proposeAnywhere(q.home, &q.aux, r.afterRelease)
	}
	if v.anchor {
		q.home2 = engine.Command{Op: engine.OpAnchorClaim, Customer: hold.Customer, Claim: hold.Claim}
		r.proposeAnywhere(q.home, &q.home2, r.afterAnchor)
	}
	if !v.resolve {
		q.answer(v.res, v.err)
		return
	}
	q.aux = engine.Command{Op: engine.OpResolveClaim, Claim: hold.Claim, ClaimCode: v.code, ItemShard: uint16(q.item)}
	if r.clock.Now().UnixNano() < hold.Deadline {
		if err := r.shards[q.item].Propose(q.aux, r.afterResolve); err != nil {
			r.resolved(engine.Result{}, err) // the hold stays provisional: a retry, a confirm or the sweep resolves it
		}
		q.answer(v.res, v.err)
		return
	}
	q.step, q.v, q.sent = stepResolve, v, r.clock.Now()
	if err := r.shards[q.item].Propose(q.aux, q.onResolve); err != nil {
		q.answer(engine.Result{}, r.Hint(err))
	}
}

// resolveAnswered: past D the answer waited for the resolve.
func (q *round) resolveAnswered(res engine.Result, err error) {
	r := q.r
	r.observe(StepResolve, q.sent)
	switch {
	case err != nil:
		q.answer(engine.Result{}, r.Hint(err))
	case res.Code == engine.CodeWrongState && len(q.cmds[0].Key) > 0:
		// A sweep resolved the hold the other way first: the reserve's
		// record holds the answer that stands.
		q.step = stepReplay
		replay := q.cmds[0]
		replay.Claim, replay.Deadline = nil, 0
		if err := r.shards[q.item].Propose(replay, q.onReplay); err != nil {
			q.answer(engine.Result{}, r.Hint(err))
		}
	case res.Code == engine.CodeWrongState:
		q.answer(engine.Result{}, &Refusal{engine.CodeTimeout, "the hold was resolved otherwise meanwhile; a request without a key cannot be replayed"})
	case res.Code != engine.OK:
		q.answer(engine.Result{}, &Refusal{engine.CodeInternal, "resolving the hold: " + res.Code.String()})
	default:
		q.answer(q.v.res, q.v.err)
	}
}

func (q *round) replayAnswered(res engine.Result, err error) {
	if err == nil {
		res = firmAnswer(&res)
	}
	q.answer(res, q.r.Hint(err))
}

// answer hands the outcome on and the record back.
func (q *round) answer(res engine.Result, err error) {
	r, done, b, slot, start := q.r, q.done, q.b, q.slot, q.start
	q.free()
	r.observe(StepWhole, start)
	if b != nil {
		b.results[slot], b.errs[slot] = res, err
		b.arrive()
		return
	}
	done(res, err)
}

func (q *round) free() {
	q.r, q.done, q.b = nil, nil, nil
	q.holdRes, q.claimRes, q.holdErr, q.claimErr, q.v = engine.Result{}, engine.Result{}, nil, nil, verdict{}
	q.claim, q.aux, q.home2 = engine.Command{}, engine.Command{}, engine.Command{}
	clear(q.cmds[:cap(q.cmds)])
	q.cmds = q.cmds[:0]
	roundPool.Put(q)
}

// resolved, anchored and released complete the resolves, anchors and
// releases a round proposes without waiting (bound once as afterResolve,
// afterAnchor and afterRelease): a failure only leaves what a retry, a
// confirm or the sweeps settle.
func (r *Router) resolved(res engine.Result, err error) {
	if err != nil || res.Code != engine.OK && res.Code != engine.CodeWrongState {
		r.log.Debug("a provisional hold stays unresolved until a retry or the sweep", "error", err, "code", res.Code.String())
	}
}

func (r *Router) anchored(res engine.Result, err error) {
	if err != nil || res.Code != engine.OK {
		r.log.Debug("a claim stays pending until the home's sweep anchors it", "error", err, "code", res.Code.String())
	}
}

func (r *Router) released(res engine.Result, err error) {
	if err != nil || res.Code != engine.OK {
		r.log.Debug("a claim whose hold was refused stays until the sweep", "error", err, "code", res.Code.String())
	}
}

// proposeAnywhere proposes cmd on shard: here when this node leads it (no
// allocation), else where its leader is (runAny: forwarded). done gets
// the outcome once, its error not yet hinted when proposed here.
func (r *Router) proposeAnywhere(shard int, cmd *engine.Command, done func(engine.Result, error)) {
	if sh := r.shard(shard); sh != nil && sh.IsLeader() {
		if err := sh.Propose(*cmd, done); err == nil {
			return
		}
	}
	r.runAny(shard, cmd, false, done)
}
