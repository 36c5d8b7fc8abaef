// The node-wide reply budget, driven through the server's own handlers
// (OnTraffic, admit, the reply path, OnClose) on connections whose gnet
// side is a fake that records reads, writes and wakes: what each part of a
// connection's hold adds to the node's count and gives back (replies, gnet's
// buffer, reservations of large reads, unread requests), that a reply to
// another request with the same id never releases a large read's
// reservation, when a connection is paused at each level of the budget and
// that a paused one is neither decoded nor peeked, that it resumes once
// the budget lets it (and stops mid-buffer, frame by frame, once its own
// replies put it over), that one that keeps sending while paused is cut and
// counted, that closing gives everything back, that the TLS listener stops
// reading a paused socket, and the config's limits at and past their
// edges.
package server

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// fakeGnet is the gnet side of a connection: in is what the peer sent,
// written what the kernel took, outbound what it did not (stuck: the peer
// takes nothing).
type fakeGnet struct {
	gnet.Conn // nil: a method the server should not call panics

	ctx      any
	in       []byte
	written  []byte
	outbound int
	stuck    bool
	peeks    int
	wakes    int
}

func (f *fakeGnet) Context() any         { return f.ctx }
func (f *fakeGnet) SetContext(ctx any)   { f.ctx = ctx }
func (f *fakeGnet) RemoteAddr() net.Addr { return nil }
func (f *fakeGnet) InboundBuffered() int { return len(f.in) }
func (f *fakeGnet) OutboundBuffered() int {
	return f.outbound
}
func (f *fakeGnet) Peek(n int) ([]byte, error) { f.peeks++; return f.in[:n], nil }
func (f *fakeGnet) Discard(n int) (int, error) { f.in = f.in[n:]; return n, nil }
func (f *fakeGnet) Wake(gnet.AsyncCallback) error {
	f.wakes++
	return nil
}
func (f *fakeGnet) Close() error { return nil }
func (f *fakeGnet) Write(b []byte) (int, error) {
	if f.stuck {
		f.outbound += len(b)
	} else {
		f.written = append(f.written, b...)
	}
	return len(b), nil
}

const testBudget = 16 << 20

// budgetServer is a server without shards: enough for the reply path,
// PING, and the budget.
func budgetServer(t *testing.T) *Server {
	t.Helper()
	cfg, err := Config{MaxReplyBufferBytes: testBudget, Logger: slog.New(slog.DiscardHandler)}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: map[*conn]struct{}{}, tokens: NewTokens(nil)}
	s.budget.limit = testBudget
	s.met = newServerMetrics(s)
	return s
}

// openConn is a connection past HELLO.
func openConn(s *Server, id uint64) (*conn, *fakeGnet) {
	f := &fakeGnet{}
	c := &conn{srv: s, gc: f, id: id, maxFrameOut: protocol.DefaultMaxFrameBytes}
	f.SetContext(c)
	c.hello.Store(true)
	s.conns[c] = struct{}{}
	s.nconns.Add(1)
	return c, f
}

