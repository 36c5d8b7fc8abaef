package protocol

import "github.com/invsys/inv/engine"

// The change feed. A client sends SUBSCRIBE (shard, from); the server
// answers once with SUBSCRIBE|reply (where the stream really starts), then
// sends EVENT frames with the SUBSCRIBE's request id for as long as the
// connection lives, in log order. A position is the Raft index of the entry
// (one batch) whose apply made the change; Ordinal numbers the events of one
// entry from 0. A consumer that stores (position, ordinal) of the last event
// it handled resumes with from = position and skips ordinals it has seen.

// Subscribe is a SUBSCRIBE request: shard u16, from u64.
type Subscribe struct {
	Shard uint16
	From  uint64 // first Raft index wanted; 0 = the oldest the server still has
}

// Subscribed is the reply to SUBSCRIBE: shard u16, first u64, last u64.
type Subscribed struct {
	Shard uint16
	// First is the position of the first entry the stream will carry. When
	// it is above the From asked for, the entries between were compacted
	// away: the consumer has missed changes and must resynchronise from a
	// read (list_items) before following the feed.
	First uint64
	Last  uint64 // the shard's last applied position when the stream began
}

// AppendSubscribe appends a SUBSCRIBE request.
func AppendSubscribe(dst []byte, reqID uint32, s *Subscribe) []byte {
	dst = AppendFrameHeader(dst, OpSubscribe, 0, reqID, 2+8)
	dst = appendU16(dst, s.Shard)
	return appendU64(dst, s.From)
}

// DecodeSubscribe decodes a SUBSCRIBE request payload.
func DecodeSubscribe(payload []byte, s *Subscribe) error {
	c := cursor{b: payload}
	s.Shard = c.u16()
	s.From = c.u64()
	return c.end()
}

// AppendSubscribed appends the reply to SUBSCRIBE; EVENT frames with the
// same request id follow it.
func AppendSubscribed(dst []byte, reqID uint32, s *Subscribed) []byte {
	dst = AppendFrameHeader(dst, OpSubscribe, FlagReply, reqID, 2+8+8)
	dst = appendU16(dst, s.Shard)
	dst = appendU64(dst, s.First)
	return appendU64(dst, s.Last)
}

// DecodeSubscribed decodes the payload of the reply to SUBSCRIBE.
func DecodeSubscribed(payload []byte, s *Subscribed) error {
	c := cursor{b: payload}
	s.Shard = c.u16()
	s.First = c.u64()
	s.Last = c.u64()
	return c.end()
}

// Event is one change of a shard's feed.
type Event struct {
	Shard    uint16
	Position uint64 // Raft index of the entry that made the change
	Ordinal  uint32 // index of the event among its entry's events
	Event    engine.Event
}

// EVENT payload: shard u16, position u64, ordinal u32, kind u8, at i64,
// u16 mask, then the fields of the mask in bit order (absent = zero, as in
// requests).
const (
	eID         = iota // u64
	eSKU               // str8
	eStore             // str8
	eCustomer          // str8
	eQty               // i64
	eWindow            // i64
	eState             // u8
	ePickupCode        // u64
	eStock             // i64
	eTier              // u8
	eBlocked           // no bytes: the bit means true
	eZone              // str8, <= MaxZoneBytes: a store's time zone (store_put)
	eActor             // str8, <= MaxIDBytes: who changed stock or settings (docs/adr/0100)
	eReason            // str8, <= MaxReasonBytes: why
	eventFieldCount
)

const eventMaskValid = 1<<eventFieldCount - 1

