package router

import (
	"github.com/invsys/inv/engine"
)

// settleHold resolves the provisional hold a confirm, extend or reschedule
// met (asked: its claim_required, naming the hold's claim and customer),
// then runs the request (cmds: one command or a linked chain on shard):
// the claim's answer is read on the customer's home (get_claim), and the
// resolve and the request are proposed together, in one entry, so that
// the request meets the hold resolved. A hold resolved the other way
// meanwhile (wrong_state) changes nothing: the request then meets it as it
// is. The answer is the request's. rounds counts the holds settled so far
// (a chain may carry several).
//
// This runs only when a coordinator's resolve was lost (a crash before it
// committed), so it allocates freely.
func (r *Router) settleHold(shard int, cmds []engine.Command, asked *engine.Result, rounds int,
	done func([]engine.Result, error)) {
	info := asked.Reservation
	switch {
	case info == nil || info.Claim == "":
		done(nil, &Refusal{engine.CodeInternal, "claim_required without the claim"})
		return
	case rounds == claimRoundsMax:
		done(nil, &Refusal{engine.CodeInternal, "a request kept meeting provisional holds"})
		return
	}
	r.stats.resolved.Add(1)
	start := r.clock.Now()
	deadline := start.Add(coordinateTimeout)
	key, cust := []byte(info.Claim), []byte(info.Customer)
	get := &engine.Command{Op: engine.OpGetClaim, Customer: cust, Claim: key}
	r.runWithin(r.homeShard(cust), get, deadline, "reading a hold's claim", func(g engine.Result, err error) {
		switch {
		case err != nil:
			done(nil, homeErr(err))
			return
		case g.Code == engine.CodeNotFound:
			// The claim has not reached the home (yet): before its
			// deadline it still may; after it the item shard's sweep
			// resolves the hold expired.
			done(nil, &Refusal{engine.CodeUnavailable, "the hold's claim is not decided yet; retry"})
			return
		case !resolvable(g.Code):
			done(nil, &Refusal{engine.CodeInternal, "the customer's home answered the claim " + g.Code.String()})
			return
		}
		group := make([]engine.Command, 0, len(cmds)+1)
		group = append(group, engine.Command{Op: engine.OpResolveClaim, Claim: key, ClaimCode: g.Code, ItemShard: uint16(shard)})
		group = append(group, cmds...)
		r.runChainWithin(shard, group, deadline, "a resolve and its request", func(rs []engine.Result, err error) {
			r.observe(StepResolve, start)
			if err != nil {
				done(nil, err)
				return
			}
			out := rs[1:]
			if i := claimAsked(out); i >= 0 && cmds[i].Op != engine.OpReserve {
				r.settleHold(shard, cmds, &out[i], rounds+1, done) // another provisional hold of the chain
				return
			}
			done(out, nil)
		})
	})
}
