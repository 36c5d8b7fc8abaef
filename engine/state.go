package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"slices"
)

// state is the whole shard. Items, customers and reservations live in slabs
// (stable pointers, no per-entry allocation) and are found through maps from
// their key to their slot.
type state struct {
	bulk bulkPlans // put_items' scratch (bulk.go)
	cfg  *Config
	now  int64 // time of the last batch; never goes backwards
	seq  uint64

	skus      []sku
	skuByName map[string]uint32

	stores storeTable // stores.go: time zones and store pickup windows

	items     slab[item]
	itemByKey strIndex

	customers  slab[customer]
	custByName strIndex

	res  resTable // reservations by sequence number
	pins u64table // pickup code -> seq of a confirmed reservation with it; others with the same code chain through pinNext

	due      dueHeap[uint64] // holds and pickup deadlines, earliest first (entries go stale; checked on pop)
	finished fifo[dueEntry]  // finished reservations by the time they finished, for garbage collection
	idem     idemTable

	claims  claimTable  // customer's home: claims on customers' limits by holds in other shards (claim.go)
	holds   holdIndex   // item's shard: claimed reservations by claim key, provisional holds by deadline (claimhold.go)
	out     outbox      // messages to other shards and the marks of messages from them (outbox.go)
	marks   markState   // screening marks: item rules, customers' history here, fingerprints (marks.go)
	wait    waitTable   // sold-out items' waitlists (waitlist.go)
	coupons couponTable // coupon issues and their serials (coupons.go)
	// sent is the message the command being applied appended, if any (a
	// cancel's or a return's release of its claim): its Result says so.
	sent MessageRef

	stats Stats

	// Per-batch buffers, reused.
	results []Result
	events  []Event
	keyBuf  []byte
	j       journal

	mac    hash.Hash
	macBuf [sha256.Size]byte
	pinBuf [16]byte
}

// sku is one SKU known to the shard, with the items (stores) that carry it
// and its per-customer limit, the same at every store (set_limit reaches
// every shard, so a SKU may be known here before any item carries it).
type sku struct {
	name  string
	items []uint32
	limit int32 // units one customer may hold, confirm or pick up; 0 = none
}

// item is one SKU at one store. Counts are int32: MaxStock keeps every sum in range.
type item struct {
	key       string // len(sku) byte, sku, store: the map key; sku and store are substrings
	sku       uint32
	stock     int32
	held      int32
	confirmed int32
	pickedUp  int32
	opensAt   int64
	closesAt  int64
	ext       *itemExt // member share and windows; nil for most items of a flash sale
}

// itemExt holds what few items have, to keep the common item small.
type itemExt struct {
	memberTier   uint8
	memberUnits  int32
	memberUsed   int32
	memberCutoff int64
	windows      []window // sorted by start, never overlapping
}

type window struct {
	start, end int64
	quota      int32
	used       int32
}

func (it *item) skuName() string   { return it.key[1 : 1+int(it.key[0])] }
func (it *item) storeName() string { return it.key[1+int(it.key[0]):] }
func (it *item) promised() int32   { return it.held + it.confirmed + it.pickedUp }
func (it *item) available() int32  { return it.stock - it.promised() }

