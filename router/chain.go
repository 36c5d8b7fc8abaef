package router

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
)

// A linked chain of one shard (a cart's lines there) whose reserves need
// claims, in one round (docs/adr/0070): every such line gets its claim key
// and the round's deadline D; the claims, batched per customer's home (one
// group, one entry there), and the chain carrying them are proposed
// together. Once all answered, each claimed line is judged as a single
// reserve is (verdict.go):
//
//   - the chain's outcome unknown: that is the answer (the sweeps settle);
//   - the chain refused (a line's own refusal): that refusal, link_failed
//     for the other lines, and the accepted claims are released;
//   - every line held and every claim accepted: the holds are resolved
//     (one group on the item's shard), the claims anchored (one group per
//     home) and the chain answered;
//   - a claim refused, or unknown, after the chain held: the chain cannot
//     stand whole. Its refused lines are resolved with their refusal (their
//     holds end), every other held line is cancelled (an accepted claim's
//     release follows through the outbox), all in one group, and once that
//     group committed the chain is answered with the refusal (link_failed
//     for the other lines), or unavailable when a claim's answer never
//     came.
//
// Chains are carts, rare next to single reserves: a round of a chain
// allocates.

// chainNeedsRound reports whether a chain on shard item has a reserve line
// that takes a claim (needsRound's test, line by line).
func (r *Router) chainNeedsRound(item int, cmds []engine.Command) bool {
	for i := range cmds {
		if _, ok := r.needsRound(item, &cmds[i]); ok {
			return true
		}
	}
	return false
}

type chainRound struct {
	r        *Router
	shard    int
	cmds     []engine.Command // the chain; its claimed lines carry their claims
	lines    []int            // the claimed lines
	claims   []engine.Command // their claims, by line of lines
	homes    []int            // their homes
	claimRes []engine.Result
	claimErr []error
	chainRes []engine.Result
	chainErr error
	deadline time.Time // bounds each step
	start    time.Time
	pending  atomic.Int32
	done     func([]engine.Result, error)
}

// chainRound runs a chain (the node's own copies) on shard item in one
// round, with the claims its reserves need.
func (r *Router) chainRound(item int, cmds []engine.Command, done func([]engine.Result, error)) {
	start := r.clock.Now()
	c := &chainRound{r: r, shard: item, cmds: cmds, start: start, deadline: start.Add(coordinateTimeout), done: done}
	d := start.Add(r.claimWindow).UnixNano()
	for i := range cmds {
		cmd := &cmds[i]
		limit, ok := r.needsRoundLimit(item, cmd)
		if !ok {
			continue
		}
		cmd.Claim, cmd.Deadline = claimKey(cmd), d
		c.lines = append(c.lines, i)
		c.homes = append(c.homes, r.homeShard(cmd.Customer))
		c.claims = append(c.claims, engine.Command{Op: engine.OpClaim, Customer: cmd.Customer, SKU: cmd.SKU, Qty: cmd.Qty,
			Limit: limit, Claim: cmd.Claim, ItemShard: uint16(item), Deadline: d})
	}
	if len(c.lines) == 0 { // no line needs a claim after all (the limit was lifted meanwhile)
		r.runChainWithin(item, cmds, c.deadline, "a chain", done)
		return
	}
	r.stats.coordinated.Add(1)
	c.claimRes, c.claimErr = make([]engine.Result, len(c.lines)), make([]error, len(c.lines))
	groups := c.byHome()
	c.pending.Store(int32(1 + len(groups)))
	r.runChainWithin(item, cmds, c.deadline, "a claimed chain", func(rs []engine.Result, err error) {
		c.chainRes, c.chainErr = rs, err
		c.arrive()
	})
	for _, g := range groups {
		claims := make([]engine.Command, len(g.idx))
		for j, k := range g.idx {
			claims[j] = c.claims[k]
		}
		r.runGroupAny(g.home, claims, c.deadline, "a chain's claims", func(rs []engine.Result, err error) {
			for j, k := range g.idx {
				if err != nil {
					c.claimErr[k] = err
				} else {
					c.claimRes[k] = rs[j]
				}
			}
			c.arrive()
		})
	}
}

