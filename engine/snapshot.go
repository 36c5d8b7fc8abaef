package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"unsafe"
)

// Snapshot format (all integers varints, strings length-prefixed):
//
//	magic "INVSNAP" version(7)
//	now seq stats
//	skus (with their limit), items, customers, owned (sorted by key),
//	reservation slots (0 id = free), free list, pickup-code index (sorted),
//	due heap (array order), finished queue, idempotency entries (oldest
//	first), the claims and the outbox (snapshot_claims.go), the stores
//	(snapshot_stores.go), the outbox's customer copies (snapshot_customers.go),
//	the screening marks (snapshot_marks.go)
//	the waitlists (snapshot_waitlist.go, format 6),
//	the coupons (snapshot_coupons.go, format 7)
//
// Everything is written in a fixed order (slab order, sorted map keys), so
// the same state gives the same bytes; restore rebuilds the maps.
//
// Versions 1 and 2 kept a limit per item and came from nodes that placed
// items by SKU and store (docs/adr/0071): their shards hold other items
// than this version's, so they are refused, not converted. Version 3 kept
// the claims of docs/adr/0050 (claims that expire, proofs, a queue of
// releases), which the claims and the outbox of docs/adr/0070 replaced: it
// is refused too (errSnapshotV3). Version 5 added the keys registered by
// requests of other shards (regkey.go) to the idempotency entries: an
// entry's flag word, a bool in version 4, has a bit for them and such an
// entry is followed by its request's shard. Version 4 is still read (its
// flags are 0 or 1), so a node of this version restores a folder of the
// last one. Version 5 also added the customer copies (docs/adr/0072), its
// last section: version 4 is read without it. Version 6 added the
// screening marks (snapshot_marks.go) and the waitlists (docs/adr/0105,
// snapshot_waitlist.go), its last sections: versions 4 and 5 are read
// without them (no rules, no history, no marks, no lines). Version 7 added
// the coupons (docs/adr/0106, snapshot_coupons.go), its last section: older
// versions are read without them (no issues). Since version 6, an
// idempotency entry of a marked refusal keeps its marks under a third
// flag bit (a node that predates it refuses such a snapshot).

var snapMagic = []byte("INVSNAP\x07")

// snapCoreRefusals is how many refusal counts the core's stats keep (codes
// 0..31, as in version 5); the marks section keeps the rest (version 6).
const snapCoreRefusals = 32

// snapVersionIdemFlags is the first version whose idempotency entries
// carry flags rather than a bool.
const snapVersionIdemFlags = 5

// Flags of an idempotency entry in a snapshot.
const (
	snapIdemOver  = 1 << iota // the key lives in the overflow map
	snapIdemReg               // a key registered by a request of another shard; its shard follows
	snapIdemMarks             // a marked refusal: its marks follow (after the shard, if any)
)

// snapMagicOld is the part of the magic before the version byte.
var snapMagicOld = []byte("INVSNAP")

// errSnapshotV3 refuses a snapshot of format 3, whose claims are those of
// docs/adr/0050.
var errSnapshotV3 = errors.New("engine: snapshot format 3 keeps the claims of docs/adr/0050, which this version " +
	"does not restore (its format 4 keeps the claims and the outbox of docs/adr/0070): restore it with the release " +
	"that wrote it and let every claimed reservation end, or export the catalog there and import it here")

type enc struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (e *enc) u(v uint64) { n := binary.PutUvarint(e.buf[:], v); e.w.Write(e.buf[:n]) }
func (e *enc) i(v int64)  { n := binary.PutVarint(e.buf[:], v); e.w.Write(e.buf[:n]) }
func (e *enc) s(v string) { e.u(uint64(len(v))); e.w.WriteString(v) }
func (e *enc) b(v bool) {
	if v {
		e.u(1)
	} else {
		e.u(0)
	}
}

