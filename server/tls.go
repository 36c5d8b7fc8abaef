package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/protocol"
)

// The TLS client listener: gnet has no TLS, so clients outside the private
// network may use a second port served by Go's crypto/tls, one goroutine
// per connection. Each connection is adapted to the few gnet.Conn methods
// the server uses (tlsConn) and driven through the very same handlers
// (OnOpen, OnTraffic, OnClose): one goroutine plays the connection's event
// loop, a reader feeds it, a writer drains its replies. Limits, deadlines,
// roles and rate limits apply unchanged. The cost is a goroutine pair and a
// TLS record layer per connection: fine for remote terminals, not for the
// storefront fleet, which should reach the gnet port on the private
// network (docs/SECURITY.md).

// tlsReadChunk is the most one read of a TLS connection hands the loop at
// once: a TLS record is at most 16 KiB, and a read returns at most one.
// Two chunks circulate between the reader and the loop (data, free).
const tlsReadChunk = 16 << 10

// startTLS listens on cfg.TLSListen and serves it until Shutdown.
func (s *Server) startTLS() error {
	if s.cfg.TLSConfig == nil {
		return errors.New("server: TLSListen without TLSConfig")
	}
	if err := CheckExposure(s.cfg.TLSListen, s.tokens); err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", s.cfg.TLSListen, s.cfg.TLSConfig)
	if err != nil {
		return err
	}
	s.tlsLn = ln
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					s.log.Warn("tls accept", "error", err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				return
			}
			go s.serveTLS(nc)
		}
	}()
	return nil
}

// TLSAddr returns the TLS listener's bound address, or "".
func (s *Server) TLSAddr() string {
	if s.tlsLn == nil {
		return ""
	}
	return s.tlsLn.Addr().String()
}

// serveTLS is one TLS connection's event loop.
func (s *Server) serveTLS(nc net.Conn) {
	tc := &tlsConn{nc: nc, data: make(chan []byte, 1), free: make(chan []byte, 1), wake: make(chan struct{}, 1),
		signal: make(chan struct{}, 1), done: make(chan struct{}), writeTimeout: s.cfg.WriteTimeout}
	// Admitted before the handshake (admission.go): a socket that never
	// completes it counts against the pre-HELLO budget and its address's
	// bound like a silent one on the gnet port, and the hello sweep or an
	// eviction closes it. A refused one is closed at once, its ERROR unsent
	// (there is no TLS session to send it in), so that it holds nothing
	// for the length of a handshake.
	if _, act := s.OnOpen(tc); act == gnet.Close {
		_ = nc.Close()
		return
	}
	if t, ok := nc.(*tls.Conn); ok {
		// The hello sweep closes (and counts) a handshake that outlives
		// HelloTimeout; the deadline, a tick later, is only a backstop.
		_ = nc.SetDeadline(time.Now().Add(s.cfg.HelloTimeout + 2*tickInterval))
		if err := t.Handshake(); err != nil {
			s.OnClose(tc, err)
			_ = tc.Close()
			return
		}
		_ = nc.SetDeadline(time.Time{})
	}
	go tc.readLoop()
	go tc.writeLoop()
	var err error
	closing := false
loop:
	for {
		data := tc.data
		if c, ok := tc.ctx.(*conn); ok && c.readPaused.Load() {
			// Paused for the reply budget: the reader blocks and TCP
			// pushes back on the peer; ticks and replies still wake us.
			data = nil
		}
		select {
		case b, ok := <-data:
			if !ok {
				err = tc.readErr
				break loop
			}
			tc.in = append(tc.in, b...)
			select { // the reader may reuse it
			case tc.free <- b[:cap(b)]:
			default:
			}
		case <-tc.wake:
		case <-tc.done:
			break loop
		}
		if s.OnTraffic(tc) == gnet.Close {
			closing = true
			break
		}
	}
	s.OnClose(tc, err) // from here on replies of requests in flight are dropped
	if closing {
		tc.drain() // the last reply (an ERROR saying why) goes out first, as with gnet
	}
	_ = tc.Close()
}

// tlsConn adapts a net.Conn to the gnet.Conn methods the server calls:
// Context, SetContext, RemoteAddr, InboundBuffered, Peek, Discard (loop
// only), Write, OutboundBuffered (loop only), Wake and Close (any
// goroutine). The embedded interface is nil: any other method would panic,
// and none is called.
type tlsConn struct {
	gnet.Conn

	nc  net.Conn
	ctx any
	in  []byte // the loop's inbound buffer

	data    chan []byte // reader → loop; closed on a read error
	free    chan []byte // loop → reader: a chunk copied out, to read into again
	readErr error
	wake    chan struct{}

	mu           sync.Mutex
	out          []byte // replies for the writer
	writing      int    // bytes the writer is writing now
	signal       chan struct{}
	writeTimeout time.Duration

	closeOnce sync.Once
	done      chan struct{}
}

