package raftstore

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// One TCP listener per node carries the raft traffic of every shard group
// (docs/adr/0012). Each connection opens with a 7-byte header naming the
// shard; the listener reads it and hands the connection to that shard's
// StreamLayer, behind which an ordinary raft.NetworkTransport runs:
//
//	magic   4 bytes  "INVR"
//	version 1 byte   (muxVersion)
//	shard   2 bytes  big-endian
//
// The shard groups of a node therefore share one address, which is the
// node's raft address in every group's configuration.
const (
	muxMagic     = "INVR"
	muxVersion   = 1
	muxHeaderLen = 4 + 1 + 2

	// DefaultMuxHandshakeTimeout bounds the wait for a header: a peer that
	// connects and stays silent costs a goroutine for at most this long.
	DefaultMuxHandshakeTimeout = 5 * time.Second
	// muxPendingMax bounds connections whose header is still awaited; more
	// are closed at once (a dialing peer retries).
	muxPendingMax = 256
	// muxAcceptQueue bounds connections handed to a shard but not yet
	// accepted by its transport, whose accept loop takes them at once.
	muxAcceptQueue = 32
)

// ErrMuxClosed is returned by Accept after the layer or its mux closed.
var ErrMuxClosed = fmt.Errorf("raftstore: stream layer closed: %w", net.ErrClosed)

// MuxOptions configure a Mux.
type MuxOptions struct {
	// Advertise is the address peers dial, if it differs from the
	// listener's (e.g. listening on 0.0.0.0).
	Advertise net.Addr
	// HandshakeTimeout bounds the header read (default DefaultMuxHandshakeTimeout).
	HandshakeTimeout time.Duration
	Logger           *slog.Logger
	// Faults, if set, is the fault layer over dialed connections (faults.go).
	Faults *Faults
	// TLS, if set, wraps every raft connection in TLS (muxtls.go): give it
	// this node's certificate, the CA pool as RootCAs and ClientCAs, and
	// ClientAuth RequireAndVerifyClientCert for mutual TLS.
	TLS *tls.Config
}

// Mux owns the node's raft listener and routes connections to shards.
type Mux struct {
	ln               net.Listener
	advertise        net.Addr
	handshakeTimeout time.Duration
	log              *slog.Logger
	faults           *Faults
	tls              *tls.Config

	mu     sync.Mutex
	closed bool
	layers map[uint16]*StreamLayer
	conns  map[net.Conn]struct{} // every accepted connection still open, closed by Close
	wg     sync.WaitGroup
}

// NewMux starts routing the connections of ln. The mux owns ln from now on.
func NewMux(ln net.Listener, opts MuxOptions) *Mux {
	m := &Mux{
		ln:               ln,
		advertise:        opts.Advertise,
		handshakeTimeout: opts.HandshakeTimeout,
		log:              opts.Logger,
		faults:           opts.Faults,
		tls:              opts.TLS,
		layers:           make(map[uint16]*StreamLayer),
		conns:            make(map[net.Conn]struct{}),
	}
	if m.advertise == nil {
		m.advertise = ln.Addr()
	}
	if m.handshakeTimeout <= 0 {
		m.handshakeTimeout = DefaultMuxHandshakeTimeout
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

// Addr returns the address peers dial to reach this node.
func (m *Mux) Addr() net.Addr { return m.advertise }

// Layer registers and returns the stream layer of shard. A shard has at most
// one open layer; closing it frees the slot.
func (m *Mux) Layer(shard uint16) (*StreamLayer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrMuxClosed
	}
	if _, ok := m.layers[shard]; ok {
		return nil, fmt.Errorf("raftstore: shard %d already has a stream layer", shard)
	}
	l := &StreamLayer{
		mux:    m,
		shard:  shard,
		conns:  make(chan net.Conn, muxAcceptQueue),
		closed: make(chan struct{}),
	}
	m.layers[shard] = l
	return l, nil
}

// Close stops the listener, closes every layer and every connection the mux
// accepted, and waits for its goroutines.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	err := m.ln.Close()
	layers := make([]*StreamLayer, 0, len(m.layers))
	for _, l := range m.layers {
		layers = append(layers, l)
	}
	for c := range m.conns {
		_ = c.Close()
	}
	m.mu.Unlock()
	for _, l := range layers {
		_ = l.Close()
	}
	m.wg.Wait()
	return err
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	pending := make(chan struct{}, muxPendingMax)
	var backoff time.Duration
	for {
		c, err := m.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			m.log.Warn("raft mux: accept", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !m.track(c) {
			_ = c.Close()
			return
		}
		select {
		case pending <- struct{}{}:
		default:
			m.log.Warn("raft mux: too many connections awaiting a header", "remote", c.RemoteAddr())
			m.drop(c)
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			defer func() { <-pending }()
			m.route(c)
		}()
	}
}

// route reads the header of c and hands c to its shard's layer, or closes it.
func (m *Mux) route(c net.Conn) {
	if m.tls != nil {
		tc, err := m.serverTLS(c)
		if err != nil {
			m.log.Warn("raft mux: TLS handshake", "remote", c.RemoteAddr(), "error", err)
			m.drop(c)
			return
		}
		c = tc
	}
	shard, err := readMuxHeader(c, m.handshakeTimeout)
	if err != nil {
		m.log.Warn("raft mux: bad connection header", "remote", c.RemoteAddr(), "error", err)
		m.drop(c)
		return
	}
	m.mu.Lock()
	l := m.layers[shard]
	m.mu.Unlock()
	if l == nil {
		m.log.Warn("raft mux: connection for unknown shard", "remote", c.RemoteAddr(), "shard", shard)
		m.drop(c)
		return
	}
	if !l.deliver(&muxConn{Conn: c, mux: m}) {
		m.drop(c)
	}
}

func readMuxHeader(c net.Conn, timeout time.Duration) (uint16, error) {
	var h [muxHeaderLen]byte
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return 0, err
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return 0, err
	}
	if string(h[:4]) != muxMagic {
		return 0, fmt.Errorf("magic %q", h[:4])
	}
	if h[4] != muxVersion {
		return 0, fmt.Errorf("version %d", h[4])
	}
	return binary.BigEndian.Uint16(h[5:]), nil
}

