package engine

import (
	"encoding/binary"
	"strings"
	"time"
)

// Screening marks (docs/adr/0104). Every reservation carries the marks the
// reserve computed from what its shard knows when it ran: the customer's
// tier and block (the home's copy on any other shard), the customer's
// orders, pickups and no-shows at this shard, and per-shard counters of the
// customers seen behind each payment, device and address fingerprint the
// storefront sends. They are a function of the log alone, so every replica
// gives a reservation the same marks. An item's mark rule names the marks
// that refuse its reserves (CodeMarked), or, with RuleHoldBack, that hold
// them back for review (review.go).

// Marks is a set of screening marks. Values are part of the wire format:
// never renumber, only append.
type Marks uint16

const (
	MarkLoyal         Marks = 1 << iota // the customer's tier is MarkLoyalTier or more, or it picked up LoyalPickups orders at this shard
	MarkFirstOrder                      // the customer's first reservation at this shard
	MarkSharedPayment                   // the payment fingerprint was used by PrintCustomers customers or more within PrintWindow at this shard
	MarkSharedDevice                    // the same for the device fingerprint
	MarkSharedAddress                   // the same for the address fingerprint
	MarkVelocity                        // the customer made VelocityReserves reserves or more within VelocityWindow at this shard
	MarkNoShows                         // a no-show of the customer within the no-show period at this shard, or counted by its home (on the home)

	MarksAll = MarkLoyal | MarkFirstOrder | MarkSharedPayment | MarkSharedDevice | MarkSharedAddress | MarkVelocity | MarkNoShows
)

// RuleHoldBack is not a mark but a mark rule's action, in the rule's word
// (set_mark_rule's Marks, get_mark_rule's answer, the mark_rule event's
// Qty, the snapshot): a reserve whose marks meet the rule succeeds held
// back for review rather than refused (review.go, docs/adr/0107). The top
// bit, far from the marks, which append from the bottom.
const RuleHoldBack Marks = 1 << 15

var markNames = [...]string{"loyal", "first_order", "shared_payment", "shared_device", "shared_address", "velocity", "no_shows"}

// String lists the marks' names, comma separated ("" for none).
func (m Marks) String() string {
	var b strings.Builder
	for i, n := range markNames {
		if m&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
		}
	}
	if rest := m &^ MarksAll; rest != 0 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString("mark_" + itoa(int64(rest)))
	}
	return b.String()
}

// ParseMarks is the inverse of String: comma separated names, "" for none.
func ParseMarks(s string) (Marks, bool) {
	var m Marks
	if s == "" {
		return 0, true
	}
next:
	for _, part := range strings.Split(s, ",") {
		for i, n := range markNames {
			if part == n {
				m |= 1 << i
				continue next
			}
		}
		return 0, false
	}
	return m, true
}

// Fingerprint kinds: the index of Command.Prints.
const (
	PrintPayment = iota // a hash of the payment instrument
	PrintDevice         // a hash of the device
	PrintAddress        // a hash of the delivery or billing address
	NumPrints
)

// MarkLoyalTier is the tier from which a customer is loyal (0 regular, 1
// member, 2 loyal: MaxTier's scale).
const MarkLoyalTier = 2

// Bounds of the marks' state. Each caps a per-entry list or the whole
// table, so that memory stays bounded whatever the storefronts send.
const (
	// MaxPrintCustomers bounds the customers one fingerprint remembers (the
	// most recent): more than any threshold worth setting, and a reseller's
	// hundredth account marks as well as its third.
	MaxPrintCustomers = 16
	// MaxVelocityReserves bounds the reserve times one customer's record
	// keeps for the velocity mark (VelocityReserves may not exceed it).
	MaxVelocityReserves = 64
	// DefaultMaxPrints bounds the fingerprints a shard remembers: about
	// 200 bytes each, 1M is ~200 MiB at worst; past it the ones due
	// soonest are forgotten first (at the next batch's start).
	DefaultMaxPrints = 1 << 20
)

