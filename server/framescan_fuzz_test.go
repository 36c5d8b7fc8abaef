// This file proves that the event loop's stream reassembly (drainInbound,
// framescan.go) hands on exactly the frames that were sent, however TCP
// cuts the stream. FuzzFrameStream encodes a random sequence of valid
// frames (some with bad flag bits, which must be reported delimited, and
// sometimes a last one over the frame limit, which must end the stream),
// cuts it at random points, and feeds the pieces one read at a time
// through drainInbound with the carry-over the event loop has: the bytes
// not consumed stay in the inbound buffer and the next piece is appended to
// them. The buffer is either a model of gnet's (whose Discard(n <= 0)
// empties it all, and which overwrites what it discards, so that a payload
// used after its discard would show) or the TLS listener's tlsConn. The
// frames handed out must equal the frames encoded, in order, and nothing
// may be left buffered at the end.
//
// Seeds run in every go test; explore with, for example:
//
//	go test ./server -run '^$' -fuzz '^FuzzFrameStream$' -fuzztime 2000000x
package server

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/invsys/inv/protocol"
)

// fuzzMaxFrame is the frame limit of the fuzz: small, so that frames near
// and over it are cheap.
const fuzzMaxFrame = 600

// gnetInbound models gnet.Conn's inbound buffer as drainInbound uses it
// (gnet v2's connection_unix.go): Peek(n) with n <= 0 returns everything
// and n past the end is an error; Discard(n) with n <= 0 or n at or past
// the end empties the buffer.
type gnetInbound struct{ buf []byte }

func (g *gnetInbound) InboundBuffered() int { return len(g.buf) }

func (g *gnetInbound) Peek(n int) ([]byte, error) {
	if n > len(g.buf) {
		return nil, io.ErrShortBuffer
	}
	if n <= 0 {
		n = len(g.buf)
	}
	return g.buf[:n], nil
}

func (g *gnetInbound) Discard(n int) (int, error) {
	total := len(g.buf)
	if n <= 0 || n >= total {
		scribble(g.buf)
		g.buf = g.buf[:0]
		return total, nil
	}
	rest := append([]byte(nil), g.buf[n:]...)
	scribble(g.buf)
	g.buf = append(g.buf[:0], rest...)
	return n, nil
}

// scribble overwrites discarded bytes, as a reused buffer would.
func scribble(b []byte) {
	for i := range b {
		b[i] = 0xA5
	}
}

// sentFrame is a frame as encoded, and whether the server must refuse it.
type sentFrame struct {
	op      protocol.Op
	flags   protocol.Flags
	reqID   uint32
	payload []byte
	bad     bool // bad flag bits: reported with an error, delimited
	over    bool // over the frame limit: reported, and the stream ends
}

var (
	goodFlags = []protocol.Flags{0, protocol.FlagReply, protocol.FlagStale,
		protocol.Flags(0).WithCompression(protocol.CompressionS2),
		protocol.FlagStale.WithCompression(protocol.CompressionZstd)}
	badFlags = []protocol.Flags{0x80, 0x10, 0x06} // reserved bits; compression 3
)

// randomFrames draws n frames, the last one over the limit when over.
func randomFrames(rng *rand.Rand, n int, over bool) []sentFrame {
	fs := make([]sentFrame, n)
	for i := range fs {
		f := &fs[i]
		f.op, f.reqID = protocol.Op(rng.IntN(256)), rng.Uint32()
		f.flags = goodFlags[rng.IntN(len(goodFlags))]
		if rng.IntN(8) == 0 {
			f.flags, f.bad = badFlags[rng.IntN(len(badFlags))], true
		}
		size := rng.IntN(64)
		switch rng.IntN(8) {
		case 0:
			size = fuzzMaxFrame - protocol.HeaderSize // exactly at the limit
		case 1:
			size = rng.IntN(fuzzMaxFrame - protocol.HeaderSize)
		}
		f.payload = make([]byte, size)
		for j := range f.payload {
			f.payload[j] = byte(rng.Uint32())
		}
	}
	if over && n > 0 {
		last := &fs[n-1]
		last.over, last.bad = true, false
		last.payload = make([]byte, fuzzMaxFrame-protocol.HeaderSize+1+rng.IntN(64))
	}
	return fs
}

