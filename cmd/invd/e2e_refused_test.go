// Frames refused at the edge, before they are served, against a real
// invd: frames with reserved flag bits (answered, connection kept) and a
// frame over max_frame_bytes (answered, connection closed) are counted by
// reason in inv_frames_refused_total, and logged at Warn once per
// connection however many of its frames are refused.
package main_test

import (
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestRefusedFramesCounted(t *testing.T) {
	p := startInvd(t, 2, "")
	hello := protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "refused"})

	const badFlags = 5
	kept := rawHello(t, p.Addr(), 0)
	for i := range badFlags {
		cmd := reserve("R", "S1", "r", 1)
		f := kept.exchange(t, flagged(protocol.AppendRequest(nil, uint32(10+i), &cmd), 0x40), nil, 0)
		if code := frameCode(f); code != engine.CodeProtocol {
			t.Fatalf("frame %d with a reserved flag bit: %s %s, want ERROR protocol", i, f.Op, code)
		}
	}
	if f := kept.exchange(t, protocol.AppendPing(nil, 20, 1, false), nil, 0); f.Op != protocol.OpPing {
		t.Fatalf("the connection after refused frames: %s", f.Op)
	}

	over := rawConn(t, p)
	oversize := protocol.AppendFrameHeader(nil, protocol.DomainOp(engine.OpReserve), 0, 9,
		protocol.DefaultMaxFrameBytes-protocol.HeaderSize+1) // one byte over
	if _, err := over.Write(append(hello, oversize...)); err != nil {
		t.Fatal(err)
	}
	r := protocol.NewReader(over, 0)
	if code := readUntilError(t, r, 9); code != engine.CodeTooLarge {
		t.Fatalf("a frame one byte over the limit: %s, want too_large", code)
	}
	if !closedSoon(over, r) {
		t.Fatal("the connection of an oversize frame left open")
	}

	m := waitMetrics(t, p, "refused frames counted", func(m map[string]float64) bool {
		return m[`inv_frames_refused_total{reason="too_large"}`] == 1
	})
	if got := m[`inv_frames_refused_total{reason="bad_flags"}`]; got != badFlags {
		t.Fatalf("inv_frames_refused_total{reason=\"bad_flags\"} %v, want %d", got, badFlags)
	}
	if n := strings.Count(p.Logs(), `msg="refused a frame"`); n != 2 {
		t.Fatalf("%d log lines for refused frames of 2 connections, want one each", n)
	}
}

// frameCode is the code of an ERROR frame, or OK for any other.
func frameCode(f protocol.Frame) engine.Code {
	if f.Op != protocol.OpError {
		return engine.OK
	}
	var e protocol.ErrorReply
	_ = protocol.DecodeErrorReply(f.Payload, &e)
	return e.Code
}