// needsRoundLimit is needsRound for one line of a chain: whether it takes
// a claim, and the SKU's limit (its availability is the chain's to judge).
func (r *Router) needsRoundLimit(item int, cmd *engine.Command) (int64, bool) {
	if cmd.Op != engine.OpReserve || len(cmd.Claim) > 0 || r.homeShard(cmd.Customer) == item {
		return 0, false
	}
	sh := r.shard(item)
	if sh == nil {
		return 0, false
	}
	_, limit, ok := sh.Peek(cmd.SKU, cmd.Store)
	return limit, ok && limit > 0
}

type homeGroup struct {
	home int
	idx  []int // indexes into lines
}

// byHome groups the claims by customer's home, in order of first appearance.
func (c *chainRound) byHome() []homeGroup {
	var out []homeGroup
	for k, h := range c.homes {
		j := 0
		for j < len(out) && out[j].home != h {
			j++
		}
		if j == len(out) {
			out = append(out, homeGroup{home: h})
		}
		out[j].idx = append(out[j].idx, k)
	}
	return out
}

func (c *chainRound) arrive() {
	if c.pending.Add(-1) == 0 {
		c.decide()
	}
}

// decide answers the chain once its claims and itself answered.
func (c *chainRound) decide() {
	r := c.r
	switch {
	case c.chainErr != nil:
		c.finish(nil, c.chainErr)
	case refused(c.chainRes):
		// A line's own refusal: nothing of the chain holds (a line that
		// replays its first OK belongs to a chain undone before, whose
		// answer was this refusal too).
		c.releaseAccepted()
		j := groupRefusal(c.chainRes)
		c.finish(refuseChain(len(c.cmds), j, c.chainRes[j].Code), nil)
	default:
		c.settle()
	}
	r.observe(StepWhole, c.start)
}

// settle resolves a chain that held: firm when every claim was accepted,
// else undone (see the file's comment).
func (c *chainRound) settle() {
	r := c.r
	var resolves, undo []engine.Command
	var anchors []int // indexes into lines
	bad, badCode, unknown := -1, engine.OK, false
	for k, i := range c.lines {
		v := judge(&c.chainRes[i], nil, &c.claimRes[k], c.claimErr[k], c.cmds[i].Claim)
		switch {
		case v.err != nil:
			unknown = true
		case v.res.Code != engine.OK:
			if bad < 0 {
				bad, badCode = i, v.res.Code
			}
			undo = append(undo, c.resolve(i, v.code))
		case v.resolve:
			resolves = append(resolves, c.resolve(i, engine.OK))
			anchors = append(anchors, k)
		}
	}
	if bad < 0 && !unknown {
		c.anchor(anchors)
		c.firm(resolves)
		return
	}
	for i := range c.cmds {
		if c.chainRes[i].Code == engine.OK && !c.refusedLine(i, undo) {
			undo = append(undo, engine.Command{Op: engine.OpCancel, ID: c.chainRes[i].ID, Key: cancelKey(c.cmds[i].Key)})
		}
	}
	// The answer waits for the undo, as a cart across shards waits for its
	// cancels: once it says the chain is refused, none of it is held.
	r.runChainWithin(c.shard, undo, c.deadline, "undoing a chain", func(rs []engine.Result, err error) {
		switch {
		case err != nil:
			r.log.Info("a chain whose claim was refused is not undone whole; its holds expire", "error", err)
			c.finish(nil, err)
		case bad >= 0:
			c.finish(refuseChain(len(c.cmds), bad, badCode), nil)
		default:
			c.finish(nil, &Refusal{engine.CodeUnavailable, "a claim on the customer's home did not answer: nothing is held"})
		}
	})
}