func encodeFrames(fs []sentFrame) []byte {
	var b []byte
	for _, f := range fs {
		b = protocol.AppendFrame(b, f.op, f.flags, f.reqID, f.payload)
	}
	return b
}

// inboundUnderTest is a buffer drainInbound reads and the test appends to.
type inboundUnderTest interface {
	inboundBuffer
	add(p []byte)
}

func (g *gnetInbound) add(p []byte) { g.buf = append(g.buf, p...) }

type tlsInbound struct{ tlsConn }

func (t *tlsInbound) add(p []byte) { t.in = append(t.in, p...) }

func FuzzFrameStream(f *testing.F) {
	f.Add(uint64(1), uint8(5), []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, false, false) // 1-byte reads
	f.Add(uint64(2), uint8(20), []byte{3, 0, 9, 200, 4}, true, false)
	f.Add(uint64(3), uint8(8), []byte{10, 0, 0, 10}, false, true)
	f.Add(uint64(4), uint8(1), []byte{2, 2, 2, 2, 2}, true, true)
	f.Add(uint64(5), uint8(40), []byte{255, 7, 13, 255, 0, 1}, false, false)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, cuts []byte, over, tls bool) {
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		sent := randomFrames(rng, int(n%48)+1, over)
		stream := encodeFrames(sent)
		var in inboundUnderTest = &gnetInbound{}
		if tls {
			in = &tlsInbound{}
		}
		var got []sentFrame
		stopped := false
		each := func(fr protocol.Frame, err error) bool {
			if stopped {
				t.Fatal("a frame handed out after the stream was stopped")
			}
			g := sentFrame{op: fr.Op, flags: fr.Flags, reqID: fr.ReqID,
				payload: append([]byte(nil), fr.Payload...), bad: err != nil}
			if errors.Is(err, protocol.ErrTooLarge) {
				g.over, g.bad, g.payload = true, false, nil
			}
			got = append(got, g)
			return false
		}
		consumed := 0
		feed := func(p []byte) drained {
			in.add(p)
			d := drainInbound(in, fuzzMaxFrame, nil, each)
			consumed += d.consumed
			stopped = stopped || d.stopped
			return d
		}
		off := 0
		for _, c := range cuts {
			if off >= len(stream) || stopped {
				break
			}
			piece := min(int(c), len(stream)-off) // 0: a wake-up with nothing new to read
			feed(stream[off : off+piece])
			off += piece
		}
		if off < len(stream) && !stopped {
			feed(stream[off:])
		}
		checkFrames(t, sent, got)
		if over {
			if !stopped {
				t.Fatal("a frame over the limit did not stop the stream")
			}
			return
		}
		if in.InboundBuffered() != 0 || consumed != len(stream) {
			t.Fatalf("%d bytes left buffered, %d of %d consumed", in.InboundBuffered(), consumed, len(stream))
		}
	})
}

// checkFrames compares what drainInbound handed out with what was sent;
// of a frame over the limit only the header's fields are known, and none
// when it was refused on its first four bytes.
func checkFrames(t *testing.T, sent, got []sentFrame) {
	t.Helper()
	if len(got) != len(sent) {
		t.Fatalf("%d frames handed out, %d sent", len(got), len(sent))
	}
	for i := range sent {
		s, g := sent[i], got[i]
		if s.over {
			s.payload = nil
			if g.op == 0 && g.flags == 0 && g.reqID == 0 {
				s.op, s.flags, s.reqID = 0, 0, 0 // refused before its whole header arrived
			}
		}
		if g.op != s.op || g.flags != s.flags || g.reqID != s.reqID || g.bad != s.bad || g.over != s.over ||
			!bytes.Equal(g.payload, s.payload) {
			t.Fatalf("frame %d: got %s flags %#x id %d bad %v over %v (%d bytes), sent %s flags %#x id %d bad %v over %v (%d bytes)",
				i, g.op, g.flags, g.reqID, g.bad, g.over, len(g.payload), s.op, s.flags, s.reqID, s.bad, s.over, len(s.payload))
		}
	}
}
