package router

import (
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
)

// The sweeps (docs/adr/0070). Once a coordination's deadline D and the
// clock margin (engine.ClaimMargin) have passed, no shard takes a claim or
// a hold for its key any more, so what each shard holds for the key is
// final, and a crash between a round's steps is settled by reading the
// other side:
//
//   - the customer's home sweeps its pending claims past D (ClaimsDue):
//     it reads get_claim_hold(K) on each claim's item shard, batched per
//     item shard, and anchors the claim (an active hold), releases it as
//     the outbox would (a hold that ended), or releases it as of D (none);
//   - an item's shard sweeps its provisional holds past D (ProvisionalDue):
//     it reads get_claim(K) on each hold's home, batched per home, and
//     resolves the hold with the answer (expired if the home knows none).
//
// engine.SweepClaim and engine.SweepHold decide. Each shard's leader
// sweeps on the sweep timer (Run), at most sweepBatchMax of each per round,
// one sweep per shard in flight: the work of a round is bounded, and no
// goroutine waits for an item.

// sweepBatchMax bounds the claims and the holds one shard settles per
// round: a leader change after a burst of crashed coordinations drains
// over a few rounds instead of one huge entry.
const sweepBatchMax = 256

type sweeper struct {
	busy []atomic.Int32 // by shard: the sweep's parts in flight
}

func (s *sweeper) init(shards int) { s.busy = make([]atomic.Int32, shards) }

// SweepRound sweeps, once, every shard this node leads whose previous
// sweep is over (Run's timer; the tests' scripts call it).
func (r *Router) SweepRound() {
	until := r.clock.Now().Add(-engine.ClaimMargin).UnixNano()
	for i, sh := range r.shards {
		if sh == nil || !sh.IsLeader() || r.sweeps.busy[i].Load() != 0 {
			continue
		}
		claims := sh.ClaimsDue(until, sweepBatchMax)
		holds := sh.ProvisionalDue(until, sweepBatchMax)
		if len(claims)+len(holds) == 0 {
			continue
		}
		deadline := r.clock.Now().Add(deliverTimeout)
		r.sweeps.busy[i].Store(1)
		r.sweepClaims(i, claims, deadline)
		r.sweepHolds(i, holds, deadline)
		r.sweepPartDone(i)
	}
}

func (r *Router) sweepPartDone(shard int) { r.sweeps.busy[shard].Add(-1) }

// sweepClaims settles a home's due claims: one read group per item shard,
// then one group of anchors and releases here.
func (r *Router) sweepClaims(home int, due []engine.DueClaim, deadline time.Time) {
	for _, g := range groupBy(len(due), func(i int) int { return int(due[i].ItemShard) }) {
		reads := make([]engine.Command, len(g.idx))
		for j, k := range g.idx {
			reads[j] = engine.Command{Op: engine.OpGetClaimHold, Claim: []byte(due[k].Key), ItemShard: due[k].ItemShard}
		}
		r.sweeps.busy[home].Add(1)
		r.runGroupAny(g.key, reads, deadline, "a sweep's reads of holds", func(rs []engine.Result, err error) {
			defer r.sweepPartDone(home)
			if err != nil {
				r.log.Debug("a sweep's reads failed; the next round asks again", "shard", home, "item_shard", g.key, "error", err)
				return
			}
			settle := make([]engine.Command, len(g.idx))
			for j, k := range g.idx {
				settle[j] = engine.SweepClaim(&due[k], &rs[j])
			}
			r.sweepCommit(home, settle, deadline, &r.stats.sweptClaims)
		})
	}
}

// sweepHolds resolves an item shard's due provisional holds: one read
// group per home, then one group of resolves here.
func (r *Router) sweepHolds(item int, due []engine.DueHold, deadline time.Time) {
	homes := make([]int, len(due))
	for i := range due {
		homes[i] = r.homeShard([]byte(due[i].Customer))
	}
	for _, g := range groupBy(len(due), func(i int) int { return homes[i] }) {
		reads := make([]engine.Command, len(g.idx))
		for j, k := range g.idx {
			reads[j] = engine.Command{Op: engine.OpGetClaim, Customer: []byte(due[k].Customer), Claim: []byte(due[k].Claim)}
		}
		r.sweeps.busy[item].Add(1)
		r.runGroupAny(g.key, reads, deadline, "a sweep's reads of claims", func(rs []engine.Result, err error) {
			defer r.sweepPartDone(item)
			if err != nil {
				r.log.Debug("a sweep's reads failed; the next round asks again", "shard", item, "home", g.key, "error", err)
				return
			}
			var settle []engine.Command
			for j, k := range g.idx {
				if c, ok := engine.SweepHold(&due[k], &rs[j]); ok {
					c.ItemShard = uint16(item)
					settle = append(settle, c)
				}
			}
			r.sweepCommit(item, settle, deadline, &r.stats.sweptHolds)
		})
	}
}

// sweepCommit proposes a sweep's settling commands as one group here.
func (r *Router) sweepCommit(shard int, cmds []engine.Command, deadline time.Time, count *atomic.Uint64) {
	if len(cmds) == 0 {
		return
	}
	r.sweeps.busy[shard].Add(1)
	r.runChainWithin(shard, cmds, deadline, "a sweep's commit", func(rs []engine.Result, err error) {
		defer r.sweepPartDone(shard)
		if err != nil {
			r.log.Debug("a sweep's commit failed; the next round tries again", "shard", shard, "error", err)
			return
		}
		count.Add(uint64(len(rs)))
	})
}

// keyGroup is the indexes of the entries that share a key (a shard).
type keyGroup struct {
	key int
	idx []int
}

// groupBy groups n entries by key, in order of first appearance.
func groupBy(n int, key func(int) int) []keyGroup {
	var out []keyGroup
	for i := range n {
		k := key(i)
		j := 0
		for j < len(out) && out[j].key != k {
			j++
		}
		if j == len(out) {
			out = append(out, keyGroup{key: k})
		}
		out[j].idx = append(out[j].idx, i)
	}
	return out
}
