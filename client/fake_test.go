// This file holds no tests: it is a small in-process server that speaks
// the real wire protocol (package protocol) with scripted answers, for the
// tests of framing, pipelining, batching, routing and retries that must
// provoke what a real invd does only under faults (lost replies, busy,
// NOT_LEADER, dropped connections). End-to-end behaviour is proven against
// a real invd in the e2e tests.
package client

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// fakeReply scripts the answer to one command.
type fakeReply struct {
	res       engine.Result
	code      engine.Code // answer ERROR with this code (and msg)
	msg       string
	notLeader *protocol.NotLeader
	drop      bool // close the connection instead of answering
	silent    bool // never answer
	delay     time.Duration
}

type fakeServer struct {
	t      testing.TB
	ln     net.Listener
	addr   string
	nodeID uint32
	handle func(cmd *engine.Command) fakeReply
	// lean answers every command with a held reservation, recording
	// nothing and reusing its buffers, so that allocation counts and
	// benchmarks measure the client alone.
	lean bool
	// feed answers SUBSCRIBE: the events to send, then whether to drop
	// the connection (a node that dies mid-stream) or end the stream with
	// an ERROR of code end.
	feed func(sub protocol.Subscribe) (first uint64, evs []protocol.Event, drop bool, end engine.Code)
	// maxInFlight is announced in HELLO (0: 4096); the fake records the
	// most frames any connection had outstanding.
	maxInFlight uint32
	peak        atomic.Int32

	mu      sync.Mutex
	topo    protocol.Topology
	cmds    []engine.Command // every domain command received, ids copied
	batches []int            // entries of every BATCH frame received
	frames  int              // domain and BATCH frames received
	conns   []net.Conn
	hellos  []protocol.Hello
}

// newFake starts a fake node 1 with shards shards, all led by itself.
func newFake(t testing.TB, shards int, handle func(cmd *engine.Command) fakeReply) *fakeServer {
	return newFakeNode(t, 1, shards, handle, false)
}

func newFakeNode(t testing.TB, id uint32, shards int, handle func(cmd *engine.Command) fakeReply, lean bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, ln: ln, addr: ln.Addr().String(), nodeID: id, handle: handle, lean: lean}
	f.topo = protocol.Topology{Version: 1, Hash: protocol.HashName,
		Nodes: []protocol.Node{{ID: id, Addr: f.addr}}, Shards: make([]protocol.ShardPlacement, shards)}
	for i := range f.topo.Shards {
		f.topo.Shards[i] = protocol.ShardPlacement{Leader: id, Replicas: []uint32{id}}
	}
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *fakeServer) setTopology(t protocol.Topology) {
	f.mu.Lock()
	f.topo = t
	f.mu.Unlock()
}

func (f *fakeServer) close() {
	f.ln.Close()
	f.dropAll()
}

// dropAll closes every open connection (a crash as the client sees it).
func (f *fakeServer) dropAll() {
	f.mu.Lock()
	conns := f.conns
	f.conns = nil
	f.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (f *fakeServer) received() []engine.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Command(nil), f.cmds...)
}

func (f *fakeServer) helloes() []protocol.Hello {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]protocol.Hello(nil), f.hellos...)
}

func (f *fakeServer) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...)
}

func (f *fakeServer) accept() {
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, nc)
		f.mu.Unlock()
		go f.serve(nc)
	}
}

// fakeConn serialises writes of one connection (delayed replies come from
// timer goroutines).
type fakeConn struct {
	mu          sync.Mutex
	nc          net.Conn
	outstanding atomic.Int32 // request frames not yet answered

	// lean mode, reader goroutine only
	buf  []byte
	cmd  engine.Command
	cmds []engine.Command
}

func (c *fakeConn) write(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = c.nc.Write(b)
}

func (f *fakeServer) serve(nc net.Conn) {
	defer nc.Close()
	fc := &fakeConn{nc: nc}
	rd := protocol.NewReader(nc, protocol.MaxFrameBytesLimit)
	fr, err := rd.Next()
	if err != nil || fr.Op != protocol.OpHello {
		return
	}
	var h protocol.Hello
	if protocol.DecodeHello(fr.Payload, &h) != nil {
		return
	}
	f.mu.Lock()
	f.hellos = append(f.hellos, h)
	f.mu.Unlock()
	inflight := f.maxInFlight
	if inflight == 0 {
		inflight = 4096
	}
	fc.write(protocol.AppendHelloReply(nil, fr.ReqID, &protocol.HelloReply{Version: 1, NodeID: f.nodeID,
		Server: "fake", Limits: protocol.Limits{MaxFrame: 1 << 20, MaxBatchOps: 4096, MaxInFlight: inflight,
			MaxIDBytes: 64, MaxKeyBytes: 64}}))
	for {
		fr, err := rd.Next()
		if err != nil {
			return
		}
		if !f.serveFrame(fc, fr) {
			return
		}
	}
}

var leanResult = engine.Result{ID: engine.MakeID(1, 1), State: engine.StateHeld, Qty: 1, ExpiresAt: 1 << 60}

// serveLean answers a domain or BATCH frame without allocating.
func (f *fakeServer) serveLean(fc *fakeConn, fr protocol.Frame) bool {
	if fr.Op == protocol.OpBatch {
		var err error
		if fc.cmds, err = protocol.DecodeBatchRequest(fr.Payload, fc.cmds[:0]); err != nil {
			return false
		}
		var w protocol.BatchWriter
		w.Begin(fc.buf[:0], fr.ReqID, true)
		for i := range fc.cmds {
			w.AddResult(fc.cmds[i].Op, &leanResult)
		}
		fc.buf = w.Finish()
	} else {
		if protocol.DecodeRequest(fr.Op, fr.Payload, &fc.cmd) != nil {
			return false
		}
		fc.buf = protocol.AppendResult(fc.buf[:0], fr.ReqID, fc.cmd.Op, &leanResult)
	}
	fc.write(fc.buf)
	return true
}