func (s *state) snapshot(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	e := &enc{w: bw}
	bw.Write(snapMagic)
	e.i(s.now)
	e.u(s.seq)
	s.snapStats(e)
	e.u(uint64(len(s.skus)))
	for _, k := range s.skus {
		e.s(k.name)
		e.i(int64(k.limit))
		e.u(uint64(len(k.items)))
		for _, slot := range k.items {
			e.u(uint64(slot))
		}
	}
	e.u(uint64(s.items.len()))
	for i := uint32(0); i < s.items.len(); i++ {
		snapItem(e, s.items.at(i))
	}
	e.u(uint64(s.customers.len()))
	for i := uint32(0); i < s.customers.len(); i++ {
		snapCustomer(e, s.customers.at(i))
	}
	e.u(s.res.first)
	e.u(uint64(s.stats.Reservations))
	s.res.each(func(r *reservation) { snapRes(e, r) })
	pins := make([]u64slot, 0, s.pins.len())
	s.pins.each(func(k, v uint64) { pins = append(pins, u64slot{key: k, val1: v}) })
	sort.Slice(pins, func(a, b int) bool { return pins[a].key < pins[b].key })
	e.u(uint64(len(pins)))
	for _, p := range pins {
		e.u(p.key)
		e.u(p.val1)
	}
	snapDue(e, s.due)
	snapDue(e, s.finished.buf[s.finished.head:])
	s.snapIdem(e)
	s.snapClaims(e)
	s.snapStores(e)
	s.snapCustomerCopies(e)
	s.snapMarks(e)
	s.snapWaitlists(e)
	s.snapCoupons(e)
	return bw.Flush()
}

func (s *state) snapStats(e *enc) {
	st := &s.stats
	for _, v := range []int64{st.Items, st.Customers, st.ActiveHolds, st.AwaitingPickup, st.Reservations, st.IdempotencyKeys} {
		e.i(v)
	}
	for _, v := range st.Outcomes {
		e.i(v)
	}
	for _, v := range st.Refusals[:snapCoreRefusals] {
		e.i(v)
	}
}

func snapItem(e *enc, it *item) {
	e.s(it.key)
	e.u(uint64(it.sku))
	for _, v := range []int32{it.stock, it.held, it.confirmed, it.pickedUp} {
		e.i(int64(v))
	}
	e.i(it.opensAt)
	e.i(it.closesAt)
	e.b(it.ext != nil)
	if x := it.ext; x != nil {
		e.u(uint64(x.memberTier))
		e.i(int64(x.memberUnits))
		e.i(int64(x.memberUsed))
		e.i(x.memberCutoff)
		e.u(uint64(len(x.windows)))
		for _, w := range x.windows {
			e.i(w.start)
			e.i(w.end)
			e.i(int64(w.quota))
			e.i(int64(w.used))
		}
	}
}

func snapCustomer(e *enc, c *customer) {
	e.s(c.id)
	e.u(uint64(c.tier))
	e.b(c.blocked)
	e.b(c.autoBlocked)
	e.i(int64(c.active))
	e.i(c.rateTAT)
	e.u(uint64(len(c.noShows)))
	for _, t := range c.noShows {
		e.i(t)
	}
	e.u(uint64(len(c.resIDs)))
	for _, id := range c.resIDs {
		e.u(id)
	}
	e.u(uint64(len(c.owns)))
	for _, o := range c.owns {
		e.u(uint64(o.sku))
		e.i(int64(o.units))
	}
}

func snapRes(e *enc, r *reservation) {
	e.u(r.id)
	e.u(uint64(r.item))
	e.u(uint64(r.cust))
	e.i(int64(r.qty))
	e.i(int64(r.fromShare))
	e.u(uint64(r.state))
	e.u(uint64(r.attempts))
	e.b(r.locked)
	e.i(r.window)
	e.i(r.createdAt)
	e.i(r.expiresAt)
	e.i(r.updatedAt)
	e.u(r.code)
	e.u(r.pinNext)
}

