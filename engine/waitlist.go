package engine

import "time"

// A fair waitlist (docs/adr/0105). When an item is sold out a customer may
// join its line (join_waitlist); entries stand in first-come order and end
// with their TTL (waitlist_expired), when the customer leaves
// (leave_waitlist, waitlist_left), or when they are promoted.
//
// A unit freed while the line is not empty (a cancel, an expiry, a no-show,
// a partial confirm, a refused claim's hold, a restocking return, a restock
// or an upward stock adjustment) goes to the head of the line: once the
// command that freed it is applied, and before the next command of the
// batch runs, the head becomes a hold of its own TTL (the ordinary reserve
// path: reserved, then waitlist_promoted naming the hold). Until then no
// one else may take the unit: a reserve of an item whose line is not empty
// is sold out, whatever is available. The line is strict FIFO: a head that
// asks for more units than are free waits for them, and those behind it
// wait too (entries are small, MaxWaitlistQty, and end with their TTL).
//
// A head the reserve path refuses for a reason that waiting cannot mend
// (blocked, closed, limit_exceeded, claim_required: a limited SKU whose
// customer's counters live on another shard and whose entry carries no
// claim) leaves the line (waitlist_dropped) and the next entry is tried;
// sold_out ends the round. So a promotion never lets a customer exceed the
// SKU's limit: it is a reserve, with every check of one, except the rate
// limit (the customer did not ask now) and the line itself.
//
// Entries and lines live in this shard only (an item's line is in its
// store's shard, docs/adr/0071). A limited SKU's customer whose home is
// another shard joins with a claim (docs/adr/0112): the router first has
// the home accept claim(K) for the entry's units, then joins carrying K
// and the claim's deadline D. The entry carries K; promoted, its hold
// carries K, firm (claimhold.go); an entry that ends otherwise (left,
// expired, dropped) sends release_claim(K) through the outbox, as a
// claimed hold's end does. The home's sweep asks get_claim_hold(K), which
// answers a live entry carrying K as an active hold.

// Limits of the waitlist.
const (
	// MaxWaitlistPerItem bounds one item's line: a sold-out flash sale's
	// queue at one store. Leave and a position read walk the line, so this
	// keeps them within microseconds; a line that is full refuses too_many.
	MaxWaitlistPerItem = 10000
	// MaxWaitlistPerCustomer bounds the lines one customer stands in on
	// one shard: enough to wait for a few sold-out items, not a way to
	// block every line of a store.
	MaxWaitlistPerCustomer = 8
	// MaxWaitlistQty bounds the units one entry asks for: the line is
	// strict FIFO, so a large ask would hold everyone behind it.
	MaxWaitlistQty = 8
	// DefaultWaitlistTTL is how long an entry stands in line when the
	// join gives no TTL: the length of a flash sale's first wave.
	DefaultWaitlistTTL = time.Hour
	// MaxWaitlistTTL bounds an entry's life, so that a forgotten entry
	// does not hold a line for days.
	MaxWaitlistTTL = 24 * time.Hour
)

// waitEntry is one customer in one item's line.
type waitEntry struct {
	id        uint64 // the entry's number in this shard: the due heap's key
	cust      uint32 // customer slot
	qty       int32
	joinedAt  int64
	expiresAt int64
	claim     string // the key of the claim its customer's home accepted for its units ("" = none)
}

// waitTable is the shard's lines.
type waitTable struct {
	lines   map[uint32][]waitEntry // item slot -> its line, head first (absent when empty)
	byID    map[uint64]uint32      // entry id -> item slot
	byClaim map[string]uint64      // claim key -> id of the entry carrying it (derived)
	perCust map[uint32]int32       // customer slot -> lines it stands in (derived)
	due     dueHeap[uint64]        // entries by (expiry, id); entries go stale when they leave
	seq     uint64                 // the last entry id given
	freed   []uint32               // items whose units the running command freed while they had a line
}

func (t *waitTable) init() {
	t.lines = make(map[uint32][]waitEntry)
	t.byID = make(map[uint64]uint32)
	t.byClaim = make(map[string]uint64)
	t.perCust = make(map[uint32]int32)
}

// waiting reports whether the item has a line.
func (t *waitTable) waiting(item uint32) bool { return len(t.lines[item]) > 0 }

// position returns the index of a customer's entry in a line, or -1.
func position(line []waitEntry, cust uint32) int {
	for i := range line {
		if line[i].cust == cust {
			return i
		}
	}
	return -1
}

