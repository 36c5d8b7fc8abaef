package engine

// idemTable keeps the idempotency keys of mutating commands with a
// fingerprint of the command's contents and its first result, for the
// configured retention.
//
// Keys arrive in log-time order, so the table is a FIFO: entries and the
// key bytes sit in two queues of fixed-size chunks that age out from the
// front. Chunks never move: a table of millions of keys neither copies
// itself when it grows (a slice would, all of it, while the apply waits)
// nor compacts, and a chunk that ages out is reused for the next keys. A
// map from a 64-bit hash of the key to the entry finds them; the rare key
// whose hash collides with a live different key goes to a small overflow
// map. See docs/adr/0003-idempotency.md.
type idemTable struct {
	chunks []*[idemChunkLen]idemEntry // chunks[0][0] is entry number first
	first  uint64                     // absolute number of chunks[0][0]
	head   uint64                     // absolute number of the oldest live entry: entries aged out so far
	next   uint64                     // absolute number of the next entry stored

	keyChunks [][]byte // key bytes, in entry order; each chunk has capacity idemKeyChunk
	keyFirst  int      // absolute number of keyChunks[0]

	spare    *[idemChunkLen]idemEntry // an aged-out chunk kept for reuse
	spareKey []byte

	byHash   u64table          // key hash -> absolute entry number
	overflow map[string]uint64 // keys whose hash collided with another live key
}

const (
	idemChunkShift = 10
	idemChunkLen   = 1 << idemChunkShift // entries per chunk (about 90 KB)
	idemKeyChunk   = 64 << 10            // key bytes per chunk; a key never spans two
)

type idemEntry struct {
	at     int64
	fp     uint64 // fingerprint of the command's contents
	hash   uint64
	keyOff int // absolute offset of the key: chunk number × idemKeyChunk + offset in it
	keyLen uint8
	over   bool // lives in overflow
	// reg marks a key registered by a request that runs on shard regShard
	// (regkey.go): fp is that request's, res is empty, and every command
	// of this shard's own with the key is key_conflict.
	reg      bool
	regShard uint16
	res      storedResult
}

// storedResult is what a replay returns: the fields of Result that a
// mutating command sets (read views are not kept).
type storedResult struct {
	code       Code
	state      State
	marks      Marks // a marked refusal's marks (0 otherwise: a reserve's are on its reservation); fits the padding before id
	id         uint64
	qty        int64
	window     int64
	expiresAt  int64
	pickupCode uint64
}

func (t *idemTable) init() {
	t.overflow = make(map[string]uint64)
}

func (t *idemTable) len() int { return int(t.next - t.head) }

func fnv64(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

const fnvOffset = 14695981039346656037

// fnvU64 folds v's eight bytes, least significant first, into h: what
// fnv64 of its little-endian bytes gives (fingerprints are kept in
// idempotency records and snapshots, so the value may never change). A
// zero byte only multiplies by the prime, so the zero bytes above v's
// highest set one are one multiplication by a power of it: the lengths,
// quantities and unset fields a fingerprint folds take one to three
// steps instead of eight.
func fnvU64(h, v uint64) uint64 {
	n := 0
	for ; v != 0; v >>= 8 {
		h = (h ^ v&0xff) * fnvPrime
		n++
	}
	return h * fnvPrimePow[8-n]
}

// fnvPrimePow[i] is fnvPrime to the power i (mod 2^64).
var fnvPrimePow = func() (p [9]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * fnvPrime
	}
	return p
}()

// fingerprint hashes what makes two commands "the same request".
func Fingerprint(c *Command) uint64 {
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
		if c.Marks != 0 { // set_mark_rule; likewise absent elsewhere
			h = fnvU64(h, uint64(c.Marks)|1<<32)
		}
		if c.CouponFlags != 0 { // put_coupon_issue; likewise absent elsewhere
			h = fnvU64(h, uint64(c.CouponFlags)|2<<32)
		}
		if c.Set != 0 || len(c.Reason) > 0 { // update_item, a change with a reason; absent elsewhere, as Zone
			h = fnvU64(h, uint64(c.Set))
			h = fnvU64(h, uint64(len(c.Reason)))
			h = fnv64(h, c.Reason)
		}
		if len(c.Items) > 0 { // put_items; absent elsewhere, as Zone
			h = fingerprintItems(h, c.Items)
		}
	}
	if c.Prints != [NumPrints]uint64{} { // a reserve's fingerprints, when it sends any
		for _, p := range c.Prints {
			h = fnvU64(h, p)
		}
	}
	return h
}

// entry returns the entry with absolute number n (first <= n < next).
func (t *idemTable) entry(n uint64) *idemEntry {
	i := n - t.first
	return &t.chunks[i>>idemChunkShift][i&(idemChunkLen-1)]
}

func (t *idemTable) keyOf(e *idemEntry) []byte {
	c := t.keyChunks[e.keyOff/idemKeyChunk-t.keyFirst]
	off := e.keyOff % idemKeyChunk
	return c[off : off+int(e.keyLen)]
}

// idemHint is what a lookup learnt about a key that is not stored: its
// hash, and whether another live key holds that hash. store takes it, so
// that a command costs one hash of its key and one probe of the table.
type idemHint struct {
	hash  uint64
	taken bool
}

func (t *idemTable) find(key []byte) (*idemEntry, bool) {
	e, _ := t.findHashed(key)
	return e, e != nil
}

// findHashed returns the live entry of key, or nil and the hint for
// storing it.
func (t *idemTable) findHashed(key []byte) (*idemEntry, idemHint) {
	p := idemHint{hash: fnv64(fnvOffset, key)}
	if n, ok := t.byHash.get(p.hash); ok {
		if e := t.entry(n); string(t.keyOf(e)) == string(key) {
			return e, p
		}
		p.taken = true
	}
	if len(t.overflow) > 0 {
		if n, ok := t.overflow[string(key)]; ok {
			return t.entry(n), p
		}
	}
	return nil, p
}

