package router

import (
	"github.com/invsys/inv/engine"
)

// A limited SKU's customer of another home joins a waitlist with a claim
// (docs/adr/0112). The entry's units count against the customer's limit
// at its home from the join on, so that the promotion, which happens in
// the item shard's apply with no coordinator, needs no claim of its own:
//
//  1. claim(K, customer, SKU, qty, limit, item shard, D) on the home;
//     refused (limit_exceeded, blocked, expired): that is the answer,
//     unless the join's key replays an earlier one (joinRefused);
//     no answer: the answer is the error, and the home's sweep releases
//     the claim after D (no entry carries K, and none can any more);
//  2. accepted: join_waitlist carrying K and D on the item's shard (this
//     node leads it); the entry carries K;
//  3. the join's answer says whether K is carried (an entry in line, or
//     the hold its promotion made): anchor_claim(K) on the home (it counts
//     until the outbox releases it); not carried (the join was refused,
//     the customer stood in line already, or a replay's entry has ended):
//     release_claim(K, D), which releases only the claim this round
//     judged; then the join's answer. A lost anchor or release leaves the
//     claim pending, which the sweep settles.
//
// In sequence, not in parallel as a limited reserve's round (round.go): a
// claim accepted before the join is proposed means an entry never exists
// without its claim, so entries need no provisional state, no resolve and
// no sweep of their own. A join costs two commits in a row (a join is
// made once per customer and sold-out item, off the reserve hot path).

// needsJoinClaim reports whether a join on shard item takes a claim first:
// this node leads the item's shard, whose applied state says the SKU is
// limited, and the customer's home is another shard. limit is the SKU's.
// A stale read comes back claim_required (carrying the limit): the round
// follows then (coordinate, request.claimAsked).
func (r *Router) needsJoinClaim(item int, cmd *engine.Command) (limit int64, ok bool) {
	if len(r.shards) < 2 || cmd.Op != engine.OpJoinWaitlist || len(cmd.Claim) > 0 || r.homeShard(cmd.Customer) == item {
		return 0, false
	}
	sh := r.shard(item)
	if sh == nil || !sh.IsLeader() {
		return 0, false
	}
	if _, limit, found := sh.Peek(cmd.SKU, cmd.Store); found && limit > 0 {
		return limit, true
	}
	return 0, false
}

// joinClaimKey is a join's claim key: as a reserve's (appendClaimKey), with
// its own first letter, so that a join and a reserve of the same fields
// and idempotency key never share a claim.
func joinClaimKey(cmd *engine.Command) []byte {
	k := claimKey(cmd)
	if k[0] == 'k' {
		k[0] = 'w'
	}
	return k
}

// joinWithClaim runs a join of shard item with its claim (steps above) and
// calls done once with its answer.
func (r *Router) joinWithClaim(item int, cmd *engine.Command, limit int64, done func(engine.Result, error)) {
	r.stats.joinClaims.Add(1)
	own := engine.CloneCommands([]engine.Command{*cmd}) // it outlives the caller's buffer
	join := &own[0]
	join.Claim = joinClaimKey(join)
	join.Deadline = r.clock.Now().Add(r.claimWindow).UnixNano()
	join.Linked = false
	home := r.homeShard(join.Customer)
	claim := &engine.Command{Op: engine.OpClaim, Customer: join.Customer, SKU: join.SKU, Qty: join.Qty, Limit: limit,
		Claim: join.Claim, ItemShard: uint16(item), Deadline: join.Deadline}
	r.proposeAnywhere(home, claim, func(res engine.Result, err error) {
		switch {
		case err != nil:
			done(engine.Result{}, homeErr(r.Hint(err)))
		case res.Code != engine.OK:
			r.joinRefused(item, join, res.Code, done)
		default:
			r.joinClaimed(item, home, join, done)
		}
	})
}

// joinRefused answers a join whose claim was refused. A join with an
// idempotency key is proposed once more, carrying the refusal (ClaimCode,
// no claim): its key keeps the refusal as its answer, or replays the one
// it had (a retry after its claim was released as of its deadline, or
// after the home's answer aged out, is decided anew at the home), so that
// a retry is told what was answered first.
func (r *Router) joinRefused(item int, join *engine.Command, code engine.Code, done func(engine.Result, error)) {
	if len(join.Key) == 0 {
		done(engine.Result{Code: code}, nil)
		return
	}
	record := *join
	record.Claim, record.Deadline, record.ClaimCode = nil, 0, code
	err := r.shards[item].Propose(record, func(res engine.Result, err error) { done(res, r.Hint(err)) })
	if err != nil {
		done(engine.Result{}, r.Hint(err))
	}
}

// joinClaimed proposes the join once its claim was accepted, then anchors
// or releases the claim before answering.
func (r *Router) joinClaimed(item, home int, join *engine.Command, done func(engine.Result, error)) {
	release := &engine.Command{Op: engine.OpReleaseClaim, Customer: join.Customer, Claim: join.Claim, Deadline: join.Deadline}
	err := r.shards[item].Propose(*join, func(res engine.Result, err error) {
		if err != nil {
			done(engine.Result{}, r.Hint(err)) // the outcome is unknown: the home's sweep settles the claim
			return
		}
		after := release
		if res.Code == engine.OK && res.Waitlist != nil && res.Waitlist.Claimed {
			after = &engine.Command{Op: engine.OpAnchorClaim, Customer: join.Customer, Claim: join.Claim}
		}
		if res.Waitlist != nil {
			w := *res.Waitlist
			w.Claimed = false // the nodes' own
			res.Waitlist = &w
		}
		r.proposeAnywhere(home, after, func(ar engine.Result, aerr error) {
			if aerr != nil || ar.Code != engine.OK {
				r.log.Debug("a waitlist claim stays pending until the home's sweep", "op", after.Op.String(),
					"error", aerr, "code", ar.Code.String())
			}
			done(res, nil)
		})
	})
	if err != nil {
		// Nothing was proposed: no entry carries the claim.
		r.proposeAnywhere(home, release, r.released)
		done(engine.Result{}, r.Hint(err))
	}
}
