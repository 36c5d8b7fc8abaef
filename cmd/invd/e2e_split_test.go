// Frames that arrive in pieces: a real network hands a frame to the server
// in as many reads as it likes. The tests here write valid frames cut at
// every byte offset (with a pause between the pieces, so that the server
// reads them apart) and in 1-byte writes, and check that every frame is
// answered exactly as if it had arrived whole: nothing lost, nothing of a
// payload read as a header. TestEveryFrameKindSplit does so for every kind
// of frame the server accepts (HELLO, PING, TOPOLOGY, each domain op, BATCH,
// a compressed BATCH, SUBSCRIBE, SNAPSHOT, STATUS, ADMIN, SHARD_CALL),
// comparing each reply with the reply to the whole frame;
// TestSplitBatchHidingAReserve cuts a BATCH where a SKU that holds a whole
// reserve frame begins, and checks nothing is reserved. Large frames in many
// reads are in e2e_shaped_test.go.
package main_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
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

// splitConfig lets one connection guess pickup codes for as long as the
// test cuts frames: pickups are among the frames cut at every byte.
const splitConfig = `
pickup_rate_per_conn = 100000
pickup_burst_per_conn = 100000
pickup_rate_per_store = 100000
pickup_burst_per_store = 100000
`

// rawClient is a connection that has said HELLO, written to by hand.
type rawClient struct {
	nc net.Conn
	r  *protocol.Reader
}

func rawHello(t *testing.T, addr string, accept protocol.CompressionSet) *rawClient {
	t.Helper()
	rc := rawDial(t, addr)
	hello := protocol.AppendHello(nil, 1, &protocol.Hello{Version: protocol.ProtocolVersion, Client: "split", Accept: accept})
	if f := rc.exchange(t, hello, nil, 0); f.Op != protocol.OpHello {
		t.Fatalf("HELLO answered with %s: %q", f.Op, f.Payload)
	}
	return rc
}

// rawDial connects without saying HELLO.
func rawDial(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true) // each write its own segment
	}
	return &rawClient{nc: nc, r: protocol.NewReader(nc, protocol.DefaultMaxFrameBytes)}
}

// exchange writes frame cut at the offsets in cuts, pausing between the
// pieces (so that the server reads them apart), and returns the first
// reply to the frame's request id, copied.
func (rc *rawClient) exchange(t *testing.T, frame []byte, cuts []int, pause time.Duration) protocol.Frame {
	t.Helper()
	reqID := binary.LittleEndian.Uint32(frame[6:])
	prev := 0
	for i, c := range append(cuts, len(frame)) {
		if _, err := rc.nc.Write(frame[prev:c]); err != nil {
			t.Fatalf("writing bytes %d..%d: %v", prev, c, err)
		}
		prev = c
		if i < len(cuts) && pause > 0 {
			time.Sleep(pause)
		}
	}
	for {
		f := readReply(t, rc.r, rc.nc)
		if f.ReqID == reqID {
			f.Payload = append([]byte(nil), f.Payload...)
			return f
		}
	}
}

// frameKind is one kind of frame a client may send, and how to compare the
// replies to it: byte for byte, or (loose) by what they say, for replies
// that carry positions, times or counters that move on their own.
type frameKind struct {
	name   string
	frame  []byte
	loose  bool
	accept protocol.CompressionSet // negotiated at HELLO
	fresh  bool                    // a connection per send: the reply starts a stream
	bare   bool                    // sent on a connection that has not said HELLO (HELLO itself)
}

// replyGist is what a reply says: everything, or for a loose kind its op
// and code (an ERROR's, or a domain result's) and whether it decodes.
func replyGist(k frameKind, f protocol.Frame) string {
	if !k.loose {
		return fmt.Sprintf("%s flags %#x payload %x", f.Op, f.Flags, f.Payload)
	}
	var err error
	code := engine.OK
	switch f.Op {
	case protocol.OpError:
		var e protocol.ErrorReply
		err = protocol.DecodeErrorReply(f.Payload, &e)
		code = e.Code
	case protocol.OpSnapshot:
		err = protocol.DecodeSnapshotReply(f.Payload, &protocol.SnapshotReply{})
	case protocol.OpStatus:
		err = protocol.DecodeStatusReply(f.Payload, &protocol.StatusReply{})
	case protocol.OpSubscribe:
		err = protocol.DecodeSubscribed(f.Payload, &protocol.Subscribed{})
	default:
		var r engine.Result
		err = protocol.DecodeResult(f.Payload, &r)
		code = r.Code
	}
	return fmt.Sprintf("%s code %s decodes %v", f.Op, code, err == nil)
}

