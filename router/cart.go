package router

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// A cart across shards (docs/adr/0050, claims per docs/adr/0070): a BATCH
// chain of reserves whose lines lie in more than one shard. The engine
// applies a chain atomically only within one log, so the node holds each
// shard's lines as a linked group there, one shard after the other (a
// group whose lines need claims takes them in one round with them,
// chain.go), and on the first refusal cancels the lines it already holds:
// all or nothing, as a one-shard cart. A group whose line's claim is
// refused after the group held is undone by its round (the line resolved
// refused, the others cancelled) and refuses the cart like any refusal. A
// crash part way, or a group whose outcome is unknown, leaves holds that
// expire with their TTL (and claims and provisional holds the sweeps
// settle). Every line keeps its own idempotency key, and every refusal is
// kept for its line's key (a refused claim too: its resolve rewrites the
// reserve's record), so a repeated cart meets the same refusal and cancels
// again: it is answered as the first.

// cartTimeout bounds a cart across shards: a group and its claims per
// shard, and the cancels.
const cartTimeout = 2 * coordinateTimeout

// crossShardCart reports whether the closed chain cmds is a cart the node
// holds shard by shard: reserves only, in more than one shard.
func crossShardCart(cmds []engine.Command, shards int) bool {
	if shards < 2 || cmds[len(cmds)-1].Linked || len(cmds) > engine.MaxLinked {
		return false
	}
	_, first := protocol.RouteOf(&cmds[0], shards)
	spans := false
	for i := range cmds {
		if cmds[i].Op != engine.OpReserve {
			return false
		}
		_, sh := protocol.RouteOf(&cmds[i], shards)
		spans = spans || sh != first
	}
	return spans
}

// cart is one cart across shards in progress: its groups are held one
// after the other, each group's answer starting the next.
type cart struct {
	r        *Router
	cmds     []engine.Command // the node's own copies
	groups   []cartGroup
	next     int // the group to hold next
	out      []engine.Result
	held     []int // lines held so far, cancelled if a later group is refused
	deadline time.Time
	done     func([]engine.Result, error)
}

type cartGroup struct {
	shard int
	lines []int
}

// reserveCart holds a cart across shards, all or nothing. cmds are the
// node's own copies.
func (r *Router) reserveCart(cmds []engine.Command, done func([]engine.Result, error)) {
	r.stats.carts.Add(1)
	c := &cart{r: r, cmds: cmds, groups: cartGroups(cmds, len(r.shards)), out: make([]engine.Result, len(cmds)),
		deadline: r.clock.Now().Add(cartTimeout), done: done}
	c.holdNext()
}

// holdNext holds the next group's lines as a linked group on its shard.
func (c *cart) holdNext() {
	if c.next == len(c.groups) {
		c.done(c.out, nil)
		return
	}
	g := c.groups[c.next]
	c.next++
	chain := make([]engine.Command, len(g.lines))
	for j, i := range g.lines {
		chain[j] = c.cmds[i]
		chain[j].Linked = j < len(g.lines)-1
	}
	c.r.runGroup(g.shard, chain, c.deadline, func(rs []engine.Result, err error) {
		if err != nil {
			// The group's outcome is unknown: what is held stays, so that
			// a retry with the same keys finds every line as it is (or
			// the holds expire).
			c.done(nil, err)
			return
		}
		if j := groupRefusal(rs); j >= 0 {
			refused := refuseChain(len(c.cmds), g.lines[j], rs[j].Code)
			c.cancelHeld(func() { c.done(refused, nil) })
			return
		}
		for j, i := range g.lines {
			c.out[i] = rs[j]
			c.held = append(c.held, i)
		}
		c.holdNext()
	})
}

// cartGroups splits a cart's lines by shard, in order of first appearance.
func cartGroups(cmds []engine.Command, shards int) []cartGroup {
	var groups []cartGroup
	for i := range cmds {
		_, sh := protocol.RouteOf(&cmds[i], shards)
		k := 0
		for k < len(groups) && groups[k].shard != sh {
			k++
		}
		if k == len(groups) {
			groups = append(groups, cartGroup{shard: sh})
		}
		groups[k].lines = append(groups[k].lines, i)
	}
	return groups
}

// groupRefusal returns the line of a group that was refused (the others
// say link_failed), or -1 when every line is held.
func groupRefusal(rs []engine.Result) int {
	failed := -1
	for j := range rs {
		switch rs[j].Code {
		case engine.OK:
		case engine.CodeLinkFailed:
			if failed < 0 {
				failed = j
			}
		default:
			return j
		}
	}
	return failed
}

// runGroup runs one shard's lines as a linked group where the shard's
// leader is: here (in one round with the claims its lines need), or
// forwarded to the leader's node (a BATCH, or one line as a SHARD_CALL),
// whose own coordinator takes them.
func (r *Router) runGroup(shard int, chain []engine.Command, deadline time.Time, done func([]engine.Result, error)) {
	if sh := r.shard(shard); sh != nil && sh.IsLeader() && r.chainNeedsRound(shard, chain) {
		r.chainRound(shard, chain, done)
		return
	}
	r.runChainWithin(shard, chain, deadline, "a cart's group", func(rs []engine.Result, err error) {
		var nl *NotLeaderError
		switch {
		case errors.As(err, &nl) && nl.Addr != "" && r.fwd != nil && len(chain) > 1:
			r.forwardGroup(nl.Addr, chain, within(r, deadline, "a forwarded cart group", done))
		case err != nil:
			done(nil, err)
		case claimAsked(rs) >= 0:
			r.coordinate(shard, chain, rs, done)
		default:
			done(rs, nil)
		}
	})
}

// cancelHeld cancels the held lines of a refused cart, one after the
// other, best effort (a line that stays held expires with its TTL; a
// claimed line's release goes through its shard's outbox), then calls then.
func (c *cart) cancelHeld(then func()) {
	if len(c.held) == 0 {
		then()
		return
	}
	i := c.held[0]
	c.held = c.held[1:]
	cancel := &engine.Command{Op: engine.OpCancel, ID: c.out[i].ID, Key: cancelKey(c.cmds[i].Key)}
	kind, sh := protocol.RouteOf(cancel, len(c.r.shards))
	if kind != protocol.RouteShard {
		c.cancelHeld(then)
		return
	}
	c.r.runWithin(sh, cancel, c.deadline, "a cart line's cancel", func(res engine.Result, err error) {
		if err != nil || (res.Code != engine.OK && res.Code != engine.CodeExpired && res.Code != engine.CodeWrongState) {
			c.r.log.Info("a line of a refused cart stays held until it expires", "reservation", cancel.ID,
				"error", err, "code", res.Code.String())
		}
		c.cancelHeld(then)
	})
}

// cancelKey is the idempotency key of the cancel of a cart line with key
// lineKey (none without one).
func cancelKey(lineKey []byte) []byte {
	if len(lineKey) == 0 {
		return nil
	}
	sum := sha256.Sum256(append([]byte("inv-cart-cancel|"), lineKey...))
	return []byte("x" + hex.EncodeToString(sum[:20]))
}
