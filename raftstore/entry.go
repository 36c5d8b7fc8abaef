package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/invsys/inv/engine"
)

// The Data of a raft log entry: one batch of engine commands and the time the
// leader stamped on it (docs/adr/0011). Time is part of the log so every
// replica expires the same holds at the same point of the command stream.
//
//	version  byte     entryVersion
//	now      int64    big-endian, Unix nanoseconds, the leader's clock
//	count    uint32   big-endian, commands that follow (1..MaxEntryCommands)
//	command  × count
//
// The header has fixed widths so that the proposer can encode commands as
// they arrive and stamp time and count just before raft.Apply.
//
// A command is its op byte, a uvarint bitmap of the fields it carries, and
// those fields in bit order. Absent means zero (false, empty, 0), and a
// present field is never zero, so every command has exactly one encoding:
// the same batch gives the same bytes on every proposer, and every entry
// that decodes re-encodes to the same bytes.
const (
	entryVersion   byte = 1
	entryHeaderLen      = 1 + 8 + 4

	// MaxEntryCommands bounds the commands of one entry. The proposer's
	// batches are far smaller (default 1024); the decoder refuses more.
	MaxEntryCommands = 1 << 16
	// MaxFieldBytes bounds each byte-string field. Ids and keys are at most
	// 64 bytes (engine.MaxIDBytes); longer ones still reach the engine, which
	// refuses them with a clear code, up to this hard bound of the format.
	MaxFieldBytes = 255

	minCommandLen = 2 // op byte and an empty bitmap
)

// Field bits of a command's bitmap. Values are part of the log format:
// never renumber, only append.
const (
	fLinked = iota
	fRestock
	fSKU
	fStore
	fCustomer
	fKey
	fID
	fQty
	fWindow
	fWindowEnd
	fQuota
	fTTL
	fPickupCode
	fStock
	fLimit
	fOpensAt
	fClosesAt
	fMemberTier
	fMemberUnits
	fMemberCutoff
	fTier
	fClaim       // a claim's key (engine/claim.go)
	fClaimExpiry // retired (docs/adr/0050's claims): an entry carrying it is corrupt
	fProof       // retired (docs/adr/0050's claims): an entry carrying it is corrupt
	fZone        // a store's time zone (put_store)
	fDeadline    // varint: a claim's coordination deadline (docs/adr/0070)
	fItemShard   // uvarint (u16)
	fClaimCode   // uvarint (u16)
	fFromShard   // uvarint (u16)
	fToShard     // uvarint (u16)
	fSeq         // uvarint
	fPayment     // uvarint (u64): a reserve's payment fingerprint (engine/marks.go)
	fDevice      // uvarint (u64): its device fingerprint
	fAddress     // uvarint (u64): its address fingerprint
	fMarks       // uvarint (u16): set_mark_rule's rule, list_by_mark's filter
	fSet         // uvarint (u8): the settings an update_item changes (docs/adr/0100)
	fActor       // who made a stock or settings change (the token's name)
	fReason      // why, as the operator wrote it
	fItems       // a bulk put's items (entry_items.go, docs/adr/0121)
	fCouponFlags // uvarint (u8): put_coupon_issue's options (docs/adr/0106)
	fieldCount

	fieldsKnown = (1<<fieldCount - 1) &^ (1<<fClaimExpiry | 1<<fProof)
)

var (
	// ErrEntryCorrupt is returned for entry data that does not decode.
	ErrEntryCorrupt = errors.New("raftstore: corrupt log entry data")
	// ErrFieldTooLarge is returned for a command with a field over MaxFieldBytes.
	ErrFieldTooLarge = errors.New("raftstore: command field over the entry format's bound")
)