func snapDue(e *enc, d []dueEntry) {
	e.u(uint64(len(d)))
	for _, x := range d {
		e.i(x.at)
		e.u(x.id)
	}
}

func (s *state) snapIdem(e *enc) {
	t := &s.idem
	e.u(uint64(t.len()))
	for n := t.head; n < t.next; n++ {
		x := t.entry(n)
		e.i(x.at)
		e.u(x.fp)
		e.s(string(t.keyOf(x)))
		snapIdemEntryFlags(e, x)
		r := &x.res
		e.u(uint64(r.code))
		e.u(uint64(r.state))
		e.u(r.id)
		e.i(r.qty)
		e.i(r.window)
		e.i(r.expiresAt)
		e.u(r.pickupCode)
	}
}

// ---- restore ----

// maxSnapshotBytes bounds what Restore reads: far above any real shard.
const maxSnapshotBytes = 16 << 30

var errSnapshot = errors.New("engine: malformed snapshot")

// maxChunkSpan bounds the reservation table a snapshot may describe (chunks
// from the oldest kept reservation to the newest): 16M chunks of 1,024 ids,
// far beyond any retention, so a corrupt id cannot make restore allocate
// without bound.
const maxChunkSpan = 1 << 24

type dec struct {
	b       []byte
	err     error
	version byte   // the snapshot's format version
	arena   []byte // the block str copies strings into
}

// strArenaBlock is the size of the blocks restore copies the snapshot's
// strings (item keys, customer ids, idempotency keys) into: one
// allocation for thousands of them instead of one each, which at 6M
// items was 7 % of a start's CPU, and no per-string object for the
// collector. A block stays as long as any string in it does: at most one
// block's worth of ids the state has dropped since the restore, per block.
const strArenaBlock = 64 << 10

func (d *dec) fail() {
	if d.err == nil {
		d.err = errSnapshot
	}
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// i32 reads a value that must fit int32 and lie in [lo, hi].
func (d *dec) i32(lo, hi int64) int32 {
	v := d.i()
	if v < lo || v > hi {
		d.fail()
		return 0
	}
	return int32(v)
}

func (d *dec) bool() bool {
	v := d.u()
	if v > 1 {
		d.fail()
	}
	return v == 1
}

// view reads a string of at most max bytes, as str does, without copying
// it: the bytes are the snapshot's own, valid while restore runs, for a
// caller that copies what it keeps.
func (d *dec) view(max int) []byte {
	n := d.u()
	if d.err != nil || n > uint64(max) || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str(max int) string {
	b := d.view(max)
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > cap(d.arena)-len(d.arena) {
		if n > strArenaBlock/16 { // a rare long one: its own
			return string(b)
		}
		d.arena = make([]byte, 0, strArenaBlock)
	}
	off := len(d.arena)
	d.arena = append(d.arena, b...)
	return unsafe.String(&d.arena[off], n)
}

// count reads a length whose elements take at least minBytes each, so a
// corrupt length cannot make restore allocate more than the input's size.
func (d *dec) count(minBytes int) int {
	n := d.u()
	if d.err != nil || n > uint64(len(d.b)/minBytes) {
		d.fail()
		return 0
	}
	return int(n)
}

// slot reads an index that must be below n.
func (d *dec) slot(n uint32) uint32 {
	v := d.u()
	if v >= uint64(n) {
		d.fail()
		return 0
	}
	return uint32(v)
}

// restoreBufs keeps the buffers restores read their snapshot into, for the
// next restore: a node opens its shards a few at a time, and a buffer of
// tens of MB taken from the OS anew for each costs a page fault a page
// (io.ReadAll also zeroes every buffer it grows into, twice the state):
// a quarter of a 6M-item restart's CPU was that. The decoder copies what
// it keeps (strings are new), so a buffer is free once restore returns.
var restoreBufs sync.Pool

// readSnapshotBytes reads all of r, at most limit bytes, into *into or,
// when into is nil, a buffer from restoreBufs (grown by doubling as
// needed); done hands the buffer back to *into or to restoreBufs. The pool
// alone rarely keeps a buffer from one shard's restore to the next: a
// restoring node collects often, and each collection empties it.
func readSnapshotBytes(r io.Reader, limit int64, into *[]byte) (data []byte, done func(), err error) {
	var buf []byte
	if into != nil {
		buf = (*into)[:0]
	} else if p, _ := restoreBufs.Get().(*[]byte); p != nil {
		buf = (*p)[:0]
	}
	if cap(buf) == 0 {
		buf = make([]byte, 0, 1<<20)
	}
	done = func() {
		b := buf[:0]
		if into != nil {
			*into = b
			return
		}
		restoreBufs.Put(&b)
	}
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		n, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, done, fmt.Errorf("%w: over %d bytes", errSnapshot, limit)
		}
		switch {
		case rerr == io.EOF:
			return buf, done, nil
		case rerr != nil:
			return nil, done, rerr
		}
	}
}

