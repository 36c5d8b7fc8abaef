package raftstore

import (
	"encoding/binary"
	"errors"

	"github.com/invsys/inv/engine"
)

// The value of a change-feed key: one engine.Event (the key already names
// the shard, the raft index and the ordinal).
//
//	version  byte     eventVersion
//	kind     byte     engine.EventKind, never 0
//	at       varint   zigzag: the entry's time, Unix nanoseconds
//	mask     uvarint  which fields follow, bit order below
//	fields   in bit order: strings as uvarint length (1..maxEventString) +
//	         bytes, ID and PickupCode as uvarints, State and Tier as one
//	         byte, other integers as zigzag varints; Blocked has no bytes
//	         (its bit means true); Zone (bit 11) a string like the ids
//
// As in the raft entry (docs/adr/0011), a present field is never zero and
// every varint is minimal, so each event has exactly one encoding and every
// value that decodes re-encodes to the same bytes (FuzzDecodeEventValue).
// A reserve's event costs its three ids plus about 25 bytes.
const (
	eventVersion byte = 1

	// maxEventString bounds a decoded id: the engine's are at most
	// engine.MaxIDBytes; the format leaves room without trusting any length.
	maxEventString = 255
)

// Field bits of an event's mask. Values are part of the stored format:
// never renumber, only append.
const (
	evID = iota
	evSKU
	evStore
	evCustomer
	evQty
	evWindow
	evState
	evPickupCode
	evStock
	evTier
	evBlocked
	evZone   // a store's time zone (store_put)
	evActor  // who changed stock or settings (docs/adr/0100)
	evReason // why
	evFieldCount

	evFieldsKnown = 1<<evFieldCount - 1
)

// errEventCorrupt is returned for a stored event that does not decode.
var errEventCorrupt = errors.New("raftstore: corrupt change-feed event")