// EncodeEntry returns the entry data of cmds stamped with now.
func EncodeEntry(now int64, cmds []engine.Command) ([]byte, error) {
	if len(cmds) == 0 || len(cmds) > MaxEntryCommands {
		return nil, fmt.Errorf("raftstore: %d commands in one entry (1..%d)", len(cmds), MaxEntryCommands)
	}
	b := make([]byte, entryHeaderLen, entryHeaderLen+16*len(cmds))
	var err error
	for i := range cmds {
		if b, err = appendCommand(b, &cmds[i]); err != nil {
			return nil, err
		}
	}
	putEntryHeader(b, now, len(cmds))
	return b, nil
}

// putEntryHeader writes the header into the first entryHeaderLen bytes of b.
func putEntryHeader(b []byte, now int64, count int) {
	b[0] = entryVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(now))
	binary.BigEndian.PutUint32(b[9:13], uint32(count))
}

// DecodeEntry decodes entry data. The commands are appended to cmds[:0] (so
// a caller can reuse one slice across entries) and their byte fields point
// into data, which the engine never retains. Decoding never panics and never
// allocates more than the data's length justifies.
func DecodeEntry(data []byte, cmds []engine.Command) (now int64, out []engine.Command, err error) {
	if len(data) < entryHeaderLen || data[0] != entryVersion {
		return 0, cmds[:0], ErrEntryCorrupt
	}
	now = int64(binary.BigEndian.Uint64(data[1:9]))
	count := binary.BigEndian.Uint32(data[9:13])
	body := data[entryHeaderLen:]
	if count == 0 || count > MaxEntryCommands || uint64(count)*minCommandLen > uint64(len(body)) {
		return 0, cmds[:0], ErrEntryCorrupt
	}
	out = cmds[:0]
	if cap(out) < int(count) {
		out = make([]engine.Command, 0, count)
	}
	// Each command is decoded where it stays: a Command is about 300
	// bytes, and building it aside then appending it copied each twice.
	out = out[:count]
	for i := range out {
		c := &out[i]
		*c = engine.Command{}
		if body, err = decodeCommand(body, c); err != nil {
			return 0, out[:0], err
		}
	}
	if len(body) != 0 {
		return 0, out[:0], ErrEntryCorrupt
	}
	return now, out, nil
}

// commandFields returns the bitmap of c's non-zero fields.
func commandFields(c *engine.Command) uint64 {
	var m uint64
	set := func(bit int, present bool) {
		if present {
			m |= 1 << bit
		}
	}
	set(fLinked, c.Linked)
	set(fRestock, c.Restock)
	set(fSKU, len(c.SKU) > 0)
	set(fStore, len(c.Store) > 0)
	set(fCustomer, len(c.Customer) > 0)
	set(fKey, len(c.Key) > 0)
	set(fID, c.ID != 0)
	set(fQty, c.Qty != 0)
	set(fWindow, c.Window != 0)
	set(fWindowEnd, c.WindowEnd != 0)
	set(fQuota, c.Quota != 0)
	set(fTTL, c.TTL != 0)
	set(fPickupCode, c.PickupCode != 0)
	set(fStock, c.Stock != 0)
	set(fLimit, c.Limit != 0)
	set(fOpensAt, c.OpensAt != 0)
	set(fClosesAt, c.ClosesAt != 0)
	set(fMemberTier, c.MemberTier != 0)
	set(fMemberUnits, c.MemberUnits != 0)
	set(fMemberCutoff, c.MemberCutoff != 0)
	set(fTier, c.Tier != 0)
	set(fClaim, len(c.Claim) > 0)
	set(fZone, len(c.Zone) > 0)
	set(fDeadline, c.Deadline != 0)
	set(fItemShard, c.ItemShard != 0)
	set(fClaimCode, c.ClaimCode != 0)
	set(fFromShard, c.FromShard != 0)
	set(fToShard, c.ToShard != 0)
	set(fSeq, c.Seq != 0)
	set(fPayment, c.Prints[engine.PrintPayment] != 0)
	set(fDevice, c.Prints[engine.PrintDevice] != 0)
	set(fAddress, c.Prints[engine.PrintAddress] != 0)
	set(fMarks, c.Marks != 0)
	set(fSet, c.Set != 0)
	set(fActor, len(c.Actor) > 0)
	set(fReason, len(c.Reason) > 0)
	set(fItems, len(c.Items) > 0)
	set(fCouponFlags, c.CouponFlags != 0)
	return m
}