// everyFrameKind returns a frame of each kind the server accepts.
func everyFrameKind() []frameKind {
	get := engine.Command{Op: engine.OpGetItem, SKU: []byte("SPLIT"), Store: []byte("S1")}
	var reads []engine.Command
	for range 40 {
		reads = append(reads, get)
	}
	batch := protocol.AppendBatchRequest(nil, 100, []engine.Command{get, get,
		keyed(reserve("SPLIT", "S1", "split-batch", 1), "split-batch-key"),
		{Op: engine.OpGetCustomer, Customer: []byte("split-batch")}})
	compressed := protocol.CompressFrame(nil, protocol.AppendBatchRequest(nil, 101, reads), protocol.CompressionS2)
	kinds := []frameKind{
		{name: "hello", frame: protocol.AppendHello(nil, 89, &protocol.Hello{Version: protocol.ProtocolVersion,
			Client: "split", Accept: protocol.CompressionSet(0).With(protocol.CompressionZstd)}), fresh: true, bare: true},
		{name: "ping", frame: protocol.AppendPing(nil, 90, 0xfeedface, false)},
		{name: "topology", frame: protocol.AppendTopologyRequest(nil, 91)},
		{name: "batch", frame: batch},
		{name: "compressed batch", frame: compressed, accept: protocol.CompressionSet(0).With(protocol.CompressionS2)},
		{name: "subscribe", frame: protocol.AppendSubscribe(nil, 92, &protocol.Subscribe{Shard: 1}), loose: true, fresh: true},
		{name: "snapshot", frame: protocol.AppendSnapshotRequest(nil, 93), loose: true},
		{name: "status", frame: protocol.AppendStatusRequest(nil, 94), loose: true},
		{name: "admin", frame: protocol.AppendAdminRequest(nil, 95, &protocol.AdminRequest{Cmd: protocol.AdminTransfer, Shard: 0})},
		{name: "shard call", frame: protocol.AppendShardCall(nil, 96, uint16(protocol.ShardOf(get.SKU, get.Store, 2)), &get)},
	}
	for op := engine.Op(1); op <= engine.OpLast; op++ {
		if !protocol.DomainOp(op).Known() {
			continue
		}
		cmd := splitCommand(op)
		// Claims write under a key whose repeats are answered by the
		// claim's state: compared by their code.
		loose := op >= engine.OpClaim && op <= engine.OpClaimReleased
		kinds = append(kinds, frameKind{name: op.String(), frame: protocol.AppendRequest(nil, 200+uint32(op), &cmd), loose: loose})
	}
	return kinds
}

// splitCommand is a request of op whose reply does not change when it is
// sent again (after its first time): reads, writes under an idempotency
// key, and ops on a reservation that does not exist.
func splitCommand(op engine.Op) engine.Command {
	return engine.Command{Op: op, SKU: []byte("SPLIT"), Store: []byte("S1"), Customer: []byte("split-cust"),
		ID: 987654321, Qty: 1, Stock: 1_000_000, Limit: 100, Key: []byte(fmt.Sprintf("split-key-%d", op)),
		Claim: []byte("split-claim"), PickupCode: 123456789012, TTL: time.Minute, Tier: 1}
}

