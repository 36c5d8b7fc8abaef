package router

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/invsys/inv/engine"
)

// The claim a request needs, and what its answer means (docs/adr/0070).

// claimKeyLen is the most bytes of a claim's key: "k" and 24 bytes of a
// hash in hex (a keyed request), or "r" and 16 random bytes in hex.
const claimKeyLen = 1 + 2*24

// appendClaimKey appends the key of a reserve's claim to dst, allocating
// nothing when dst has room: with an idempotency key, a hash of the whole
// request, so that a retry finds its claim again and the same key sent for
// another item, customer or quantity is another claim; without one, a
// random key (the request cannot be retried as the same one).
func appendClaimKey(dst []byte, cmd *engine.Command) []byte {
	if len(cmd.Key) == 0 {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return hex.AppendEncode(append(dst, 'r'), b[:])
	}
	var in [4*(1+engine.MaxKeyBytes) + 24]byte
	b := in[:0]
	for _, f := range [...][]byte{cmd.Customer, cmd.SKU, cmd.Store, cmd.Key} {
		b = append(append(b, byte(len(f))), f...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(cmd.Qty))
	b = binary.BigEndian.AppendUint64(b, uint64(cmd.Window))
	b = binary.BigEndian.AppendUint64(b, uint64(cmd.TTL))
	sum := sha256.Sum256(b)
	return hex.AppendEncode(append(dst, 'k'), sum[:24])
}

// claimKey returns a reserve's claim key in a buffer of its own.
func claimKey(cmd *engine.Command) []byte {
	return appendClaimKey(make([]byte, 0, claimKeyLen), cmd)
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

// resolvable reports whether a home's answer to a claim can resolve its
// hold (engine: accepted, limit_exceeded, blocked, expired).
func resolvable(c engine.Code) bool {
	return c == engine.OK || c == engine.CodeLimitExceeded || c == engine.CodeBlocked || c == engine.CodeExpired
}