// checkCommand reports whether c fits the entry format.
func checkCommand(c *engine.Command) error {
	if len(c.SKU) > MaxFieldBytes || len(c.Store) > MaxFieldBytes ||
		len(c.Customer) > MaxFieldBytes || len(c.Key) > MaxFieldBytes || len(c.Claim) > MaxFieldBytes ||
		len(c.Zone) > MaxFieldBytes || len(c.Actor) > MaxFieldBytes || len(c.Reason) > MaxFieldBytes {
		return ErrFieldTooLarge
	}
	return checkItems(c.Items)
}

// appendCommand appends the encoding of c to dst; on error dst is unchanged.
// Fields go out in bit order, mirroring decodeCommand.
func appendCommand(dst []byte, c *engine.Command) ([]byte, error) {
	if err := checkCommand(c); err != nil {
		return dst, err
	}
	m := commandFields(c)
	dst = append(dst, byte(c.Op))
	dst = binary.AppendUvarint(dst, m)
	// Only the fields present, in bit order: a command carries a handful of
	// the format's fields.
	for rest := m &^ (1<<fSKU - 1); rest != 0; rest &= rest - 1 {
		bit := bits.TrailingZeros64(rest)
		switch bit {
		case fSKU, fStore, fCustomer, fKey, fClaim, fZone, fActor, fReason:
			b := *bytesField(c, bit)
			dst = append(dst, byte(len(b)))
			dst = append(dst, b...)
		case fID, fPickupCode, fItemShard, fClaimCode, fFromShard, fToShard, fSeq, fPayment, fDevice, fAddress, fMarks, fSet, fCouponFlags:
			dst = binary.AppendUvarint(dst, uintField(c, bit))
		case fMemberTier:
			dst = append(dst, c.MemberTier)
		case fItems:
			dst = appendItems(dst, c.Items)
		case fTier:
			dst = append(dst, c.Tier)
		default:
			dst = binary.AppendVarint(dst, *intField(c, bit))
		}
	}
	return dst, nil
}

// decodeCommand decodes one command from the front of b into c and returns
// the rest. Byte fields alias b.
func decodeCommand(b []byte, c *engine.Command) ([]byte, error) {
	if len(b) < minCommandLen {
		return nil, ErrEntryCorrupt
	}
	c.Op = engine.Op(b[0])
	m, n := readUvarint(b[1:])
	if n <= 0 || m&^fieldsKnown != 0 {
		return nil, ErrEntryCorrupt
	}
	b = b[1+n:]
	c.Linked = m&(1<<fLinked) != 0
	c.Restock = m&(1<<fRestock) != 0
	for rest := m &^ (1<<fSKU - 1); rest != 0; rest &= rest - 1 {
		bit := bits.TrailingZeros64(rest)
		if len(b) == 0 {
			return nil, ErrEntryCorrupt
		}
		switch bit {
		case fSKU, fStore, fCustomer, fKey, fClaim, fZone, fActor, fReason:
			size := int(b[0])
			if size == 0 || size > len(b)-1 {
				return nil, ErrEntryCorrupt
			}
			*bytesField(c, bit) = b[1 : 1+size : 1+size]
			b = b[1+size:]
		case fID, fPickupCode, fItemShard, fClaimCode, fFromShard, fToShard, fSeq, fPayment, fDevice, fAddress, fMarks, fSet, fCouponFlags:
			v, n := readUvarint(b)
			if n <= 0 || v == 0 || !setUintField(c, bit, v) {
				return nil, ErrEntryCorrupt
			}
			b = b[n:]
		case fItems:
			var err error
			if b, err = decodeItems(b, c); err != nil {
				return nil, err
			}
		case fMemberTier, fTier:
			if b[0] == 0 {
				return nil, ErrEntryCorrupt
			}
			if bit == fMemberTier {
				c.MemberTier = b[0]
			} else {
				c.Tier = b[0]
			}
			b = b[1:]
		default:
			v, n := readVarint(b)
			if n <= 0 || v == 0 {
				return nil, ErrEntryCorrupt
			}
			*intField(c, bit) = v
			b = b[n:]
		}
	}
	return b, nil
}