func frameOf(t *testing.T, b []byte) protocol.Frame {
	t.Helper()
	f, _, err := protocol.ReadFrame(b, protocol.DefaultMaxFrameBytes)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func pings(n int) []byte {
	var b []byte
	for i := range n {
		b = protocol.AppendPing(b, uint32(i+1), 7, false)
	}
	return b
}

// hold makes c hold n more reply bytes (a reservation stands in for them).
func hold(c *conn, n int64) {
	c.mu.Lock()
	c.account(n)
	c.mu.Unlock()
}

func wantHeld(t *testing.T, s *Server, c *conn, held, total, holders int64) {
	t.Helper()
	if got := c.held.Load(); got != held {
		t.Errorf("connection holds %d, want %d", got, held)
	}
	if got := s.budget.total.Load(); got != total {
		t.Errorf("node total %d, want %d", got, total)
	}
	if got := s.budget.holders.Load(); got != holders {
		t.Errorf("holders %d, want %d", got, holders)
	}
}

func TestReplyBytesCounted(t *testing.T) {
	s := budgetServer(t)
	c, f := openConn(s, 1)
	small := make([]byte, replyAccountStepBytes-1)
	c.lock()
	c.out = append(c.out, small...)
	c.unlock(true)
	wantHeld(t, s, c, 0, 0, 0) // small replies wait for the flush to be counted
	c.lock()
	c.out = append(c.out, 1)
	c.unlock(true)
	wantHeld(t, s, c, replyAccountStepBytes, replyAccountStepBytes, 1)

	f.stuck = true // the kernel takes nothing: the bytes move to gnet's buffer
	if why := c.flush(); why != cutNone {
		t.Fatalf("flush: %v", why)
	}
	wantHeld(t, s, c, replyAccountStepBytes, replyAccountStepBytes, 1)
	f.stuck, f.outbound = false, 0 // the peer read everything
	c.flush()
	wantHeld(t, s, c, 0, 0, 0)
}

func TestLargeReadReservations(t *testing.T) {
	s := budgetServer(t)
	c, _ := openConn(s, 1)
	stores := engine.Command{Op: engine.OpStoresWithStock, SKU: []byte("A")}
	admitFrame := func(b []byte) protocol.Frame {
		fr := frameOf(t, b)
		s.noteFrame(c, fr)
		if !s.admit(c, fr.ReqID) {
			t.Fatal("not admitted")
		}
		return fr
	}
	answer := func(reqID uint32, op engine.Op) {
		c.lock()
		c.answered(reqID, op)
		c.unlock(true)
	}
	const est = largeReadReserveMinBytes
	admitFrame(protocol.AppendRequest(nil, 7, &stores))
	admitFrame(protocol.AppendRequest(nil, 7, &stores)) // a client may reuse an id
	wantHeld(t, s, c, 2*est, 2*est, 1)
	answer(7, engine.OpReserve) // another request with the same id
	answer(7, opBatch)
	wantHeld(t, s, c, 2*est, 2*est, 1)
	answer(7, engine.OpStoresWithStock)
	answer(7, engine.OpStoresWithStock)
	wantHeld(t, s, c, 0, 0, 0)

	// Refused after admit (unadmit): given back at once.
	admitFrame(protocol.AppendRequest(nil, 8, &stores))
	s.unadmit(c)
	wantHeld(t, s, c, 0, 0, 0)

	// A BATCH reserves for each large read in it, up to the client's frame.
	batch := []engine.Command{stores, {Op: engine.OpReserve, SKU: []byte("A"), Store: []byte("S"), Customer: []byte("c"), Qty: 1},
		{Op: engine.OpListItems}}
	admitFrame(protocol.AppendBatchRequest(nil, 9, batch))
	wantHeld(t, s, c, 2*est, 2*est, 1)
	answer(9, opBatch)
	c.maxFrameOut = est + 1
	admitFrame(protocol.AppendBatchRequest(nil, 9, batch))
	wantHeld(t, s, c, est+1, est+1, 1)
	answer(9, opBatch)
	c.maxFrameOut = protocol.DefaultMaxFrameBytes

	// A SHARD_CALL of a large read is keyed by its op, as finishOp answers it.
	admitFrame(protocol.AppendShardCall(nil, 10, 0, &engine.Command{Op: engine.OpListItems}))
	answer(10, engine.OpListItems)
	wantHeld(t, s, c, 0, 0, 0)

	// Writes reserve nothing.
	admitFrame(protocol.AppendRequest(nil, 11, &batch[1]))
	wantHeld(t, s, c, 0, 0, 0)
}

func TestReservationFollowsTheLargestReply(t *testing.T) {
	s := budgetServer(t)
	c, _ := openConn(s, 1)
	list := func(n int) *engine.Result {
		r := &engine.Result{Stores: make([]engine.StoreStock, n)}
		for i := range r.Stores {
			r.Stores[i] = engine.StoreStock{Store: strings.Repeat("s", 40), Available: 1}
		}
		return r
	}
	if got := s.budget.estimate(engine.OpStoresWithStock, c.maxFrameOut); got != largeReadReserveMinBytes {
		t.Fatalf("estimate before any reply %d, want the floor %d", got, largeReadReserveMinBytes)
	}
	c.lock()
	c.appendResult(1, engine.OpStoresWithStock, list(4000)) // ~190 KB
	big := int64(len(c.out))
	c.appendResult(2, engine.OpStoresWithStock, list(10)) // a smaller one does not lower it
	c.unlock(true)
	got := s.budget.estimate(engine.OpStoresWithStock, c.maxFrameOut)
	if got < big-protocol.HeaderSize || got > big {
		t.Fatalf("estimate %d after a reply of %d bytes", got, big)
	}
	if got := s.budget.estimate(engine.OpListItems, c.maxFrameOut); got != largeReadReserveMinBytes {
		t.Fatalf("list_items estimate %d: another op's replies must not move it", got)
	}
	if got := s.budget.estimate(engine.OpStoresWithStock, 1000); got != 1000 {
		t.Fatalf("estimate %d for a client that takes frames of 1000 bytes", got)
	}
}

func TestOverShareLevels(t *testing.T) {
	s := budgetServer(t)
	perConn := int64(testBudget / replySharesMin)
	a, _ := openConn(s, 1)
	hold(a, perConn)
	if s.overShare(a) {
		t.Fatal("paused at exactly a sixteenth of the budget")
	}
	hold(a, 1)
	if !s.overShare(a) {
		t.Fatal("not paused past a sixteenth of the budget on an idle node")
	}
	hold(a, -perConn-1)

	// From half the budget: the share is the budget over the holders.
	var conns []*conn
	for i := range 20 {
		c, _ := openConn(s, uint64(i+2))
		hold(c, testBudget/40) // 20 × 0.4 MiB: half the budget
		conns = append(conns, c)
	}
	if s.overShare(a) || s.overShare(conns[0]) {
		t.Fatal("paused at half the budget")
	}
	hold(conns[0], testBudget/32) // 0.9 MiB, over the share of 16/20 MiB, under a sixteenth
	if s.overShare(a) || s.overShare(conns[1]) || !s.overShare(conns[0]) {
		t.Fatalf("past half the budget: idle paused %v, 0.4 MiB paused %v, 0.9 MiB (over its share) paused %v",
			s.overShare(a), s.overShare(conns[1]), s.overShare(conns[0]))
	}
	// Past the budget: only connections holding nothing are read.
	hold(conns[1], testBudget/2)
	if !s.overShare(conns[2]) || s.overShare(a) {
		t.Fatalf("past the budget (%d): 0.4 MiB paused %v, idle paused %v", s.budget.total.Load(),
			s.overShare(conns[2]), s.overShare(a))
	}
}

func TestPausedConnectionIsNotRead(t *testing.T) {
	s := budgetServer(t)
	c, f := openConn(s, 1)
	f.in = pings(3)
	inLen := int64(len(f.in))
	over := int64(testBudget/replySharesMin + 1)
	hold(c, over)
	if act := s.OnTraffic(f); act != gnet.None {
		t.Fatalf("OnTraffic: %v", act)
	}
	if len(f.written) != 0 || f.peeks != 0 || len(f.in) != len(pings(3)) {
		t.Fatalf("paused: %d bytes written, %d peeks, %d of %d bytes left unread", len(f.written), f.peeks, len(f.in), inLen)
	}
	if !c.readPaused.Load() || s.budget.paused.Load() != 1 || s.budget.total.Load() != over+inLen {
		t.Fatalf("paused %v, gauge %d, total %d (want %d)", c.readPaused.Load(), s.budget.paused.Load(),
			s.budget.total.Load(), over+inLen)
	}
	if c.partialSince.Load() != 0 {
		t.Fatal("the read timeout runs for frames held for the budget")
	}
	hold(c, -over)
	s.OnTraffic(f)
	if r := protocol.NewReader(strings.NewReader(string(f.written)), 0); countFrames(r) != 3 {
		t.Fatalf("after resuming: %d bytes written, want three PING replies", len(f.written))
	}
	if c.readPaused.Load() || s.budget.paused.Load() != 0 || s.budget.total.Load() != 0 {
		t.Fatalf("resumed: paused %v, gauge %d, total %d", c.readPaused.Load(), s.budget.paused.Load(), s.budget.total.Load())
	}
}

func TestReadStopsMidBuffer(t *testing.T) {
	s := budgetServer(t)
	c, f := openConn(s, 1)
	f.stuck = true                     // the replies stay held
	hold(c, testBudget/replySharesMin) // at the bound: read
	for i := range 300 {               // unknown ops: each answered with an ERROR of ~70 bytes
		f.in = protocol.AppendFrame(f.in, 0x7f, 0, uint32(i+1), nil)
	}
	total := len(f.in)
	s.OnTraffic(f)
	if len(f.in) == 0 || len(f.in) == total {
		t.Fatalf("%d of %d bytes left: the read should stop once its own replies put it over", len(f.in), total)
	}
	if !c.readPaused.Load() || c.partialSince.Load() != 0 {
		t.Fatalf("stopped mid-buffer: paused %v, read timeout running %v", c.readPaused.Load(), c.partialSince.Load() != 0)
	}
}

func countFrames(r *protocol.Reader) int {
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}

func TestReadStoppedForTheBudgetResumes(t *testing.T) {
	s := budgetServer(t)
	c, f := openConn(s, 1)
	f.in = pings(2)
	c.readHeld = true // readFrames stopped before these; the flush since freed the connection
	if why := s.afterRead(c); why != cutNone || f.wakes != 1 {
		t.Fatalf("afterRead: %v, %d wakes, want the loop woken to read the rest", why, f.wakes)
	}
	if s.afterRead(c); f.wakes != 1 {
		t.Fatal("woken again with nothing stopped")
	}
}

func TestPausedConnectionSendingPastAFrameIsCut(t *testing.T) {
	s := budgetServer(t)
	c, f := openConn(s, 1)
	hold(c, testBudget/replySharesMin+1)
	f.in = make([]byte, s.cfg.MaxFrameBytes) // at the bound: kept
	if act := s.OnTraffic(f); act != gnet.None {
		t.Fatalf("a paused connection with a frame's worth unread: %v", act)
	}
	f.in = append(f.in, 0) // past it
	if act := s.OnTraffic(f); act != gnet.Close {
		t.Fatalf("a paused connection past a frame unread: %v, want Close", act)
	}
	if n := s.budget.cuts[cutUnread].Get(); n != 1 {
		t.Fatalf("inv_slow_consumers_cut_total{reason=unread_while_paused} %d, want 1", n)
	}
}

func TestStalledConnectionCutIsCounted(t *testing.T) {
	s := budgetServer(t)
	c, f := openConn(s, 1)
	f.stuck = true
	c.lock()
	c.out = append(c.out, make([]byte, s.cfg.MaxOutboundBytes+1)...)
	c.unlock(true)
	if act := s.OnTraffic(f); act != gnet.Close {
		t.Fatalf("replies past max_outbound_bytes: %v, want Close", act)
	}
	if n := s.budget.cuts[cutOutbound].Get(); n != 1 {
		t.Fatalf("inv_slow_consumers_cut_total{reason=max_outbound_bytes} %d, want 1", n)
	}
}

func TestCloseGivesEverythingBack(t *testing.T) {
	s := budgetServer(t)
	c, f := openConn(s, 1)
	other, _ := openConn(s, 2)
	hold(other, 100)
	stores := engine.Command{Op: engine.OpStoresWithStock, SKU: []byte("A")}
	s.noteFrame(c, frameOf(t, protocol.AppendRequest(nil, 7, &stores)))
	s.admit(c, 7)
	f.stuck = true
	c.lock()
	c.out = append(c.out, make([]byte, 10_000)...)
	c.unlock(true)
	hold(c, testBudget) // paused
	f.in = pings(1)
	s.OnTraffic(f)
	if !c.readPaused.Load() || s.budget.total.Load() <= 100 {
		t.Fatalf("before close: paused %v, total %d", c.readPaused.Load(), s.budget.total.Load())
	}
	hold(c, -testBudget)
	s.OnClose(f, nil)
	wantHeld(t, s, c, 0, 100, 1)
	if s.budget.paused.Load() != 0 || c.unread.Load() != 0 {
		t.Fatalf("after close: paused gauge %d, unread %d", s.budget.paused.Load(), c.unread.Load())
	}
	c.lock() // the large read answers after the close: nothing to give back twice
	c.answered(7, engine.OpStoresWithStock)
	c.unlock(false)
	wantHeld(t, s, c, 0, 100, 1)
}

// TestTLSStopsReadingWhilePaused drives the TLS listener's loop (serveTLS)
// over a pipe: while its connection is paused it stops taking what the
// reader read, so the reader stops reading the socket and the peer's writes
// block (TCP's backpressure on a real socket), instead of piling requests
// up; once woken with room again it serves them all.
func TestTLSStopsReadingWhilePaused(t *testing.T) {
	s := budgetServer(t)
	peer, server := net.Pipe()
	defer peer.Close()
	go s.serveTLS(server)
	if _, err := peer.Write(protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1})); err != nil {
		t.Fatal(err)
	}
	r := protocol.NewReader(peer, 0)
	if f, err := r.Next(); err != nil || f.Op != protocol.OpHello {
		t.Fatalf("HELLO: %v %v", f.Op, err)
	}
	s.mu.Lock()
	var c *conn
	for c = range s.conns {
	}
	s.mu.Unlock()
	over := int64(testBudget/replySharesMin + 1)
	hold(c, over)

	const n = 10_000
	frames := pings(n)
	_ = peer.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
	sent, err := peer.Write(frames)
	if err == nil || sent > 4*tlsReadChunk {
		t.Fatalf("a paused connection took %d bytes of %d (error %v): it should stop reading", sent, len(frames), err)
	}
	if !c.readPaused.Load() || c.unread.Load() > 2*tlsReadChunk {
		t.Fatalf("paused %v with %d bytes unread", c.readPaused.Load(), c.unread.Load())
	}
	_ = peer.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if f, err := r.Next(); err == nil {
		t.Fatalf("a paused connection answered %s", f.Op)
	}

	hold(c, -over)
	_ = c.gc.Wake(nil) // the ticker's wake of a paused connection
	_ = peer.SetDeadline(time.Time{})
	r = protocol.NewReader(peer, 0) // the timed-out read left no partial frame: nothing had arrived
	go func() { _, _ = peer.Write(frames[sent:]) }()
	for i := range n {
		if f, err := r.Next(); err != nil || f.Op != protocol.OpPing {
			t.Fatalf("reply %d after resuming: %v %v", i, f.Op, err)
		}
	}
}

func TestReplyBudgetConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg      Config
		ok       bool
		outbound int
	}{
		{Config{}, true, DefaultMaxOutboundBytes},
		{Config{MaxReplyBufferBytes: 32 << 20}, true, 32 << 20}, // the per-connection default follows a smaller budget
		{Config{MaxReplyBufferBytes: DefaultMaxFrameBytes}, true, DefaultMaxFrameBytes},
		{Config{MaxReplyBufferBytes: DefaultMaxFrameBytes - 1}, false, 0},
		{Config{MaxReplyBufferBytes: 8 << 20, MaxOutboundBytes: 8 << 20}, true, 8 << 20},
		{Config{MaxReplyBufferBytes: 8 << 20, MaxOutboundBytes: 8<<20 + 1}, false, 0},
		{Config{MaxOutboundBytes: DefaultMaxReplyBufferBytes + 1}, false, 0},
	} {
		got, err := tc.cfg.withDefaults()
		if (err == nil) != tc.ok {
			t.Errorf("%d/%d: error %v, want ok %v", tc.cfg.MaxReplyBufferBytes, tc.cfg.MaxOutboundBytes, err, tc.ok)
			continue
		}
		if tc.ok && got.MaxOutboundBytes != tc.outbound {
			t.Errorf("%d/%d: MaxOutboundBytes %d, want %d", tc.cfg.MaxReplyBufferBytes, tc.cfg.MaxOutboundBytes,
				got.MaxOutboundBytes, tc.outbound)
		}
	}
}
