// Hostile and broken input over real sockets: garbage bytes, a frame over
// the size limit, a truncated frame and a hang-up, an unknown op, a BATCH
// over its limit, requests before HELLO, a second HELLO, frames with the
// reply flag, malformed payloads, compression never negotiated, more
// requests in flight than allowed, more connections than allowed, and a
// connection that never says HELLO. Each must get an ERROR reply or a
// closed connection, never a crash: after every case a witness connection,
// opened before it, must still be served, and the process must be alive.
package main_test

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

const hostileConfig = `
max_in_flight = 16
max_connections = 24
hello_timeout = 300ms
`

func TestHostileInput(t *testing.T) {
	p := startInvd(t, 2, hostileConfig)
	witness := dial(t, p)
	want(t, witness, engine.OK, putItem("H", "S1", 1_000_000))

	hello := protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "hostile"})
	reserveFrame := func(id uint32) []byte {
		cmd := reserve("H", "S1", "h-1", 1)
		return protocol.AppendRequest(nil, id, &cmd)
	}
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	oversize := protocol.AppendFrameHeader(nil, protocol.DomainOp(engine.OpReserve), 0, 9, 2<<20)
	overBatch := protocol.AppendFrameHeader(nil, protocol.OpBatch, 0, 9, 2)
	overBatch = binary.LittleEndian.AppendUint16(overBatch, protocol.MaxBatchOps+1)
	replyFlagged := reserveFrame(9)
	replyFlagged[5] |= byte(protocol.FlagReply)
	malformed := protocol.AppendFrame(nil, protocol.DomainOp(engine.OpReserve), 0, 9, []byte{0xff, 0xff, 0xff, 0xff})
	compressed := protocol.CompressFrame(nil, reserveFrame(9), protocol.CompressionS2)
	if protocol.Flags(compressed[5]).Compression() == protocol.CompressionNone {
		compressed = append(protocol.AppendFrameHeader(nil, protocol.DomainOp(engine.OpReserve),
			protocol.Flags(0).WithCompression(protocol.CompressionS2), 9, 1), 0)
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}

	cases := []struct {
		name string
		send []byte
		// code is the ERROR expected (0: only a close, or an ERROR of any code).
		code engine.Code
		// kept: the connection must still serve a PING afterwards.
		kept bool
	}{
		{"garbage before hello", garbage, 0, false},
		{"garbage after hello", cat(hello, garbage), 0, false},
		{"frame over the limit", cat(hello, oversize), engine.CodeTooLarge, false},
		{"request before hello", reserveFrame(9), engine.CodeNoHello, false},
		{"second hello", cat(hello, hello), engine.CodeProtocol, false},
		{"unknown op", cat(hello, protocol.AppendFrame(nil, 0x7f, 0, 9, nil)), engine.CodeUnknownOp, true},
		{"expire from a client", cat(hello, protocol.AppendFrame(nil, protocol.DomainOp(engine.OpExpire), 0, 9, []byte{0, 0, 0, 0})), engine.CodeUnknownOp, true},
		{"batch over its limit", cat(hello, overBatch), engine.CodeTooLarge, true},
		{"reply flag from a client", cat(hello, replyFlagged), engine.CodeProtocol, true},
		{"malformed payload", cat(hello, malformed), engine.CodeProtocol, true},
		{"compression not negotiated", cat(hello, compressed), engine.CodeProtocol, true},
		{"reserved flag bits", cat(hello, flagged(reserveFrame(9), 0x80)), engine.CodeProtocol, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := rawConn(t, p)
			if _, err := nc.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			r := protocol.NewReader(nc, 0)
			got := readUntilError(t, r, 9)
			if tc.code != 0 && got != tc.code {
				t.Fatalf("got %s, want ERROR %s", got, tc.code)
			}
			if tc.kept {
				if _, err := nc.Write(protocol.AppendPing(nil, 10, 7, false)); err != nil {
					t.Fatal(err)
				}
				if f, err := r.Next(); err != nil || f.Op != protocol.OpPing {
					t.Fatalf("connection not kept after the error: %v %v", f.Op, err)
				}
			} else if !closedSoon(nc, r) {
				t.Fatal("connection left open")
			}
			stillServes(t, p, witness)
		})
	}

	t.Run("truncated frame then hang up", func(t *testing.T) {
		nc := rawConn(t, p)
		f := reserveFrame(9)
		if _, err := nc.Write(cat(hello, f[:len(f)/2])); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		nc.Close()
		stillServes(t, p, witness)
	})

	t.Run("more in flight than allowed", func(t *testing.T) {
		c := dial(t, p)
		var frames []byte
		const n = 400
		for range n {
			cmd := engine.Command{Op: engine.OpGetItem, SKU: []byte("H"), Store: []byte("S1")}
			frames = protocol.AppendRequest(frames, c.NextID(), &cmd)
		}
		if err := c.Send(frames); err != nil {
			t.Fatal(err)
		}
		busy, ok := 0, 0
		for range n {
			f, err := c.Next()
			if err != nil {
				t.Fatal(err)
			}
			switch code := wire.CodeOf(wire.ReplyError(f)); {
			case f.Op == protocol.DomainOp(engine.OpGetItem):
				ok++
			case code == engine.CodeBusy:
				busy++
			default:
				t.Fatalf("unexpected reply %s %s", f.Op, code)
			}
		}
		if busy == 0 || ok < 16 {
			t.Fatalf("%d requests pipelined past max_in_flight 16: %d ok, %d busy", n, ok, busy)
		}
		stillServes(t, p, witness)
	})

	t.Run("more connections than allowed", func(t *testing.T) {
		// Each says HELLO, so that the HELLO timeout does not free slots.
		var conns []net.Conn
		refused, admitted := 0, 0
		for range 40 {
			nc, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, nc)
			_, _ = nc.Write(hello)
			_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			f, err := protocol.NewReader(nc, 0).Next()
			switch {
			case err == nil && f.Op == protocol.OpHello:
				admitted++
			case err == nil && wire.CodeOf(wire.ReplyError(f)) == engine.CodeBusy:
				refused++
			default:
				t.Fatalf("connection %d: %v %v", len(conns), f.Op, err)
			}
		}
		for _, nc := range conns {
			nc.Close()
		}
		if refused == 0 || admitted > 24 {
			t.Fatalf("40 connections over max_connections 24: %d admitted, %d refused busy", admitted, refused)
		}
		stillServes(t, p, witness)
	})

	t.Run("silent connection is closed", func(t *testing.T) {
		nc := rawConn(t, p)
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("a connection without HELLO: %v, want closed", err)
		}
		stillServes(t, p, witness)
	})
}