// bytesField returns the byte-string field of c named by bit.
func bytesField(c *engine.Command, bit int) *[]byte {
	switch bit {
	case fSKU:
		return &c.SKU
	case fStore:
		return &c.Store
	case fCustomer:
		return &c.Customer
	case fKey:
		return &c.Key
	case fClaim:
		return &c.Claim
	case fZone:
		return &c.Zone
	case fActor:
		return &c.Actor
	case fReason:
		return &c.Reason
	}
	panic(fmt.Sprintf("raftstore: field %d is not a byte string", bit))
}

// intField returns the signed integer field of c named by bit.
func intField(c *engine.Command, bit int) *int64 {
	switch bit {
	case fQty:
		return &c.Qty
	case fWindow:
		return &c.Window
	case fWindowEnd:
		return &c.WindowEnd
	case fQuota:
		return &c.Quota
	case fTTL:
		return (*int64)(&c.TTL)
	case fStock:
		return &c.Stock
	case fLimit:
		return &c.Limit
	case fOpensAt:
		return &c.OpensAt
	case fClosesAt:
		return &c.ClosesAt
	case fMemberUnits:
		return &c.MemberUnits
	case fMemberCutoff:
		return &c.MemberCutoff
	case fDeadline:
		return &c.Deadline
	}
	panic(fmt.Sprintf("raftstore: field %d is not a signed integer", bit))
}

// uintField returns the unsigned integer field of c named by bit.
func uintField(c *engine.Command, bit int) uint64 {
	switch bit {
	case fID:
		return c.ID
	case fPickupCode:
		return c.PickupCode
	case fItemShard:
		return uint64(c.ItemShard)
	case fClaimCode:
		return uint64(c.ClaimCode)
	case fFromShard:
		return uint64(c.FromShard)
	case fToShard:
		return uint64(c.ToShard)
	case fSeq:
		return c.Seq
	case fPayment, fDevice, fAddress:
		return c.Prints[bit-fPayment]
	case fMarks:
		return uint64(c.Marks)
	case fSet:
		return uint64(c.Set)
	case fCouponFlags:
		return uint64(c.CouponFlags)
	}
	panic(fmt.Sprintf("raftstore: field %d is not an unsigned integer", bit))
}

// setUintField sets the unsigned integer field of c named by bit; false if
// v does not fit it (the 16-bit shards and codes).
func setUintField(c *engine.Command, bit int, v uint64) bool {
	wide := bit == fID || bit == fPickupCode || bit == fSeq || bit == fPayment || bit == fDevice || bit == fAddress
	if !wide && v > 0xffff || (bit == fSet || bit == fCouponFlags) && v > 0xff {
		return false
	}
	switch bit {
	case fID:
		c.ID = v
	case fPickupCode:
		c.PickupCode = v
	case fItemShard:
		c.ItemShard = uint16(v)
	case fClaimCode:
		c.ClaimCode = engine.Code(v)
	case fFromShard:
		c.FromShard = uint16(v)
	case fToShard:
		c.ToShard = uint16(v)
	case fSeq:
		c.Seq = v
	case fPayment, fDevice, fAddress:
		c.Prints[bit-fPayment] = v
	case fMarks:
		c.Marks = engine.Marks(v)
	case fSet:
		c.Set = engine.ItemSet(v)
	case fCouponFlags:
		c.CouponFlags = engine.CouponFlags(v)
	}
	return true
}
