package server

import (
	"encoding/binary"

	"github.com/invsys/inv/protocol"
)

// Stream reassembly, apart from serving: TCP hands a connection's bytes to
// the event loop in reads of any size, so one read may hold many frames,
// the end of one and the start of the next, or a few bytes of a header.
// drainInbound takes every whole frame from the connection's inbound
// buffer and leaves the start of a partial frame buffered for the next
// read. It is a function of the buffer alone so that it can be fuzzed in
// process against gnet's buffer semantics (framescan_fuzz_test.go).

// inboundBuffer is what drainInbound uses of a connection's inbound bytes:
// a gnet.Conn, or the TLS listener's tlsConn. Peek's bytes stay valid until
// the next Discard.
type inboundBuffer interface {
	InboundBuffered() int
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// frameFunc is given each frame in arrival order: a whole frame with err
// nil, or a refused one with err set (errors.Is protocol.ErrTooLarge: over
// the frame limit, only ReqID known, and the last frame of the stream; any
// other error: reserved or invalid flag bits, the frame delimited). It
// returns true to stop: the connection is closing.
type frameFunc func(f protocol.Frame, err error) (stop bool)

// drained is what one drainInbound call did.
type drained struct {
	consumed int  // bytes taken from the buffer: whole frames, or everything when stopped
	partial  bool // the start of a frame is left buffered
	stopped  bool // a frameFunc asked to stop, or a frame was over the limit
	held     bool // hold said to read no further: whole frames may be left buffered
}

// drainInbound hands every whole frame buffered in in to each, then
// discards what it handed out (event loop). hold (nil: never) is asked
// before each frame whether to read no further for now: the frames left
// stay buffered for a later call (the reply budget pauses a connection,
// replybudget.go).
func drainInbound(in inboundBuffer, maxFrame int, hold func() bool, each frameFunc) drained {
	n := in.InboundBuffered()
	if n == 0 {
		return drained{}
	}
	buf, err := in.Peek(n)
	if err != nil {
		return drained{}
	}
	d := scanFrames(buf, maxFrame, hold, each)
	if d.consumed > 0 {
		// Only a positive count: gnet's Discard(n) with n <= 0 empties the
		// whole inbound buffer, which would throw away the start of a
		// frame still arriving.
		_, _ = in.Discard(d.consumed)
	}
	return d
}

// scanFrames hands the whole frames at the start of buf to each and
// returns how many bytes they took. It reads buf only; the frames' payloads
// alias it.
func scanFrames(buf []byte, maxFrame int, hold func() bool, each frameFunc) drained {
	off := 0
	for off < len(buf) {
		if hold != nil && hold() {
			return drained{consumed: off, held: true}
		}
		f, size, err := protocol.ReadFrame(buf[off:], maxFrame)
		if err == protocol.ErrIncomplete {
			return drained{consumed: off, partial: true}
		}
		if err != nil && size == 0 {
			// Over the frame limit: the peer is no longer at a frame
			// boundary we could find, so nothing after it is read.
			each(oversizeFrame(buf[off:]), err)
			return drained{consumed: len(buf), stopped: true}
		}
		off += size
		if each(f, err) {
			return drained{consumed: len(buf), stopped: true}
		}
	}
	return drained{consumed: off}
}

// oversizeFrame is what is known of a frame refused for its size: its
// header's op and request id, when the header has arrived.
func oversizeFrame(b []byte) protocol.Frame {
	if len(b) < protocol.HeaderSize {
		return protocol.Frame{}
	}
	return protocol.Frame{Op: protocol.Op(b[4]), Flags: protocol.Flags(b[5]),
		ReqID: binary.LittleEndian.Uint32(b[6:])}
}