// add appends an entry to an item's line.
func (t *waitTable) add(item uint32, e waitEntry) {
	t.lines[item] = append(t.lines[item], e)
	t.byID[e.id] = item
	if e.claim != "" {
		t.byClaim[e.claim] = e.id
	}
	t.perCust[e.cust]++
	t.due.push(due[uint64]{at: e.expiresAt, id: e.id})
}

// remove takes the entry at index i out of an item's line.
func (t *waitTable) remove(item uint32, i int) waitEntry {
	line := t.lines[item]
	e := line[i]
	line = append(line[:i], line[i+1:]...)
	if len(line) == 0 {
		delete(t.lines, item)
	} else {
		t.lines[item] = line
	}
	delete(t.byID, e.id)
	if e.claim != "" {
		delete(t.byClaim, e.claim)
	}
	if t.perCust[e.cust]--; t.perCust[e.cust] <= 0 {
		delete(t.perCust, e.cust)
	}
	return e
}

// markFreed notes that the running command freed units of an item that has
// a line: its head is promoted once the command is applied.
func (s *state) markFreed(item uint32) {
	if len(s.wait.lines) > 0 && s.wait.waiting(item) {
		s.wait.freed = append(s.wait.freed, item)
	}
}

// joinWaitlist puts a customer in an item's line. A join carrying a claim
// (Claim, Deadline: the router's, after the customer's home accepted it)
// skips the limit, which the home counted, and the entry carries the claim.
func (s *state) joinWaitlist(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) || !validID(c.Customer) ||
		c.Qty <= 0 || c.Qty > MaxWaitlistQty || c.TTL < 0 || c.TTL > MaxWaitlistTTL || c.Window != 0 {
		return s.refuse(CodeBadRequest)
	}
	if c.ClaimCode != OK {
		return s.claimRefusedJoin(c)
	}
	slot, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		return s.refuse(CodeUnknownItem)
	}
	if it.hasWindows() {
		return s.refuse(CodeWindowRequired) // lines are for items without pickup windows (docs/adr/0105)
	}
	claimed := len(c.Claim) > 0 || c.Deadline != 0
	if claimed {
		if code := s.checkClaimedJoin(c); code != OK {
			return s.refuse(code)
		}
	}
	custSlot, cu := s.customer(c.Customer)
	if i := position(s.wait.lines[slot], custSlot); i >= 0 {
		return s.joinResult(c, slot, custSlot) // already in line: joining again changes nothing
	}
	if code := s.joinRefusal(slot, it, cu, int32(c.Qty), claimed); code != OK {
		r := s.refuse(code)
		if code == CodeClaimRequired {
			r.Qty = int64(s.skuLimit(it)) // the limit the claim carries (router: the join's claim round)
		}
		return r
	}
	if len(s.wait.lines[slot]) >= MaxWaitlistPerItem || s.wait.perCust[custSlot] >= MaxWaitlistPerCustomer {
		return s.refuse(CodeTooMany)
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultWaitlistTTL
	}
	s.wait.seq++
	s.wait.add(slot, waitEntry{id: s.wait.seq, cust: custSlot, qty: int32(c.Qty), joinedAt: s.now,
		expiresAt: s.now + int64(ttl), claim: string(c.Claim)})
	s.waitEvent(EvWaitJoined, slot, custSlot, c.Qty)
	return s.joinResult(c, slot, custSlot)
}

// joinRefusal returns why a customer may not join a line: what a reserve
// would refuse for that waiting cannot mend, or wrong_state when the units
// are there to reserve (the line is for sold-out items only). claimed: the
// join carries a claim its customer's home accepted, which counted the limit.
func (s *state) joinRefusal(slot uint32, it *item, cu *customer, qty int32, claimed bool) Code {
	limited := s.skuLimit(it) > 0 && !claimed
	switch {
	case cu.blocked:
		return CodeBlocked
	case it.opensAt != 0 && s.now < it.opensAt:
		return CodeNotOpen
	case it.closesAt != 0 && s.now >= it.closesAt:
		return CodeClosed
	case limited && s.claimsElsewhere([]byte(cu.id)):
		return CodeClaimRequired // the limit is counted at the customer's home: the join needs a claim there
	case limited && cu.owned(it.sku)+s.claimedUnits(cu.id, it.skuName())+qty > s.skuLimit(it):
		return CodeLimitExceeded
	case !s.wait.waiting(slot) && !s.stockShort(it, qty, s.shareFor(it, cu, qty)):
		return CodeWrongState
	}
	return OK
}

