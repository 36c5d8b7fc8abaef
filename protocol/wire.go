package protocol

import (
	"encoding/binary"
	"strconv"
)

// Field encodings. Every integer is fixed width, little-endian; signed ones
// are two's complement. Byte strings carry a length prefix (str8: one byte,
// str16: u16). Booleans are one byte, 0 or 1. See docs/PROTOCOL.md.

var le = binary.LittleEndian

func appendU8(b []byte, v uint8) []byte   { return append(b, v) }
func appendU16(b []byte, v uint16) []byte { return le.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return le.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return le.AppendUint64(b, v) }
func appendI64(b []byte, v int64) []byte  { return le.AppendUint64(b, uint64(v)) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendStr8 writes a one-byte length and the bytes. limit is the field's
// protocol limit: a longer value is the caller's bug (see CheckRequest).
func appendStr8[T ~string | ~[]byte](b []byte, s T, limit int, what string) []byte {
	if len(s) > limit {
		panic("protocol: encoding " + what + " of " + strconv.Itoa(len(s)) + " bytes over the limit of " + strconv.Itoa(limit))
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendStr16[T ~string | ~[]byte](b []byte, s T, limit int, what string) []byte {
	if len(s) > limit {
		panic("protocol: encoding " + what + " of " + strconv.Itoa(len(s)) + " bytes over the limit of " + strconv.Itoa(limit))
	}
	b = appendU16(b, uint16(len(s)))
	return append(b, s...)
}

// appendCount writes a u16 list count, asserting the list's limit.
func appendCount(b []byte, n, limit int, what string) []byte {
	if n > limit {
		panic("protocol: encoding " + what + " of " + strconv.Itoa(n) + " entries over the limit of " + strconv.Itoa(limit))
	}
	return appendU16(b, uint16(n))
}

// cursor reads fields off a payload. The first failure sticks: later reads
// return zero values, so a decoder reads straight through and checks err
// once at the end, which keeps each decoder a flat list of fields.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.b = nil
}

// take returns the next n bytes, aliasing the payload (capacity clipped so
// that a caller appending to it cannot overwrite what follows).
func (c *cursor) take(n int) []byte {
	if n > len(c.b) {
		c.fail(errTruncated)
		return nil
	}
	v := c.b[:n:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u8() uint8 {
	if len(c.b) < 1 {
		c.fail(errTruncated)
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *cursor) u16() uint16 {
	if len(c.b) < 2 {
		c.fail(errTruncated)
		return 0
	}
	v := le.Uint16(c.b)
	c.b = c.b[2:]
	return v
}

func (c *cursor) u32() uint32 {
	if len(c.b) < 4 {
		c.fail(errTruncated)
		return 0
	}
	v := le.Uint32(c.b)
	c.b = c.b[4:]
	return v
}

func (c *cursor) u64() uint64 {
	if len(c.b) < 8 {
		c.fail(errTruncated)
		return 0
	}
	v := le.Uint64(c.b)
	c.b = c.b[8:]
	return v
}

func (c *cursor) i64() int64 { return int64(c.u64()) }

func (c *cursor) bool() bool {
	switch c.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	c.fail(errBadBool)
	return false
}

// str8 reads a one-byte-length string of at most limit bytes. The result
// aliases the payload.
func (c *cursor) str8(limit int, what string) []byte {
	n := int(c.u8())
	if n > limit {
		c.fail(tooLarge(what, n, limit))
		return nil
	}
	return c.take(n)
}

func (c *cursor) str16(limit int, what string) []byte {
	n := int(c.u16())
	if n > limit {
		c.fail(tooLarge(what, n, limit))
		return nil
	}
	return c.take(n)
}

// count reads a u16 list count and checks it twice before the caller
// allocates: against the list's limit, and against the bytes left (each
// entry takes at least minEntry bytes), so a small frame can never make the
// decoder allocate a large slice.
func (c *cursor) count(limit, minEntry int, what string) int {
	n := int(c.u16())
	if c.err != nil {
		return 0
	}
	if n > limit {
		c.fail(tooLarge(what, n, limit))
		return 0
	}
	if n*minEntry > len(c.b) {
		c.fail(errTruncated)
		return 0
	}
	return n
}

// nonzero fails the decode when a field marked present holds its zero
// value: absent and zero mean the same, and allowing both spellings would
// give one value two encodings.
func (c *cursor) nonzero(present bool) {
	if !present {
		c.fail(errZeroPresent)
	}
}

// end returns the first failure, or an error if bytes remain unread.
func (c *cursor) end() error {
	if c.err != nil {
		return c.err
	}
	if len(c.b) != 0 {
		return errTrailing
	}
	return nil
}
