package router

import (
	"github.com/invsys/inv/engine"
)

// What a coordination does once a claimed line's two proposals answered
// (docs/adr/0070): the claim on the customer's home and the reserve
// carrying it on the item's shard. One decision for every caller: a
// single reserve (round.go), a chain (chain.go), a cart's group.
//
//   - the hold's outcome unknown: that is the answer; nothing more (the
//     sweeps settle the claim and the hold once the deadline passed);
//   - the hold refused: its refusal; an accepted claim is released (as of
//     its deadline);
//   - a hold that does not name the claim: a replay of a hold resolved
//     before, whose answer stands;
//   - a provisional hold: the claim's answer decides. Accepted: resolve OK
//     (the hold is firm), anchor the claim (its hold is known: it counts
//     until the outbox releases it, and the home's sweep need not read the
//     item's shard for it) and answer the hold; refused: resolve with the
//     refusal (the hold ends) and answer it; unknown: that is the answer,
//     and the hold stays provisional until a retry or the sweep resolves it.
type verdict struct {
	res     engine.Result // the answer, when err is nil
	err     error
	resolve bool        // propose resolve_claim(K, code) on the item's shard
	code    engine.Code // the resolve's answer
	anchor  bool        // propose anchor_claim(K) on the customer's home
	release bool        // propose release_claim(K, D) on the customer's home
}

// judge decides one claimed line. key is the claim's K.
func judge(hold *engine.Result, holdErr error, claim *engine.Result, claimErr error, key []byte) verdict {
	accepted := claimErr == nil && claim.Code == engine.OK
	switch {
	case holdErr != nil:
		return verdict{err: holdErr}
	case hold.Code != engine.OK:
		return verdict{res: *hold, release: accepted}
	case !namesClaim(hold, key):
		return verdict{res: firmAnswer(hold)}
	case claimErr != nil:
		return verdict{err: homeErr(claimErr)}
	case accepted:
		return verdict{res: firmAnswer(hold), resolve: true, code: engine.OK, anchor: true}
	case resolvable(claim.Code):
		return verdict{res: engine.Result{Code: claim.Code}, resolve: true, code: claim.Code}
	}
	return verdict{err: &Refusal{engine.CodeInternal, "the customer's home answered the claim " + claim.Code.String()}}
}

// namesClaim reports whether a reserve's result is a provisional hold of
// the claim key.
func namesClaim(r *engine.Result, key []byte) bool {
	return r.Reservation != nil && r.Reservation.Provisional && r.Reservation.Claim == string(key) // no allocation: compared in place
}

// namedClaim returns the claim a reserve's result names while its hold is
// provisional, nil otherwise (a replay of a hold whose coordinator did not
// resolve it: the retry must).
func namedClaim(r *engine.Result) string {
	if r.Code == engine.OK && r.Reservation != nil && r.Reservation.Provisional && r.Reservation.Claim != "" {
		return r.Reservation.Claim
	}
	return ""
}

// firmAnswer is a held line's answer to the client: the claim is the
// nodes' own, so the reply does not name it.
func firmAnswer(r *engine.Result) engine.Result {
	out := *r
	out.Reservation = nil
	return out
}