// anchor anchors the accepted claims of a chain that stands (their holds
// are known: the homes' sweeps need not read them), one group per home.
func (c *chainRound) anchor(lines []int) {
	for _, g := range groupBy(len(lines), func(j int) int { return c.homes[lines[j]] }) {
		cmds := make([]engine.Command, len(g.idx))
		for j, x := range g.idx {
			cl := &c.claims[lines[x]]
			cmds[j] = engine.Command{Op: engine.OpAnchorClaim, Customer: cl.Customer, Claim: cl.Claim}
		}
		c.r.runGroupAny(g.key, cmds, c.deadline, "a chain's anchors", func([]engine.Result, error) {})
	}
}

// firm resolves every claimed line OK and answers the chain: at once
// before D, after the resolves past it.
func (c *chainRound) firm(resolves []engine.Command) {
	r := c.r
	if len(resolves) == 0 {
		c.finish(c.stripped(), nil)
		return
	}
	if r.clock.Now().UnixNano() < c.cmds[c.lines[0]].Deadline {
		r.runChainWithin(c.shard, resolves, c.deadline, "a chain's resolves", func([]engine.Result, error) {})
		c.finish(c.stripped(), nil)
		return
	}
	r.runChainWithin(c.shard, resolves, c.deadline, "a chain's resolves", func(rs []engine.Result, err error) {
		for i := range rs {
			if err == nil && rs[i].Code != engine.OK {
				err = &Refusal{engine.CodeTimeout, "a hold of the chain was resolved otherwise; retry with the same keys"}
			}
		}
		if err != nil {
			c.finish(nil, err)
			return
		}
		c.finish(c.stripped(), nil)
	})
}

func (c *chainRound) resolve(line int, code engine.Code) engine.Command {
	return engine.Command{Op: engine.OpResolveClaim, Claim: c.cmds[line].Claim, ClaimCode: code, ItemShard: uint16(c.shard)}
}

// refusedLine reports whether line's hold is ended by a resolve in undo.
func (c *chainRound) refusedLine(line int, undo []engine.Command) bool {
	for i := range undo {
		if undo[i].Op == engine.OpResolveClaim && string(undo[i].Claim) == string(c.cmds[line].Claim) {
			return true
		}
	}
	return false
}

// releaseAccepted gives back the accepted claims of a chain that was
// refused, as of their deadline, one group per home.
func (c *chainRound) releaseAccepted() {
	for _, g := range c.byHome() {
		var rel []engine.Command
		for _, k := range g.idx {
			if c.claimErr[k] == nil && c.claimRes[k].Code == engine.OK {
				cl := &c.claims[k]
				rel = append(rel, engine.Command{Op: engine.OpReleaseClaim, Customer: cl.Customer, Claim: cl.Claim, Deadline: cl.Deadline})
			}
		}
		if len(rel) > 0 {
			c.r.runGroupAny(g.home, rel, c.deadline, "a chain's releases", func([]engine.Result, error) {})
		}
	}
}

// stripped is the chain's results without the claims the replies of
// provisional holds name.
func (c *chainRound) stripped() []engine.Result {
	out := make([]engine.Result, len(c.chainRes))
	for i := range out {
		out[i] = c.chainRes[i]
		out[i].Reservation = nil
	}
	return out
}

func (c *chainRound) finish(rs []engine.Result, err error) { c.done(rs, err) }

// runGroupAny runs cmds (one command, or a group of unlinked commands or
// one chain) on shard wherever its leader is: here, or at the leader's
// node as a BATCH, routed there by each command's own shard (RouteOf).
func (r *Router) runGroupAny(shard int, cmds []engine.Command, deadline time.Time, what string,
	done func([]engine.Result, error)) {
	r.runChainWithin(shard, cmds, deadline, what, func(rs []engine.Result, err error) {
		var nl *NotLeaderError
		if errors.As(err, &nl) && nl.Addr != "" && r.fwd != nil && len(cmds) > 1 {
			r.forwardGroup(nl.Addr, cmds, within(r, deadline, what+" (forwarded)", done))
			return
		}
		done(rs, err)
	})
}
