package router

import (
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The coordinator keeps a customer's per-SKU limit across shards with the
// engine's claims (docs/adr/0070). A request runs on its shard as usual;
// only when the item's shard answers claim_required does the node that
// received it act:
//
//   - reserve of a limited item of a customer of another shard: the claim
//     on the customer's home first, with a deadline (limit_exceeded,
//     blocked, expired: that is the answer), then the reserve carrying the
//     claim's key and deadline (a provisional hold), then its resolve,
//     which makes it firm; a refused request releases its claims as of
//     their deadlines;
//   - confirm, extend or reschedule of a provisional hold (its resolve was
//     lost): the claim's answer is read on the home and the hold resolved,
//     then the request runs again.
//
// Cancel, return, expiry and no-show need no coordinator: the item shard's
// outbox carries the release and its leader delivers it (release.go). A
// crash at any step leaves at most a claim without its hold or a
// provisional hold, which the sweeps of docs/adr/0070 settle: never a firm
// hold without its claim.
//
// A coordination is a state machine: each proposal's completion runs the
// next step, and no goroutine waits for any of them.

// coordinateTimeout bounds one coordination: a claim, the command again,
// and perhaps a release, each a commit, and an election.
const coordinateTimeout = 10 * time.Second

// claimRoundsMax bounds how often one group asks for claims: once per
// command of a linked group.
const claimRoundsMax = engine.MaxLinked

// needsCoordinator reports whether a command may come back claim_required.
func needsCoordinator(op engine.Op) bool {
	return op == engine.OpReserve || op == engine.OpConfirm || op == engine.OpExtend || op == engine.OpReschedule
}

// coordination is one request's claims in progress.
type coordination struct {
	r        *Router
	shard    int
	cmds     []engine.Command // the node's own copies: their claim fields are set here
	round    int
	taken    []heldClaim // the reserves' claims: resolved if the request holds, else released
	deadline time.Time
	done     func([]engine.Result, error)
}

type heldClaim struct {
	home     int
	key      []byte
	deadline int64
}

// coordinate takes the claims cmds ask for (rs: their first results, one
// or more claim_required) and runs them again until no claim is missing;
// done gets the last results.
func (r *Router) coordinate(shard int, cmds []engine.Command, rs []engine.Result, done func([]engine.Result, error)) {
	r.stats.coordinated.Add(1)
	c := &coordination{r: r, shard: shard, cmds: cmds, deadline: r.clock.Now().Add(coordinateTimeout), done: done}
	c.next(rs)
}

// next looks at the latest results: the answer, or the next claim to take.
func (c *coordination) next(rs []engine.Result) {
	i := claimAsked(rs)
	switch {
	case i < 0 && refused(rs):
		c.releaseTaken(func() { c.done(rs, nil) })
	case i < 0:
		c.resolveTaken(rs)
	case c.round == claimRoundsMax:
		c.releaseTaken(func() { c.done(nil, &Refusal{engine.CodeInternal, "a request kept asking for claims"}) })
	case c.cmds[i].Op == engine.OpReserve:
		c.round++
		c.claim(i, &rs[i])
	default:
		c.round++
		c.resolveFor(&rs[i])
	}
}

// claim takes the claim of the reserve cmds[i] on its customer's home,
// then runs the request again with the claim's key and deadline.
func (c *coordination) claim(i int, asked *engine.Result) {
	r, cmd := c.r, &c.cmds[i]
	home := r.homeShard(cmd.Customer)
	claim := r.claimCommand(cmd, asked, c.shard, r.clock.Now().Add(claimWindow).UnixNano())
	r.runWithin(home, claim, c.deadline, "a claim step", func(cr engine.Result, err error) {
		switch {
		case err != nil:
			c.done(nil, homeErr(err)) // unknown: the sweeps settle a claim taken here
			return
		case cr.Code != engine.OK:
			// limit_exceeded, blocked, expired: kept for the claim's key on the home.
			c.releaseTaken(func() { c.done(refuseChain(len(c.cmds), i, cr.Code), nil) })
			return
		}
		cmd.Claim, cmd.Deadline = claim.Claim, claim.Deadline
		c.taken = append(c.taken, heldClaim{home: home, key: claim.Claim, deadline: claim.Deadline})
		c.again()
	})
}

// again runs the request again.
func (c *coordination) again() {
	c.r.runChainWithin(c.shard, c.cmds, c.deadline, "a claimed request", func(rs []engine.Result, err error) {
		if err != nil {
			c.done(nil, err) // the hold's outcome is unknown: its claim must stay
			return
		}
		c.next(rs)
	})
}

// resolveFor resolves the provisional hold a confirm, extend or
// reschedule met with its claim's answer on the customer's home; the
// request then runs again.
func (c *coordination) resolveFor(asked *engine.Result) {
	r, info := c.r, asked.Reservation
	if info == nil || info.Claim == "" {
		c.done(nil, &Refusal{engine.CodeInternal, "claim_required without the claim"})
		return
	}
	key := []byte(info.Claim)
	get := &engine.Command{Op: engine.OpGetClaim, Claim: key}
	r.runWithin(r.homeShard([]byte(info.Customer)), get, c.deadline, "reading a hold's claim", func(g engine.Result, err error) {
		switch {
		case err != nil:
			c.done(nil, homeErr(err))
			return
		case g.Code == engine.CodeNotFound:
			c.done(nil, &Refusal{engine.CodeUnavailable, "the hold's claim is not decided yet"})
			return
		case g.Code != engine.OK && !g.Code.Refusal():
			c.done(nil, &Refusal{g.Code, "reading the hold's claim"})
			return
		}
		resolve := &engine.Command{Op: engine.OpResolveClaim, Claim: key, ClaimCode: g.Code}
		r.runWithin(c.shard, resolve, c.deadline, "resolving a hold's claim", func(res engine.Result, err error) {
			switch {
			case err != nil:
				c.done(nil, err)
			case res.Code != engine.OK && res.Code != engine.CodeWrongState: // wrong_state: resolved the other way meanwhile
				c.done(nil, &Refusal{res.Code, "resolving the hold's claim"})
			default:
				c.again()
			}
		})
	})
}

// resolveTaken makes the provisional holds of a request that held firm,
// one after the other, best effort (one whose resolve fails stays
// provisional until a confirm, a retry or the sweep resolves it), then
// answers rs. The replies do not name the claims.
func (c *coordination) resolveTaken(rs []engine.Result) {
	if len(c.taken) == 0 {
		for i := range rs {
			if c.cmds[i].Op == engine.OpReserve && len(c.cmds[i].Claim) > 0 {
				rs[i].Reservation = nil // the provisional hold's claim is the nodes' own
			}
		}
		c.done(rs, nil)
		return
	}
	h := c.taken[0]
	c.taken = c.taken[1:]
	resolve := &engine.Command{Op: engine.OpResolveClaim, Claim: h.key}
	c.r.runWithin(c.shard, resolve, c.deadline, "a resolve", func(res engine.Result, err error) {
		if err != nil || res.Code != engine.OK {
			c.r.log.Info("a provisional hold stays unresolved", "error", err, "code", res.Code.String())
		}
		c.resolveTaken(rs)
	})
}

// releaseTaken gives back the claims of a refused request, as of their
// deadlines, one after the other, best effort (one that stays is the
// sweep's to release), then calls then.
func (c *coordination) releaseTaken(then func()) {
	if len(c.taken) == 0 {
		then()
		return
	}
	h := c.taken[0]
	c.taken = c.taken[1:]
	rel := &engine.Command{Op: engine.OpReleaseClaim, Claim: h.key, Deadline: h.deadline}
	c.r.runWithin(h.home, rel, c.deadline, "a claim release", func(res engine.Result, err error) {
		if err != nil || res.Code != engine.OK {
			c.r.log.Info("a claim of a refused request stays until the sweep", "error", err, "code", res.Code.String())
		}
		c.releaseTaken(then)
	})
}

func (r *Router) homeShard(customer []byte) int {
	return protocol.ShardOfCustomer(customer, len(r.shards))
}

func claimAsked(rs []engine.Result) int {
	for i := range rs {
		if rs[i].Code == engine.CodeClaimRequired {
			return i
		}
	}
	return -1
}

func refused(rs []engine.Result) bool {
	for i := range rs {
		if rs[i].Code != engine.OK {
			return true
		}
	}
	return false
}

// refuseChain is a group's answer when the claim of its command i was
// refused: that command's code, link_failed for the others.
func refuseChain(n, i int, code engine.Code) []engine.Result {
	rs := make([]engine.Result, n)
	for k := range rs {
		rs[k].Code = engine.CodeLinkFailed
	}
	rs[i].Code = code
	return rs
}