// serveFrame answers one frame; false closes the connection.
func (f *fakeServer) serveFrame(fc *fakeConn, fr protocol.Frame) bool {
	if f.lean && fr.Op != protocol.OpTopology && fr.Op != protocol.OpPing {
		return f.serveLean(fc, fr)
	}
	switch fr.Op {
	case protocol.OpTopology:
		f.mu.Lock()
		t := f.topo
		f.mu.Unlock()
		fc.write(protocol.AppendTopology(nil, fr.ReqID, &t))
		return true
	case protocol.OpSubscribe:
		var sub protocol.Subscribe
		if protocol.DecodeSubscribe(fr.Payload, &sub) != nil || f.feed == nil {
			return false
		}
		first, evs, drop, end := f.feed(sub)
		if end != engine.OK && first == 0 {
			fc.write(protocol.AppendError(nil, fr.ReqID, &protocol.ErrorReply{Code: end, Message: "refused"}))
			return true
		}
		msg := protocol.AppendSubscribed(nil, fr.ReqID, &protocol.Subscribed{Shard: sub.Shard, First: first, Last: first})
		for i := range evs {
			msg = protocol.AppendEvent(msg, fr.ReqID, &evs[i])
		}
		if end != engine.OK {
			msg = protocol.AppendError(msg, fr.ReqID, &protocol.ErrorReply{Code: end, Message: "stream ends"})
		}
		fc.write(msg)
		return !drop
	case protocol.OpPing:
		nonce, _ := protocol.DecodePing(fr.Payload)
		fc.write(protocol.AppendPing(nil, fr.ReqID, nonce, true))
		return true
	case protocol.OpBatch:
		f.arrive(fc)
		cmds, err := protocol.DecodeBatchRequest(fr.Payload, nil)
		if err != nil {
			f.t.Errorf("fake: bad BATCH: %v", err)
			return false
		}
		return f.serveBatch(fc, fr.ReqID, cmds)
	}
	f.arrive(fc)
	var cmd engine.Command
	if err := protocol.DecodeRequest(fr.Op, fr.Payload, &cmd); err != nil {
		f.t.Errorf("fake: bad request %s: %v", fr.Op, err)
		return false
	}
	rep := f.record(cmd)
	if rep.drop {
		return false
	}
	if rep.silent {
		return true
	}
	msg := encodeReply(nil, fr.ReqID, &cmd, &rep)
	f.send(fc, msg, rep.delay)
	return true
}

func (f *fakeServer) serveBatch(fc *fakeConn, reqID uint32, cmds []engine.Command) bool {
	f.mu.Lock()
	f.batches = append(f.batches, len(cmds))
	f.mu.Unlock()
	reps := make([]fakeReply, len(cmds))
	var delay time.Duration
	for i := range cmds {
		reps[i] = f.record(cmds[i])
		if reps[i].drop {
			return false
		}
		if reps[i].silent {
			return true
		}
		delay = max(delay, reps[i].delay)
	}
	var w protocol.BatchWriter
	w.Begin(nil, reqID, true)
	for i := range cmds {
		switch rep := &reps[i]; {
		case rep.notLeader != nil:
			w.AddNotLeader(rep.notLeader)
		case rep.code != engine.OK:
			w.AddError(&protocol.ErrorReply{Code: rep.code, Message: rep.msg})
		default:
			w.AddResult(cmds[i].Op, &rep.res)
		}
	}
	f.send(fc, w.Finish(), delay)
	return true
}

// arrive counts a request frame outstanding on its connection.
func (f *fakeServer) arrive(fc *fakeConn) {
	n := fc.outstanding.Add(1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// send writes a reply (after delay) and counts the request answered.
func (f *fakeServer) send(fc *fakeConn, msg []byte, delay time.Duration) {
	if delay > 0 {
		time.AfterFunc(delay, func() { fc.outstanding.Add(-1); fc.write(msg) })
		return
	}
	fc.outstanding.Add(-1)
	fc.write(msg)
}

// record keeps a copy of cmd and asks the script for its answer.
func (f *fakeServer) record(cmd engine.Command) fakeReply {
	cp := cmd
	cp.SKU = append([]byte(nil), cmd.SKU...)
	cp.Store = append([]byte(nil), cmd.Store...)
	cp.Customer = append([]byte(nil), cmd.Customer...)
	cp.Key = append([]byte(nil), cmd.Key...)
	f.mu.Lock()
	f.cmds = append(f.cmds, cp)
	f.frames++
	f.mu.Unlock()
	if f.handle == nil {
		return fakeReply{res: engine.Result{ID: 1, State: engine.StateHeld, Qty: cmd.Qty}}
	}
	return f.handle(&cp)
}

func encodeReply(dst []byte, reqID uint32, cmd *engine.Command, rep *fakeReply) []byte {
	switch {
	case rep.notLeader != nil:
		return protocol.AppendNotLeader(dst, reqID, rep.notLeader)
	case rep.code != engine.OK:
		return protocol.AppendError(dst, reqID, &protocol.ErrorReply{Code: rep.code, Message: rep.msg})
	}
	return protocol.AppendResult(dst, reqID, cmd.Op, &rep.res)
}

var errFake = errors.New("fake")