func (s *state) restore(r io.Reader, buf *[]byte) error {
	data, done, err := readSnapshotBytes(r, maxSnapshotBytes, buf)
	defer done()
	if err != nil {
		return fmt.Errorf("engine: read snapshot: %w", err)
	}
	if len(data) < len(snapMagic) || string(data[:len(snapMagicOld)]) != string(snapMagicOld) {
		return fmt.Errorf("%w: bad magic or version", errSnapshot)
	}
	switch v := data[len(snapMagicOld)]; v {
	case 1, 2:
		return fmt.Errorf("%w: version %d places items by SKU and store; this version places them by store "+
			"(export the catalog with the old version, import it here)", errSnapshot, v)
	case 3:
		return errSnapshotV3
	}
	version := data[len(snapMagicOld)]
	if version < 4 || version > snapMagic[len(snapMagicOld)] {
		return fmt.Errorf("%w: bad magic or version", errSnapshot)
	}
	d := &dec{b: data[len(snapMagic):], version: version}
	s.now = d.i()
	s.seq = d.u()
	s.restoreStats(d)
	s.restoreSKUs(d)
	s.restoreItems(d)
	s.restoreStoreItems(d)
	s.restoreCustomers(d)
	s.restoreRes(d)
	s.due = restoreDue(d)
	s.finished = fifo[dueEntry]{buf: restoreDue(d)}
	s.restoreIdem(d)
	s.restoreClaims(d)
	s.restoreStores(d)
	s.restoreCustomerCopies(d, version)
	s.restoreMarks(d, version)
	s.restoreWaitlists(d, version)
	s.restoreCoupons(d, version)
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return d.err
	}
	if err := s.check(); err != nil {
		return fmt.Errorf("%w: %v", errSnapshot, err)
	}
	return nil
}

func (s *state) restoreStats(d *dec) {
	st := &s.stats
	for _, p := range []*int64{&st.Items, &st.Customers, &st.ActiveHolds, &st.AwaitingPickup, &st.Reservations, &st.IdempotencyKeys} {
		*p = d.i()
	}
	for i := range st.Outcomes {
		st.Outcomes[i] = d.i()
	}
	for i := range st.Refusals[:snapCoreRefusals] {
		st.Refusals[i] = d.i()
	}
}

func (s *state) restoreSKUs(d *dec) {
	n := d.count(2)
	s.skus = make([]sku, n)
	for i := range s.skus {
		k := &s.skus[i]
		k.name = d.str(MaxIDBytes)
		k.limit = d.i32(0, MaxStock)
		m := d.count(1)
		k.items = make([]uint32, m)
		for j := range k.items {
			k.items[j] = uint32(d.u())
		}
		if _, dup := s.skuByName[k.name]; dup || d.err != nil {
			d.fail()
			return
		}
		s.skuByName[k.name] = uint32(i)
	}
}

