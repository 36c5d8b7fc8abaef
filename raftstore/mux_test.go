// Tests of the multiplexed raft listener on real loopback TCP. They prove
// that a connection reaches exactly the shard its header names, with its
// bytes intact in both directions; that bad headers, unknown shards and
// silent peers are closed (the last within the handshake timeout); and that
// closing a layer or the mux unblocks Accept and frees resources. The full
// raft traffic over the mux is exercised by the cluster tests.
package raftstore

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func newTestMux(t *testing.T, timeout time.Duration) *Mux {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMux(ln, MuxOptions{HandshakeTimeout: timeout, Logger: testLogger(t)})
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func mustLayer(t *testing.T, m *Mux, shard uint16) *StreamLayer {
	t.Helper()
	l, err := m.Layer(shard)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func acceptWithin(t *testing.T, l *StreamLayer, d time.Duration) net.Conn {
	t.Helper()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			ch <- c
		}
	}()
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		t.Fatalf("shard %d accepted nothing within %v", l.shard, d)
		return nil
	}
}

// wantClosed reads from c and expects EOF or a reset (the server hung up).
func wantClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("connection still open after %v (err %v)", within, err)
	}
}

func TestMuxRoutesByShard(t *testing.T) {
	server := newTestMux(t, time.Second)
	client := newTestMux(t, time.Second)
	s1, s2 := mustLayer(t, server, 1), mustLayer(t, server, 2)
	c2 := mustLayer(t, client, 2)
	addr := raft.ServerAddress(server.Addr().String())

	out, err := c2.Dial(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in := acceptWithin(t, s2, 2*time.Second)
	defer in.Close()
	if _, err := out.Write([]byte("append-entries")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("append-entries"))
	if _, err := io.ReadFull(in, buf); err != nil || string(buf) != "append-entries" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if _, err := in.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(out, buf[:2]); err != nil || string(buf[:2]) != "ok" {
		t.Fatalf("reply %q, %v", buf[:2], err)
	}
	select {
	case c := <-s1.conns:
		t.Fatalf("shard 1 received shard 2's connection %v", c.RemoteAddr())
	default:
	}
	if s1.Addr().String() != server.Addr().String() {
		t.Fatalf("layer address %v, mux address %v", s1.Addr(), server.Addr())
	}
}

func TestMuxClosesBadConnections(t *testing.T) {
	m := newTestMux(t, 200*time.Millisecond)
	mustLayer(t, m, 7)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", m.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}

	badMagic := dial()
	_, _ = badMagic.Write([]byte("HTTP/1."))
	wantClosed(t, badMagic, 2*time.Second)

	badVersion := dial()
	_, _ = badVersion.Write([]byte{'I', 'N', 'V', 'R', 99, 0, 7})
	wantClosed(t, badVersion, 2*time.Second)

	unknownShard := dial()
	_, _ = unknownShard.Write([]byte{'I', 'N', 'V', 'R', muxVersion, 0, 8})
	wantClosed(t, unknownShard, 2*time.Second)

	silent := dial() // sends nothing: closed once the handshake timeout passes
	start := time.Now()
	wantClosed(t, silent, 2*time.Second)
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Fatalf("silent peer closed after %v, before the handshake timeout", waited)
	}
}

func TestMuxLayerLifecycle(t *testing.T) {
	m := newTestMux(t, time.Second)
	l := mustLayer(t, m, 3)
	if _, err := m.Layer(3); err == nil {
		t.Fatal("second layer for shard 3 accepted")
	}
	errc := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
	// The slot is free again; the mux itself is still open.
	l2 := mustLayer(t, m, 3)

	// Closing the mux closes its layers and its accepted connections.
	other := newTestMux(t, time.Second)
	out, err := mustLayer(t, other, 3).Dial(raft.ServerAddress(m.Addr().String()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in := acceptWithin(t, l2, 2*time.Second)
	defer in.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after mux Close: %v", err)
	}
	wantClosed(t, out, 2*time.Second)
	if _, err := m.Layer(4); err == nil {
		t.Fatal("Layer on a closed mux accepted")
	}
}
