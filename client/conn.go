package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// conn is one pipelined connection to one node. Callers queue calls
// (enqueue); one writer goroutine drains the queue, packs every batchable
// call it finds into BATCH frames and writes all frames of a round with one
// syscall; one reader goroutine matches replies to calls by request id, in
// whatever order they come. Nothing on that path takes a lock for longer
// than a few slice operations, and nothing allocates in steady state.
type conn struct {
	cl    *Client
	node  *node
	nc    net.Conn
	hello protocol.HelloReply

	maxBatchOps int // entries per BATCH: the server's, within the protocol's
	maxFrame    int // bytes per frame we send: the server's limit
	maxInFlight int // frames outstanding: the server's limit

	mu       sync.Mutex
	queue    []*call
	spare    []*call // the writer's other queue buffer
	pending  map[uint32]pend
	nextID   uint32
	inflight int // frames in pending
	closed   bool
	freeRecs []*batchRec

	broken   atomic.Bool   // set once the connection failed; callers pick another
	lastRead atomic.Int64  // Unix ns of the last frame read: a silent connection is a stalled one
	wake     chan struct{} // capacity 1: work is queued
	room     chan struct{} // capacity 1: a frame completed (in-flight bound)
	dead     chan struct{} // closed when the connection fails

	// Writer-only.
	wbuf  []byte
	zbuf  []byte
	solos []*call
	bw    protocol.BatchWriter
	batch *batchRec // the BATCH being encoded, if any
	first *call     // a batchable call held back: alone it goes in a plain frame
	bytes int       // upper bound of the open BATCH's payload

	// Reader-only.
	brs []protocol.BatchResult
}

// pend is what a request id in flight stands for: one call, or a BATCH.
type pend struct {
	c *call
	b *batchRec
}

// batchRec is one BATCH frame in flight: its calls in entry order.
type batchRec struct {
	calls   []*call
	entries int
}

// errConnLost fails the calls of a connection that broke. Calls that had
// been written get the outcome "unknown" (sent); the others were not sent.
var errConnLost = errors.New("inv: connection lost")

// dialConn connects to addr, says HELLO and starts the connection's
// goroutines.
func dialConn(ctx context.Context, cl *Client, n *node) (*conn, error) {
	nc, rd, hello, err := handshake(ctx, n.addr, &cl.opts)
	if err != nil {
		return nil, err
	}
	c := &conn{cl: cl, node: n, nc: nc, hello: hello,
		pending: make(map[uint32]pend), wake: make(chan struct{}, 1),
		room: make(chan struct{}, 1), dead: make(chan struct{})}
	c.maxBatchOps = int(hello.Limits.MaxBatchOps)
	if c.maxBatchOps <= 0 || c.maxBatchOps > protocol.MaxBatchOps {
		c.maxBatchOps = protocol.MaxBatchOps
	}
	c.maxFrame = int(hello.Limits.MaxFrame)
	if c.maxFrame <= 0 || c.maxFrame > protocol.MaxFrameBytesLimit {
		c.maxFrame = protocol.DefaultMaxFrameBytes
	}
	c.maxInFlight = int(hello.Limits.MaxInFlight)
	if c.maxInFlight <= 0 {
		c.maxInFlight = defaultServerInFlight
	}
	c.lastRead.Store(time.Now().UnixNano())
	go c.readLoop(rd)
	go c.writeLoop()
	return c, nil
}

// tcpKeepAlive is the keep-alive period of the default dialer's
// connections: a peer that vanished without a FIN (a pulled cable, a
// crashed host) is noticed within a minute or so even on an idle
// connection.
const tcpKeepAlive = 15 * time.Second

// defaultServerInFlight is assumed when a server announces no in-flight
// limit: the server's documented default.
const defaultServerInFlight = 4096