// MarkConfig holds the marks' thresholds. Every replica of a shard runs
// with the same (Config is part of the state machine).
type MarkConfig struct {
	LoyalPickups     int           // pickups at this shard that make a customer loyal (default 3)
	PrintCustomers   int           // distinct customers behind one fingerprint that mark it, the reserving one included (default 3, at most MaxPrintCustomers)
	PrintWindow      time.Duration // how long a customer counts behind a fingerprint after its last reserve with it (default 24 h)
	VelocityReserves int           // reserves within VelocityWindow, this one included, that mark it (default 5, at most MaxVelocityReserves)
	VelocityWindow   time.Duration // default 10 min
	MaxPrints        int           // fingerprints a shard remembers (default DefaultMaxPrints)
}

// Defaults of MarkConfig.
const (
	DefaultLoyalPickups     = 3
	DefaultPrintCustomers   = 3
	DefaultPrintWindow      = 24 * time.Hour
	DefaultVelocityReserves = 5
	DefaultVelocityWindow   = 10 * time.Minute
)

func (c MarkConfig) withDefaults() MarkConfig {
	if c.LoyalPickups <= 0 {
		c.LoyalPickups = DefaultLoyalPickups
	}
	if c.PrintCustomers <= 0 {
		c.PrintCustomers = DefaultPrintCustomers
	}
	c.PrintCustomers = min(c.PrintCustomers, MaxPrintCustomers)
	if c.PrintWindow <= 0 {
		c.PrintWindow = DefaultPrintWindow
	}
	if c.VelocityReserves <= 0 {
		c.VelocityReserves = DefaultVelocityReserves
	}
	c.VelocityReserves = min(c.VelocityReserves, MaxVelocityReserves)
	if c.VelocityWindow <= 0 {
		c.VelocityWindow = DefaultVelocityWindow
	}
	if c.MaxPrints <= 0 {
		c.MaxPrints = DefaultMaxPrints
	}
	return c
}

// markState is the shard's state for the marks.
type markState struct {
	rules  map[uint32]Marks       // item slot -> the marks that refuse (or with RuleHoldBack hold back) its reserves
	prints map[string]*printEntry // printKey -> the customers seen behind it
	due    dueHeap[string]        // when each print's customers may all have aged out
}

// custMarks is a customer's history at this shard.
type custMarks struct {
	orders     int32   // reservations made here
	pickups    int32   // orders picked up here
	lastNoShow int64   // time of the last no-show here (0: none)
	recent     []int64 // times of the last reserves here, oldest first, at most VelocityReserves
}

// printEntry is one fingerprint: the customers who reserved with it.
type printEntry struct {
	custs  []printCust // distinct, at most MaxPrintCustomers
	queued int64       // the time of its live entry in the due heap
}

type printCust struct {
	cust uint32
	seen int64 // the last reserve with the print
}

func (m *markState) init() {
	m.rules = make(map[uint32]Marks)
	m.prints = make(map[string]*printEntry)
}

// printKey is a fingerprint's key: its kind and its hash.
func printKey(kind int, hash uint64) string {
	var b [9]byte
	b[0] = byte(kind)
	binary.BigEndian.PutUint64(b[1:], hash)
	return string(b[:])
}

// marksFor computes the marks of a reserve by cu (slot cs) with c's
// fingerprints. It only reads.
func (s *state) marksFor(cu *customer, cs uint32, c *Command) Marks {
	mc := &s.cfg.Marks
	var m Marks
	cm := cu.marks
	if cu.tier >= MarkLoyalTier || cm != nil && int(cm.pickups) >= mc.LoyalPickups {
		m |= MarkLoyal
	}
	if cm == nil || cm.orders == 0 {
		m |= MarkFirstOrder
	}
	for k, h := range c.Prints {
		if h != 0 && s.printCustomers(printKey(k, h), cs) >= mc.PrintCustomers {
			m |= MarkSharedPayment << k
		}
	}
	if cm != nil && s.recentReserves(cm)+1 >= mc.VelocityReserves {
		m |= MarkVelocity
	}
	if s.hadNoShow(cu, cm) {
		m |= MarkNoShows
	}
	return m
}

