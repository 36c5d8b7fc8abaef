package router

import (
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The coordinator keeps a customer's per-SKU limit across shards with the
// engine's claims (docs/adr/0070). A limited reserve of a customer whose
// home is another shard takes its claim and its hold in one round
// (round.go; a linked chain's lines together, chain.go). What comes back
// claim_required after all is handled here:
//
//   - a reserve whose read of the item was stale: it takes its round now;
//   - a waitlist join of a limited SKU's customer of another home: it
//     takes its claim, then joins (waitjoin.go);
//   - a reserve whose replay names a provisional hold (its coordinator did
//     not resolve it): the claim's answer for the hold's key decides it;
//   - a confirm, extend or reschedule of a provisional hold (its resolve
//     was lost): the claim's answer is read on the customer's home, and the
//     resolve and the request are proposed together (settle.go).
//
// Cancel, return, expiry and no-show need no coordinator: the item shard's
// outbox carries the release and its leader delivers it (outbox.go); a
// cancel's reply waits for it (cancelwait.go). A crash at any step leaves
// at most a claim without its hold or a provisional hold, which the sweeps
// settle (sweep.go): never a firm hold without its claim.

// coordinateTimeout bounds the steps of a coordination that may wait on
// another node (a claim's read, a chain's round): a commit takes
// milliseconds, an election about a second.
const coordinateTimeout = 10 * time.Second

// claimRoundsMax bounds how often one request asks for claims: once per
// command of a linked group.
const claimRoundsMax = engine.MaxLinked

// needsCoordinator reports whether a command may come back claim_required.
func needsCoordinator(op engine.Op) bool {
	return op == engine.OpReserve || op == engine.OpConfirm || op == engine.OpExtend || op == engine.OpReschedule ||
		op == engine.OpJoinWaitlist
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

// refuseChain is a group's answer when its command i was refused with
// code: that code, link_failed for the others.
func refuseChain(n, i int, code engine.Code) []engine.Result {
	rs := make([]engine.Result, n)
	for k := range rs {
		rs[k].Code = engine.CodeLinkFailed
	}
	rs[i].Code = code
	return rs
}

// coordinate takes over a group (one command, or a linked chain, proposed
// plain on shard) whose results rs ask for a claim: a chain of reserves
// takes its round; a claim_required naming a provisional hold is settled.
// done gets the group's final results.
func (r *Router) coordinate(shard int, cmds []engine.Command, rs []engine.Result, done func([]engine.Result, error)) {
	i := claimAsked(rs)
	switch {
	case i < 0:
		done(rs, nil)
	case cmds[i].Op == engine.OpReserve:
		r.stats.stalePeeks.Add(1)
		r.chainRound(shard, cmds, done)
	case cmds[i].Op == engine.OpJoinWaitlist && len(cmds) == 1: // a join is not linkable: it comes alone
		r.stats.stalePeeks.Add(1)
		r.joinWithClaim(shard, &cmds[0], rs[0].Qty, func(res engine.Result, err error) {
			if err != nil {
				done(nil, err)
				return
			}
			done([]engine.Result{res}, nil)
		})
	default:
		r.settleHold(shard, cmds, &rs[i], 0, done)
	}
}