func (s *state) restoreItems(d *dec) {
	n := d.count(12)
	keys := make([]uint64, 0, n) // strHash and slot of each, for putAll
	for i := 0; i < n && d.err == nil; i++ {
		slot := s.items.grow()
		it := s.items.at(slot)
		it.key = d.str(2*MaxIDBytes + 1)
		it.sku = d.slot(uint32(len(s.skus)))
		it.stock = d.i32(0, MaxStock)
		it.held = d.i32(0, MaxStock)
		it.confirmed = d.i32(0, MaxStock)
		it.pickedUp = d.i32(0, MaxStock)
		it.opensAt, it.closesAt = d.i(), d.i()
		if d.bool() {
			x := &itemExt{}
			x.memberTier = uint8(d.u())
			x.memberUnits = d.i32(0, MaxStock)
			x.memberUsed = d.i32(0, MaxStock)
			x.memberCutoff = d.i()
			m := d.count(4)
			if m > MaxWindowsPerItem {
				d.fail()
			}
			for j := 0; j < m && d.err == nil; j++ {
				x.windows = append(x.windows, window{start: d.i(), end: d.i(), quota: d.i32(0, MaxStock), used: d.i32(0, MaxStock)})
			}
			it.ext = x
		}
		if d.err != nil || len(it.key) < 2 || int(it.key[0]) < 1 || 1+int(it.key[0]) >= len(it.key) ||
			it.skuName() != s.skus[it.sku].name {
			d.fail()
			return
		}
		keys = append(keys, uint64(strHash([]byte(it.key)))<<32|uint64(slot))
	}
	if d.err != nil || !s.itemByKey.putAll(keys, func(v uint32) string { return s.items.at(v).key }) {
		d.fail()
		return
	}
	for _, k := range s.skus {
		for _, slot := range k.items {
			if slot >= s.items.len() {
				d.fail()
			}
		}
	}
}

func (s *state) restoreCustomers(d *dec) {
	n := d.count(8)
	ids := make([]uint64, 0, n) // strHash and slot of each, for putAll
	for i := 0; i < n && d.err == nil; i++ {
		slot := s.customers.grow()
		c := s.customers.at(slot)
		c.id = d.str(MaxIDBytes)
		c.tier = uint8(d.u())
		c.blocked, c.autoBlocked = d.bool(), d.bool()
		c.active = d.i32(0, 1<<31-1)
		c.rateTAT = d.i()
		m := d.count(1)
		for j := 0; j < m; j++ {
			c.noShows = append(c.noShows, d.i())
		}
		m = d.count(1)
		for j := 0; j < m; j++ {
			c.resIDs = append(c.resIDs, d.u())
		}
		m = d.count(2)
		for j := 0; j < m && d.err == nil; j++ {
			c.owns = append(c.owns, own{sku: d.slot(uint32(len(s.skus))), units: d.i32(0, MaxStock)})
		}
		if c.id == "" || c.tier > MaxTier {
			d.fail()
			return
		}
		ids = append(ids, uint64(strHash([]byte(c.id)))<<32|uint64(slot))
	}
	if d.err != nil || !s.custByName.putAll(ids, func(v uint32) string { return s.customers.at(v).id }) {
		d.fail()
	}
}