// printCustomers counts the customers behind a print within the window,
// counting cs (the one reserving now) once.
func (s *state) printCustomers(key string, cs uint32) int {
	n := 1
	pe := s.marks.prints[key]
	if pe == nil {
		return n
	}
	since := s.now - int64(s.cfg.Marks.PrintWindow)
	for _, pc := range pe.custs {
		if pc.cust != cs && pc.seen > since {
			n++
		}
	}
	return n
}

// recentReserves counts the customer's reserves within the velocity window.
func (s *state) recentReserves(cm *custMarks) int {
	since := s.now - int64(s.cfg.Marks.VelocityWindow)
	n := 0
	for _, t := range cm.recent {
		if t > since {
			n++
		}
	}
	return n
}

// hadNoShow reports a no-show at this shard within the no-show period, or
// one the customer's home counts (only the home has the count).
func (s *state) hadNoShow(cu *customer, cm *custMarks) bool {
	since := s.now - int64(s.cfg.NoShowPeriod)
	if cm != nil && cm.lastNoShow != 0 && cm.lastNoShow > since {
		return true
	}
	if !s.isHome([]byte(cu.id)) {
		return false
	}
	for _, t := range cu.noShows {
		if t > since {
			return true
		}
	}
	return false
}

// markRefusal is the refusal of a reserve whose marks hit its item's
// refusing rule, or OK. The reply carries the marks, so the storefront can
// say why. holdBack reports a hit of a rule that holds back instead.
func (s *state) markRefusal(itemSlot uint32, m Marks) (refused Result, ok, holdBack bool) {
	rule := s.marks.rules[itemSlot]
	switch {
	case rule&m&MarksAll == 0:
		return Result{}, false, false
	case rule&RuleHoldBack != 0:
		return Result{}, false, true
	}
	r := s.refuse(CodeMarked)
	r.Marks = m
	return r, true, false
}

// recordReserve notes a reservation made by customer cs with c's prints.
func (s *state) recordReserve(cs uint32, c *Command) {
	cm := s.custMarksOf(cs)
	s.journalCustMarks(cm)
	cm.orders++
	keep := s.cfg.Marks.VelocityReserves
	if len(cm.recent) >= keep {
		cm.recent = cm.recent[len(cm.recent)-keep+1:] // a new array past the old length: the journal's copy stays whole
	}
	cm.recent = append(cm.recent, s.now)
	for k, h := range c.Prints {
		if h != 0 {
			s.seePrint(printKey(k, h), cs)
		}
	}
}

// recordPickup and recordNoShow note a customer's pickup or no-show here.
func (s *state) recordPickup(cs uint32) {
	cm := s.custMarksOf(cs)
	s.journalCustMarks(cm)
	cm.pickups++
}

func (s *state) recordNoShow(cs uint32) {
	cm := s.custMarksOf(cs)
	s.journalCustMarks(cm)
	cm.lastNoShow = s.now
}

// custMarksOf returns the customer's history, created if new.
func (s *state) custMarksOf(cs uint32) *custMarks {
	cu := s.customers.at(cs)
	if cu.marks != nil {
		return cu.marks
	}
	cm := &custMarks{}
	cu.marks = cm
	if s.j.on { // tested here: the closure is an allocation even when fn drops it
		s.j.fn(func() { s.customers.at(cs).marks = nil })
	}
	return cm
}

func (s *state) journalCustMarks(cm *custMarks) {
	if s.j.on {
		old := *cm
		s.j.fn(func() { *cm = old })
	}
}

