// Frames up to the frame limit through a shaped loopback: the server reads
// each large frame in many pieces, of sizes it does not choose. Two shapes:
// a proxy in the test that forwards the client's bytes in random chunks of
// 1 to 1,460 bytes with random pauses, and a client socket with a 536-byte
// TCP_MAXSEG and a small send buffer (skipped where the options cannot be
// set). Through each, a BATCH of 4,096 reserves, BATCHes of 20 to 64 KB and
// one a few hundred bytes under max_frame_bytes (1 MiB) must each get its
// whole, right reply, and the connection must stay up (a PING after).
package main_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// chunkProxy forwards connections to target: client to server in random
// chunks with random pauses, server to client as it comes.
type chunkProxy struct {
	ln     net.Listener
	target string
	seed   uint64
	wg     sync.WaitGroup
}

// Shapes of the proxy: a TCP segment's payload at MTU 1500 at most, and
// pauses short enough that a 1 MiB frame crosses in well under a second.
const (
	proxyMaxChunk = 1460
	proxyMaxPause = 200 * time.Microsecond
)

func startChunkProxy(t *testing.T, target string, seed uint64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &chunkProxy{ln: ln, target: target, seed: seed}
	px.wg.Add(1)
	go px.serve()
	t.Cleanup(func() {
		ln.Close()
		px.wg.Wait()
	})
	return ln.Addr().String()
}

func (px *chunkProxy) serve() {
	defer px.wg.Done()
	for n := uint64(0); ; n++ {
		client, err := px.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", px.target)
		if err != nil {
			client.Close()
			continue
		}
		if tc, ok := server.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true) // every chunk its own segment
		}
		px.wg.Add(2)
		go func() {
			defer px.wg.Done()
			_, _ = io.Copy(client, server)
			client.Close()
		}()
		go func() {
			defer px.wg.Done()
			px.chunk(server, client, rand.New(rand.NewPCG(px.seed, n)))
			server.Close()
		}()
	}
}

// chunk copies src to dst in random chunks, pausing after some.
func (px *chunkProxy) chunk(dst io.Writer, src io.Reader, rng *rand.Rand) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		for b := buf[:n]; len(b) > 0; {
			k := min(1+rng.IntN(proxyMaxChunk), len(b))
			if _, werr := dst.Write(b[:k]); werr != nil {
				return
			}
			b = b[k:]
			if rng.IntN(4) == 0 {
				time.Sleep(time.Duration(rng.Int64N(int64(proxyMaxPause))))
			}
		}
		if err != nil {
			return
		}
	}
}

// dialShaped connects with a small MSS and send buffer, or skips.
func dialShaped(t *testing.T, addr string) net.Conn {
	t.Helper()
	var serr error
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			serr = errors.Join(
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 536),
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096))
		})
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		nc.Close()
		t.Skipf("cannot shape the socket here: %v", serr)
	}
	return nc
}

// bigFrame is a BATCH to send and a check of its reply's entries.
type bigFrame struct {
	name  string
	frame []byte
	n     int         // entries
	code  engine.Code // of every entry
}

// bigFrames builds the BATCHes: 4,096 reserves of item BIG/S1, reads of
// 20 to 64 KB, and reserves of absent items filling all but the last few
// hundred bytes of maxFrame.
func bigFrames(maxFrame int) []bigFrame {
	var out []bigFrame
	var reserves []engine.Command
	for i := range protocol.MaxBatchOps {
		reserves = append(reserves, reserve("BIG", "S1", fmt.Sprintf("big-%d", i), 1))
	}
	out = append(out, bigFrame{"4096 reserves", protocol.AppendBatchRequest(nil, 10, reserves), len(reserves), engine.OK})
	get := engine.Command{Op: engine.OpGetItem, SKU: []byte("BIG"), Store: []byte("S1")}
	for _, kib := range []int{20, 40, 64} {
		var reads []engine.Command
		for len(protocol.AppendBatchRequest(nil, 0, append(reads, get))) <= kib<<10 {
			reads = append(reads, get)
		}
		out = append(out, bigFrame{fmt.Sprintf("%d KiB of reads", kib), protocol.AppendBatchRequest(nil, 11, reads), len(reads), engine.OK})
	}
	id := func(c byte, i int) []byte { return fmt.Appendf(nil, "%c%063d", c, i) } // 64 bytes: MaxIDBytes
	var absent []engine.Command
	size := protocol.HeaderSize + 2
	for i := 0; len(absent) < protocol.MaxBatchOps; i++ {
		cmd := engine.Command{Op: engine.OpReserve, SKU: id('s', i), Store: id('t', i), Customer: id('c', i),
			Qty: 1, Key: id('k', i)}
		one := len(protocol.AppendBatchRequest(nil, 0, []engine.Command{cmd})) - protocol.HeaderSize - 2
		if size+one > maxFrame {
			break
		}
		size += one
		absent = append(absent, cmd)
	}
	out = append(out, bigFrame{"near max_frame_bytes", protocol.AppendBatchRequest(nil, 12, absent), len(absent), engine.CodeUnknownItem})
	return out
}

