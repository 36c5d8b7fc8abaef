package client

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"unsafe"

	"github.com/invsys/inv/engine"
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
	derivedSuffix = 13 // room kept for the suffixes of derived keys ("/l63~000b" ...)
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

const hexDigits = "0123456789abcdef"

// putHome writes the homed-key suffix naming shard ('~' and four lowercase
// hex digits, protocol.KeyHome) into dst, which has room for it.
func putHome(dst []byte, shard int) {
	dst[0] = '~'
	for i := 4; i >= 1; i-- {
		dst[i] = hexDigits[shard&15]
		shard >>= 4
	}
}

// nextOn writes into dst a fresh key whose home (protocol.ShardOfKey) is
// shard, so that the request it goes with never registers its key at
// another shard (docs/adr/0073): 27 random hex characters (108 bits, still
// unique for far longer than keys are kept) and the suffix "~hhhh" naming
// the shard. It allocates nothing and tries nothing: the suffix is the
// home.
func (s *keySource) nextOn(dst *[keyBytes]byte, shard, shards int) {
	s.next(dst)
	if shards < 2 || shard < 0 || shard >= shards || shard > 0xffff {
		return
	}
	putHome(dst[keyBytes-protocol.KeyHomeSuffix:], shard)
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
// commands under one caller key (the lines of a cart): base + "/" + tag +
// i, and the homed suffix of shard (the part's shard) when shard >= 0, so
// that the part's key never crosses shards either. A base too long to take
// the suffix is replaced by a hash of itself, so every part's key stays
// within the limit and still follows from the caller's key alone (and the
// part's shard, which follows from the cluster's placement).
func derivedKey(base, tag string, i, shard int) []byte {
	if len(base)+derivedSuffix > maxKeyBytes {
		sum := sha256.Sum256([]byte(base))
		base = hex.EncodeToString(sum[:keyRandBytes])
	}
	b := make([]byte, 0, len(base)+derivedSuffix)
	b = append(b, base...)
	b = append(b, '/')
	b = append(b, tag...)
	b = strconv.AppendInt(b, int64(i), 10)
	if shard < 0 || shard > 0xffff {
		return b
	}
	n := len(b)
	b = b[:n+protocol.KeyHomeSuffix]
	putHome(b[n:], shard)
	return b
}

// storeShard returns the shard of a store's items when the client knows
// the cluster's placement, else -1.
func (c *Client) storeShard(store []byte) int {
	rt := c.route.Load()
	if !rt.hashed || rt.shards < 2 {
		return -1
	}
	return protocol.ShardOfStore(store, rt.shards)
}

// KeyForStore returns key homed on the shard of store's items (its "~hhhh"
// suffix appended, docs/adr/0073), for a caller that keeps its own keys and
// sends one with a request on an item of store (reserve, put_item ...): the
// request then never registers its key on another shard. key unchanged
// when the client does not know the cluster's placement. The same key
// homed for another shard is another key: a caller that wants a key refused
// across shards (key_conflict) sends it as it is.
func (c *Client) KeyForStore(key, store string) string {
	return homed(key, c.storeShard(unsafeBytes(store)))
}

// KeyForReservation is KeyForStore for a request on reservation id
// (confirm, cancel, extend ...): homed on the shard that issued id.
func (c *Client) KeyForReservation(key string, id uint64) string {
	rt := c.route.Load()
	if !rt.hashed || rt.shards < 2 {
		return key
	}
	shard := int(engine.ShardOfID(id))
	if shard >= rt.shards {
		return key // no shard issued id: the request is answered not_found
	}
	return homed(key, shard)
}

// homed appends the home suffix of shard to key (shard < 0: key as it is).
func homed(key string, shard int) string {
	if shard < 0 || shard > 0xffff || len(key)+protocol.KeyHomeSuffix > maxKeyBytes {
		return key
	}
	var b [maxKeyBytes]byte
	n := copy(b[:], key)
	putHome(b[n:n+protocol.KeyHomeSuffix], shard)
	return string(b[:n+protocol.KeyHomeSuffix])
}