// lookup returns the stored result of a command whose key was seen before:
// the first result if the contents are the same, CodeKeyConflict if not.
// A key over MaxKeyBytes is refused.
func (t *idemTable) lookup(c *Command) (Result, bool) {
	r, ok, _ := t.lookupHint(c)
	return r, ok
}

// lookupHint is lookup that also returns, for a key not stored, the hint
// that storeHinted takes.
func (t *idemTable) lookupHint(c *Command) (Result, bool, idemHint) {
	if len(c.Key) == 0 {
		return Result{}, false, idemHint{}
	}
	if len(c.Key) > MaxKeyBytes {
		return Result{Code: CodeBadRequest}, true, idemHint{}
	}
	e, p := t.findHashed(c.Key)
	if e == nil {
		return Result{}, false, p
	}
	if e.reg || e.fp != Fingerprint(c) {
		return Result{Code: CodeKeyConflict}, true, p
	}
	r := e.res
	return Result{Code: r.code, State: r.state, ID: r.id, Qty: r.qty, Window: r.window,
		ExpiresAt: r.expiresAt, PickupCode: r.pickupCode, Marks: r.marks}, true, p
}

// refusalMarks is what an idempotency entry keeps of a result's marks: a
// marked refusal's, so that its replay names them as the refusal did.
func refusalMarks(r *Result) Marks {
	if r.Code == CodeMarked {
		return r.Marks
	}
	return 0
}

// store keeps a key with the command's first result.
func (t *idemTable) store(c *Command, r *Result, now int64) {
	if len(c.Key) == 0 || len(c.Key) > MaxKeyBytes {
		return
	}
	e, p := t.findHashed(c.Key)
	if e != nil {
		return // a replay inside a linked group: the first result stays
	}
	t.storeHinted(c, r, now, p)
}

// storeHinted keeps a key that lookupHint just found absent (nothing was
// stored or aged out since), with p the hint it returned.
func (t *idemTable) storeHinted(c *Command, r *Result, now int64, p idemHint) {
	t.add(idemEntry{at: now, fp: Fingerprint(c), hash: p.hash, over: p.taken,
		res: storedResult{code: r.Code, state: r.State, marks: refusalMarks(r), id: r.ID, qty: r.Qty, window: r.Window,
			expiresAt: r.ExpiresAt, pickupCode: r.PickupCode}}, c.Key)
}

// add appends e with key (its hash in e.hash; e.over set when another live
// key has that hash) and indexes it.
func (t *idemTable) add(e idemEntry, key []byte) {
	if e.over {
		t.overflow[string(key)] = t.next
	} else {
		t.byHash.put(e.hash, t.next)
	}
	t.push(e, key)
}

// addNew is add for restore: with one probe it refuses, adding nothing, a
// key whose hash an entry of the table already holds (a key not marked
// over must be the only one with its hash).
func (t *idemTable) addNew(e idemEntry, key []byte) bool {
	if e.over {
		t.overflow[string(key)] = t.next
	} else if _, taken := t.byHash.insert(e.hash, t.next); taken {
		return false
	}
	t.push(e, key)
	return true
}

// push appends e, its key copied to the key queue, as entry t.next.
func (t *idemTable) push(e idemEntry, key []byte) {
	n := t.next
	e.keyOff = t.appendKey(key)
	e.keyLen = uint8(len(key))
	if n-t.first == uint64(len(t.chunks))<<idemChunkShift {
		c := t.spare
		t.spare = nil
		if c == nil {
			c = new([idemChunkLen]idemEntry)
		}
		t.chunks = append(t.chunks, c)
	}
	*t.entry(n) = e
	t.next++
}

// appendKey copies key to the end of the key queue and returns its
// absolute offset.
func (t *idemTable) appendKey(key []byte) int {
	last := len(t.keyChunks) - 1
	if last < 0 || len(t.keyChunks[last])+len(key) > idemKeyChunk {
		c := t.spareKey
		t.spareKey = nil
		if c == nil {
			c = make([]byte, 0, idemKeyChunk)
		}
		t.keyChunks = append(t.keyChunks, c[:0])
		last++
	}
	off := (t.keyFirst+last)*idemKeyChunk + len(t.keyChunks[last])
	t.keyChunks[last] = append(t.keyChunks[last], key...)
	return off
}

// age drops keys stored at or before cutoff.
func (t *idemTable) age(cutoff int64) {
	for t.head < t.next {
		e := t.entry(t.head)
		if e.at > cutoff {
			break
		}
		if e.over {
			delete(t.overflow, string(t.keyOf(e)))
		} else if n, _ := t.byHash.get(e.hash); n == t.head {
			t.byHash.del(e.hash)
		}
		t.head++
		if t.head-t.first == idemChunkLen {
			// The front chunk is all dead: keep it for the next keys.
			t.spare = t.chunks[0]
			t.chunks[0] = nil
			t.chunks = t.chunks[1:]
			t.first += idemChunkLen
		}
	}
	// Key chunks before the oldest live key's (or, with none live, all but
	// the one being filled) are dead.
	keep := t.keyFirst + len(t.keyChunks) - 1
	if t.head < t.next {
		keep = t.entry(t.head).keyOff / idemKeyChunk
	}
	for t.keyFirst < keep {
		t.spareKey = t.keyChunks[0]
		t.keyChunks[0] = nil
		t.keyChunks = t.keyChunks[1:]
		t.keyFirst++
	}
}