// AppendEvent appends an EVENT frame; reqID is the SUBSCRIBE's request id.
func AppendEvent(dst []byte, reqID uint32, ev *Event) []byte {
	dst, start := beginFrame(dst, OpEvent, FlagReply, reqID)
	dst = appendU16(dst, ev.Shard)
	dst = appendU64(dst, ev.Position)
	dst = appendU32(dst, ev.Ordinal)
	e := &ev.Event
	if e.Kind == 0 {
		panic("protocol: encoding an event of kind 0")
	}
	dst = appendU8(dst, uint8(e.Kind))
	dst = appendI64(dst, e.At)
	var m uint16
	set := func(f int, nonzero bool) {
		if nonzero {
			m |= 1 << f
		}
	}
	set(eID, e.ID != 0)
	set(eSKU, e.SKU != "")
	set(eStore, e.Store != "")
	set(eCustomer, e.Customer != "")
	set(eQty, e.Qty != 0)
	set(eWindow, e.Window != 0)
	set(eState, e.State != 0)
	set(ePickupCode, e.PickupCode != 0)
	set(eStock, e.Stock != 0)
	set(eTier, e.Tier != 0)
	set(eBlocked, e.Blocked)
	set(eZone, e.Zone != "")
	set(eActor, e.Actor != "")
	set(eReason, e.Reason != "")
	dst = appendU16(dst, m)
	has := func(f int) bool { return m&(1<<f) != 0 }
	if has(eID) {
		dst = appendU64(dst, e.ID)
	}
	if has(eSKU) {
		dst = appendStr8(dst, e.SKU, MaxIDBytes, "event sku")
	}
	if has(eStore) {
		dst = appendStr8(dst, e.Store, MaxIDBytes, "event store")
	}
	if has(eCustomer) {
		dst = appendStr8(dst, e.Customer, MaxIDBytes, "event customer")
	}
	if has(eQty) {
		dst = appendI64(dst, e.Qty)
	}
	if has(eWindow) {
		dst = appendI64(dst, e.Window)
	}
	if has(eState) {
		dst = appendU8(dst, uint8(e.State))
	}
	if has(ePickupCode) {
		dst = appendU64(dst, e.PickupCode)
	}
	if has(eStock) {
		dst = appendI64(dst, e.Stock)
	}
	if has(eTier) {
		dst = appendU8(dst, e.Tier)
	}
	// eBlocked: the bit alone.
	if has(eZone) {
		dst = appendStr8(dst, e.Zone, MaxZoneBytes, "event zone")
	}
	if has(eActor) {
		dst = appendStr8(dst, e.Actor, MaxIDBytes, "event actor")
	}
	if has(eReason) {
		dst = appendStr8(dst, e.Reason, MaxReasonBytes, "event reason")
	}
	return finishFrame(dst, start)
}

// DecodeEvent decodes an EVENT payload. The event's ids are new strings.
func DecodeEvent(payload []byte, ev *Event) error {
	*ev = Event{}
	c := cursor{b: payload}
	ev.Shard = c.u16()
	ev.Position = c.u64()
	ev.Ordinal = c.u32()
	e := &ev.Event
	e.Kind = engine.EventKind(c.u8())
	e.At = c.i64()
	m := c.u16()
	if c.err != nil {
		return c.err
	}
	if e.Kind == 0 {
		return malformed("event of kind 0")
	}
	if m&^eventMaskValid != 0 {
		return errReservedMask
	}
	has := func(f int) bool { return m&(1<<f) != 0 }
	str := func(f int, v *string, what string) {
		if has(f) {
			*v = string(c.str8(MaxIDBytes, what))
			c.nonzero(*v != "")
		}
	}
	i64 := func(f int, v *int64) {
		if has(f) {
			*v = c.i64()
			c.nonzero(*v != 0)
		}
	}
	if has(eID) {
		e.ID = c.u64()
		c.nonzero(e.ID != 0)
	}
	str(eSKU, &e.SKU, "event sku bytes")
	str(eStore, &e.Store, "event store bytes")
	str(eCustomer, &e.Customer, "event customer bytes")
	i64(eQty, &e.Qty)
	i64(eWindow, &e.Window)
	if has(eState) {
		e.State = engine.State(c.u8())
		c.nonzero(e.State != 0)
	}
	if has(ePickupCode) {
		e.PickupCode = c.u64()
		c.nonzero(e.PickupCode != 0)
	}
	i64(eStock, &e.Stock)
	if has(eTier) {
		e.Tier = c.u8()
		c.nonzero(e.Tier != 0)
	}
	e.Blocked = has(eBlocked)
	if has(eZone) {
		e.Zone = string(c.str8(MaxZoneBytes, "event zone bytes"))
		c.nonzero(e.Zone != "")
	}
	if has(eActor) {
		e.Actor = string(c.str8(MaxIDBytes, "event actor bytes"))
		c.nonzero(e.Actor != "")
	}
	if has(eReason) {
		e.Reason = string(c.str8(MaxReasonBytes, "event reason bytes"))
		c.nonzero(e.Reason != "")
	}
	return c.end()
}