// track records c so that Close can close it; false if the mux is closed.
func (m *Mux) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.conns[c] = struct{}{}
	return true
}

// drop closes c and forgets it.
func (m *Mux) drop(c net.Conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
	_ = c.Close()
}

// muxConn is an accepted connection; closing it removes it from the mux's set.
type muxConn struct {
	net.Conn
	mux  *Mux
	once sync.Once
}

func (c *muxConn) Close() error {
	var err error
	c.once.Do(func() {
		c.mux.mu.Lock()
		delete(c.mux.conns, c.Conn)
		c.mux.mu.Unlock()
		err = c.Conn.Close()
	})
	return err
}

// StreamLayer is one shard's view of the mux: a raft.StreamLayer whose
// Accept yields the connections that named this shard, and whose Dial opens
// connections that name it.
type StreamLayer struct {
	mux   *Mux
	shard uint16

	mu       sync.Mutex // orders deliver against Close so no connection is stranded in conns
	isClosed bool
	conns    chan net.Conn
	closed   chan struct{}
}

var _ raft.StreamLayer = (*StreamLayer)(nil)

// deliver queues c for Accept; false if the layer is closed or its queue full.
func (l *StreamLayer) deliver(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed {
		return false
	}
	select {
	case l.conns <- c:
		return true
	default:
		l.mux.log.Warn("raft mux: shard accept queue full", "shard", l.shard)
		return false
	}
}

// Accept waits for the next connection that named this shard.
func (l *StreamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, ErrMuxClosed
	}
}

// Close unregisters the layer and closes connections not yet accepted. The
// mux and other shards' layers stay open.
func (l *StreamLayer) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed {
		return nil
	}
	l.isClosed = true
	close(l.closed)
	for {
		select {
		case c := <-l.conns:
			_ = c.Close()
		default:
			l.mux.mu.Lock()
			if l.mux.layers[l.shard] == l {
				delete(l.mux.layers, l.shard)
			}
			l.mux.mu.Unlock()
			return nil
		}
	}
}

// Addr returns the node's raft address (shared by all its shards).
func (l *StreamLayer) Addr() net.Addr { return l.mux.advertise }

// Dial connects to the node at address and names this layer's shard.
func (l *StreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	dial := func() (net.Conn, error) { return d.Dial("tcp", string(address)) }
	var c net.Conn
	var err error
	if l.mux.faults != nil {
		c, err = l.mux.faults.dial(string(address), dial)
	} else {
		c, err = dial()
	}
	if err != nil {
		return nil, err
	}
	if l.mux.tls != nil {
		if c, err = clientTLS(c, l.mux.tls, string(address), timeout); err != nil {
			return nil, fmt.Errorf("raftstore: shard %d: TLS to %s: %w", l.shard, address, err)
		}
	}
	if err := writeMuxHeader(c, l.shard, timeout); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("raftstore: shard %d: header to %s: %w", l.shard, address, err)
	}
	return c, nil
}

func writeMuxHeader(c net.Conn, shard uint16, timeout time.Duration) error {
	var h [muxHeaderLen]byte
	copy(h[:], muxMagic)
	h[4] = muxVersion
	binary.BigEndian.PutUint16(h[5:], shard)
	if timeout > 0 {
		if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	if _, err := c.Write(h[:]); err != nil {
		return err
	}
	return c.SetWriteDeadline(time.Time{})
}