// handshake dials addr and exchanges HELLO; the subscription code shares it.
func handshake(ctx context.Context, addr string, o *options) (net.Conn, *protocol.Reader, protocol.HelloReply, error) {
	var hr protocol.HelloReply
	nc, err := o.dial(ctx, addr)
	if err != nil {
		return nil, nil, hr, err
	}
	nc = o.wrapTLS(nc, addr) // the handshake runs at the first write, under the deadline below
	deadline := time.Now().Add(o.dialTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = nc.SetDeadline(deadline)
	hello := protocol.Hello{Version: protocol.ProtocolVersion, MaxFrame: uint32(o.maxFrame),
		Accept: o.accept, Token: o.token, Client: o.clientName}
	if _, err := nc.Write(protocol.AppendHello(nil, 1, &hello)); err != nil {
		nc.Close()
		return nil, nil, hr, err
	}
	rd := protocol.NewReader(nc, o.maxFrame)
	f, err := rd.Next()
	if err == nil {
		err = decodeHelloAnswer(f, &hr)
	}
	if err != nil {
		nc.Close()
		return nil, nil, hr, fmt.Errorf("inv: HELLO to %s: %w", addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, rd, hr, nil
}

func decodeHelloAnswer(f protocol.Frame, hr *protocol.HelloReply) error {
	switch {
	case !f.Reply():
		return ErrProtocol
	case f.Op == protocol.OpError:
		var e protocol.ErrorReply
		if err := protocol.DecodeErrorReply(f.Payload, &e); err != nil {
			return err
		}
		return errorWithMessage(e.Code, e.Message)
	case f.Op != protocol.OpHello:
		return errorWithMessage(engine.CodeProtocol, "HELLO answered with "+f.Op.String())
	}
	if err := protocol.DecodeHelloReply(f.Payload, hr); err != nil {
		return err
	}
	if hr.Version != protocol.ProtocolVersion {
		return errorWithMessage(engine.CodeProtocol, fmt.Sprintf("server speaks protocol version %d", hr.Version))
	}
	return nil
}

// enqueue hands a call to the connection. It fails (without finishing the
// call) only when the connection has failed: the caller picks another.
func (c *conn) enqueue(k *call) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, k)
	first := len(c.queue) == 1
	c.mu.Unlock()
	if first {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// fail closes the connection and finishes every call it holds. Calls still
// queued were never sent; calls in flight may have been applied.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.broken.Store(true)
	queued := c.queue
	c.queue = nil
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()

	close(c.dead)
	_ = c.nc.Close()
	for _, k := range queued {
		k.fail(errConnLost)
	}
	for _, p := range pending {
		if p.c != nil {
			p.c.sent = true
			p.c.fail(errConnLost)
			continue
		}
		for _, k := range p.b.calls {
			k.sent = true
			k.fail(errConnLost)
		}
	}
	if !errors.Is(err, net.ErrClosed) && !c.cl.closing.Load() {
		c.cl.log.Info("inv: connection lost", "node", c.node.addr, "error", err)
		c.cl.requestRefresh()
	}
}

// errStalled closes a connection on which an attempt timed out while
// nothing at all was read for as long: the peer is hung or the path is
// black-holed, and every call queued behind it would time out too.
var errStalled = errors.New("inv: connection stalled: no reply within the request timeout")

// checkStalled closes the connection if nothing was read on it for d.
func (c *conn) checkStalled(d time.Duration) {
	if time.Since(time.Unix(0, c.lastRead.Load())) >= d {
		c.fail(errStalled)
	}
}

// close shuts the connection down (Client.Close).
func (c *conn) close() { c.fail(net.ErrClosed) }

// nextReqID returns a request id not in flight (under mu). Ids wrap after
// four billion requests; the check keeps a wrapped id from colliding with a
// request that has been waiting all that time.
func (c *conn) nextReqID() uint32 {
	for {
		c.nextID++
		if c.nextID == 0 {
			continue
		}
		if _, busy := c.pending[c.nextID]; !busy {
			return c.nextID
		}
	}
}

func (c *conn) getRec() *batchRec {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.freeRecs); n > 0 {
		b := c.freeRecs[n-1]
		c.freeRecs = c.freeRecs[:n-1]
		return b
	}
	return new(batchRec)
}

func (c *conn) putRec(b *batchRec) {
	clear(b.calls)
	b.calls = b.calls[:0]
	b.entries = 0
	c.mu.Lock()
	if len(c.freeRecs) < maxFreeRecs {
		c.freeRecs = append(c.freeRecs, b)
	}
	c.mu.Unlock()
}

// maxFreeRecs bounds the batch records a connection keeps for reuse: about
// the number of BATCH frames in flight at once under load.
const maxFreeRecs = 64