// leaveWaitlist takes a customer out of an item's line.
func (s *state) leaveWaitlist(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) || !validID(c.Customer) {
		return s.refuse(CodeBadRequest)
	}
	slot, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		return s.refuse(CodeUnknownItem)
	}
	custSlot, cu := s.findCustomer(c.Customer)
	i := -1
	if cu != nil {
		i = position(s.wait.lines[slot], custSlot)
	}
	if i < 0 {
		return s.refuse(CodeNotFound)
	}
	e := s.wait.remove(slot, i)
	s.waitEvent(EvWaitLeft, slot, custSlot, int64(e.qty))
	s.entryEnded(&e)
	if i == 0 {
		s.markFreed(slot) // the next head may fit what the last one waited beside
	}
	r := s.waitResult(slot, custSlot)
	r.Qty = int64(e.qty)
	r.Sent = s.sent // its claim's release, if it carried one: the reply may wait for it
	return r
}

// getWaitlist reads an item's line: its length, and the customer's place.
func (s *state) getWaitlist(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) || len(c.Customer) > MaxIDBytes {
		return Result{Code: CodeBadRequest}
	}
	slot, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		return Result{Code: CodeUnknownItem}
	}
	custSlot, cu := s.findCustomer(c.Customer)
	if cu == nil {
		info := WaitlistInfo{Length: int64(len(s.wait.lines[slot]))}
		return Result{Waitlist: &info}
	}
	return s.waitResult(slot, custSlot)
}

// waitResult describes an item's line and a customer's entry in it:
// Qty and ExpiresAt are the entry's, Waitlist.Position its place from 1
// (0: not in line).
func (s *state) waitResult(slot, cust uint32) Result {
	line := s.wait.lines[slot]
	info := WaitlistInfo{Length: int64(len(line))}
	var r Result
	if i := position(line, cust); i >= 0 {
		info.Position = int64(i + 1)
		r.Qty, r.ExpiresAt = int64(line[i].qty), line[i].expiresAt
	}
	r.Waitlist = &info
	return r
}

// waitEvent emits an event about a customer's entry in an item's line.
func (s *state) waitEvent(k EventKind, item, cust uint32, qty int64) {
	ev := Event{Kind: k, Qty: qty}
	s.fillWaitEvent(&ev, item, cust)
	s.emit(ev)
}

// waitLive reports whether a due entry still names an entry in line.
func (s *state) waitLive(e due[uint64]) bool {
	item, ok := s.wait.byID[e.id]
	if !ok {
		return false
	}
	for _, w := range s.wait.lines[item] {
		if w.id == e.id {
			return w.expiresAt == e.at
		}
	}
	return false
}

// expireWaits ends the entries whose TTL has passed.
func (s *state) expireWaits() {
	for len(s.wait.due) > 0 && s.wait.due[0].at <= s.now {
		e := s.wait.due.pop()
		if !s.waitLive(e) {
			continue
		}
		item := s.wait.byID[e.id]
		line := s.wait.lines[item]
		for i := range line {
			if line[i].id == e.id {
				w := s.wait.remove(item, i)
				s.waitEvent(EvWaitExpired, item, w.cust, int64(w.qty))
				s.entryEnded(&w)
				if i == 0 {
					s.markFreed(item) // the next head may fit what the last one waited beside
				}
				break
			}
		}
	}
}

// stockAdded marks an item whose stock a restock or an adjustment raised:
// the new units go to its line's head first.
func (s *state) stockAdded(c *Command) {
	if len(s.wait.lines) > 0 {
		slot, _ := s.findItem(c.SKU, c.Store)
		s.markFreed(slot)
	}
}

// waitReplay is a replayed join's or leave's answer: the stored result
// with the line as it stands now (the stored record keeps no read view).
func (s *state) waitReplay(c *Command, res Result) Result {
	slot, it := s.findItem(c.SKU, c.Store)
	custSlot, cu := s.findCustomer(c.Customer)
	if it == nil || cu == nil {
		return res
	}
	now := s.joinResult(c, slot, custSlot) // a join's retry carrying a claim: is it carried?
	res.Waitlist = now.Waitlist
	return res
}
