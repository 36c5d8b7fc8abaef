package client

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
)

// Idempotency keys. Every mutating call carries one: the caller's, or one
// the client makes up. A generated key is 16 random bytes in hex (32
// characters): unique across every client of the cluster for far longer
// than the server keeps keys (24 h by default), without coordination.
//
// crypto/rand is read in bulk, 4 KiB (256 keys) at a time, because one
// getrandom syscall per call would cost more than the rest of the call.

const (
	keyRandBytes  = 16
	keyBytes      = 2 * keyRandBytes // hex
	keyPoolBytes  = 4096
	maxKeyBytes   = 64 // engine.MaxKeyBytes: a UUID in text form fits
	derivedSuffix = 8  // room kept for the suffixes of derived keys ("/c63" ...)
)

type keySource struct {
	mu  sync.Mutex
	buf [keyPoolBytes]byte
	off int
}

func newKeySource() *keySource { return &keySource{off: keyPoolBytes} }

// next writes a fresh key into dst. It allocates nothing.
func (s *keySource) next(dst *[keyBytes]byte) {
	var raw [keyRandBytes]byte
	s.mu.Lock()
	if s.off+keyRandBytes > len(s.buf) {
		// crypto/rand.Read never fails on the platforms Go supports (it
		// crashes the program instead), so there is no error to handle.
		_, _ = rand.Read(s.buf[:])
		s.off = 0
	}
	copy(raw[:], s.buf[s.off:])
	s.off += keyRandBytes
	s.mu.Unlock()
	hex.Encode(dst[:], raw[:])
}

// NewKey returns a fresh idempotency key. A caller that wants to retry a
// call across its own restarts (a web request retried by the browser)
// stores the key with its order and passes it in the request's Key field.
func (c *Client) NewKey() string {
	var k [keyBytes]byte
	c.keys.next(&k)
	return string(k[:])
}

// derivedKey returns the key of part i of a call that sends several
// commands under one caller key (the lines of a cart, the compensating
// cancels): base + "/" + tag + i. A base too long to take the suffix is
// replaced by a hash of itself, so every part's key stays within the limit
// and still follows from the caller's key alone.
func derivedKey(base, tag string, i int) []byte {
	if len(base)+derivedSuffix > maxKeyBytes {
		sum := sha256.Sum256([]byte(base))
		base = hex.EncodeToString(sum[:keyRandBytes])
	}
	b := make([]byte, 0, len(base)+derivedSuffix)
	b = append(b, base...)
	b = append(b, '/')
	b = append(b, tag...)
	return strconv.AppendInt(b, int64(i), 10)
}