func (s *state) restoreRes(d *dec) {
	s.res.first = d.u()
	n := d.count(12)
	var last uint64
	for i := 0; i < n && d.err == nil; i++ {
		id := d.u()
		seq := SeqOfID(id)
		if ShardOfID(id) != s.cfg.ShardID || seq <= last || seq > s.seq || (seq-1)/resChunkLen < s.res.first ||
			(seq-1)/resChunkLen-s.res.first >= maxChunkSpan {
			d.fail()
			return
		}
		last = seq
		r := s.res.add(seq)
		r.id = id
		r.item = d.slot(s.items.len())
		r.cust = d.slot(s.customers.len())
		r.qty = d.i32(1, MaxQty)
		r.fromShare = d.i32(0, MaxQty)
		st := d.u()
		if st < uint64(StateHeld) || st > uint64(StateReturned) {
			d.fail()
		}
		r.state = State(st)
		r.attempts = uint8(d.u())
		r.locked = d.bool()
		r.window = d.i()
		r.createdAt, r.expiresAt, r.updatedAt = d.i(), d.i(), d.i()
		r.code = d.u()
		r.pinNext = d.u()
	}
	if d.err == nil && len(s.res.chunks) > 0 && s.res.chunks[0] == nil {
		d.fail() // the first chunk must hold a reservation
	}
	if d.err == nil && len(s.res.chunks) > 0 && s.seq/resChunkLen-s.res.first >= maxChunkSpan {
		d.fail() // the next id's chunk too, or the next reserve would grow the table without bound
	}
	m := d.count(2)
	for i := 0; i < m && d.err == nil; i++ {
		code := d.u()
		seq := d.u()
		if s.res.get(seq) == nil {
			d.fail()
			return
		}
		s.pins.put(code, seq)
	}
}

func restoreDue(d *dec) []dueEntry {
	n := d.count(2)
	out := make([]dueEntry, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, dueEntry{at: d.i(), id: d.u()})
	}
	return out
}

func (s *state) restoreIdem(d *dec) {
	n := d.count(8)
	t := &s.idem
	t.byHash.reserve(t.byHash.len() + n) // no growth while they go in
	for i := 0; i < n && d.err == nil; i++ {
		e := idemEntry{at: d.i(), fp: d.u()}
		key := d.view(MaxKeyBytes) // the table copies it into its own queue
		d.idemEntryFlags(&e)
		code := d.u()
		st := d.u()
		if code > 0xffff || st > uint64(StateReturned) || len(key) == 0 || e.reg && (code != 0 || st != 0) {
			d.fail()
			return
		}
		marks := e.res.marks // from the flags
		e.res = storedResult{code: Code(code), state: State(st), marks: marks, id: d.u(), qty: d.i(), window: d.i(), expiresAt: d.i(), pickupCode: d.u()}
		if marks != 0 && e.res.code != CodeMarked {
			d.fail()
			return
		}
		e.hash = fnv64(fnvOffset, key)
		if !t.addNew(e, key) {
			d.fail()
			return
		}
	}
}

// snapIdemEntryFlags writes an idempotency entry's flag word, and for a
// registered key the shard its request runs on.
func snapIdemEntryFlags(e *enc, x *idemEntry) {
	var f uint64
	if x.over {
		f |= snapIdemOver
	}
	if x.reg {
		f |= snapIdemReg
	}
	if x.res.marks != 0 {
		f |= snapIdemMarks
	}
	e.u(f)
	if x.reg {
		e.u(uint64(x.regShard))
	}
	if x.res.marks != 0 {
		e.u(uint64(x.res.marks))
	}
}

// idemEntryFlags reads what snapIdemEntryFlags wrote (a bool before
// snapVersionIdemFlags).
func (d *dec) idemEntryFlags(x *idemEntry) {
	if d.version < snapVersionIdemFlags {
		x.over = d.bool()
		return
	}
	f := d.u()
	if f > snapIdemOver|snapIdemReg|snapIdemMarks {
		d.fail()
		return
	}
	x.over, x.reg = f&snapIdemOver != 0, f&snapIdemReg != 0
	if x.reg {
		sh := d.u()
		if sh > 0xffff {
			d.fail()
			return
		}
		x.regShard = uint16(sh)
	}
	if f&snapIdemMarks != 0 {
		m := d.u()
		if m == 0 || m&^uint64(MarksAll) != 0 {
			d.fail()
			return
		}
		x.res.marks = Marks(m)
	}
}
