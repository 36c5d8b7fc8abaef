package router

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/invsys/inv/engine"
)

// The claim a request needs, and what its answer means (coordinator.go,
// docs/adr/0050).

// errRecord is claimed's answer when a reserve's claim was refused with a
// proof of the refusal, now attached to the reserve: run it again, and its
// shard answers the refusal and keeps it for the key.
const errRecord engine.Code = 0xffff

// claimCommand returns the claim op cmd needs, asked for in asked (its
// claim_required), and the customer's shard to run it on.
func (r *Router) claimCommand(cmd *engine.Command, asked *engine.Result) (int, *engine.Command, error) {
	switch cmd.Op {
	case engine.OpReserve:
		claim := &engine.Command{Op: engine.OpClaim, Customer: cmd.Customer, SKU: cmd.SKU, Qty: cmd.Qty,
			Limit: asked.Qty, Claim: claimKey(cmd)}
		if cmd.TTL > 0 {
			claim.TTL = cmd.TTL + engine.ClaimMargin
		}
		return r.homeShard(cmd.Customer), claim, nil
	case engine.OpConfirm, engine.OpExtend:
		info := asked.Reservation
		if info == nil || info.Claim == "" {
			return 0, nil, &Refusal{engine.CodeInternal, "claim_required without the claim"}
		}
		claim := &engine.Command{Op: engine.OpSettleClaim, Claim: []byte(info.Claim), Qty: cmd.Qty}
		if cmd.Op == engine.OpExtend {
			claim = &engine.Command{Op: engine.OpExtendClaim, Claim: []byte(info.Claim), TTL: cmd.TTL + engine.ClaimMargin}
		}
		return r.homeShard([]byte(info.Customer)), claim, nil
	}
	return 0, nil, &Refusal{engine.CodeInternal, cmd.Op.String() + " asked for a claim"}
}

// claimed reads the answer cr (or err) of claim and attaches the claim's
// proof to cmd. A refusal of the claim is returned as the code to answer
// (or errRecord).
func (r *Router) claimed(cmd, claim *engine.Command, cr *engine.Result, err error) (engine.Code, error) {
	if err != nil {
		var nl *NotLeaderError
		if errors.As(err, &nl) {
			// The request's own shard answered; only the customer's shard
			// is between leaders. NOT_LEADER would name the wrong shard.
			return 0, &Refusal{engine.CodeUnavailable, "the customer's shard has no leader: " + err.Error()}
		}
		return 0, err
	}
	switch {
	case cr.Code == engine.CodeNotFound:
		return engine.CodeExpired, nil // the claim ended, and so did (or will, at once) its hold
	case cr.Code != engine.OK && cmd.Op == engine.OpReserve && cr.PickupCode != 0:
		cmd.Claim, cmd.ClaimExpiry, cmd.Proof = claim.Claim, -int64(cr.Code), cr.PickupCode
		return errRecord, nil
	case cr.Code != engine.OK:
		return cr.Code, nil
	}
	cmd.Claim, cmd.ClaimExpiry, cmd.Proof = claim.Claim, cr.ExpiresAt, cr.PickupCode
	return engine.OK, nil
}

// claimKey names the claim of a reserve: with an idempotency key, a hash
// of the whole request, so that a retry finds its claim again and the same
// key sent for another item or customer is another claim; without one, a
// random key.
func claimKey(cmd *engine.Command) []byte {
	if len(cmd.Key) == 0 {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return []byte("r" + hex.EncodeToString(b[:]))
	}
	h := sha256.New()
	for _, f := range [][]byte{cmd.Customer, cmd.SKU, cmd.Store, cmd.Key} {
		h.Write([]byte{byte(len(f))})
		h.Write(f)
	}
	var n [24]byte
	binary.BigEndian.PutUint64(n[0:], uint64(cmd.Qty))
	binary.BigEndian.PutUint64(n[8:], uint64(cmd.Window))
	binary.BigEndian.PutUint64(n[16:], uint64(cmd.TTL))
	h.Write(n[:])
	return []byte("k" + hex.EncodeToString(h.Sum(nil)[:24]))
}