// appendEventValue appends the encoding of e to dst. Strings longer than
// maxEventString are cut (the engine never makes one; the feed must not
// stop the apply path over it).
func appendEventValue(dst []byte, e *engine.Event) []byte {
	var m uint64
	set := func(bit int, present bool) {
		if present {
			m |= 1 << bit
		}
	}
	set(evID, e.ID != 0)
	set(evSKU, e.SKU != "")
	set(evStore, e.Store != "")
	set(evCustomer, e.Customer != "")
	set(evQty, e.Qty != 0)
	set(evWindow, e.Window != 0)
	set(evState, e.State != 0)
	set(evPickupCode, e.PickupCode != 0)
	set(evStock, e.Stock != 0)
	set(evTier, e.Tier != 0)
	set(evBlocked, e.Blocked)
	set(evZone, e.Zone != "")
	set(evActor, e.Actor != "")
	set(evReason, e.Reason != "")

	dst = append(dst, eventVersion, byte(e.Kind))
	dst = binary.AppendVarint(dst, e.At)
	dst = binary.AppendUvarint(dst, m)
	str := func(s string) {
		if len(s) > maxEventString {
			s = s[:maxEventString]
		}
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	if m&(1<<evID) != 0 {
		dst = binary.AppendUvarint(dst, e.ID)
	}
	if m&(1<<evSKU) != 0 {
		str(e.SKU)
	}
	if m&(1<<evStore) != 0 {
		str(e.Store)
	}
	if m&(1<<evCustomer) != 0 {
		str(e.Customer)
	}
	if m&(1<<evQty) != 0 {
		dst = binary.AppendVarint(dst, e.Qty)
	}
	if m&(1<<evWindow) != 0 {
		dst = binary.AppendVarint(dst, e.Window)
	}
	if m&(1<<evState) != 0 {
		dst = append(dst, byte(e.State))
	}
	if m&(1<<evPickupCode) != 0 {
		dst = binary.AppendUvarint(dst, e.PickupCode)
	}
	if m&(1<<evStock) != 0 {
		dst = binary.AppendVarint(dst, e.Stock)
	}
	if m&(1<<evTier) != 0 {
		dst = append(dst, e.Tier)
	}
	if m&(1<<evZone) != 0 {
		str(e.Zone)
	}
	if m&(1<<evActor) != 0 {
		str(e.Actor)
	}
	if m&(1<<evReason) != 0 {
		str(e.Reason)
	}
	return dst
}

// eventValueAt returns the time of an encoded event without decoding the
// rest (the pruner reads only this).
func eventValueAt(b []byte) (int64, error) {
	if len(b) < 3 || b[0] != eventVersion || b[1] == 0 {
		return 0, errEventCorrupt
	}
	at, n := readVarint(b[2:])
	if n <= 0 {
		return 0, errEventCorrupt
	}
	return at, nil
}

// decodeEventValue decodes an encoded event into e. Strings are new, except
// that one equal to the same field of prev (when prev is not nil) is shared
// with it: consecutive events mostly name the same item and store.
func decodeEventValue(b []byte, e, prev *engine.Event) error {
	*e = engine.Event{}
	if len(b) < 4 || b[0] != eventVersion || b[1] == 0 {
		return errEventCorrupt
	}
	e.Kind = engine.EventKind(b[1])
	at, n := readVarint(b[2:])
	if n <= 0 {
		return errEventCorrupt
	}
	e.At = at
	b = b[2+n:]
	m, n := readUvarint(b)
	if n <= 0 || m&^evFieldsKnown != 0 {
		return errEventCorrupt
	}
	b = b[n:]
	uv := func(v *uint64) bool {
		x, n := readUvarint(b)
		if n <= 0 || x == 0 {
			return false
		}
		*v, b = x, b[n:]
		return true
	}
	iv := func(v *int64) bool {
		x, n := readVarint(b)
		if n <= 0 || x == 0 {
			return false
		}
		*v, b = x, b[n:]
		return true
	}
	u8 := func(v *uint8) bool {
		if len(b) == 0 || b[0] == 0 {
			return false
		}
		*v, b = b[0], b[1:]
		return true
	}
	str := func(v *string, old string) bool {
		f, rest, ok := cutBytes(b)
		if !ok || len(f) == 0 || len(f) > maxEventString {
			return false
		}
		if string(f) == old {
			*v = old
		} else {
			*v = string(f)
		}
		b = rest
		return true
	}
	var p engine.Event
	if prev != nil {
		p = *prev
	}
	for bit := 0; bit < evFieldCount; bit++ {
		if m&(1<<bit) == 0 {
			continue
		}
		ok := true
		switch bit {
		case evID:
			ok = uv(&e.ID)
		case evSKU:
			ok = str(&e.SKU, p.SKU)
		case evStore:
			ok = str(&e.Store, p.Store)
		case evCustomer:
			ok = str(&e.Customer, p.Customer)
		case evQty:
			ok = iv(&e.Qty)
		case evWindow:
			ok = iv(&e.Window)
		case evState:
			var s uint8
			ok = u8(&s)
			e.State = engine.State(s)
		case evPickupCode:
			ok = uv(&e.PickupCode)
		case evStock:
			ok = iv(&e.Stock)
		case evTier:
			ok = u8(&e.Tier)
		case evBlocked:
			e.Blocked = true
		case evZone:
			ok = str(&e.Zone, p.Zone)
		case evActor:
			ok = str(&e.Actor, p.Actor)
		case evReason:
			ok = str(&e.Reason, p.Reason)
		}
		if !ok {
			return errEventCorrupt
		}
	}
	if len(b) != 0 {
		return errEventCorrupt
	}
	return nil
}

// The value of an entry's events key ('g', docs/adr/0125): every event one
// raft entry made, in order, under one key, so that an entry of thousands
// of events (a bulk put) is one write to Pebble's memtable, not thousands.
//
//	version  byte     entryEventsVersion
//	count    uvarint  events, at least 1
//	events   count × (length uvarint, at least 1 + an event's value above)
//
// Each event's value is the one the per-event key held: one encoding per
// entry, checked the same way.
const entryEventsVersion byte = 1

// maxEntryEvents bounds a decoded count: no entry of the engine's makes
// more than a few per command; the format does not trust the header.
const maxEntryEvents = 1 << 24

// appendEntryEventsHeader appends the version and count of an entry's
// value to dst; the events follow with appendEntryEvent.
func appendEntryEventsHeader(dst []byte, count int) []byte {
	dst = append(dst, entryEventsVersion)
	return binary.AppendUvarint(dst, uint64(count))
}

// appendEntryEvent appends one encoded event (an event value) to an
// entry's value.
func appendEntryEvent(dst, ev []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ev)))
	return append(dst, ev...)
}

// entryEvents walks an entry's value: count is its header's, and next
// returns each event's value in turn (ok false past the last, or on a
// value that does not hold what its header says, with err set).
type entryEvents struct {
	rest  []byte
	count int
	seen  int
	err   error
}

// openEntryEvents reads an entry value's header.
func openEntryEvents(b []byte) (entryEvents, error) {
	if len(b) < 2 || b[0] != entryEventsVersion {
		return entryEvents{}, errEventCorrupt
	}
	n, k := readUvarint(b[1:])
	if k <= 0 || n == 0 || n > maxEntryEvents {
		return entryEvents{}, errEventCorrupt
	}
	return entryEvents{rest: b[1+k:], count: int(n)}, nil
}

// next returns the next event's value.
func (r *entryEvents) next() ([]byte, bool) {
	if r.err != nil {
		return nil, false
	}
	if r.seen == r.count {
		if len(r.rest) != 0 {
			r.err = errEventCorrupt
		}
		return nil, false
	}
	ev, rest, ok := cutBytes(r.rest)
	if !ok || len(ev) == 0 {
		r.err = errEventCorrupt
		return nil, false
	}
	r.rest = rest
	r.seen++
	return ev, true
}