// window returns the item's window starting at start, or nil.
func (it *item) window(start int64) *window {
	if it.ext == nil {
		return nil
	}
	ws := it.ext.windows
	lo, hi := 0, len(ws)
	for lo < hi {
		m := (lo + hi) / 2
		if ws[m].start < start {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ws) && ws[lo].start == start {
		return &ws[lo]
	}
	return nil
}

type customer struct {
	id          string
	tier        uint8
	blocked     bool
	autoBlocked bool
	active      int32    // reservations HELD or CONFIRMED
	rateTAT     int64    // rate limit: theoretical arrival time (GCRA)
	noShows     []int64  // times of recent no-shows, oldest first
	resIDs      []uint64 // reservations kept for this customer, oldest first
	owns        []own    // units held, confirmed or picked up per SKU (entries at 0 stay: a customer touches few SKUs)
	// marks is the customer's history at this shard for the screening
	// marks (marks.go), nil until its first order, pickup or no-show here:
	// every reserve reads it, so it hangs off the record the reserve has
	// already found rather than from a map of its own.
	marks *custMarks
}

// own is a customer's units of one SKU, which the per-customer limit bounds.
type own struct {
	sku   uint32
	units int32
}

type reservation struct {
	id        uint64 // 0: free slot
	item      uint32
	cust      uint32
	qty       int32
	fromShare int32 // units taken from the item's member share
	state     State
	attempts  uint8
	locked    bool
	claimSt   claimState // a claimed hold: provisional, firm, or ended by a refused claim (claimhold.go)
	claimCode Code       // claimEnded: the refusal that ended it
	marks     Marks      // screening marks computed by its reserve (marks.go), and resReview while under review (review.go)
	window    int64      // window start, 0 = none
	createdAt int64
	expiresAt int64 // hold expiry (HELD) or pickup deadline (CONFIRMED)
	updatedAt int64
	code      uint64
	pinNext   uint64    // seq of the next confirmed reservation with the same pickup code, 0 = end
	cl        *resClaim // the claim on the customer's home that counts the units; nil for most (never changes once set)
}

func (s *state) init(cfg *Config) {
	s.cfg = cfg
	s.skuByName = make(map[string]uint32)
	s.stores.init()
	s.idem.init()
	s.claims.init()
	s.holds.init()
	s.out.init(cfg)
	s.marks.init()
	s.wait.init()
	s.coupons.init()
	s.mac = hmac.New(sha256.New, cfg.PickupSecret)
	s.keyBuf = make([]byte, 0, 2*MaxIDBytes+1)
}

// itemKey builds the lookup key of (sku, store) in a reused buffer. The map
// lookup m[string(b)] does not allocate.
func (s *state) itemKey(skuID, store []byte) []byte {
	b := append(s.keyBuf[:0], byte(len(skuID)))
	b = append(b, skuID...)
	b = append(b, store...)
	s.keyBuf = b
	return b
}

func (s *state) findItem(skuID, store []byte) (uint32, *item) {
	return s.lookupItem(s.itemKey(skuID, store))
}

// lookupItem finds an item by its key (itemKey's layout). It only reads:
// Peek calls it from several goroutines at once.
func (s *state) lookupItem(key []byte) (uint32, *item) {
	return s.lookupItemHashed(key, strHash(key))
}

// lookupItemHashed is lookupItem of a key whose strHash the caller has.
func (s *state) lookupItemHashed(key []byte, h uint32) (uint32, *item) {
	if i, ok := s.itemByKey.candidateHashed(h); ok {
		if it := s.items.at(i); it.key == string(key) {
			return i, it
		}
	}
	if i, ok := s.itemByKey.overflowGet(key); ok {
		return i, s.items.at(i)
	}
	return 0, nil
}

func (s *state) findCustomer(id []byte) (uint32, *customer) {
	if i, ok := s.custByName.candidate(id); ok {
		if c := s.customers.at(i); c.id == string(id) {
			return i, c
		}
	}
	if i, ok := s.custByName.overflowGet(id); ok {
		return i, s.customers.at(i)
	}
	return 0, nil
}

// customer returns the customer, creating it (regular tier) if new.
func (s *state) customer(id []byte) (uint32, *customer) {
	if i, c := s.findCustomer(id); c != nil {
		return i, c
	}
	i := s.customers.grow()
	c := s.customers.at(i)
	c.id = string(id)
	s.custByName.put(c.id, i)
	s.stats.Customers++
	s.j.newCustomer(i)
	return i, c
}

func (s *state) findRes(id uint64) *reservation {
	if ShardOfID(id) != s.cfg.ShardID {
		return nil
	}
	return s.res.get(SeqOfID(id))
}

// owned returns the customer's units of a SKU.
func (cu *customer) owned(skuIdx uint32) int32 {
	for _, o := range cu.owns {
		if o.sku == skuIdx {
			return o.units
		}
	}
	return 0
}

// addOwned changes a customer's units of a SKU.
func (s *state) addOwned(cust, skuIdx uint32, d int32) {
	cu := s.customers.at(cust)
	s.j.customer(cu)
	for i := range cu.owns {
		if o := &cu.owns[i]; o.sku == skuIdx {
			s.j.i32(&o.units)
			o.units += d
			assertCount(o.units, "a customer's units of a SKU")
			return
		}
	}
	assertCount(d, "a customer's units of a SKU")
	cu.owns = append(cu.owns, own{sku: skuIdx, units: d})
}

func validID(b []byte) bool { return len(b) >= 1 && len(b) <= MaxIDBytes }

func (s *state) emit(ev Event) {
	ev.At = s.now
	if len(s.events) == cap(s.events) {
		// Double: append grows a large slice by a quarter, so a burst of
		// events (a sale's holds expiring in one round, a bulk put) was
		// copied five times over; doubled, at most twice
		// (BenchmarkEngineExpireBurst).
		s.events = slices.Grow(s.events, max(len(s.events), 16))
	}
	s.events = append(s.events, ev)
}

// resEvent emits an event about a reservation.
func (s *state) resEvent(k EventKind, r *reservation, qty int64) {
	it := s.items.at(r.item)
	s.emit(Event{Kind: k, ID: r.id, SKU: it.skuName(), Store: it.storeName(),
		Customer: s.customers.at(r.cust).id, Qty: qty, Window: r.window, State: r.state, PickupCode: r.code})
}

// nextDue returns the time of the earliest entry of the due heap. The entry
// may be stale (its reservation confirmed or cancelled since): then an
// OpExpire at that time only drops it. Reading must not pop: the heap is part
// of the replicated state and a leader-only change would make replicas differ.
// Claims and provisional holds are not timed here: their sweeps are the
// leaders' (claim.go, claimhold.go).
func (s *state) nextDue() int64 {
	var at int64
	if len(s.due) > 0 {
		at = s.due[0].at
	}
	if len(s.wait.due) > 0 && (at == 0 || s.wait.due[0].at < at) {
		at = s.wait.due[0].at // a waitlist entry's TTL (waitlist.go)
	}
	if len(s.coupons.due) > 0 && (at == 0 || s.coupons.due[0].at < at) {
		at = s.coupons.due[0].at // a coupon serial's expiry, or its record's drop (coupons.go)
	}
	return at
}
