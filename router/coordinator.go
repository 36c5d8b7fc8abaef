package router

import (
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The coordinator keeps a customer's per-SKU limit across shards
// (docs/adr/0050). A request runs on its shard as usual; only when the
// item's shard answers claim_required (a limited item of a customer whose
// counters live in another shard, or the confirm or extend of such a hold)
// does the node that received the request take the claim on the customer's
// shard (here or on its leader's node), attach the claim's proof and run
// the request again:
//
//   - reserve: claim first (limit_exceeded, blocked: that is the answer),
//     then the hold, which ends before the claim; a refused hold releases
//     the claim at once;
//   - confirm: settle the claim, then confirm;
//   - extend: extend the claim, then the hold.
//
// Cancel, return, expiry and no-show need no coordinator: the item shard
// queues the release and its leader sends it (release.go). A crash at any
// step leaves at most a claim without its hold, which expires, or a settled
// claim whose release is queued: never a hold without its claim.
//
// A coordination is a state machine: each proposal's completion runs the
// next step (claim, then the command again, then perhaps a release), and
// no goroutine waits for any of them.

// coordinateTimeout bounds one coordination: a claim, the command again,
// and perhaps a release, each a commit, and an election.
const coordinateTimeout = 10 * time.Second

// claimRoundsMax bounds how often one group asks for claims: once per
// command of a linked group.
const claimRoundsMax = engine.MaxLinked

// needsCoordinator reports whether a command may come back claim_required.
func needsCoordinator(op engine.Op) bool {
	return op == engine.OpReserve || op == engine.OpConfirm || op == engine.OpExtend
}

// coordination is one request's claims in progress.
type coordination struct {
	r        *Router
	shard    int
	cmds     []engine.Command // the node's own copies: their claim fields are set here
	round    int
	taken    []heldClaim // the reserves' claims, released if the request is refused
	begun    time.Time   // the first claim_required came back (the router's clock)
	deadline time.Time
	done     func([]engine.Result, error) // through answer, which times the whole
}

type heldClaim struct {
	home int
	key  []byte
}

// coordinate takes the claims cmds ask for (rs: their first results, one
// or more claim_required) and runs them again until no claim is missing;
// done gets the last results.
func (r *Router) coordinate(shard int, cmds []engine.Command, rs []engine.Result, done func([]engine.Result, error)) {
	r.stats.coordinated.Add(1)
	now := r.clock.Now()
	c := &coordination{r: r, shard: shard, cmds: cmds, begun: now, deadline: now.Add(coordinateTimeout), done: done}
	c.next(rs)
}

// answer ends the coordination with its answer.
func (c *coordination) answer(rs []engine.Result, err error) {
	c.r.observeStep(StepCoordination, c.begun)
	c.done(rs, err)
}

// next looks at the latest results: the answer, or the next claim to take.
func (c *coordination) next(rs []engine.Result) {
	i := claimAsked(rs)
	switch {
	case i < 0 && refused(rs):
		c.releaseTaken(func() { c.answer(rs, nil) })
	case i < 0:
		c.answer(rs, nil)
	case c.round == claimRoundsMax:
		c.releaseTaken(func() { c.answer(nil, &Refusal{engine.CodeInternal, "a request kept asking for claims"}) })
	default:
		c.round++
		c.claim(i, &rs[i])
	}
}

// claim takes, settles or extends the claim of cmds[i] on its customer's
// shard, then runs the request again.
func (c *coordination) claim(i int, asked *engine.Result) {
	r, cmd := c.r, &c.cmds[i]
	home, claim, err := r.claimCommand(cmd, asked)
	if err != nil {
		c.answer(nil, err)
		return
	}
	claimSent := r.clock.Now()
	r.runWithin(home, claim, c.deadline, "a claim step", func(cr engine.Result, err error) {
		r.observeStep(StepClaim, claimSent)
		code, err := r.claimed(cmd, claim, &cr, err)
		switch {
		case err != nil:
			c.answer(nil, err) // unknown: a claim taken here expires with its TTL
			return
		case code == errRecord:
			// The reserve carries the refusal's proof now: run again, so
			// that its shard keeps the refusal for the reserve's key.
		case code != engine.OK:
			c.releaseTaken(func() { c.answer(refuseChain(len(c.cmds), i, code), nil) })
			return
		case cmd.Op == engine.OpReserve:
			c.taken = append(c.taken, heldClaim{home: home, key: claim.Claim})
		}
		again := r.clock.Now()
		r.runChainWithin(c.shard, c.cmds, c.deadline, "a claimed request", func(rs []engine.Result, err error) {
			r.observeStep(StepHold, again)
			if err != nil {
				c.answer(nil, err) // the hold's outcome is unknown: its claim must stay
				return
			}
			c.next(rs)
		})
	})
}

// releaseTaken gives back the claims of a refused request, one after the
// other, best effort (one that stays expires with its TTL), then calls then.
func (c *coordination) releaseTaken(then func()) {
	if len(c.taken) == 0 {
		then()
		return
	}
	h := c.taken[0]
	c.taken = c.taken[1:]
	rel := &engine.Command{Op: engine.OpReleaseClaim, Claim: h.key}
	sent := c.r.clock.Now()
	c.r.runWithin(h.home, rel, c.deadline, "a claim release", func(res engine.Result, err error) {
		c.r.observeStep(StepRelease, sent)
		if err != nil || res.Code != engine.OK {
			c.r.log.Info("a claim of a refused request stays until it expires", "error", err, "code", res.Code.String())
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
