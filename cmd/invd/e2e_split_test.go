// Frames that arrive in pieces: a real network hands a frame to the server
// in as many reads as it likes. Each test here writes valid frames cut at
// every byte offset (with a pause between the pieces, so that the server
// reads them apart) and in 1-byte writes, and checks that every frame is
// answered exactly as if it had arrived whole: nothing lost, nothing of a
// payload read as a header.
package main_test

import (
	"net"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// readReply reads the next frame from a raw connection with a deadline.
func readReply(t *testing.T, r *protocol.Reader, nc net.Conn) protocol.Frame {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := r.Next()
	if err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	return f
}

func TestFramesSplitAtEveryByte(t *testing.T) {
	p := startInvd(t, 2, "")
	admin := dial(t, p)
	want(t, admin, engine.OK, putItem("SPLIT", "S1", 1_000_000))

	hello := protocol.AppendHello(nil, 1, &protocol.Hello{Version: protocol.ProtocolVersion, Client: "split"})
	cmd := reserve("SPLIT", "S1", "split-1", 1)
	req := protocol.AppendRequest(nil, 2, &cmd)

	// HELLO cut at every offset: the second piece after a pause, so the
	// server has read the first one alone.
	for cut := 1; cut < len(hello); cut++ {
		nc, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		r := protocol.NewReader(nc, protocol.DefaultMaxFrameBytes)
		if _, err := nc.Write(hello[:cut]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := nc.Write(hello[cut:]); err != nil {
			t.Fatal(err)
		}
		if f := readReply(t, r, nc); f.Op != protocol.OpHello || f.ReqID != 1 {
			t.Fatalf("HELLO cut at %d answered with %s (request %d): %q", cut, f.Op, f.ReqID, f.Payload)
		}
		// A reserve cut at the same offset (or its last byte) on the same connection.
		rc := min(cut, len(req)-1)
		if _, err := nc.Write(req[:rc]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		if _, err := nc.Write(req[rc:]); err != nil {
			t.Fatal(err)
		}
		if f := readReply(t, r, nc); f.Op != protocol.DomainOp(engine.OpReserve) || f.ReqID != 2 {
			t.Fatalf("reserve cut at %d answered with %s (request %d): %q", rc, f.Op, f.ReqID, f.Payload)
		}
		nc.Close()
	}

	// One byte at a time: a HELLO and then three reserves.
	nc, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	r := protocol.NewReader(nc, protocol.DefaultMaxFrameBytes)
	stream := append([]byte(nil), hello...)
	for id := uint32(2); id <= 4; id++ {
		stream = protocol.AppendRequest(stream, id, &cmd)
	}
	for i := range stream {
		if _, err := nc.Write(stream[i : i+1]); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	if f := readReply(t, r, nc); f.Op != protocol.OpHello {
		t.Fatalf("HELLO in 1-byte writes answered with %s: %q", f.Op, f.Payload)
	}
	for id := uint32(2); id <= 4; id++ {
		if f := readReply(t, r, nc); f.ReqID != id || f.Op != protocol.DomainOp(engine.OpReserve) {
			t.Fatalf("reserve %d in 1-byte writes answered with %s (request %d): %q", id, f.Op, f.ReqID, f.Payload)
		}
	}
}