func (tc *tlsConn) Context() any         { return tc.ctx }
func (tc *tlsConn) SetContext(ctx any)   { tc.ctx = ctx }
func (tc *tlsConn) RemoteAddr() net.Addr { return tc.nc.RemoteAddr() }
func (tc *tlsConn) InboundBuffered() int { return len(tc.in) }
func (tc *tlsConn) Peek(n int) ([]byte, error) {
	if n < 0 || n > len(tc.in) {
		n = len(tc.in)
	}
	return tc.in[:n], nil
}

func (tc *tlsConn) Discard(n int) (int, error) {
	n = min(n, len(tc.in))
	m := copy(tc.in, tc.in[n:])
	tc.in = tc.in[:m]
	if m == 0 && cap(tc.in) > keepBufferBytes {
		tc.in = nil
	}
	return n, nil
}

func (tc *tlsConn) Write(b []byte) (int, error) {
	tc.mu.Lock()
	tc.out = append(tc.out, b...)
	tc.mu.Unlock()
	select {
	case tc.signal <- struct{}{}:
	default:
	}
	return len(b), nil
}

func (tc *tlsConn) OutboundBuffered() int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return len(tc.out) + tc.writing
}

func (tc *tlsConn) Wake(gnet.AsyncCallback) error {
	select {
	case tc.wake <- struct{}{}:
	default:
	}
	return nil
}

func (tc *tlsConn) Close() error {
	tc.closeOnce.Do(func() {
		close(tc.done)
		_ = tc.nc.Close()
	})
	return nil
}

// drain waits, at most tlsFinalWriteWait, for the writer to hand every
// reply to the kernel.
func (tc *tlsConn) drain() {
	deadline := time.Now().Add(tlsFinalWriteWait)
	for tc.OutboundBuffered() > 0 && time.Now().Before(deadline) {
		select {
		case <-tc.done:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// readLoop hands what arrives to the loop; the channel's single slot is the
// backpressure: a peer that sends faster than the loop serves waits in TCP.
func (tc *tlsConn) readLoop() {
	defer close(tc.data)
	for {
		var buf []byte
		select {
		case buf = <-tc.free:
		default:
			buf = make([]byte, tlsReadChunk)
		}
		n, err := tc.nc.Read(buf)
		if n > 0 {
			select {
			case tc.data <- buf[:n]:
			case <-tc.done:
				return
			}
		}
		if err != nil {
			tc.readErr = err
			return
		}
	}
}

// writeLoop writes the replies gathered by Write; a peer that takes none
// for writeTimeout is cut.
func (tc *tlsConn) writeLoop() {
	var buf []byte
	for {
		select {
		case <-tc.signal:
		case <-tc.done:
			return
		}
		tc.mu.Lock()
		buf, tc.out = tc.out, buf[:0]
		tc.writing = len(buf)
		tc.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		_ = tc.nc.SetWriteDeadline(time.Now().Add(tc.writeTimeout))
		_, err := tc.nc.Write(buf)
		tc.mu.Lock()
		tc.writing = 0
		tc.mu.Unlock()
		if cap(buf) > keepBufferBytes {
			buf = nil
		}
		if err != nil {
			_ = tc.Close()
			return
		}
		_ = tc.Wake(nil) // the loop re-checks the outbound bound and deadlines
	}
}

// stopTLS closes the TLS listener and every TLS connection (Shutdown, after
// the drain: their replies have been handed to their writers).
func (s *Server) stopTLS() {
	if s.tlsLn == nil {
		return
	}
	_ = s.tlsLn.Close()
	var tcs []*tlsConn
	s.mu.Lock()
	for c := range s.conns {
		if tc, ok := c.gc.(*tlsConn); ok {
			tcs = append(tcs, tc)
		}
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), tlsFinalWriteWait)
	defer cancel()
	s.waitFor(ctx, func() bool {
		for _, tc := range tcs {
			if tc.OutboundBuffered() > 0 {
				return false
			}
		}
		return true
	})
	for _, tc := range tcs {
		_ = tc.Close()
	}
}

// tlsFinalWriteWait bounds how long Shutdown lets TLS writers hand their
// last replies to the kernel.
const tlsFinalWriteWait = time.Second

// tlsTopology names this node's TLS address in a TOPOLOGY answered over TLS,
// so that a client that came in over TLS stays on it. In a cluster the other
// nodes' TLS addresses are not known (the member list names their gnet
// ports), so their entries are left as they are.
func (s *Server) tlsTopology(c *conn, t *protocol.Topology) {
	if _, ok := c.gc.(*tlsConn); !ok || s.tlsLn == nil {
		return
	}
	addr := s.cfg.TLSAdvertise
	if addr == "" {
		addr = s.TLSAddr()
	}
	for i := range t.Nodes {
		if t.Nodes[i].ID == s.cfg.NodeID {
			t.Nodes[i].Addr = addr
		}
	}
}
