package router

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/invsys/inv/engine"
)

// The claim a request needs, and what its answer means (coordinator.go,
// docs/adr/0070).

// claimWindow is the deadline a claim and its reserve carry: no shard takes
// either after it, and the sweeps wait for it (engine.MaxClaimWindow).
const claimWindow = 5 * time.Second

// claimCommand returns the claim a reserve needs on its customer's home
// (asked: its claim_required, which carries the limit), with deadline.
func (r *Router) claimCommand(cmd *engine.Command, asked *engine.Result, itemShard int, deadline int64) *engine.Command {
	return &engine.Command{Op: engine.OpClaim, Customer: cmd.Customer, SKU: cmd.SKU, Qty: cmd.Qty, Limit: asked.Qty,
		Claim: claimKey(cmd), ItemShard: uint16(itemShard), Deadline: deadline}
}

// homeErr is the answer when the customer's home did not answer: the
// request's own shard did, so NOT_LEADER would name the wrong shard.
func homeErr(err error) error {
	var nl *NotLeaderError
	if errors.As(err, &nl) {
		return &Refusal{engine.CodeUnavailable, "the customer's shard has no leader: " + err.Error()}
	}
	return err
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