func TestLargeFramesShaped(t *testing.T) {
	p := startInvd(t, 2, "")
	admin := dial(t, p)
	frames := bigFrames(protocol.DefaultMaxFrameBytes)
	if last := frames[len(frames)-1]; len(last.frame) < protocol.DefaultMaxFrameBytes-512 {
		t.Fatalf("the largest frame is %d bytes, not near the limit", len(last.frame))
	}
	shapes := []struct {
		name string
		dial func(t *testing.T) net.Conn
	}{
		{"proxy chunks A", func(t *testing.T) net.Conn { return dialPlain(t, startChunkProxy(t, p.Addr(), 1)) }},
		{"proxy chunks B", func(t *testing.T) net.Conn { return dialPlain(t, startChunkProxy(t, p.Addr(), 2)) }},
		{"small MSS and send buffer", func(t *testing.T) net.Conn { return dialShaped(t, p.Addr()) }},
	}
	reserved := 0
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			want(t, admin, engine.OK, putItem("BIG", "S1", 1_000_000))
			nc := sh.dial(t)
			t.Cleanup(func() { nc.Close() })
			rc := &rawClient{nc: nc, r: protocol.NewReader(nc, protocol.DefaultMaxFrameBytes)}
			hello := protocol.AppendHello(nil, 1, &protocol.Hello{Version: protocol.ProtocolVersion, Client: "shaped"})
			if f := rc.exchange(t, hello, nil, 0); f.Op != protocol.OpHello {
				t.Fatalf("HELLO answered %s", f.Op)
			}
			for _, bf := range frames {
				start := time.Now()
				checkBigReply(t, bf, rc.exchange(t, bf.frame, nil, 0))
				t.Logf("%s: %d bytes, %d entries, answered in %s", bf.name, len(bf.frame), bf.n, time.Since(start).Round(time.Millisecond))
			}
			reserved += protocol.MaxBatchOps
			if f := rc.exchange(t, protocol.AppendPing(nil, 99, 5, false), nil, 0); f.Op != protocol.OpPing {
				t.Fatalf("after the large frames a PING got %s", f.Op)
			}
			if it := getItem(t, admin, "BIG", "S1"); it.Held != int64(reserved) {
				t.Fatalf("held %d after %d reserves in BATCHes", it.Held, reserved)
			}
		})
	}
}

func dialPlain(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// checkBigReply checks a BATCH reply: n entries, each a result with code,
// reservations with ids all different.
func checkBigReply(t *testing.T, bf bigFrame, f protocol.Frame) {
	t.Helper()
	brs, err := protocol.DecodeBatchResult(f.Payload, nil)
	if f.Op != protocol.OpBatch || err != nil || len(brs) != bf.n {
		var e protocol.ErrorReply
		_ = protocol.DecodeErrorReply(f.Payload, &e)
		t.Fatalf("%s: %s with %d entries (%v) %s, want a BATCH of %d", bf.name, f.Op, len(brs), err, e.Message, bf.n)
	}
	ids := map[uint64]bool{}
	for i, br := range brs {
		if br.Op != protocol.DomainOp(engine.OpReserve) && br.Op != protocol.DomainOp(engine.OpGetItem) || br.Result.Code != bf.code {
			t.Fatalf("%s: entry %d is %s %s, want %s", bf.name, i, br.Op, br.Result.Code, bf.code)
		}
		if br.Result.Code == engine.OK && br.Result.ID != 0 {
			if ids[br.Result.ID] {
				t.Fatalf("%s: reservation %d twice", bf.name, br.Result.ID)
			}
			ids[br.Result.ID] = true
		}
	}
}
