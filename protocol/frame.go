package protocol

import "math"

// Frame header, 10 bytes, little-endian:
//
//	offset 0  u32  length of the payload that follows the header (as sent:
//	               the compressed length when a compression flag is set)
//	offset 4  u8   op code (Op)
//	offset 5  u8   flags (Flags)
//	offset 6  u32  request id, chosen by the client; echoed by every reply
//	               and by the EVENT frames of a subscription
//
// The length comes first so that a reader knows the frame's extent from the
// first four bytes alone and can refuse an oversize frame before buffering
// any of it. Request ids let a connection carry many requests at once and
// receive their replies in any order.

// Frame is one decoded frame. Payload aliases the buffer it was read from.
type Frame struct {
	Op      Op
	Flags   Flags
	ReqID   uint32
	Payload []byte
}

// Reply reports whether the server sent the frame.
func (f Frame) Reply() bool { return f.Flags&FlagReply != 0 }

// Compression returns the compression of the payload as sent.
func (f Frame) Compression() Compression { return f.Flags.Compression() }

// Size returns the frame's length on the wire.
func (f Frame) Size() int { return HeaderSize + len(f.Payload) }

// AppendFrameHeader appends a frame header announcing payloadLen payload bytes.
func AppendFrameHeader(dst []byte, op Op, flags Flags, reqID uint32, payloadLen int) []byte {
	if payloadLen < 0 || payloadLen > math.MaxUint32 {
		panic("protocol: payload length out of range")
	}
	dst = appendU32(dst, uint32(payloadLen))
	dst = append(dst, byte(op), byte(flags))
	return appendU32(dst, reqID)
}

// AppendFrame appends a whole frame with an already encoded payload.
func AppendFrame(dst []byte, op Op, flags Flags, reqID uint32, payload []byte) []byte {
	dst = AppendFrameHeader(dst, op, flags, reqID, len(payload))
	return append(dst, payload...)
}

// beginFrame appends a header whose length finishFrame fills in once the
// payload has been appended: encoders write the payload once, in place.
func beginFrame(dst []byte, op Op, flags Flags, reqID uint32) ([]byte, int) {
	return AppendFrameHeader(dst, op, flags, reqID, 0), len(dst)
}

func finishFrame(dst []byte, start int) []byte {
	n := len(dst) - start - HeaderSize
	if n > math.MaxUint32 {
		panic("protocol: payload length out of range")
	}
	le.PutUint32(dst[start:], uint32(n))
	return dst
}

// ReadFrame parses the frame at the start of buf. It returns the frame, whose
// payload aliases buf, and the number of bytes it took. When buf holds only
// part of a frame it returns ErrIncomplete: read more and call again.
//
// maxFrame bounds header plus payload (zero or less: DefaultMaxFrameBytes;
// at most MaxFrameBytesLimit). A frame over it is refused with ErrTooLarge
// as soon as its first four bytes arrive, before any of it is buffered; the
// peer cannot be trusted to be at a frame boundary after that, so the
// connection should be answered and closed. A frame with reserved or invalid
// flag bits gives ErrMalformed along with its size (n), so the caller may
// answer it and go on. Unknown op codes are not refused here: the frame is
// well delimited and the caller answers ERROR unknown_op.
func ReadFrame(buf []byte, maxFrame int) (f Frame, n int, err error) {
	if len(buf) < 4 {
		return Frame{}, 0, ErrIncomplete
	}
	payloadLen := uint64(le.Uint32(buf))
	maxFrame = normMaxFrame(maxFrame)
	if payloadLen+HeaderSize > uint64(maxFrame) {
		return Frame{}, 0, tooLarge("frame bytes", int(payloadLen)+HeaderSize, maxFrame)
	}
	size := int(payloadLen) + HeaderSize
	if len(buf) < size {
		return Frame{}, 0, ErrIncomplete
	}
	f = Frame{
		Op:      Op(buf[4]),
		Flags:   Flags(buf[5]),
		ReqID:   le.Uint32(buf[6:]),
		Payload: buf[HeaderSize:size:size],
	}
	if f.Flags&flagsReserved != 0 || !f.Flags.Compression().Valid() {
		return f, size, errFlags
	}
	return f, size, nil
}

// frameSize returns the size a frame's header announces, once buf holds at
// least its first four bytes (the Reader uses it to size its buffer).
func frameSize(buf []byte) (int, bool) {
	if len(buf) < 4 {
		return 0, false
	}
	return int(le.Uint32(buf)) + HeaderSize, true
}
