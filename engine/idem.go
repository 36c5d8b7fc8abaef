package engine

import "encoding/binary"

// idemTable keeps the idempotency keys of mutating commands with a
// fingerprint of the command's contents and its first result, for the
// configured retention.
//
// Keys arrive in log-time order, so the table is a FIFO: entries and the
// key bytes sit in two append-only queues and age out from the front. A map
// from a 64-bit hash of the key to the entry finds them; the rare key whose
// hash collides with a live different key goes to a small overflow map.
// Storing a key allocates nothing in steady state (the queues are compacted
// in place). See docs/adr/0003-idempotency.md.
type idemTable struct {
	entries     []idemEntry
	head        int    // first live entry
	dropped     uint64 // entries aged out so far: the absolute number of entries[head]
	keys        []byte // key bytes, in entry order; keys[:keysHead] are dead
	keysHead    int
	keysDropped int               // absolute offset of keys[0]
	byHash      u64table          // key hash -> absolute entry number
	overflow    map[string]uint64 // keys whose hash collided with another live key
}

type idemEntry struct {
	at     int64
	fp     uint64 // fingerprint of the command's contents
	hash   uint64
	keyOff int // absolute offset of the key in the keys queue
	keyLen uint8
	over   bool // lives in overflow
	res    storedResult
}

// storedResult is what a replay returns: the fields of Result that a
// mutating command sets (read views are not kept).
type storedResult struct {
	code       Code
	state      State
	id         uint64
	qty        int64
	window     int64
	expiresAt  int64
	pickupCode uint64
}

func (t *idemTable) init() {
	t.overflow = make(map[string]uint64)
}

func (t *idemTable) len() int { return len(t.entries) - t.head }

func fnv64(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

const fnvOffset = 14695981039346656037

func fnvU64(h, v uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return fnv64(h, b[:])
}

// fingerprint hashes what makes two commands "the same request".
func fingerprint(c *Command) uint64 {
	h := fnvU64(fnvOffset, uint64(c.Op))
	for _, b := range [][]byte{c.SKU, c.Store, c.Customer} {
		h = fnvU64(h, uint64(len(b)))
		h = fnv64(h, b)
	}
	for _, v := range []int64{c.Qty, c.Window, int64(c.TTL)} {
		h = fnvU64(h, uint64(v))
	}
	h = fnvU64(h, c.ID)
	h = fnvU64(h, c.PickupCode)
	if c.Restock {
		h = fnvU64(h, 1)
	}
	if c.Op >= OpPutItem { // operator ops: their own fields make the request (storefront ops skip this)
		for _, v := range []int64{c.WindowEnd, c.Quota, c.Stock, c.Limit, c.OpensAt, c.ClosesAt,
			int64(c.MemberTier), c.MemberUnits, c.MemberCutoff, int64(c.Tier)} {
			h = fnvU64(h, uint64(v))
		}
		if len(c.Zone) > 0 { // put_store; absent elsewhere, so other ops' fingerprints stay as they were
			h = fnvU64(h, uint64(len(c.Zone)))
			h = fnv64(h, c.Zone)
		}
	}
	return h
}

// entry returns the live entry with absolute number n.
func (t *idemTable) entry(n uint64) *idemEntry { return &t.entries[t.head+int(n-t.dropped)] }

func (t *idemTable) keyOf(e *idemEntry) []byte {
	off := e.keyOff - t.keysDropped
	return t.keys[off : off+int(e.keyLen)]
}

func (t *idemTable) find(key []byte) (*idemEntry, bool) {
	if n, ok := t.byHash.get(fnv64(fnvOffset, key)); ok {
		if e := t.entry(n); string(t.keyOf(e)) == string(key) {
			return e, true
		}
	}
	if len(t.overflow) > 0 {
		if n, ok := t.overflow[string(key)]; ok {
			return t.entry(n), true
		}
	}
	return nil, false
}

// lookup returns the stored result of a command whose key was seen before:
// the first result if the contents are the same, CodeKeyConflict if not.
// A key over MaxKeyBytes is refused.
func (t *idemTable) lookup(c *Command) (Result, bool) {
	if len(c.Key) == 0 {
		return Result{}, false
	}
	if len(c.Key) > MaxKeyBytes {
		return Result{Code: CodeBadRequest}, true
	}
	e, ok := t.find(c.Key)
	if !ok {
		return Result{}, false
	}
	if e.fp != fingerprint(c) {
		return Result{Code: CodeKeyConflict}, true
	}
	r := e.res
	return Result{Code: r.code, State: r.state, ID: r.id, Qty: r.qty, Window: r.window,
		ExpiresAt: r.expiresAt, PickupCode: r.pickupCode}, true
}

// store keeps a key with the command's first result.
func (t *idemTable) store(c *Command, r *Result, now int64) {
	if len(c.Key) == 0 || len(c.Key) > MaxKeyBytes {
		return
	}
	if _, ok := t.find(c.Key); ok {
		return // a replay inside a linked group: the first result stays
	}
	n := t.dropped + uint64(t.len())
	e := idemEntry{at: now, fp: fingerprint(c), hash: fnv64(fnvOffset, c.Key),
		keyOff: t.keysDropped + len(t.keys), keyLen: uint8(len(c.Key)),
		res: storedResult{code: r.Code, state: r.State, id: r.ID, qty: r.Qty, window: r.Window,
			expiresAt: r.ExpiresAt, pickupCode: r.PickupCode}}
	t.keys = append(t.keys, c.Key...)
	if _, taken := t.byHash.get(e.hash); taken {
		e.over = true
		t.overflow[string(c.Key)] = n
	} else {
		t.byHash.put(e.hash, n)
	}
	t.entries = append(t.entries, e)
}

// age drops keys stored at or before cutoff.
func (t *idemTable) age(cutoff int64) {
	for t.head < len(t.entries) && t.entries[t.head].at <= cutoff {
		e := &t.entries[t.head]
		if e.over {
			delete(t.overflow, string(t.keyOf(e)))
		} else if n, _ := t.byHash.get(e.hash); n == t.dropped {
			t.byHash.del(e.hash)
		}
		t.keysHead += int(e.keyLen)
		t.head++
		t.dropped++
	}
	// Compact in place once the dead front is at least half: amortised O(1)
	// per key, and memory stays within twice what is live.
	if t.head >= 1024 && t.head*2 >= len(t.entries) {
		n := copy(t.entries, t.entries[t.head:])
		t.entries = t.entries[:n]
		t.head = 0
		k := copy(t.keys, t.keys[t.keysHead:])
		t.keys = t.keys[:k]
		t.keysDropped += t.keysHead
		t.keysHead = 0
	}
}
