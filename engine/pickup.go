package engine

import (
	"encoding/binary"
	"fmt"
)

// PickupCodeDigits is the length of the numeric pickup code a kiosk takes.
const PickupCodeDigits = 12

const pickupCodeMod = 1_000_000_000_000 // 10^PickupCodeDigits

// pickupCode derives the reservation's pickup code: HMAC-SHA256 of the id
// under the configured secret, reduced to 12 decimal digits. Unguessable
// without the secret, yet the same on every replica.
func (s *state) pickupCode(id uint64) uint64 {
	b := s.pinBuf[:] // state-owned: a local array would escape through the hash interface
	copy(b[:8], "inv-pick")
	binary.BigEndian.PutUint64(b[8:], id)
	s.mac.Reset()
	s.mac.Write(b)
	sum := s.mac.Sum(s.macBuf[:0])
	return binary.BigEndian.Uint64(sum[:8]) % pickupCodeMod
}

// FormatPickupCode renders a code as its 12 digits (leading zeros kept).
func FormatPickupCode(code uint64) string { return fmt.Sprintf("%012d", code) }

// PickupBarcode is the barcode-ready form of a pickup (Code 128 charset):
// "INV" + the reservation id in 16 hex digits + the 12-digit code. It names
// the reservation, so a scan needs no code lookup.
func PickupBarcode(id, code uint64) string { return fmt.Sprintf("INV%016X%012d", id, code) }

// ParseBarcode is the inverse of PickupBarcode.
func ParseBarcode(s string) (id, code uint64, err error) {
	if len(s) != 3+16+PickupCodeDigits || s[:3] != "INV" {
		return 0, 0, fmt.Errorf("not a pickup barcode")
	}
	for _, ch := range s[3:19] {
		v, ok := hexVal(ch)
		if !ok {
			return 0, 0, fmt.Errorf("not a pickup barcode")
		}
		id = id<<4 | v
	}
	for _, ch := range s[19:] {
		if ch < '0' || ch > '9' {
			return 0, 0, fmt.Errorf("not a pickup barcode")
		}
		code = code*10 + uint64(ch-'0')
	}
	return id, code, nil
}

func hexVal(ch rune) (uint64, bool) {
	switch {
	case ch >= '0' && ch <= '9':
		return uint64(ch - '0'), true
	case ch >= 'A' && ch <= 'F':
		return uint64(ch-'A') + 10, true
	}
	return 0, false
}

// indexPIN adds a confirmed reservation to the code index (codes can collide:
// 12 digits over many orders; same-code reservations chain).
func (s *state) indexPIN(r *reservation) {
	head, had := s.pins.get(r.code)
	s.j.pin(r.code, head, had)
	s.j.res(r)
	r.pinNext = head // 0 when !had
	s.pins.put(r.code, SeqOfID(r.id))
}

// unindexPIN removes a reservation leaving CONFIRMED from the code index.
func (s *state) unindexPIN(r *reservation) {
	seq := SeqOfID(r.id)
	head, ok := s.pins.get(r.code)
	if !ok {
		return
	}
	if head == seq {
		s.j.pin(r.code, head, true)
		if r.pinNext == 0 {
			s.pins.del(r.code)
		} else {
			s.pins.put(r.code, r.pinNext)
		}
		return
	}
	for p := s.res.get(head); p != nil && p.pinNext != 0; p = s.res.get(p.pinNext) {
		if p.pinNext == seq {
			s.j.res(p)
			p.pinNext = r.pinNext
			return
		}
	}
}

// byPIN finds the confirmed reservation with the code at the store. Among
// same-code reservations (rare) the lowest id at the store wins, so the
// answer does not depend on the chain's order.
func (s *state) byPIN(code uint64, store []byte) (r *reservation, wrongStore bool) {
	head, ok := s.pins.get(code)
	if !ok {
		return nil, false
	}
	for p := s.res.get(head); p != nil; p = s.res.get(p.pinNext) {
		if s.items.at(p.item).storeName() == string(store) {
			if r == nil || p.id < r.id {
				r = p
			}
		} else {
			wrongStore = true
		}
	}
	return r, wrongStore && r == nil
}

// pickup hands a confirmed reservation over at the counter. By id, the code
// must match (a wrong code counts; MaxPickupAttempts wrong codes lock it),
// and another store's reservation is refused wrong_store before its code is
// looked at, so that answer tells nothing about the code. By code alone (ID
// 0), the code names the reservation at this store; a code of another
// store's reservation is answered bad_code like an unknown one. A
// reservation with a pickup window is handed over from the window's start
// (too_early before).
func (s *state) pickup(c *Command) Result {
	if !validID(c.Store) || c.PickupCode >= pickupCodeMod {
		return s.refuse(CodeBadRequest)
	}
	var r *reservation
	if c.ID == 0 {
		var wrongStore bool
		if r, wrongStore = s.byPIN(c.PickupCode, c.Store); r == nil {
			if wrongStore {
				// The code is real, but another store's. Saying so would
				// tell a guesser at this counter that the code exists (to
				// be collected at the other store): the answer is bad_code,
				// as for a code that names nothing, with nothing counted
				// against the reservation either way. The count keeps the
				// reason for the operators (inv_refusals_total).
				return s.refuseAs(CodeWrongStore, CodeBadCode)
			}
			if !s.isStoreShard(c.Store) {
				// Every shard is asked a code-only pickup; the store's own
				// counts a code that names nothing, so that one pickup is
				// one refusal in inv_refusals_total.
				return Result{Code: CodeBadCode}
			}
			return s.refuse(CodeBadCode)
		}
	} else {
		var code Code
		if r, code = s.target(c, StateConfirmed); code != OK {
			return s.refuse(code)
		}
	}
	it := s.items.at(r.item)
	if it.storeName() != string(c.Store) {
		return s.refuse(CodeWrongStore)
	}
	if r.locked {
		return s.refuse(CodeLocked)
	}
	if r.window != 0 && s.now < r.window {
		// Not yet: the order waits for its pickup window (the store may
		// not even have it on the shelf). Nothing is counted, the code is
		// not checked; the reply names the window's start.
		res := s.refuse(CodeTooEarly)
		res.Window = r.window
		return res
	}
	if r.code != c.PickupCode {
		s.j.res(r)
		r.attempts++
		r.updatedAt = s.now
		s.resEvent(EvBadCode, r, 0)
		if int(r.attempts) >= s.cfg.MaxPickupAttempts {
			r.locked = true
			s.resEvent(EvLocked, r, 0)
			return s.refuse(CodeLocked)
		}
		return s.refuse(CodeBadCode)
	}
	s.j.item(it)
	it.confirmed -= r.qty
	it.pickedUp += r.qty
	assertItem(it)
	s.leave(r)
	s.j.res(r)
	r.state = StatePickedUp
	r.updatedAt = s.now
	r.expiresAt = 0
	s.recordPickup(r.cust)
	cu := s.customers.at(r.cust)
	s.j.customer(cu)
	cu.active--
	assertCount(cu.active, "a customer's open reservations")
	s.stats.Outcomes[StatePickedUp]++
	// Picked up is where the order ends for the shop; it stays readable (and
	// returnable) for the retention of finished reservations.
	s.finished.push(dueEntry{at: s.now, id: r.id})
	s.resEvent(EvPickedUp, r, int64(r.qty))
	return resResult(r)
}