// TestEveryFrameKindSplit sends every kind of frame the server accepts
// whole, then cut at every byte offset, then in 1-byte writes, and checks
// that each way gets the reply the whole frame got.
func TestEveryFrameKindSplit(t *testing.T) {
	p := startInvd(t, 2, splitConfig)
	admin := dial(t, p)
	want(t, admin, engine.OK, putItem("SPLIT", "S1", 1_000_000))
	for _, k := range everyFrameKind() {
		t.Run(k.name, func(t *testing.T) {
			if k.accept != 0 && protocol.Flags(k.frame[5]).Compression() == protocol.CompressionNone {
				t.Fatal("the compressed frame was sent uncompressed: make it more compressible")
			}
			conn := func() *rawClient {
				if k.bare {
					return rawDial(t, p.Addr())
				}
				return rawHello(t, p.Addr(), k.accept)
			}
			rc := conn()
			// Sent whole twice: a write changes the state once, and from then
			// on its idempotency key answers every repeat alike.
			rc.exchange(t, k.frame, nil, 0)
			if k.fresh {
				rc = conn()
			}
			whole := replyGist(k, rc.exchange(t, k.frame, nil, 0))
			sendCut := func(cuts []int, pause time.Duration, how string) {
				if k.fresh {
					rc = conn()
				}
				if got := replyGist(k, rc.exchange(t, k.frame, cuts, pause)); got != whole {
					t.Fatalf("%s: %s\nwhole frame: %s", how, got, whole)
				}
			}
			for cut := 1; cut < len(k.frame); cut++ {
				sendCut([]int{cut}, 2*time.Millisecond, fmt.Sprintf("cut at byte %d of %d", cut, len(k.frame)))
			}
			var ones []int
			for i := 1; i < len(k.frame); i++ {
				ones = append(ones, i)
			}
			sendCut(ones, 0, "in 1-byte writes")
		})
	}
	if _, err := admin.Status(); err != nil {
		t.Fatalf("the first connection after the cuts: %v", err)
	}
}

// TestSplitBatchHidingAReserve cuts a read-only BATCH right where one of its
// SKUs, which holds the bytes of a whole reserve frame, begins. A server
// that lost the first piece would read the second as that reserve; the
// BATCH must be answered as a BATCH and nothing reserved.
func TestSplitBatchHidingAReserve(t *testing.T) {
	p := startInvd(t, 2, "")
	admin := dial(t, p)
	want(t, admin, engine.OK, putItem("TRAP", "S1", 10))
	trap := reserve("TRAP", "S1", "trapped", 1)
	const trapID = 77
	inner := protocol.AppendRequest(nil, trapID, &trap)
	if len(inner) > protocol.MaxIDBytes {
		t.Fatalf("the reserve frame (%d bytes) does not fit in a SKU", len(inner))
	}
	get := engine.Command{Op: engine.OpGetItem, SKU: []byte("TRAP"), Store: []byte("S1")}
	hiding := engine.Command{Op: engine.OpGetItem, SKU: inner, Store: []byte("S1")}
	batch := protocol.AppendBatchRequest(nil, 5, []engine.Command{get, hiding, get})
	at := bytes.Index(batch, inner)

	// Checked however the exchange below ends (a t.Fatal runs deferred
	// calls): what matters most is that nothing was reserved.
	defer func() {
		if it := getItem(t, admin, "TRAP", "S1"); it.Held != 0 || it.Available != 10 {
			t.Errorf("the hidden reserve ran: held %d, available %d", it.Held, it.Available)
		}
		r := want(t, admin, engine.OK, engine.Command{Op: engine.OpListReservations, Customer: []byte("trapped")})
		if len(r.Reservations) != 0 {
			t.Errorf("reservations of the hidden reserve's customer: %+v", r.Reservations)
		}
	}()
	rc := rawHello(t, p.Addr(), 0)
	for _, pause := range []time.Duration{5 * time.Millisecond, 50 * time.Millisecond} {
		f := rc.exchange(t, batch, []int{at}, pause)
		brs, err := protocol.DecodeBatchResult(f.Payload, nil)
		if f.Op != protocol.OpBatch || err != nil || len(brs) != 3 {
			t.Fatalf("the BATCH cut at byte %d answered %s with %d entries (%v)", at, f.Op, len(brs), err)
		}
		if brs[0].Result.Code != engine.OK || brs[1].Result.Code != engine.CodeUnknownItem || brs[2].Result.Code != engine.OK {
			t.Fatalf("entries %s %s %s, want ok unknown_item ok", brs[0].Result.Code, brs[1].Result.Code, brs[2].Result.Code)
		}
		// Nothing answered the hidden frame's request id: a PING's pong is
		// the next reply.
		if _, err := rc.nc.Write(protocol.AppendPing(nil, 6, 1, false)); err != nil {
			t.Fatal(err)
		}
		if f := readReply(t, rc.r, rc.nc); f.ReqID != 6 || f.Op != protocol.OpPing {
			t.Fatalf("after the BATCH: %s to request %d, want the pong", f.Op, f.ReqID)
		}
	}
}
