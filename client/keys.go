package client

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"unsafe"

	"github.com/invsys/inv/protocol"
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

// FNV-1a 64, protocol.KeyHash's function, kept here step by step so that
// the last two characters of a key can be tried without hashing the rest
// again.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

const hexDigits = "0123456789abcdef"

// nextOn writes into dst a fresh key whose home (protocol.ShardOfKey) is
// shard of shards, so that the request it goes with never registers its
// key at another shard (docs/adr/0073). The first 30 characters are
// random; the last two are the first of the 256 hex pairs that land on the
// shard, tried on the hash of the rest (two multiplies each). A prefix
// none of whose pairs lands (likely only past 256 shards) takes a new
// prefix. It allocates nothing.
func (s *keySource) nextOn(dst *[keyBytes]byte, shard, shards int) {
	if shards < 2 || shard < 0 || shard >= shards {
		s.next(dst)
		return
	}
	for {
		s.next(dst)
		h := uint64(fnvOffset64)
		h = (h ^ keyBytes) * fnvPrime64 // the length byte, as protocol.KeyHash
		for _, b := range dst[:keyBytes-2] {
			h = (h ^ uint64(b)) * fnvPrime64
		}
		for i := 0; i < 256; i++ {
			a, b := hexDigits[i>>4], hexDigits[i&15]
			if int(((h^uint64(a))*fnvPrime64^uint64(b))*fnvPrime64%uint64(shards)) == shard {
				dst[keyBytes-2], dst[keyBytes-1] = a, b
				return
			}
		}
	}
}

// genKeyFor writes r's generated key: homed on the shard r goes to when
// the client knows the cluster's placement, random when it does not.
func (c *Client) genKeyFor(r *request) {
	rt := c.route.Load()
	if !rt.hashed || rt.shards < 2 {
		c.keys.next(&r.genKey)
		return
	}
	cmd := r.cmd
	cmd.Store = unsafeBytes(r.store)
	kind, shard := protocol.RouteOf(&cmd, rt.shards)
	if kind != protocol.RouteShard {
		c.keys.next(&r.genKey) // every shard stores it: nothing to register
		return
	}
	c.keys.nextOn(&r.genKey, shard, rt.shards)
}

// unsafeBytes views s as bytes without a copy, for RouteOf, which only
// reads them.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

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