// seePrint notes customer cs behind a print now.
func (s *state) seePrint(key string, cs uint32) {
	pe := s.marks.prints[key]
	if pe == nil {
		pe = &printEntry{queued: s.now + int64(s.cfg.Marks.PrintWindow)}
		s.marks.prints[key] = pe
		s.marks.due.push(due[string]{at: pe.queued, id: key})
		if s.j.on {
			s.j.fn(func() { delete(s.marks.prints, key) })
		}
	} else if s.j.on {
		old := append([]printCust(nil), pe.custs...)
		s.j.fn(func() { pe.custs = old })
	}
	for i := range pe.custs {
		if pe.custs[i].cust == cs {
			pe.custs[i].seen = s.now
			return
		}
	}
	if len(pe.custs) < MaxPrintCustomers {
		pe.custs = append(pe.custs, printCust{cust: cs, seen: s.now})
		return
	}
	oldest := 0
	for i := range pe.custs {
		if pe.custs[i].seen < pe.custs[oldest].seen {
			oldest = i
		}
	}
	pe.custs[oldest] = printCust{cust: cs, seen: s.now}
}

// lastSeen is the latest reserve behind the print.
func (pe *printEntry) lastSeen() int64 {
	var t int64
	for _, pc := range pe.custs {
		t = max(t, pc.seen)
	}
	return t
}

// ageMarks forgets the prints nobody used within the window, then, while
// more than MaxPrints are kept, the ones due soonest. It runs at a batch's
// start, outside any linked group: between two starts a batch adds at most
// NumPrints per reserve.
func (s *state) ageMarks() {
	m := &s.marks
	for len(m.due) > 0 && m.due[0].at <= s.now {
		s.agePrint(m.due.pop(), false)
	}
	for len(m.prints) > s.cfg.Marks.MaxPrints && len(m.due) > 0 {
		s.agePrint(m.due.pop(), true)
	}
}

// agePrint handles a print's entry off the due heap: a stale entry (the
// print forgotten, or queued again since) is dropped; a print used since
// it was queued is queued again at its new time, unless evict; else it goes.
func (s *state) agePrint(e due[string], evict bool) {
	m := &s.marks
	pe := m.prints[e.id]
	if pe == nil || pe.queued != e.at {
		return
	}
	if next := pe.lastSeen() + int64(s.cfg.Marks.PrintWindow); next > e.at && !evict {
		pe.queued = next
		m.due.push(due[string]{at: next, id: e.id})
		return
	}
	delete(m.prints, e.id)
}

// validRule reports a rule word: marks, and RuleHoldBack only with some.
func validRule(m Marks) bool {
	return m&^(MarksAll|RuleHoldBack) == 0 && (m == 0 || m&MarksAll != 0)
}

// setMarkRule sets the marks that refuse (or hold back) the item's reserves.
func (s *state) setMarkRule(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) || !validRule(c.Marks) {
		return s.refuse(CodeBadRequest)
	}
	slot, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		return s.refuse(CodeUnknownItem)
	}
	if c.Marks == 0 {
		delete(s.marks.rules, slot)
	} else {
		s.marks.rules[slot] = c.Marks
	}
	s.emit(Event{Kind: EvMarkRule, SKU: it.skuName(), Store: it.storeName(), Qty: int64(c.Marks)})
	return Result{Marks: c.Marks}
}

// getMarkRule reads the item's rule.
func (s *state) getMarkRule(c *Command) Result {
	if !validID(c.SKU) || !validID(c.Store) {
		return Result{Code: CodeBadRequest}
	}
	slot, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		return Result{Code: CodeUnknownItem}
	}
	return Result{Marks: s.marks.rules[slot]}
}

// MaxListByMark bounds list_by_mark's answer per shard: the protocol's
// list bound, so that one shard's answer always fits a reply.
const MaxListByMark = 4096

// listByMark lists the held and confirmed reservations carrying any of
// c.Marks (any mark at all for 0), oldest first, at most MaxListByMark.
func (s *state) listByMark(c *Command) Result {
	if c.Marks&^MarksAll != 0 {
		return Result{Code: CodeBadRequest}
	}
	want := c.Marks
	if want == 0 {
		want = MarksAll
	}
	out := []ReservationInfo{}
	s.res.each(func(r *reservation) {
		if len(out) < MaxListByMark && r.marks&want != 0 && (r.state == StateHeld || r.state == StateConfirmed) {
			out = append(out, s.resInfo(r))
		}
	})
	return Result{Reservations: out}
}