func rawConn(t *testing.T, p *invdtest.Proc) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc
}

func flagged(frame []byte, bits byte) []byte {
	frame[5] |= bits
	return frame
}

// readUntilError reads frames until an ERROR (returning its code), or the
// connection closes (returning 0). Replies to other requests (HELLO) are
// skipped.
func readUntilError(t *testing.T, r *protocol.Reader, reqID uint32) engine.Code {
	t.Helper()
	for {
		f, err := r.Next()
		if err != nil {
			return 0
		}
		if f.Op == protocol.OpError {
			var e protocol.ErrorReply
			if err := protocol.DecodeErrorReply(f.Payload, &e); err != nil {
				t.Fatalf("undecodable ERROR: %v", err)
			}
			return e.Code
		}
		if f.Op != protocol.OpHello {
			t.Fatalf("unexpected %s frame", f.Op)
		}
	}
}

// closedSoon reports whether the server closes the connection.
func closedSoon(nc net.Conn, r *protocol.Reader) bool {
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := r.Next(); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}

// stillServes checks the process and an older connection are unharmed.
func stillServes(t *testing.T, p *invdtest.Proc, witness *wire.Conn) {
	t.Helper()
	if !p.Alive() {
		t.Fatal("invd died")
	}
	if err := witness.Ping(42); err != nil {
		t.Fatalf("witness connection: %v", err)
	}
	want(t, witness, engine.OK, reserve("H", "S1", "witness", 1))
}
